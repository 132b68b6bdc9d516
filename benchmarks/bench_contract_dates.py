"""The dates the land-status rules read, at county size: the parcel's own vs the
contract's when there is one (migration 0036, view ``parcel_contract_dates``).

* **baseline: the parcel's own dates** — 100,000 parcels' supply, agreed start and
  completion dates read from ``parcel`` (what ``read_facts`` read before 0036);
* **dates in force** — the same read joined to ``parcel_contract_dates`` with the
  product's own :data:`scoring.land_status.facts.DATES_IN_FORCE` and ``CONTRACT_JOIN``
  (1,000 transferred plots with a contract, the latest per parcel), each best of three.

The result is checked: exactly the contracted parcels take the contract's start date.
The database (``mujun_bench_contract_dates``) is made once and reused; ``--size small``
uses 10,000 parcels and 100 contracts.
"""

from __future__ import annotations

import datetime as dt
import time

from scoring.land_status.facts import CONTRACT_JOIN, DATES_IN_FORCE

SIZES = {"small": (10_000, 100), "city": (100_000, 1_000), "province": (100_000, 1_000)}

_FILL = """
INSERT INTO parcel (parcel_code, geom, supply_date, agreed_start_date, agreed_finish_date)
SELECT 'B' || i, ST_Multi(ST_MakeEnvelope(500000 + (i %% 1000) * 100, 3450000 + (i / 1000) * 100,
       500080 + (i %% 1000) * 100, 3450080 + (i / 1000) * 100, 4549)),
       DATE '2010-01-01', DATE '2011-01-01', DATE '2013-01-01'
FROM generate_series(0, %(n)s - 1) i;
INSERT INTO supply_plot (code, geom, area_m2, origin, parcel_code, status, status_date,
                         created_by)
SELECT 'XG' || i, geom, 6400, 'new', parcel_code, 'contracted', DATE '2026-03-01', 'bench'
FROM (SELECT row_number() OVER () AS i, geom, parcel_code FROM parcel
      ORDER BY parcel_code LIMIT %(k)s) s;
INSERT INTO supply_contract (plot_id, parcel_code, signed_date, start_by, complete_by,
                             created_by)
SELECT plot_id, parcel_code, DATE '2026-03-05', DATE '2027-03-01', DATE '2029-03-01', 'bench'
FROM supply_plot;
"""

_OWN = ("SELECT p.parcel_code, p.supply_date, p.agreed_start_date, p.agreed_finish_date"
        " FROM parcel p")
_IN_FORCE = f"""
SELECT p.parcel_code,{DATES_IN_FORCE},
       p.supply_date AS certificate_supply_date
FROM parcel p{CONTRACT_JOIN}
"""
#: The as-of date of the read (after every contract's transfer).
AS_OF = dt.date(2026, 12, 1)


def _database(n: int, k: int):
    from psycopg import sql
    from psycopg.conninfo import make_conninfo

    from gis.db.connection import connect
    from gis.db.database import database_dsn
    from gis.db.migrations import migrate
    from gis.db.srid import set_working_srid
    from gis.settings import load_settings

    server = database_dsn(load_settings())
    name = "mujun_bench_contract_dates"
    with connect(server, autocommit=True) as admin:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    conn = connect(make_conninfo(server, dbname=name))
    migrate(conn)
    if conn.execute("SELECT count(*) FROM parcel").fetchone()[0] != n:
        conn.execute("TRUNCATE parcel, supply_plot, supply_contract, supply_plot_event CASCADE")
        set_working_srid(conn, 4549)
        for statement in _FILL.strip().split(";"):
            if statement.strip():
                conn.execute(statement, {"n": n, "k": k})
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")
        conn.autocommit = False
    return conn


def _best(conn, query: str, params: dict | None = None) -> tuple[list, float]:
    best, rows = float("inf"), []
    for _ in range(3):
        t0 = time.perf_counter()
        rows = conn.execute(query, params).fetchall()
        best = min(best, time.perf_counter() - t0)
    return rows, best


def main(size: str = "city") -> dict:
    """Run the benchmark; print and return the figures."""
    n, k = SIZES[size]
    conn = _database(n, k)
    own, own_s = _best(conn, _OWN)
    force, force_s = _best(conn, _IN_FORCE, {"as_of": AS_OF})
    conn.rollback()
    conn.close()
    contracted = sum(r[2] == dt.date(2027, 3, 1) for r in force)
    assert len(own) == len(force) == n and contracted == k, (len(force), contracted)
    figures = {"parcels": n, "contracts": k, "baseline_own_dates_s": round(own_s, 3),
               "dates_in_force_s": round(force_s, 3),
               "ratio_in_force_to_own": round(force_s / own_s, 2)}
    print(f"{n:,} parcels, {k:,} contracts: the parcel's own dates {own_s:.2f} s | dates in "
          f"force (contract view) {force_s:.2f} s (× {force_s / own_s:.1f})", flush=True)
    return figures


if __name__ == "__main__":
    import sys

    main(sys.argv[1] if len(sys.argv) > 1 else "small")
