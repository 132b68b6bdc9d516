"""Whole-database operations: backup, restore and reset (pg_dump / pg_restore, DDL).

They work on any server given by a DSN (the local cluster's or ``MUJUN_DSN``'s) and
never on a connection the caller holds: restore and reset replace the database.
"""

from __future__ import annotations

import logging
import os
import secrets
import subprocess
from pathlib import Path

from gis.db.cluster import find_pg_bindir
from gis.errors import ServerError

log = logging.getLogger(__name__)


def client_bindir(version: str | None = None) -> Path:
    """``bin`` directory of pg_dump/pg_restore (``version``'s, else the newest)."""
    try:
        return find_pg_bindir(version)
    except ServerError:
        if version is None:
            raise
        return find_pg_bindir(None)


def _run_client(args: list[str], what: str, timeout: float = 3600) -> None:
    env = dict(os.environ)
    try:
        # umask 077: whatever the client creates is readable by the user only
        proc = subprocess.run(args, capture_output=True, text=True, env=env, timeout=timeout,
                              check=False, umask=0o077)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ServerError(f"{what} failed: {exc}") from exc
    if proc.returncode != 0:
        lines = [ln for ln in (proc.stderr or proc.stdout).strip().splitlines() if ln.strip()]
        errors = [ln for ln in lines if "error" in ln.lower()]
        detail = (errors or lines or [f"exit code {proc.returncode}"])[0]
        raise ServerError(f"{what} failed: {detail.strip()}")


def backup_database(dsn: str, path: Path, *, overwrite: bool = False,
                    version: str | None = None) -> Path:
    """Dump the database at ``dsn`` to ``path`` with ``pg_dump -Fc`` (atomic write, mode 600).

    The dump holds password hashes and every firm's figures: it is created readable
    and writable by its owner only (mode 600), never briefly world-readable.

    Parameters
    ----------
    dsn : str
        libpq DSN of the database to dump.
    path : Path
        Output file; written to a temporary name in the same directory and
        moved into place only when pg_dump succeeds (:func:`gis.atomic.atomic_output`).
    overwrite : bool
        Replace an existing file (otherwise :class:`OutputExistsError`).
    version : str, optional
        PostgreSQL major version of the server (pg_dump must not be older).
    """
    from gis.atomic import atomic_output

    path = Path(path)
    if not path.parent.is_dir():
        raise ServerError(f"{path.parent} is not a directory; create it first")
    bindir = client_bindir(version)
    with atomic_output(path, overwrite=overwrite) as tmp:
        os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        _run_client([str(bindir / "pg_dump"), "-Fc", "--no-owner", "-f", str(tmp), "-d", dsn],
                    f"pg_dump to {path}")
        os.chmod(tmp, 0o600)
    return path


def restore_database(dsn: str, path: Path, *, version: str | None = None) -> None:
    """Replace the database at ``dsn`` with the dump in ``path`` (from :func:`backup_database`).

    The dump is restored into a new database in one transaction, then made servable
    there (:func:`gis.db.roles.prepare_restored`: pending migrations, the review app
    role's grants, LEAKPROOF marks); only when all that succeeded is the old database
    renamed away and dropped, and the new one renamed into its place. A failed restore
    leaves the old database as it was. A running ``mujun serve`` loses its connections
    at the swap and reconnects to the restored database by itself.

    Raises
    ------
    ServerError
        The file is missing or not a custom-format dump, or pg_restore failed.
    """
    import psycopg
    from psycopg import sql
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    from gis.db.roles import ensure_app_role, prepare_restored

    path = Path(path)
    if not path.is_file():
        raise ServerError(f"{path}: no such backup file")
    with path.open("rb") as f:
        if f.read(5) != b"PGDMP":
            raise ServerError(f"{path}: not a pg_dump custom-format file (made by `mujun db "
                              "backup`)")
    target = conninfo_to_dict(dsn).get("dbname")
    if not target:
        raise ServerError("the DSN names no database (dbname=...)")
    suffix = secrets.token_hex(4)
    fresh, aside = f"{target}_restoring_{suffix}", f"{target}_replaced_{suffix}"
    admin_dsn = make_conninfo(dsn, dbname="postgres")
    bindir = client_bindir(version)

    def admin(statement, *args):
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            return conn.execute(statement, *args)

    try:
        admin(sql.SQL("CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8'")
              .format(sql.Identifier(fresh)))
    except psycopg.Error as exc:
        raise ServerError(f"cannot create a database to restore into: {exc}") from exc
    try:
        with psycopg.connect(make_conninfo(dsn, dbname=fresh)) as conn:
            ensure_app_role(conn)   # the dump's policies name it
        _run_client([str(bindir / "pg_restore"), "--no-owner", "--no-privileges",
                     "--exit-on-error", "--single-transaction", "-d",
                     make_conninfo(dsn, dbname=fresh), str(path)], f"pg_restore of {path}")
        with psycopg.connect(make_conninfo(dsn, dbname=fresh)) as conn:
            try:
                prepare_restored(conn)
            except psycopg.Error as exc:
                raise ServerError(f"restored {path} but could not grant the review app its "
                                  f"privileges: {str(exc).strip().splitlines()[0]}") from exc
    except BaseException:
        try:
            admin(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(fresh)))
        except psycopg.Error:  # pragma: no cover - best effort
            log.warning("could not drop the partial restore database %s", fresh)
        raise
    try:
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                                  (target,)).fetchone()
            if exists:
                conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                             "WHERE datname = %s AND pid <> pg_backend_pid()", (target,))
                conn.execute(sql.SQL("ALTER DATABASE {} RENAME TO {}")
                             .format(sql.Identifier(target), sql.Identifier(aside)))
            conn.execute(sql.SQL("ALTER DATABASE {} RENAME TO {}")
                         .format(sql.Identifier(fresh), sql.Identifier(target)))
            if exists:
                conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)")
                             .format(sql.Identifier(aside)))
    except psycopg.Error as exc:
        raise ServerError(
            f"restored into {fresh} but could not swap it in for {target}: "
            f"{str(exc).strip().splitlines()[0]}"
        ) from exc


def reset_database(dsn: str) -> None:
    """Drop and recreate the database named in ``dsn`` (empty; migrations not yet applied).

    For development: after an unshipped migration file was edited, or to start
    a demo from scratch. Everything in the database is lost.
    """
    import psycopg
    from psycopg import sql
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    target = conninfo_to_dict(dsn).get("dbname")
    if not target:
        raise ServerError("the DSN names no database (dbname=...)")
    try:
        with psycopg.connect(make_conninfo(dsn, dbname="postgres"), autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
                         .format(sql.Identifier(target)))
            conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8'")
                         .format(sql.Identifier(target)))
    except psycopg.Error as exc:
        raise ServerError(f"cannot recreate database {target}: "
                          f"{str(exc).strip().splitlines()[0]}") from exc
