"""Reading a polygon layer and bringing it into the working CRS, with checks.

Shared by the parcel and footprint imports (tool module: reads files, asks the
database for its working SRID). Every feature is checked against the declared
CRS's area of use (:mod:`gis.importing.crs_check`) before anything is
reprojected, and the working CRS is chosen only from features that passed.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from gis.errors import CRSError
from gis.importing.geometry import reject_degenerate, repair_geometries, to_multipolygons
from gis.importing.report import ImportReport

if TYPE_CHECKING:
    import geopandas as gpd
    import psycopg

log = logging.getLogger(__name__)


def read_layer(path: str | Path, *, layer: str | None = None, crs: Any = None,
               encoding: str | None = None, swap_xy: bool = False,
               report: ImportReport | None = None, skip: int = 0,
               limit: int | None = None) -> gpd.GeoDataFrame:
    """Read a vector layer, make sure it has a CRS and lat/lon are in the right order.

    Parameters
    ----------
    path : any OGR source :func:`gis.vector_io.read_vector` reads.
    layer : str, optional
    crs : CRS-like, optional
        The CRS the data is in (assigned, not transformed); required when the
        file declares none.
    encoding : str, optional
        Text encoding of attribute values (detected when omitted).
    swap_xy : bool
        Exchange x and y (repairs latitude/longitude given in swapped order).
    skip, limit : int, optional
        Read a chunk of the layer only (see :func:`gis.vector_io.read_vector`).

    Raises
    ------
    gis.errors.CRSError
        No CRS and no ``crs``; coordinates that cannot be in the CRS; lat/lon
        that look swapped (unless ``swap_xy``).
    """
    from gis.crs import check_coordinates, ensure_crs, looks_swapped
    from gis.crs import swap_xy as swap_axes
    from gis.vector_io import read_vector

    source = f"{path}{':' + layer if layer else ''}"
    gdf = read_vector(path, layer, encoding=encoding, crs=crs, skip=skip, limit=limit)
    gdf = ensure_crs(gdf, crs, source=source)
    if report is not None:
        report.extra["source_crs"] = gdf.crs.to_string()
    if swap_xy:
        gdf = swap_axes(gdf)
        if looks_swapped(gdf):
            raise CRSError("with --swap-xy the coordinates look like latitude/longitude in "
                           "swapped order: they were in the right order; drop --swap-xy",
                           source=source)
        if report is not None:
            report.add(None, "swapped_axes", "warning", "x and y exchanged (--swap-xy)")
    elif looks_swapped(gdf):
        raise CRSError("coordinates look like latitude/longitude given in swapped order; "
                       "re-run with --swap-xy to exchange x and y", source=source)
    check_coordinates(gdf, source=source)
    return gdf


def to_working_crs(conn: psycopg.Connection, gdf: gpd.GeoDataFrame, rows: np.ndarray,
                   report: ImportReport, *, settings: Any = None, min_area_m2: float = 1.0,
                   swapped: bool = False) -> tuple[np.ndarray, int, bool, np.ndarray]:
    """Repair geometries, check them against the CRS's area of use, reproject, reject slivers.

    The working CRS is the database's recorded working SRID; when none is
    recorded yet it is chosen from the data (:func:`gis.crs.working_crs_for`:
    the ``working_crs`` setting, else the CGCS2000 zone in China, else UTM).

    Returns
    -------
    geoms : numpy.ndarray of MultiPolygon or None
        In the working CRS.
    srid : int
    new_srid : bool
        True when the SRID was chosen now (the caller records it).
    ok : numpy.ndarray of bool
        Geometries that may load.
    """
    import geopandas as gpd
    import shapely
    from pyproj import CRS

    from gis.crs import working_crs_for
    from gis.db.srid import get_working_srid
    from gis.importing.crs_check import check_area_of_use

    raw = np.asarray(gdf.geometry.values, dtype=object)
    inside = check_area_of_use(raw, gdf.crs, rows, report, swapped=swapped)
    fixed = np.full(len(raw), None, dtype=object)
    fixed[inside] = repair_geometries(raw[inside], rows[inside], report)
    present = ~shapely.is_missing(fixed)
    srid = get_working_srid(conn)
    new_srid = srid is None
    if new_srid:
        if not present.any():
            srid = 0
        else:
            sub = gpd.GeoDataFrame(geometry=list(fixed[present]), crs=gdf.crs)
            crs = working_crs_for(sub, settings)
            epsg = crs.to_epsg()
            if not epsg:
                raise CRSError(f"working CRS {crs.name} has no EPSG code; set working_crs to "
                               "an EPSG code")
            srid = int(epsg)
            report.add(None, "working_crs", "info",
                       f"working CRS chosen from the data: EPSG:{srid} ({crs.name})")
    out = fixed.copy()
    if present.any():
        source_crs = CRS.from_user_input(gdf.crs)
        if not source_crs.equals(CRS.from_epsg(srid), ignore_axis_order=True):
            projected = gpd.GeoSeries(list(fixed[present]), crs=source_crs).to_crs(srid)
            out[present] = np.asarray(projected.values, dtype=object)
            bad = present.copy()
            bad[present] = ~shapely.is_valid(out[present])
            if bad.any():
                out[bad] = to_multipolygons(shapely.make_valid(out[bad]))
    ok = reject_degenerate(out, rows, report, min_area_m2=min_area_m2) & inside
    if not new_srid and ok.any():
        from gis.importing.crs_check import check_near_stored

        check_near_stored(out[ok], shapely.total_bounds(raw[ok]), gdf.crs, srid,
                          stored_extent(conn), report)
    return out, srid, new_srid, ok


def stored_extent(conn: psycopg.Connection) -> tuple[float, float, float, float] | None:
    """Extent of the parcels stored (of the footprints when there are none), working CRS."""
    from psycopg import sql

    for table in ("parcel", "footprint"):
        row = conn.execute(sql.SQL(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) "
            "FROM (SELECT ST_Extent(geom) AS e FROM {}) s").format(sql.Identifier(table))
        ).fetchone()
        if row is not None and row[0] is not None:
            return tuple(float(v) for v in row)  # type: ignore[return-value]
    return None


def jsonable(value: Any) -> Any:
    """A cell as a JSON value (for the ``attrs`` column); None for missing."""
    if value is None:
        return None
    if isinstance(value, float | np.floating):
        return None if math.isnan(value) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if hasattr(value, "isoformat"):
        try:
            import pandas as pd

            if value is pd.NaT:
                return None
        except ImportError:  # pragma: no cover
            pass
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, int | str | bool):
        return value
    try:
        json.dumps(value)
        return value
    except TypeError:
        return str(value)


def extra_attributes(frame: Any, columns: list[str]) -> np.ndarray:
    """Unmapped source columns of each row as a JSON object text (missing values left out).

    Built column by column (numbers formatted by numpy, each distinct text
    encoded once), so a million footprints cost seconds, not minutes.

    Examples
    --------
    >>> import pandas as pd
    >>> f = pd.DataFrame({"备注": ["东区", None], "n": [3, 4], "h": [1.5, float("nan")]})
    >>> extra_attributes(f, ["备注", "n", "h"]).tolist()
    ['{"备注": "东区", "n": 3, "h": 1.5}', '{"n": 4}']
    """
    import pandas as pd

    n = len(frame)
    acc = pd.Series([""] * n, dtype=object)
    for column in columns:
        series = frame[column].reset_index(drop=True)
        key = json.dumps(str(column), ensure_ascii=False) + ": "
        dtype = series.dtype
        if pd.api.types.is_bool_dtype(dtype) and not pd.api.types.is_object_dtype(dtype):
            null = series.isna().to_numpy()
            text = pd.Series(np.where(series.fillna(False).to_numpy(dtype=bool), "true", "false"))
        elif pd.api.types.is_integer_dtype(dtype):
            null = series.isna().to_numpy()
            text = series.astype("Int64").astype(str).astype(object)
        elif pd.api.types.is_float_dtype(dtype):
            values = series.to_numpy(dtype=float)
            null = ~np.isfinite(values)
            text = pd.Series(values.astype(str), dtype=object)
        else:
            null = series.isna().to_numpy()
            lookup: dict[Any, str | None] = {}

            def encode(v: Any, lookup: dict[Any, str | None] = lookup) -> str | None:
                try:
                    return lookup[v]
                except (KeyError, TypeError):
                    j = jsonable(v)
                    out = None if j is None else json.dumps(j, ensure_ascii=False)
                    with contextlib.suppress(TypeError):
                        lookup[v] = out
                    return out

            text = series.map(encode)
            null = null | text.isna().to_numpy()
        fragment = (key + text.where(~pd.Series(null), "").astype(str) + ", ").to_numpy(dtype=object)
        acc = acc + pd.Series(np.where(null, "", fragment), dtype=object)
    return ("{" + acc.str.removesuffix(", ") + "}").to_numpy(dtype=object)
