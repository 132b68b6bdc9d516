"""Numbered schema migrations.

Migrations are the files ``gis/db/sql/NNNN_name.sql``. Each is applied once,
in its own transaction, and recorded in ``schema_migrations`` with the SHA-256
of its text. Applying is guarded by a PostgreSQL advisory lock, so two
processes starting at once do not both migrate.

mujun refuses to work on a database whose schema is newer than the code (a
newer mujun migrated it) or whose applied migration files have changed since
(a shipped migration must never be edited; add a new one instead).
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from gis.errors import MigrationError

if TYPE_CHECKING:
    import psycopg

log = logging.getLogger(__name__)

#: Directory of the migration files shipped with the code.
SQL_DIR = Path(__file__).resolve().parent / "sql"

#: Advisory lock key for migrations ('mujun' in ASCII, fits a bigint).
LOCK_KEY = 0x6D756A756E

_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")

_CREATE_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version       integer PRIMARY KEY,
    name          text NOT NULL,
    checksum      text NOT NULL,
    mujun_version text,
    applied_at    timestamptz NOT NULL DEFAULT now()
)
"""


@dataclass(frozen=True)
class Migration:
    """One migration file."""

    version: int
    name: str
    path: Path

    @property
    def text(self) -> str:
        """The SQL text (line endings normalised)."""
        return self.path.read_text(encoding="utf-8").replace("\r\n", "\n")

    @property
    def checksum(self) -> str:
        """SHA-256 of the normalised text."""
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


def available_migrations(sql_dir: Path | None = None) -> list[Migration]:
    """The migration files in ``sql_dir`` (default: shipped ones), sorted by version.

    Raises
    ------
    MigrationError
        Two files share a number, or a ``.sql`` file is misnamed.
    """
    folder = sql_dir or SQL_DIR
    found: dict[int, Migration] = {}
    for path in sorted(folder.glob("*.sql")):
        match = _NAME.match(path.name)
        if not match:
            raise MigrationError(f"{path}: migration files must be named NNNN_name.sql")
        version = int(match.group(1))
        if version in found:
            raise MigrationError(
                f"{path}: migration number {version} is also used by {found[version].path.name}"
            )
        found[version] = Migration(version, match.group(2), path)
    return [found[v] for v in sorted(found)]


def _table_exists(conn: psycopg.Connection) -> bool:
    row = conn.execute("SELECT to_regclass('schema_migrations') IS NOT NULL").fetchone()
    return bool(row and row[0])


def applied_migrations(conn: psycopg.Connection) -> dict[int, tuple[str, str]]:
    """``{version: (name, checksum)}`` of the migrations recorded in the database."""
    if not _table_exists(conn):
        return {}
    rows = conn.execute("SELECT version, name, checksum FROM schema_migrations").fetchall()
    return {int(v): (n, c) for v, n, c in rows}


def schema_version(conn: psycopg.Connection) -> int:
    """Highest applied migration number (0 for an empty database)."""
    applied = applied_migrations(conn)
    return max(applied, default=0)


def code_version(sql_dir: Path | None = None) -> int:
    """Highest migration number this code ships."""
    return max((m.version for m in available_migrations(sql_dir)), default=0)


def check(conn: psycopg.Connection, sql_dir: Path | None = None) -> list[Migration]:
    """Verify the recorded migrations against the files and return the pending ones.

    Raises
    ------
    MigrationError
        The database schema is newer than the code, or an applied file changed.
    """
    files = available_migrations(sql_dir)
    by_version = {m.version: m for m in files}
    applied = applied_migrations(conn)
    newest_code = max(by_version, default=0)
    newer = sorted(v for v in applied if v > newest_code)
    if newer:
        raise MigrationError(
            f"the database schema is at version {max(applied)}, newer than this mujun "
            f"(knows up to {newest_code}); upgrade mujun or use another database"
        )
    for version, (name, checksum) in sorted(applied.items()):
        mig = by_version.get(version)
        if mig is None:
            raise MigrationError(
                f"migration {version:04d}_{name} is recorded in the database but its file is "
                "missing from gis/db/sql; restore the file"
            )
        if mig.checksum != checksum:
            raise MigrationError(
                f"迁移文件 {mig.path.name} 在执行后被修改（校验和不符）；已执行的迁移不可修改："
                "请恢复该文件，把改动写成新的编号文件（开发数据库可用 `mujun db reset --yes` "
                "重建）"
            )
    return [m for m in files if m.version not in applied]


def migrate(conn: psycopg.Connection, sql_dir: Path | None = None) -> list[int]:
    """Apply pending migrations, each in its own transaction.

    Parameters
    ----------
    conn : psycopg.Connection
        Must not be inside a transaction with uncommitted work (it is committed).
    sql_dir : Path, optional
        Folder of migration files (tests use a temporary one).

    Returns
    -------
    list of int
        Numbers of the migrations applied now (empty when up to date).

    Raises
    ------
    MigrationError
        A migration failed (its transaction is rolled back; earlier ones stay), the
        schema is newer than the code, or an applied file changed.
    """
    import psycopg

    from gis import __version__

    applied_now: list[int] = []
    if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        conn.commit()
    try:
        conn.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
        conn.commit()
    except psycopg.Error as exc:
        conn.rollback()
        raise MigrationError(f"cannot take the migration lock: {exc}") from exc
    try:
        try:
            with conn.transaction():
                conn.execute(_CREATE_TABLE)
            pending = check(conn, sql_dir)
            conn.commit()
        except psycopg.Error as exc:
            conn.rollback()
            raise MigrationError(f"cannot read schema_migrations: {exc}") from exc
        for mig in pending:
            log.info("applying migration %04d_%s", mig.version, mig.name)
            try:
                with conn.transaction():
                    conn.execute(mig.text.encode("utf-8"))
                    conn.execute(
                        "INSERT INTO schema_migrations (version, name, checksum, mujun_version)"
                        " VALUES (%s, %s, %s, %s)",
                        (mig.version, mig.name, mig.checksum, __version__),
                    )
            except psycopg.Error as exc:
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
                raise MigrationError(
                    f"migration {mig.path.name} failed and was rolled back: {first}"
                ) from exc
            applied_now.append(mig.version)
    finally:
        if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            conn.rollback()
        conn.execute("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))
        conn.commit()
    return applied_now
