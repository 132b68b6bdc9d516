"""A stored occupancy run as files: ``mujun occupancy export``.

:func:`occupancy_layer` (one feature per parcel, with mu columns) and
:func:`enterprise_land_table` (one row per enterprise and year, no geometry) read a
run; :func:`write_occupancy` writes either with the one layer writer
(:func:`gis.layer_writer.write_layer`) under the aliases of
:data:`parcels.fields.PARCEL_FIELDS`. ``mujun export occupancy`` (maps) writes the same
layers with the map styles.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from gis.crs import m2_to_mu

if TYPE_CHECKING:
    import psycopg


def occupancy_layer(conn: psycopg.Connection, run_id: int) -> Any:
    """The per-parcel occupancy table of a run as stored, with area and built area in mu."""
    from parcels.occupancy.store import load_parcel_results

    frame = load_parcel_results(conn, run_id, geometry=True)
    frame.insert(frame.columns.get_loc("area_m2") + 1, "area_mu",
                 m2_to_mu(frame["area_m2"].astype("float64")))
    frame.insert(frame.columns.get_loc("built_m2") + 1, "built_mu",
                 m2_to_mu(frame["built_m2"].astype("float64")))
    return frame


def enterprise_land_table(conn: psycopg.Connection, run_id: int,
                          year: int | None = None) -> Any:
    """The per-enterprise land table of a run (no geometry): all years, or ``year``."""
    from parcels.occupancy.store import load_enterprise_results

    frame = load_enterprise_results(conn, run_id, year)
    for col in ("credit_code", "merged_into"):
        frame[col] = frame[col].map(lambda v: v.strip() if isinstance(v, str) else v)
    frame.insert(frame.columns.get_loc("land_m2") + 1, "land_mu",
                 m2_to_mu(frame["land_m2"].astype("float64")))
    cols = ["run_id", "year", "credit_code", "name", "land_m2", "land_mu", "built_m2",
            "floor_area_m2", "n_parcels", "role", "merged_into"]
    return frame[cols]


def write_occupancy(conn: psycopg.Connection, path: str | Path, *, run_id: int | None = None,
                    enterprises: bool = False, year: int | None = None,
                    overwrite: bool = False) -> dict[str, Any]:
    """Write a run's per-parcel layer (or, with ``enterprises``, its land table).

    Parameters
    ----------
    conn : psycopg.Connection
    path : path-like
        Output; the suffix picks the format (:data:`gis.layer_writer.FORMATS`).
    run_id : int, optional
        A finished occupancy run (default: the latest).
    enterprises : bool
        Write the per-enterprise land table (CSV or XLSX) instead of the parcels.
    year : int, optional
        With ``enterprises``: only this year.
    overwrite : bool
        Replace an existing output (in a GeoPackage or FileGDB: that layer only).

    Returns
    -------
    dict
        What :func:`gis.layer_writer.write_layer` returns plus ``occupancy_run``.
    """
    from gis.layer_writer import format_for, write_layer
    from parcels.fields import PARCEL_FIELDS
    from parcels.occupancy.store import resolve_run

    format_for(Path(path))  # a bad suffix fails before the database is read
    run = resolve_run(conn, run_id)
    if enterprises:
        frame, layer, title = enterprise_land_table(conn, run, year), "enterprise_land", "企业用地"
    else:
        frame, layer, title = occupancy_layer(conn, run), "occupancy", "宗地用地测算"
    info = write_layer(frame, path, layer=layer, title=title, overwrite=overwrite,
                       fields=PARCEL_FIELDS)
    info["occupancy_run"] = run
    return info
