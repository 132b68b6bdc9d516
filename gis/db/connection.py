"""Connections to a PostGIS server: connect, snapshots, server facts, error translation.

Which database a program uses, and as which role, is settled one level up in
:mod:`gis.db.database` (:func:`~gis.db.database.open_database`), which builds on
this module, the local cluster and the roles; nothing here imports those.

:func:`translate_errors` converts psycopg errors into
:class:`gis.errors.DatabaseError` (chained), so the CLI prints one line.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING

from gis.db.dsn import redact_dsn
from gis.errors import DatabaseError

if TYPE_CHECKING:
    import psycopg


__all__ = ["connect", "connect_at_snapshot", "export_snapshot", "redact_dsn", "server_facts",
           "translate_errors"]

log = logging.getLogger(__name__)

def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


#: SQLSTATEs of a connection the server ended (class 08, and the server shutting down or
#: terminating the backend: ``pg_terminate_backend``, a restore, a restart).
_LOST_STATES = ("57P01", "57P02", "57P03")


def is_lost_connection(exc: BaseException) -> bool:
    """Whether ``exc`` (a psycopg error) means the connection itself is gone.

    Examples
    --------
    >>> import psycopg
    >>> is_lost_connection(psycopg.OperationalError("server closed the connection"))
    True
    >>> is_lost_connection(psycopg.errors.DeadlockDetected("deadlock detected"))
    False
    """
    import psycopg

    if not isinstance(exc, (psycopg.OperationalError, psycopg.InterfaceError)):
        return False
    state = getattr(exc, "sqlstate", None)
    return state is None or state.startswith("08") or state in _LOST_STATES


def lost_connection_message(exc: BaseException) -> str:
    """The one message of a lost database connection (the command line prints it)."""
    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return (f"数据库连接已断开（{first}）：命令运行期间服务器被停止、重启或恢复；"
            "请用 `mujun db status` 检查后重新运行命令（未保留任何半成品）")


@contextlib.contextmanager
def translate_errors(what: str = "database operation") -> Iterator[None]:
    """Turn psycopg errors raised inside the block into :class:`DatabaseError`.

    Parameters
    ----------
    what : str
        What was being done, used as the message prefix (e.g. ``"loading parcels"``).

    Examples
    --------
    >>> import psycopg
    >>> with translate_errors("counting parcels"):
    ...     raise psycopg.errors.UndefinedTable('relation "parcel" does not exist')
    Traceback (most recent call last):
    ...
    gis.errors.DatabaseError: counting parcels: relation "parcel" does not exist

    A connection the server ended reads the same wherever it happens:

    >>> with translate_errors("counting parcels"):
    ...     raise psycopg.OperationalError("server closed the connection unexpectedly")
    Traceback (most recent call last):
    ...
    gis.errors.DatabaseError: 数据库连接已断开（server closed the connection unexpectedly）：命令运行期间服务器被停止、重启或恢复；请用 `mujun db status` 检查后重新运行命令（未保留任何半成品）
    """
    import psycopg

    try:
        yield
    except psycopg.Error as exc:
        if is_lost_connection(exc):
            raise DatabaseError(lost_connection_message(exc)) from exc
        detail = _first_line(exc)
        diag = getattr(exc, "diag", None)
        extra = []
        if diag is not None:
            if diag.table_name:
                extra.append(f"table {diag.table_name}")
            if diag.column_name:
                extra.append(f"column {diag.column_name}")
            if diag.constraint_name:
                extra.append(f"constraint {diag.constraint_name}")
            if diag.context and "COPY" in diag.context:
                extra.append(diag.context.strip().splitlines()[0])
        suffix = f" ({'; '.join(extra)})" if extra else ""
        raise DatabaseError(f"{what}: {detail}{suffix}") from exc


def connect(dsn: str, *, autocommit: bool = False) -> psycopg.Connection:
    """Connect to ``dsn`` with psycopg 3, translating failures into :class:`DatabaseError`."""
    import psycopg

    try:
        return psycopg.connect(dsn, autocommit=autocommit)
    except psycopg.Error as exc:
        raise DatabaseError(
            f"cannot connect to {redact_dsn(dsn)}: {_first_line(exc)}; check that the server "
            "runs (`mujun db status`) or fix MUJUN_DSN"
        ) from exc


def export_snapshot(conn: psycopg.Connection) -> tuple[str, str]:
    """A DSN and an exported snapshot so other processes read exactly what ``conn`` sees.

    ``conn`` must be inside a transaction (autocommit off) and keep it open until the
    other connections have imported the snapshot (:func:`connect_at_snapshot`).

    Returns
    -------
    (dsn, snapshot_id)
        The DSN repeats ``conn``'s parameters, including a password it was given.
    """
    from psycopg.conninfo import make_conninfo

    if conn.autocommit:
        raise DatabaseError("exporting a snapshot needs a transaction (autocommit is on)")
    with translate_errors("exporting a snapshot"):
        snapshot = conn.execute("SELECT pg_export_snapshot()").fetchone()[0]
    extra = {"password": conn.info.password} if conn.info.password else {}
    return make_conninfo(conn.info.dsn, **extra), str(snapshot)


def connect_at_snapshot(dsn: str, snapshot: str) -> psycopg.Connection:
    """A read-only REPEATABLE READ connection that sees the exported ``snapshot``."""
    from psycopg import IsolationLevel, sql

    conn = connect(dsn)
    conn.isolation_level = IsolationLevel.REPEATABLE_READ
    conn.read_only = True
    with translate_errors("importing a snapshot"):
        conn.execute(sql.SQL("SET TRANSACTION SNAPSHOT {}").format(sql.Literal(snapshot)))
    return conn


def server_facts(conn: psycopg.Connection) -> dict:
    """Server version, PostGIS version, schema version (database and code) of ``conn``."""
    from gis.db.migrations import code_version, schema_version

    with translate_errors("reading server facts"):
        server = conn.execute("SHOW server_version").fetchone()
        postgis = conn.execute(
            "SELECT extversion FROM pg_extension WHERE extname = 'postgis'"
        ).fetchone()
        lib = None
        if postgis:
            row = conn.execute("SELECT postgis_lib_version()").fetchone()
            lib = row[0] if row else None
        facts = {
            "server_version": server[0] if server else None,
            "postgis_version": lib or (postgis[0] if postgis else None),
            "schema_version": schema_version(conn),
            "code_schema_version": code_version(),
            "database": conn.info.dbname,
        }
        conn.rollback()
    return facts
