"""Opening *the* database connection, at the edge of a program.

:func:`open_database` is the one place that turns settings into a psycopg 3
connection: it starts the project's local cluster when no ``MUJUN_DSN`` is set,
connects, and applies pending migrations. Library functions receive the
connection as a parameter and never open one themselves.

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

    from gis.settings import Settings

__all__ = ["connect", "connect_at_snapshot", "database_dsn", "export_snapshot", "open_database",
           "redact_dsn", "server_facts", "translate_errors"]

log = logging.getLogger(__name__)

def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


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
    ...     raise psycopg.OperationalError("server closed the connection unexpectedly")
    Traceback (most recent call last):
    ...
    gis.errors.DatabaseError: counting parcels: server closed the connection unexpectedly
    """
    import psycopg

    try:
        yield
    except psycopg.Error as exc:
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


def database_dsn(settings: Settings, *, start: bool = True) -> str:
    """The DSN mujun uses: ``settings.dsn``, or the local cluster's (started when ``start``)."""
    if settings.dsn:
        return str(settings.dsn)
    from gis.db.cluster import LocalCluster

    cluster = LocalCluster(settings)
    if start and not cluster.is_running():
        cluster.start()
    return cluster.dsn


def open_database(settings: Settings, migrate: bool = True) -> psycopg.Connection:
    """Open the connection for this program, starting the local cluster when needed.

    Parameters
    ----------
    settings : Settings
        ``dsn`` selects an external server (used as given); otherwise the local cluster
        in ``settings.home_path`` is started (if not running) and used as the
        non-superuser role ``mujun_owner`` (:func:`gis.db.roles.open_as_owner`).
    migrate : bool
        Apply pending schema migrations before returning (default).

    Returns
    -------
    psycopg.Connection
        Autocommit off: the caller commits.

    Raises
    ------
    DatabaseError
        The server is unreachable, refused the login, or a migration failed.
    """
    dsn = database_dsn(settings)
    if not settings.dsn:
        # the local cluster: ordinary work as the non-superuser owner role
        from gis.db.cluster import LocalCluster
        from gis.db.roles import open_as_owner

        try:
            return open_as_owner(dsn, settings.home_path, migrate=migrate)
        except DatabaseError as exc:
            if "does not exist" not in str(exc):
                raise
        LocalCluster(settings).ensure_database()  # e.g. a new MUJUN_DB_NAME
        return open_as_owner(dsn, settings.home_path, migrate=migrate)
    try:
        conn = connect(dsn)
    except DatabaseError as exc:
        if settings.dsn or "does not exist" not in str(exc):
            raise
        # the local cluster runs but this database (e.g. a new MUJUN_DB_NAME) is not there yet
        from gis.db.cluster import LocalCluster

        LocalCluster(settings).ensure_database()
        conn = connect(dsn)
    if migrate:
        from gis.db.migrations import migrate as apply_migrations

        try:
            applied = apply_migrations(conn)
        except BaseException:
            conn.close()
            raise
        if applied:
            log.info("applied migrations %s", applied)
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
