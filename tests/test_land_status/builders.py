"""Small constructed worlds for the land-status tests: parcels, surveys, firms, rights.

Everything is inserted with plain SQL in EPSG:4549 (metres), so each test states its
geometry and dates exactly.
"""

from __future__ import annotations

import datetime as dt

import shapely

from gis.db.srid import set_working_srid
from parcels.surveys import create_survey

SRID = 4549
X0, Y0 = 500_000.0, 3_450_000.0


def box(x0, y0, x1, y1):
    """A rectangle in local metres (offset to a plausible place in the zone)."""
    return shapely.box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1)


def start(conn):
    set_working_srid(conn, SRID)


def add_parcel(conn, code, geom, *, supply=None, start=None, finish=None, town="镇A",
               district="区", land_use="0601", planned_far=None, attrs=None):
    from psycopg.types.json import Jsonb

    conn.execute(
        "INSERT INTO parcel (parcel_code, geom, supply_date, agreed_start_date,"
        " agreed_finish_date, town, district, land_use_code, planned_far, attrs)"
        " VALUES (%s, ST_Multi(ST_GeomFromWKB(%s, %s)), %s, %s, %s, %s, %s, %s, %s, %s)",
        (code, shapely.to_wkb(geom), SRID, supply, start, finish, town, district, land_use,
         planned_far, Jsonb(attrs or {})))


def add_survey(conn, date, buildings, *, coverage=None, heights=None):
    """A survey of ``buildings`` (geometries) on ``date``; returns its id."""
    ids = []
    for i, g in enumerate(buildings):
        h = heights[i] if heights else 6.0
        row = conn.execute(
            "INSERT INTO footprint (geom, image_date, method, height_m) VALUES"
            " (ST_Multi(ST_GeomFromWKB(%s, %s)), %s, 'test', %s) RETURNING footprint_id",
            (shapely.to_wkb(g), SRID, date, h)).fetchone()
        ids.append(int(row[0]))
    if coverage is None:
        coverage = box(-1000, -1000, 3000, 3000)
    return create_survey(conn, survey_date=date, coverage=coverage, footprint_ids=ids,
                         source="test", method="test")


def add_enterprise(conn, code, *, status="active", industry="3311", version="2017",
                   name=None, size="large"):
    conn.execute(
        "INSERT INTO enterprise (credit_code, name, industry_code, industry_version, status,"
        " size_class) VALUES (%s, %s, %s, %s, %s, %s)",
        (code, name or f"企业{code[-4:]}", industry, version, status, size))


def add_year(conn, code, year, *, tax=100.0, kwh=1e6, revenue=1000.0):
    conn.execute("INSERT INTO enterprise_year (credit_code, year, tax_wan, electricity_kwh,"
                 " revenue_wan) VALUES (%s, %s, %s, %s, %s)", (code, year, tax, kwh, revenue))


def add_right(conn, parcel, code, right_type="owner"):
    conn.execute("INSERT INTO land_right (parcel_code, credit_code, right_type) VALUES"
                 " (%s, %s, %s)", (parcel, code, right_type))


def credit(n: int) -> str:
    """An 18-character code (check character not computed: tests do not need it)."""
    return f"91320500MA{n:07d}X"[:18].ljust(18, "0")


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def add_firm(conn, n, parcel, *, status="active", tax=200.0, kwh=2e6, industry="1310"):
    code = credit(n)
    add_enterprise(conn, code, status=status, industry=industry)
    add_year(conn, code, 2024, tax=tax, kwh=kwh)
    add_right(conn, parcel, code)
    return code
