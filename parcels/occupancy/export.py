"""Exports of stored occupancy runs: per parcel (CSV/GPKG) and per enterprise (CSV/XLSX).

Planners take these files as they are: plain column names, areas in m² and mu,
ratios as fractions. Every file is written atomically and never replaces an existing
file unless ``overwrite`` is given.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from gis.errors import ConfigError

if TYPE_CHECKING:
    import psycopg

log = logging.getLogger(__name__)

PARCEL_FORMATS = (".csv", ".gpkg")
ENTERPRISE_FORMATS = (".csv", ".xlsx")


def _check_suffix(path: Path, allowed: tuple[str, ...], what: str) -> str:
    suffix = path.suffix.lower()
    if suffix not in allowed:
        raise ConfigError(f"{path}: {what} can be written as {', '.join(allowed)}; "
                          f"change the file name's extension")
    return suffix


def export_parcels(conn: psycopg.Connection, path: str | Path, *, run_id: int | None = None,
                   overwrite: bool = False) -> dict:
    """Write the per-parcel table of a run (default: the latest) with parcel geometry.

    Parameters
    ----------
    conn : psycopg.Connection
    path : str or Path
        ``.gpkg`` (layer ``occupancy``) or ``.csv`` (geometry as WKT).
    run_id : int, optional
    overwrite : bool

    Returns
    -------
    dict
        ``{"path", "run_id", "rows"}``.
    """
    from gis.crs import m2_to_mu
    from gis.vector_io import write_vector
    from parcels.occupancy.store import load_parcel_results, resolve_run

    path = Path(path)
    _check_suffix(path, PARCEL_FORMATS, "the parcel table")
    run_id = resolve_run(conn, run_id)
    gdf = load_parcel_results(conn, run_id, geometry=True)
    gdf.insert(gdf.columns.get_loc("area_m2") + 1, "area_mu", m2_to_mu(gdf["area_m2"]))
    gdf.insert(gdf.columns.get_loc("built_m2") + 1, "built_mu", m2_to_mu(gdf["built_m2"]))
    written = write_vector(gdf, path, layer="occupancy", overwrite=overwrite)
    log.info("wrote %d parcels of run %d to %s", len(gdf), run_id, written)
    return {"path": str(written), "run_id": run_id, "rows": len(gdf)}


def export_enterprises(conn: psycopg.Connection, path: str | Path, *,
                       run_id: int | None = None, year: int | None = None,
                       overwrite: bool = False) -> dict:
    """Write the per-enterprise land table of a run (default: the latest).

    Parameters
    ----------
    conn : psycopg.Connection
    path : str or Path
        ``.csv`` (UTF-8 with BOM, so Excel shows Chinese names) or ``.xlsx``.
    run_id : int, optional
    year : int, optional
        Only this year.
    overwrite : bool

    Returns
    -------
    dict
        ``{"path", "run_id", "rows"}``.
    """
    from gis.atomic import atomic_output
    from gis.crs import m2_to_mu
    from parcels.occupancy.store import load_enterprise_results, resolve_run

    path = Path(path)
    suffix = _check_suffix(path, ENTERPRISE_FORMATS, "the enterprise table")
    run_id = resolve_run(conn, run_id)
    frame = load_enterprise_results(conn, run_id, year)
    for col in ("credit_code", "merged_into"):
        frame[col] = frame[col].map(lambda v: v.strip() if isinstance(v, str) else v)
    frame.insert(frame.columns.get_loc("land_m2") + 1, "land_mu",
                 m2_to_mu(frame["land_m2"].astype("float64")))
    cols = ["run_id", "year", "credit_code", "name", "land_m2", "land_mu", "built_m2",
            "floor_area_m2", "n_parcels", "role", "merged_into"]
    frame = frame[cols]
    with atomic_output(path, overwrite=overwrite) as tmp:
        if suffix == ".csv":
            frame.to_csv(tmp, index=False, encoding="utf-8-sig")
        else:
            frame.to_excel(tmp, index=False, sheet_name="enterprise_land", engine="openpyxl")
    log.info("wrote %d enterprises of run %d to %s", len(frame), run_id, path)
    return {"path": str(path), "run_id": run_id, "rows": len(frame)}
