"""Built-area change per parcel between two surveys: new, demolished and expanded buildings.

Per parcel, for a *before* and an *after* survey:

* ``built_before_m2`` / ``built_after_m2``: the occupancy kernel's built area on each
  survey's footprints alone (so the sliver rule applies: a neighbour's building
  shifted a metre over the boundary never makes the parcel built);
* **new**: an after-footprint covered by less than ``min_overlap`` of its area by
  before-footprints (and at least ``min_area_m2``); **demolished**: the same the other
  way round; **expanded**: the part of an after-footprint outside every
  before-footprint it overlaps, when at least ``min_area_m2`` (smaller differences are
  registration noise). A building belongs to the parcel holding at least
  ``min_overlap_ratio`` of it (the occupancy building-count rule); an added part is
  measured inside the parcel.

:func:`change_kernel` is pure; :func:`survey_change` reads the surveys from PostGIS
and :func:`store_change` writes ``survey_change`` rows (migration 0009) for the
land-status rules.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from gis.errors import DataError

if TYPE_CHECKING:
    import geopandas as gpd
    import psycopg

    from parcels.occupancy.kernel import KernelOptions

log = logging.getLogger(__name__)

#: Smallest new, demolished or added part reported (m²).
MIN_AREA_M2 = 20.0
#: A footprint covered by less than this share by the other survey is new (or demolished).
MIN_OVERLAP = 0.1

CHANGE_COLUMNS = ("parcel_code", "built_before_m2", "built_after_m2", "new_m2", "demolished_m2",
                  "expanded_m2", "n_new", "n_demolished", "n_expanded")


def _covered_share(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Share of each geometry of ``a`` covered by geometries of ``b`` (sum, capped at 1)."""
    import shapely

    out = np.zeros(len(a))
    if len(a) == 0 or len(b) == 0:
        return out
    ai, bi = shapely.STRtree(b).query(a, predicate="intersects")
    np.add.at(out, ai, shapely.area(shapely.intersection(a[ai], b[bi])))
    area = shapely.area(a)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(area > 0, np.minimum(out / area, 1.0), 0.0)


def _owner(parcels: np.ndarray, geoms: np.ndarray, ratio: float) -> np.ndarray:
    """Index of the parcel holding at least ``ratio`` of each geometry (-1: none)."""
    import shapely

    owner = np.full(len(geoms), -1, dtype="int64")
    if len(geoms) == 0 or len(parcels) == 0:
        return owner
    gi, pi = shapely.STRtree(parcels).query(geoms, predicate="intersects")
    share = shapely.area(shapely.intersection(geoms[gi], parcels[pi])) / np.maximum(
        shapely.area(geoms[gi]), 1e-12)
    best = np.full(len(geoms), -1.0)
    for g, p, s in zip(gi, pi, share, strict=True):
        if s >= ratio * (1 - 1e-9) and s > best[g]:
            best[g], owner[g] = s, p
    return owner


def change_kernel(parcels: gpd.GeoDataFrame, before: gpd.GeoDataFrame, after: gpd.GeoDataFrame,
                  options: KernelOptions, *, min_area_m2: float = MIN_AREA_M2,
                  min_overlap: float = MIN_OVERLAP) -> pd.DataFrame:
    """Per-parcel change between two footprint sets (pure; one row per parcel, in order).

    Parameters
    ----------
    parcels : GeoDataFrame
        ``parcel_code`` and geometry.
    before, after : GeoDataFrame
        Footprints of the two surveys (``footprint_id``, ``height_m``, ``storeys``).
    options : KernelOptions
        Sliver tolerance and building-count ratio of the occupancy kernel.

    Returns
    -------
    DataFrame
        Columns :data:`CHANGE_COLUMNS`.
    """
    import shapely

    from parcels.occupancy.kernel import occupancy_kernel

    pg = np.asarray(parcels.geometry.values, dtype=object)
    bg = np.asarray(before.geometry.values, dtype=object)
    ag = np.asarray(after.geometry.values, dtype=object)
    built_before = occupancy_kernel(parcels, before, options, threads=1)["built_m2"].to_numpy()
    built_after = occupancy_kernel(parcels, after, options, threads=1)["built_m2"].to_numpy()
    n = len(parcels)
    sums = {k: np.zeros(n) for k in ("new_m2", "demolished_m2", "expanded_m2")}
    counts = {k: np.zeros(n, dtype="int64") for k in ("n_new", "n_demolished", "n_expanded")}
    ratio = options.min_overlap_ratio
    share_after = _covered_share(ag, bg)
    share_before = _covered_share(bg, ag)
    area_a, area_b = shapely.area(ag), shapely.area(bg)

    new = (share_after < min_overlap) & (area_a >= min_area_m2)
    for idx, owner in zip(np.flatnonzero(new), _owner(pg, ag[new], ratio), strict=True):
        if owner >= 0:
            sums["new_m2"][owner] += area_a[idx]
            counts["n_new"][owner] += 1
    gone = (share_before < min_overlap) & (area_b >= min_area_m2)
    for idx, owner in zip(np.flatnonzero(gone), _owner(pg, bg[gone], ratio), strict=True):
        if owner >= 0:
            sums["demolished_m2"][owner] += area_b[idx]
            counts["n_demolished"][owner] += 1
    grown = np.flatnonzero(share_after >= min_overlap)
    if len(grown) and len(bg):
        tree = shapely.STRtree(bg)
        ptree = shapely.STRtree(pg)
        for i in grown:
            hits = tree.query(ag[i], predicate="intersects")
            added = shapely.difference(ag[i], shapely.union_all(bg[hits]))
            if shapely.area(added) < min_area_m2:
                continue
            for p in ptree.query(added, predicate="intersects"):
                part = shapely.area(shapely.intersection(added, pg[p]))
                if part >= min_area_m2:
                    sums["expanded_m2"][p] += part
                    counts["n_expanded"][p] += 1
    return pd.DataFrame({"parcel_code": parcels["parcel_code"].to_numpy(),
                         "built_before_m2": built_before, "built_after_m2": built_after,
                         **sums, **counts}, columns=list(CHANGE_COLUMNS))


