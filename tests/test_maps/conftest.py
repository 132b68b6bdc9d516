"""A small sample city loaded into the session's test database, with an occupancy run.

``city_db`` is module-scoped: a module's tests share one loaded database (read-only
tests), and the tables are emptied when the module is done so other modules start
clean, as ``db_conn`` guarantees.
"""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def small_city(tmp_path_factory):
    from sample import generate_city

    return generate_city("small", 7, tmp_path_factory.mktemp("maps") / "city", imagery=False)


@pytest.fixture(scope="module")
def city_db(db_dsn, small_city, tmp_path_factory):
    """(conn, dsn, occupancy run id) with the small city loaded and measured."""
    from gis.db.connection import connect
    from gis.settings import load_settings
    from parcels.occupancy.run import run_occupancy
    from sample.load import load_sample
    from tests.conftest import _truncate_all

    conn = connect(db_dsn)
    _truncate_all(conn)
    load_sample(conn, small_city)
    settings = load_settings({"dsn": db_dsn, "home": str(tmp_path_factory.mktemp("home"))},
                             environ={})
    result = run_occupancy(conn, settings, engine="vector")
    conn.commit()
    try:
        yield conn, db_dsn, result.run_id
    finally:
        conn.rollback()
        _truncate_all(conn)
        conn.close()
