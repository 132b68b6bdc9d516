"""Building change between two dates: new, demolished and expanded (a pure kernel).

* **new**: a footprint of the new date that overlaps no old footprint by more
  than ``min_overlap`` of its area, and is at least ``min_area_m2``;
* **demolished**: the same the other way round;
* **expanded**: the part of a new footprint outside all old footprints, when
  the footprint overlaps an old one and the added part is at least ``min_area_m2``
  (small differences are registration noise, not construction).

Per parcel: built area at both dates and the change.
"""

from __future__ import annotations

import numpy as np
import shapely

from remote_sensing.assess import valid_geometries


def _overlap_share(a, b) -> np.ndarray:
    """Share of each geometry of ``a`` covered by the union of ``b``."""
    out = np.zeros(len(a))
    if len(a) == 0 or len(b) == 0:
        return out
    tree = shapely.STRtree(b)
    ai, bi = tree.query(a, predicate="intersects")
    inter = shapely.area(shapely.intersection(a[ai], b[bi]))
    np.add.at(out, ai, inter)
    area = shapely.area(a)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(area > 0, np.minimum(out / area, 1.0), 0.0)


def detect_changes(old, new, *, min_area_m2: float = 20.0, min_overlap: float = 0.1):
    """Find new, demolished and expanded buildings.

    Parameters
    ----------
    old, new : GeoDataFrame
        Footprints at the two dates (``old`` is reprojected to ``new``'s CRS).
    min_area_m2 : float
        Smallest change reported (new/demolished building or added part).
    min_overlap : float
        A footprint covered by less than this share by the other date's
        footprints counts as new (or demolished).

    Returns
    -------
    GeoDataFrame
        Columns ``change`` (new / demolished / expanded), ``area_m2``,
        ``old_index``/``new_index`` (row positions in the inputs) and geometry
        (the building, or for *expanded* the added part).

    Examples
    --------
    >>> import geopandas as gpd
    >>> old = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 10, 10), shapely.box(50, 0, 60, 10)], crs=3857)
    >>> new = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 20, 10), shapely.box(100, 0, 110, 10)], crs=3857)
    >>> detect_changes(old, new)["change"].tolist()
    ['new', 'demolished', 'expanded']
    """
    import geopandas as gpd

    if old.crs is not None and new.crs is not None and old.crs != new.crs:
        old = old.to_crs(new.crs)
    og, ng = valid_geometries(old), valid_geometries(new)
    rows = []
    share_new = _overlap_share(ng, og)
    share_old = _overlap_share(og, ng)
    for i in np.flatnonzero(share_new < min_overlap):
        if ng[i].area >= min_area_m2:
            rows.append(("new", ng[i], -1, int(i)))
    for i in np.flatnonzero(share_old < min_overlap):
        if og[i].area >= min_area_m2:
            rows.append(("demolished", og[i], int(i), -1))
    if len(og) and len(ng):
        tree = shapely.STRtree(og)
        for i in np.flatnonzero(share_new >= min_overlap):
            hits = tree.query(ng[i], predicate="intersects")
            added = ng[i].difference(shapely.union_all(og[hits]))
            added = _polygonal(added)
            if added.area >= min_area_m2:
                rows.append(("expanded", added, int(hits[0]) if len(hits) else -1, int(i)))
    frame = gpd.GeoDataFrame(
        {"change": [r[0] for r in rows], "old_index": [r[2] for r in rows],
         "new_index": [r[3] for r in rows]},
        geometry=[r[1] for r in rows], crs=new.crs,
    )
    frame["area_m2"] = frame.geometry.area.round(3)
    return frame


def _polygonal(g):
    if isinstance(g, (shapely.Polygon, shapely.MultiPolygon)):
        return g
    parts = [p for p in getattr(g, "geoms", []) if isinstance(p, (shapely.Polygon, shapely.MultiPolygon))]
    return shapely.union_all(parts) if parts else shapely.Polygon()


def parcel_change(old, new, parcels, *, id_column: str | None = None):
    """Built area per parcel at both dates and the change (m²).

    Returns
    -------
    DataFrame
        ``parcel`` (id column or row position), ``built_old_m2``, ``built_new_m2``,
        ``change_m2``, ``change_share`` (of the parcel area).
    """
    import pandas as pd

    crs = parcels.crs
    if crs is not None:
        old = old.to_crs(crs) if old.crs != crs else old
        new = new.to_crs(crs) if new.crs != crs else new
    pg = valid_geometries(parcels)
    ou = shapely.union_all(valid_geometries(old)) if len(old) else shapely.Polygon()
    nu = shapely.union_all(valid_geometries(new)) if len(new) else shapely.Polygon()
    bo = shapely.area(shapely.intersection(pg, ou))
    bn = shapely.area(shapely.intersection(pg, nu))
    area = shapely.area(pg)
    ids = parcels[id_column].to_numpy() if id_column else np.arange(len(parcels))
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(area > 0, (bn - bo) / area, np.nan)
    return pd.DataFrame({"parcel": ids, "built_old_m2": bo.round(3), "built_new_m2": bn.round(3),
                         "change_m2": (bn - bo).round(3), "change_share": share.round(5)})
