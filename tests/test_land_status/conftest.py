"""Fixtures of the land-status tests: a constructed town with one parcel per case."""

from __future__ import annotations

import contextlib
import secrets
import shutil

import pytest

from tests.test_land_status.builders import (
    add_firm,
    add_parcel,
    add_survey,
    box,
    start,
)


@pytest.fixture
def town(db_conn):
    """Parcels on a row, 100 m × 100 m (15 mu) each, 200 m apart; two surveys."""
    conn = db_conn
    start(conn)

    def cell(i, dx0=0, dy0=0, dx1=100, dy1=100):
        return box(200 * i + dx0, dy0, 200 * i + dx1, dy1)

    parcels = {
        "IDLE": dict(supply="2021-01-01", start="2022-03-01", finish="2024-03-01"),
        "RECENT": dict(supply="2024-01-01", start="2024-03-01", finish="2026-03-01"),
        "SLIVER": dict(supply="2021-01-01", start="2022-03-01", finish="2024-03-01"),
        "NEIGHBOUR": dict(supply="2005-01-01", start="2005-06-01", finish="2007-06-01"),
        "STALLED": dict(supply="2020-01-01", start="2021-01-01", finish="2026-01-01"),
        "UNFIN": dict(supply="2022-06-01", start="2023-01-01", finish="2024-06-30"),
        "EXEMPT": dict(supply="2021-01-01", start="2022-03-01", finish="2024-03-01"),
        # coverage 25 % < 30 %; FAR 0.5: below its industry's 2008 minimum 1.0 and below half
        # the agreed 1.2 (用而未尽, the same measurement: counted once); no agreed dates, so
        # neither idle nor unfinished: two independent reasons
        "INEFF": dict(supply="2005-01-01", planned_far=1.2),
        "UNUSED": dict(supply="2005-01-01", start="2005-06-01", finish="2007-06-01"),
        "NEARZERO": dict(supply="2005-01-01", start="2005-06-01", finish="2007-06-01"),
        "NOLINK": dict(supply="2005-01-01", start="2005-06-01", finish="2007-06-01"),
        "HEALTHY": dict(supply="2005-01-01", start="2005-06-01", finish="2007-06-01"),
        "DEMOL": dict(supply="2005-01-01", start="2005-06-01", finish="2007-06-01"),
    }
    index = {}
    for i, (code, dates) in enumerate(parcels.items()):
        index[code] = i
        geom = cell(i)
        if code == "NEIGHBOUR":          # touches SLIVER: SLIVER is cell 2, NEIGHBOUR cell 3
            geom = box(200 * 2 + 100, 0, 200 * 2 + 200, 100)
        add_parcel(conn, code, geom, **dates)
    c = lambda code, *a: cell(index[code], *a)  # noqa: E731
    # NEIGHBOUR's building shifted 1 m across the boundary into SLIVER
    neighbour_building = box(200 * 2 + 99, 10, 200 * 2 + 180, 90)
    tall, low = 10.5, 3.0
    s1 = [(c("STALLED", 10, 10, 50, 50), low), (c("UNFIN", 10, 10, 50, 50), low),
          (c("INEFF", 0, 0, 100, 25), 2 * low), (c("UNUSED", 0, 0, 100, 50), tall),
          (c("NEARZERO", 0, 0, 100, 50), tall), (c("NOLINK", 0, 0, 100, 50), tall),
          (c("HEALTHY", 0, 0, 100, 50), tall), (c("DEMOL", 10, 10, 90, 90), tall),
          (neighbour_building, tall)]
    s2 = [g for g in s1 if g[0] is not s1[1][0] and g[0] is not s1[7][0]]
    s2.append((c("UNFIN", 10, 10, 50, 70), low))         # UNFIN grew: not stalled
    sid1 = add_survey(conn, "2023-05-01", [g for g, _ in s1], heights=[h for _, h in s1])
    sid2 = add_survey(conn, "2024-09-01", [g for g, _ in s2], heights=[h for _, h in s2])
    add_firm(conn, 1, "NEIGHBOUR")
    add_firm(conn, 2, "STALLED")
    add_firm(conn, 3, "UNFIN")
    add_firm(conn, 4, "INEFF")
    add_firm(conn, 5, "UNUSED", status="deregistered")
    add_firm(conn, 6, "NEARZERO", tax=0.5, kwh=5000)
    add_firm(conn, 7, "HEALTHY")
    add_firm(conn, 8, "DEMOL")
    conn.execute("INSERT INTO land_exemption (parcel_code, reason, created_by) VALUES"
                 " ('EXEMPT', '政府原因', 'tester')")
    conn.commit()
    return conn, sid1, sid2




@pytest.fixture
def database_before(db_dsn, tmp_path):
    """``database_before(N)``: a context giving the DSN of a new database migrated up to
    migration N - 1 (to test what migration N does to data made before it); dropped after."""
    from psycopg import sql
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    from gis.db.connection import connect
    from gis.db.migrations import SQL_DIR, migrate

    @contextlib.contextmanager
    def make(number: int):
        old = tmp_path / f"sql_before_{number:04d}"
        old.mkdir()
        for path in SQL_DIR.glob("*.sql"):
            if int(path.name[:4]) < number:
                shutil.copy(path, old / path.name)
        name = f"mujun_mig_{secrets.token_hex(3)}"
        admin_dsn = make_conninfo(db_dsn, dbname=conninfo_to_dict(db_dsn)["dbname"])
        with connect(admin_dsn, autocommit=True) as admin:
            admin.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(sql.Identifier(name)))
        dsn = make_conninfo(db_dsn, dbname=name)
        try:
            with connect(dsn) as conn:
                migrate(conn, old)
            yield dsn
        finally:
            with connect(admin_dsn, autocommit=True) as admin:
                admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    return make