_PARCELS_SQL = ("SELECT p.parcel_id, p.parcel_code, ST_AsBinary(p.geom) AS geom FROM parcel p"
                " WHERE (%(codes)s::text[] IS NULL OR p.parcel_code = ANY(%(codes)s))"
                " AND ST_Covers(%(cov)s::geometry, p.geom) ORDER BY p.parcel_id")
_FOOTPRINTS_SQL = ("SELECT f.footprint_id, coalesce(f.height_m, 'NaN')::float8 AS height_m,"
                   " coalesce(f.storeys::float8, 'NaN') AS storeys, ST_AsBinary(f.geom) AS geom"
                   " FROM footprint f WHERE f.survey_id = %(survey)s AND EXISTS ("
                   "SELECT 1 FROM parcel p WHERE p.geom && ST_Expand(f.geom, 1)"
                   " AND (%(codes)s::text[] IS NULL OR p.parcel_code = ANY(%(codes)s)))")


def survey_change(conn: psycopg.Connection, before: int, after: int, options: KernelOptions,
                  *, parcel_codes: list[str] | None = None,
                  min_area_m2: float = MIN_AREA_M2) -> pd.DataFrame:
    """Change per parcel between surveys ``before`` and ``after`` (read from PostGIS).

    Only parcels both surveys cover are compared (``parcel_codes`` narrows further).

    Raises
    ------
    DataError
        A survey does not exist, or ``before`` is not older than ``after``.
    """
    from gis.db.srid import get_working_srid
    from parcels.occupancy.reading import fetch_geo

    rows = dict(conn.execute("SELECT survey_id, survey_date FROM survey WHERE survey_id = ANY(%s)",
                             ([int(before), int(after)],)).fetchall())
    for sid in (before, after):
        if int(sid) not in rows:
            raise DataError(f"调查 {sid} 不存在；`mujun occupancy surveys` 列出全部调查")
    if rows[int(before)] >= rows[int(after)]:
        raise DataError(f"调查 {before}（{rows[int(before)]}）并不早于调查 {after}"
                        f"（{rows[int(after)]}）；请先写较早的调查")
    srid = get_working_srid(conn)
    cov = conn.execute("SELECT ST_Intersection(a.coverage, b.coverage) FROM survey a, survey b"
                       " WHERE a.survey_id = %s AND b.survey_id = %s", (before, after)).fetchone()[0]
    codes = list(parcel_codes) if parcel_codes is not None else None
    parcels = fetch_geo(conn, _PARCELS_SQL, {"codes": codes, "cov": cov}, srid=srid,
                        repair="parcel")
    b = fetch_geo(conn, _FOOTPRINTS_SQL, {"survey": before, "codes": codes}, srid=srid,
                  repair="footprint")
    a = fetch_geo(conn, _FOOTPRINTS_SQL, {"survey": after, "codes": codes}, srid=srid,
                  repair="footprint")
    log.info("change between surveys %s and %s: %d parcels, %d and %d footprints", before,
             after, len(parcels), len(b), len(a))
    return change_kernel(parcels, b, a, options, min_area_m2=min_area_m2)


def store_change(conn: psycopg.Connection, before: int, after: int, change: pd.DataFrame,
                 params: dict[str, Any] | None = None) -> int:
    """Write (replace) the ``survey_change`` rows of the pair for these parcels (no commit)."""
    conn.execute("DELETE FROM survey_change WHERE before_survey_id = %s AND after_survey_id = %s"
                 " AND parcel_code = ANY(%s)", (before, after, change["parcel_code"].tolist()))
    if len(change) == 0:
        return 0
    from gis.db.copy import copy_frame

    frame = change.loc[:, list(CHANGE_COLUMNS)].copy()
    frame.insert(0, "after_survey_id", int(after))
    frame.insert(0, "before_survey_id", int(before))
    frame["params"] = [dict(params or {})] * len(frame)
    return copy_frame(conn, "survey_change", frame)

