"""Opening *the* database connection, at the edge of a program.

:func:`open_database` is the one place that turns settings into a psycopg 3
connection: it starts the project's local cluster when no ``MUJUN_DSN`` is set,
connects (on the local cluster as the non-superuser owner role, :mod:`gis.db.roles`),
and applies pending migrations. Library functions receive the connection as a
parameter and never open one themselves.

This module sits above :mod:`gis.db.connection`, :mod:`gis.db.cluster` and
:mod:`gis.db.roles`, so none of them needs to import another to open a database.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from gis.db.connection import connect
from gis.errors import DatabaseError

if TYPE_CHECKING:
    import psycopg

    from gis.settings import Settings

__all__ = ["database_dsn", "open_database"]

log = logging.getLogger(__name__)


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
