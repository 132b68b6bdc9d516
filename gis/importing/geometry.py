"""Geometry repair shared by every layer import: Z dropped, invalid repaired, slivers refused.

Pure kernels: arrays of shapely geometries and row numbers in, repaired
arrays and :class:`~gis.importing.report.ImportReport` issues out. Row numbers
are the feature numbers users see (1-based position in the source layer).

Examples
--------
>>> import numpy as np, shapely
>>> from gis.importing.report import ImportReport
>>> report = ImportReport(unit="feature")
>>> bowtie = shapely.from_wkt("POLYGON ((0 0, 10 10, 10 0, 0 10, 0 0))")
>>> fixed = repair_geometries(np.array([bowtie]), np.array([1]), report)
>>> fixed[0].geom_type, round(fixed[0].area), report.issues[0].check
('MultiPolygon', 50, 'repaired')
"""

from __future__ import annotations

import numpy as np
import shapely

from gis.importing.report import ImportReport

_POLYGONAL = {shapely.GeometryType.POLYGON, shapely.GeometryType.MULTIPOLYGON}


def to_multipolygons(geoms: np.ndarray) -> np.ndarray:
    """Keep only the polygonal parts of each geometry, as MultiPolygons (None when none).

    Examples
    --------
    >>> import shapely
    >>> gc = shapely.from_wkt("GEOMETRYCOLLECTION (POLYGON ((0 0, 1 0, 1 1, 0 0)), LINESTRING (0 0, 5 5))")
    >>> to_multipolygons(np.array([gc, None]))[0].geom_type
    'MultiPolygon'
    """
    geoms = np.asarray(geoms, dtype=object)
    out = np.full(len(geoms), None, dtype=object)
    present = ~shapely.is_missing(geoms)
    if not present.any():
        return out
    types = np.full(len(geoms), -1)
    types[present] = shapely.get_type_id(geoms[present])
    nonempty = present.copy()
    nonempty[present] = ~shapely.is_empty(geoms[present])
    # fast paths (nearly every feature): MultiPolygons stay, Polygons are wrapped
    multi = nonempty & (types == shapely.GeometryType.MULTIPOLYGON)
    out[multi] = geoms[multi]
    single = np.flatnonzero(nonempty & (types == shapely.GeometryType.POLYGON))
    if len(single):
        out[single] = shapely.multipolygons(geoms[single], indices=np.arange(len(single)))
    present &= ~(multi | (nonempty & (types == shapely.GeometryType.POLYGON)))
    if not present.any():
        return out
    idx_present = np.flatnonzero(present)
    parts, idx = shapely.get_parts(geoms[present], return_index=True)
    # GeometryCollections may hold MultiPolygons: flatten once more.
    parts, idx2 = shapely.get_parts(parts, return_index=True)
    idx = idx[idx2]
    keep = (shapely.get_type_id(parts) == shapely.GeometryType.POLYGON) & ~shapely.is_empty(parts)
    parts, idx = parts[keep], idx[keep]
    if len(parts) == 0:
        return out
    uniq, inverse = np.unique(idx, return_inverse=True)
    out[idx_present[uniq]] = shapely.multipolygons(parts, indices=inverse)
    return out


def repair_geometries(geoms: np.ndarray, rows: np.ndarray, report: ImportReport) -> np.ndarray:
    """Drop Z, repair invalid geometries with ``make_valid``, keep polygonal parts.

    Missing, empty and non-polygonal geometries are errors (``None`` in the
    result); repaired ones are warnings naming GEOS's reason.

    Returns
    -------
    numpy.ndarray of MultiPolygon or None
    """
    geoms = np.asarray(geoms, dtype=object)
    missing = shapely.is_missing(geoms)
    geoms = geoms.copy()
    geoms[~missing] = shapely.force_2d(geoms[~missing])
    empty = missing | shapely.is_empty(geoms)
    for r in rows[empty]:
        report.add(int(r), "empty_geometry", "error", "geometry is empty or missing; "
                   "draw the outline or remove the feature")
    types = shapely.get_type_id(geoms)
    polygonal = np.isin(types, [int(t) for t in _POLYGONAL])
    wrong = ~empty & ~polygonal & (types != shapely.GeometryType.GEOMETRYCOLLECTION)
    for r, t in zip(rows[wrong], types[wrong], strict=True):
        report.add(int(r), "not_polygon", "error",
                   f"geometry is a {shapely.GeometryType(t).name.title()}, not a polygon")
    check = ~empty & ~wrong
    valid = np.zeros(len(geoms), dtype=bool)
    valid[check] = shapely.is_valid(geoms[check])
    bad = check & ~valid
    if bad.any():
        reasons = shapely.is_valid_reason(geoms[bad])
        before = shapely.area(geoms[bad])
        geoms[bad] = shapely.make_valid(geoms[bad])
        after_mp = to_multipolygons(geoms[bad])
        after = np.array([g.area if g is not None else 0.0 for g in after_mp])
        for r, why, a0, a1 in zip(rows[bad], reasons, before, after, strict=True):
            report.add(int(r), "repaired", "warning",
                       f"invalid geometry ({why}) repaired with make_valid; "
                       f"area {a0:.6g} -> {a1:.6g} (source units)")
    out = np.full(len(geoms), None, dtype=object)
    out[check] = to_multipolygons(geoms[check])
    lost = check & shapely.is_missing(out)
    for r in rows[lost]:
        report.add(int(r), "degenerate", "error",
                   "geometry has no area left after repair (collapsed to lines or points)")
    return out


def reject_degenerate(geoms: np.ndarray, rows: np.ndarray, report: ImportReport,
                      *, min_area_m2: float = 1.0) -> np.ndarray:
    """Flag projected geometries smaller than ``min_area_m2`` as degenerate.

    Returns
    -------
    numpy.ndarray of bool
        True for geometries that pass.
    """
    geoms = np.asarray(geoms, dtype=object)
    present = ~shapely.is_missing(geoms)
    area = np.zeros(len(geoms))
    area[present] = shapely.area(geoms[present])
    small = present & (area < min_area_m2)
    for r, a in zip(rows[small], area[small], strict=True):
        report.add(int(r), "degenerate", "error",
                   f"area {a:.3g} m² is below {min_area_m2:g} m²: a sliver or a point-like "
                   "polygon; fix or remove the feature")
    return present & ~small
