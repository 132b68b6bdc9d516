"""The session's test database between tests: emptied, unless a module holds its data.

One module (not the conftest) keeps this state, so the conftest and the fixtures that
import it share one copy whatever pytest's import mode.
"""

from __future__ import annotations

#: Tables the per-test TRUNCATE leaves alone (migration record, PostGIS catalogue).
KEEP_TABLES = {"schema_migrations", "spatial_ref_sys"}


def truncate_all(conn) -> None:
    """Empty every mujun table (RESTART IDENTITY CASCADE) and commit."""
    from psycopg import sql

    rows = conn.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
    ).fetchall()
    tables = [r[0] for r in rows if r[0] not in KEEP_TABLES]
    if tables:
        conn.execute(
            sql.SQL("TRUNCATE {} RESTART IDENTITY CASCADE").format(
                sql.SQL(", ").join(sql.Identifier(t) for t in tables)
            )
        )
    conn.commit()


#: State of the session's test database in this process: ``dirty`` once a test wrote
#: through ``db_dsn`` without ``db_conn`` (which cleans up after itself); ``held`` while a
#: module fixture keeps loaded data there for its tests (see :func:`holding_database`).
DB_STATE = {"dirty": False, "held": 0}


def clean_if_dirty(dsn: str) -> None:
    from gis.db.connection import connect

    if DB_STATE["dirty"] and not DB_STATE["held"]:
        with connect(dsn) as cleaner:
            truncate_all(cleaner)
        DB_STATE["dirty"] = False


class holding_database:  # noqa: N801 - used as a context manager in module fixtures
    """Context of a module fixture that loads data into the session database for its
    module's tests: no test clears the database meanwhile; cleared at the end."""

    def __init__(self, dsn: str):
        self.dsn = dsn

    def __enter__(self):
        DB_STATE["dirty"] = True
        clean_if_dirty(self.dsn)
        DB_STATE["held"] += 1
        return self

    def __exit__(self, *exc):
        DB_STATE["held"] -= 1
        DB_STATE["dirty"] = True
        clean_if_dirty(self.dsn)
        return False


def load_scored_city(conn, dsn: str, folder, home) -> int:
    """Load a generated sample city, measure its occupancy (vector engine) and score it
    under the Huai'an 2024 rules; commits. Returns the occupancy run's id."""
    from gis.settings import load_settings
    from parcels.occupancy.run import run_occupancy
    from sample.load import load_sample
    from scoring.run import run_scores

    load_sample(conn, folder)
    settings = load_settings({"dsn": dsn, "home": str(home)}, environ={})
    occupancy = run_occupancy(conn, settings, engine="vector")
    conn.commit()
    run_scores(conn, "jiangsu-huaian-2024", 2024, occupancy_run=occupancy.run_id)
    conn.commit()
    return occupancy.run_id
