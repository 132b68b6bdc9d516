"""The deployment's working SRID: the projected CRS every stored geometry is in.

The first import fixes it (:func:`set_working_srid`, recorded in ``mujun_setting``);
every later load reprojects to it (:func:`get_working_srid`). Switching it is refused
once geometries are stored, so areas never mix two projections. See
:mod:`gis.crs` for how the CRS is chosen (CGCS2000 3-degree zone of the data).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gis.errors import DataError

if TYPE_CHECKING:
    import psycopg


def get_working_srid(conn: psycopg.Connection) -> int | None:
    """The working SRID recorded in ``mujun_setting`` (``None`` before the first load)."""
    row = conn.execute("SELECT value FROM mujun_setting WHERE key = 'working_srid'").fetchone()
    return int(row[0]) if row else None


def set_working_srid(conn: psycopg.Connection, srid: int) -> None:
    """Record the working SRID (inside the caller's transaction).

    Raises
    ------
    DataError
        A different SRID is already recorded and geometries are stored in it.
    """
    srid = int(srid)
    if srid <= 0:
        raise DataError(f"working SRID must be a positive EPSG code, not {srid}")
    current = get_working_srid(conn)
    if current is not None and current != srid:
        stored = conn.execute(
            "SELECT (SELECT count(*) FROM (SELECT 1 FROM parcel LIMIT 1) p)"
            " + (SELECT count(*) FROM (SELECT 1 FROM footprint LIMIT 1) f)"
        ).fetchone()
        if stored and stored[0]:
            raise DataError(
                f"the database already stores geometries in EPSG:{current}; reproject the input "
                f"to EPSG:{current} (or set MUJUN_WORKING_CRS=EPSG:{current}) instead of "
                f"switching to EPSG:{srid}"
            )
    conn.execute(
        "INSERT INTO mujun_setting (key, value) VALUES ('working_srid', %s) "
        "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
        (str(srid),),
    )
