"""The review app's database access: a connection pool as the restricted role.

Every request runs in one transaction on a pooled connection of ``mujun_app``
(never a superuser: :func:`gis.db.roles.check_restricted` is checked at start-up).
When the request carries a session cookie, its token is set as the transaction-local
setting ``mujun.session`` (``set_config(..., true)`` with a parameter), which the
row-level-security functions of migration 0011 map to the user; it vanishes at
commit or rollback, so the next request on the same connection starts clean.

A connection the server closed (``mujun db restore`` ends every connection when it
swaps the restored database in; a database restart does too) fails the request's first
statement; the pool then drops every broken connection it holds and the request is
tried once more on a new one, so the app recovers without a restart.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import psycopg

log = logging.getLogger(__name__)


def _warm(conn: psycopg.Connection) -> None:
    """Load PROJ's transformations once per new connection (the first ST_Transform of a
    server process costs ~100 ms), not inside a user's first request."""
    conn.execute(
        "WITH s AS (SELECT coalesce((SELECT value::int FROM mujun_setting"
        "                            WHERE key = 'working_srid'), 4326) AS srid),"
        " p AS (SELECT ST_Transform(ST_SetSRID(ST_MakePoint(120.6, 31.2), 4326), srid) AS g,"
        "       srid FROM s)"
        " SELECT ST_AsGeoJSON(ST_Transform(g, 4326)), ST_Transform(ST_Transform(g, 3857), srid),"
        "  (SELECT ST_AsMVT(t, 'warm', 4096, 'geom') FROM (SELECT 1 AS id,"
        "    ST_AsMVTGeom(ST_Transform(ST_Buffer(g, 10), 3857), ST_TileEnvelope(16, 54723, 26746),"
        "                 4096, 64, true) AS geom) t)"
        " FROM p")
    # the app's queries are short and many at once: a parallel worker's start-up
    # (~20 ms) costs more than it saves
    conn.execute("SET max_parallel_workers_per_gather = 0")
    conn.commit()


class AppStore:
    """A pool of connections as ``mujun_app``.

    Parameters
    ----------
    dsn : str
        The app role's DSN (:func:`gis.db.roles.app_dsn`).
    max_size : int
        Most connections held open at once.
    """

    def __init__(self, dsn: str, *, min_size: int = 8, max_size: int = 12):
        from psycopg_pool import ConnectionPool

        self.pool = ConnectionPool(dsn, min_size=min_size, max_size=max_size, open=False,
                                   timeout=30, name="mujun-review", configure=_warm)
        self.srid: int | None = None

    def open(self) -> None:
        """Open the pool, refuse a role that bypasses RLS, read the working SRID."""
        from gis.db.roles import check_restricted

        self.pool.open(wait=True, timeout=30)
        with self.pool.connection() as conn:
            check_restricted(conn)
            from gis.db.roles import leakproof_missing

            missing = leakproof_missing(conn)
            if missing:
                log.warning("PostGIS's %s is not LEAKPROOF in this database: under row-level "
                            "security spatial queries cannot use their index and will be slow;"
                            " a superuser can run ALTER FUNCTION %s LEAKPROOF",
                            missing[0], missing[0])
            row = conn.execute(
                "SELECT value FROM mujun_setting WHERE key = 'working_srid'").fetchone()
            self.srid = int(row[0]) if row else None

    def close(self) -> None:
        """Close every connection."""
        self.pool.close()

    def working_srid(self, conn: psycopg.Connection) -> int | None:
        """The database's working SRID (read again while it is unset: an empty database)."""
        if self.srid is None:
            row = conn.execute(
                "SELECT value FROM mujun_setting WHERE key = 'working_srid'").fetchone()
            self.srid = int(row[0]) if row else None
        return self.srid

    @contextlib.contextmanager
    def transaction(self, session_token: str | None) -> Iterator[psycopg.Connection]:
        """A pooled connection inside one transaction, as the session's user.

        Commits when the block ends normally, rolls back on an exception. A connection
        found broken at the first statement (nothing done yet) is replaced once.
        """
        import psycopg

        for attempt in (1, 2):
            with self.pool.connection() as conn:
                try:
                    conn.execute("SELECT set_config('mujun.session', %s, true)",
                                 (session_token or "",))
                except psycopg.OperationalError:
                    if attempt == 2:
                        raise
                    log.warning("lost the database connection (restored or restarted?); "
                                "reconnecting")
                    self.pool.check()   # drop the other broken connections too
                    continue
                yield conn
                return


#: Most candidates one bulk decision may name.
MAX_BULK = 500


def bulk_decide(conn: psycopg.Connection, username: str, body: dict) -> dict:
    """Validate a bulk decision's JSON body and decide, all or nothing (no commit).

    ``body``: ``{"items": [{"candidate_id", "version"}, …], "status", "reason", "comment"}``.
    The candidates are locked in id order (:func:`scoring.land_status.lifecycle.decide_many`),
    so two officials deciding overlapping lists at once never deadlock: the second gets
    :class:`~scoring.errors.DecisionConflict`.

    Raises
    ------
    maps.review.queries.BadRequest
        A malformed body (names the field).
    """
    from maps.review.queries import BadRequest
    from scoring.land_status.lifecycle import decide_many

    items = body.get("items")
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_BULK:
        raise BadRequest(f"items: a list of 1-{MAX_BULK} {{candidate_id, version}}")
    pairs = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("candidate_id"), int) \
                or not isinstance(item.get("version"), int):
            raise BadRequest("items: each needs candidate_id and version (numbers)")
        pairs.append((item["candidate_id"], item["version"]))
    status, reason, comment = body.get("status"), body.get("reason") or None, body.get("comment")
    if not isinstance(status, str):
        raise BadRequest("status: text")
    if reason is not None and not isinstance(reason, str):
        raise BadRequest("reason: a reason code")
    if comment is not None and (not isinstance(comment, str) or len(comment) > 5000):
        raise BadRequest("comment: text of at most 5000 characters")
    decided = decide_many(conn, pairs, status=status, by=username, reason=reason,
                          comment=(comment or "").strip() or None)
    return {"decided": decided}
