"""A small sample city loaded into the session's test database, with an occupancy run.

``city_db`` is module-scoped: a module's tests share one loaded database (read-only
tests), and the tables are emptied when the module is done so other modules start
clean, as ``db_conn`` guarantees.
"""

from __future__ import annotations

import pytest

KINDS = ("idle_not_started", "idle_stalled", "unfinished", "inefficient", "built_unused")
STATUSES = ("new", "under_review", "confirmed", "field_check", "rejected")


def add_candidates(conn, n: int = 40) -> None:
    """Candidates on the first ``n`` parcels (the land-status rules are tested elsewhere;
    the maps need rows of every kind and status in the contract's table)."""
    rows = conn.execute("SELECT parcel_code, town, district, area_m2 FROM parcel "
                        "ORDER BY parcel_code LIMIT %s", (n,)).fetchall()
    for i, (code, town, district, area) in enumerate(rows):
        conn.execute(
            "INSERT INTO candidate (parcel_code, kind, status, town, district, area_m2, "
            "reclaimable_m2, certainty, priority) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (code, KINDS[i % len(KINDS)], STATUSES[i % len(STATUSES)], town, district, area,
             area * 0.5, 0.8, float(n - i)))
    conn.commit()


@pytest.fixture(scope="session")
def small_city(tmp_path_factory):
    from sample import generate_city

    return generate_city("small", 7, tmp_path_factory.mktemp("maps") / "city", imagery=False)


def add_land_tax(conn, occupancy_run: int) -> None:
    """A 2024 land-use tax base for most firms of the run: every finding occurs
    (a fifth unregistered, some taxed on less land, some on more, the rest matched)."""
    conn.execute(
        "INSERT INTO land_tax_base (credit_code, year, land_grade, taxable_area_m2, unit_tax,"
        " town) SELECT l.credit_code, 2024, '二级', round((l.land_m2 * CASE r.k WHEN 1 THEN"
        " 0.6 WHEN 2 THEN 1.4 ELSE 1.0 END)::numeric, 2), 4, e.town FROM enterprise_land l"
        " JOIN enterprise e USING (credit_code)"
        " CROSS JOIN LATERAL (SELECT abs(hashtext(l.credit_code)) %% 5 AS k) r"
        " WHERE l.run_id = %s AND l.year = 2024 AND l.land_m2 > 0 AND r.k <> 0",
        (occupancy_run,))
    conn.commit()


@pytest.fixture(scope="module")
def city_db(db_dsn, small_city, tmp_path_factory):
    """(conn, dsn, occupancy run id) with the small city loaded and measured."""
    from gis.db.connection import connect
    from tests.database_state import holding_database, load_scored_city

    with holding_database(db_dsn):  # cleared before and after, kept meanwhile
        conn = connect(db_dsn)
        run_id = load_scored_city(conn, db_dsn, small_city, tmp_path_factory.mktemp("home"))
        from scoring.policy.apply import run_policy

        rules = tmp_path_factory.mktemp("policy") / "policy-2024.yaml"
        rules.write_text("name: map-test\nyear: 2024\nclass_year: current\n"
                         "period: {start: 2024-01, end: 2024-12}\nitems:\n"
                         "  power: {kind: electricity, source: records, rates: {A: -0.01, D: 0.1}}\n",
                         encoding="utf-8")
        run_policy(conn, rules)
        add_land_tax(conn, run_id)
        add_candidates(conn)
        try:
            yield conn, db_dsn, run_id
        finally:
            conn.rollback()
            conn.close()
