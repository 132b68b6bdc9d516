"""Checks on parcel layers: geometry repair, degenerate shapes, codes, overlaps, areas.

Pure kernels: arrays and (Geo)DataFrames in, arrays, frames and
:class:`~parcels.importing.report.ImportReport` issues out. Row numbers are the
feature numbers users see (1-based position in the source layer).

Examples
--------
>>> import numpy as np, shapely
>>> from parcels.importing.report import ImportReport
>>> report = ImportReport(unit="feature")
>>> bowtie = shapely.from_wkt("POLYGON ((0 0, 10 10, 10 0, 0 10, 0 0))")
>>> fixed = repair_geometries(np.array([bowtie]), np.array([1]), report)
>>> fixed[0].geom_type, round(fixed[0].area), report.issues[0].check
('MultiPolygon', 50, 'repaired')
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

import numpy as np
import pandas as pd
import shapely

from parcels.codes import parse_parcel_code
from parcels.importing.report import ImportReport
from parcels.importing.values import parse_date, parse_number, parse_text

log = logging.getLogger(__name__)

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
                   "draw the parcel or remove the feature")
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


def check_parcel_codes(codes: pd.Series, rows: np.ndarray, report: ImportReport) -> np.ndarray:
    """Missing and duplicate codes (errors) and non-GB/T 37346 codes (warnings).

    The first feature with a code is kept; later duplicates are rejected and
    name the feature they repeat.

    Returns
    -------
    numpy.ndarray of bool
        True for features that may load.
    """
    codes = codes.reset_index(drop=True)
    ok = np.ones(len(codes), dtype=bool)
    blank = codes.isna().to_numpy()
    for r in rows[blank]:
        report.add(int(r), "missing_code", "error",
                   "parcel code is empty; fill it in or name the code column with --id-field")
    ok &= ~blank
    first_row: dict[str, int] = {}
    for i, (code, r) in enumerate(zip(codes, rows, strict=True)):
        if blank[i]:
            continue
        if code in first_row:
            report.add(int(r), "duplicate_code", "error",
                       f"parcel code {code} repeats {report.unit} {first_row[code]}",
                       field="parcel_code", value=code)
            ok[i] = False
        else:
            first_row[code] = int(r)
            if parse_parcel_code(code) is None:
                report.add(int(r), "code_format", "warning",
                           f"parcel code {code!r} does not follow GB/T 37346 "
                           "(6+3+3 digits, 2-letter feature code, 5 digits)",
                           field="parcel_code", value=code)
    return ok


def find_overlaps(geoms: np.ndarray, *, min_area_m2: float = 1.0) -> pd.DataFrame:
    """Pairs of geometries whose interiors overlap, with the overlap area.

    A parcel map is (nearly) a polygonal coverage: neighbours share edges, so
    most bounding-box neighbours touch and a pairwise overlay of all of them
    would be slow. GEOS's coverage validation
    (:func:`shapely.coverage_invalid_edges`) flags, in one pass, every polygon
    with an edge inside another polygon or not matched by its neighbour; only
    bounding-box pairs involving a flagged polygon are intersected.

    Parameters
    ----------
    geoms : array of (Multi)Polygons in a projected CRS (None allowed).
    min_area_m2 : float
        Smaller overlaps (digitising noise) are dropped.

    Returns
    -------
    pandas.DataFrame
        Columns ``i``, ``j`` (positions, i < j) and ``area_m2``.

    Examples
    --------
    >>> import shapely
    >>> g = np.array([shapely.box(0, 0, 10, 10), shapely.box(8, 0, 18, 10), shapely.box(18, 0, 20, 10)])
    >>> find_overlaps(g).to_dict("records")
    [{'i': 0, 'j': 1, 'area_m2': 20.0}]
    """
    empty = pd.DataFrame({"i": pd.Series(dtype=int), "j": pd.Series(dtype=int),
                          "area_m2": pd.Series(dtype=float)})
    geoms = np.asarray(geoms, dtype=object)
    present = np.flatnonzero(~(shapely.is_missing(geoms) | shapely.is_empty(geoms)))
    if len(present) < 2:
        return empty
    sub = geoms[present]
    flagged = np.zeros(len(sub), dtype=bool)
    try:
        flagged = ~shapely.is_empty(shapely.coverage_invalid_edges(sub))
    except shapely.errors.GEOSException:  # not a valid polygonal input: check every pair
        log.debug("coverage validation failed; intersecting every candidate pair", exc_info=True)
        flagged[:] = True
    if not flagged.any():
        return empty
    left, right = shapely.STRtree(sub).query(sub)
    keep = (left < right) & (flagged[left] | flagged[right])
    left, right = left[keep], right[keep]
    if len(left) == 0:
        return empty
    area = shapely.area(shapely.intersection(sub[left], sub[right]))
    frame = pd.DataFrame({"i": present[left].astype(int), "j": present[right].astype(int),
                          "area_m2": area})
    frame = frame[frame["area_m2"] >= min_area_m2]
    return frame.sort_values(["i", "j"]).reset_index(drop=True)


def report_overlaps(overlaps: pd.DataFrame, rows: np.ndarray, codes: pd.Series,
                    report: ImportReport) -> None:
    """Add one warning per overlapping pair (on the later feature)."""
    codes = codes.reset_index(drop=True)
    for i, j, area in overlaps[["i", "j", "area_m2"]].itertuples(index=False):
        report.add(int(rows[j]), "overlap", "warning",
                   f"parcel {codes[j]} overlaps parcel {codes[i]} ({report.unit} {rows[i]}) "
                   f"by {area:.1f} m²", field="geometry", value=f"{area:.2f}")
    report.extra["overlaps"] = {"pairs": len(overlaps),
                                "total_area_m2": float(overlaps["area_m2"].sum())}


def compare_cert_area(measured: np.ndarray, cert: np.ndarray, rows: np.ndarray,
                      codes: pd.Series, report: ImportReport, *,
                      tolerance: float = 0.05) -> pd.DataFrame:
    """Certificate vs measured area: warn where they differ by more than ``tolerance``.

    Returns
    -------
    pandas.DataFrame
        ``row``, ``parcel_code``, ``cert_area_m2``, ``measured_m2``, ``diff_m2``,
        ``diff_ratio`` for every parcel with a certificate area.
    """
    measured = np.asarray(measured, dtype=float)
    cert = np.asarray(cert, dtype=float)
    has = np.isfinite(cert) & (cert > 0)
    diff = measured - cert
    ratio = np.where(has, diff / np.where(has, cert, 1.0), np.nan)
    frame = pd.DataFrame({"row": rows, "parcel_code": codes.to_numpy(), "cert_area_m2": cert,
                          "measured_m2": measured, "diff_m2": diff, "diff_ratio": ratio})[has]
    big = frame[np.abs(frame["diff_ratio"]) > tolerance]
    for rec in big.itertuples(index=False):
        report.add(int(rec.row), "area_difference", "warning",
                   f"measured area {rec.measured_m2:.1f} m² differs from certificate area "
                   f"{rec.cert_area_m2:.1f} m² by {rec.diff_m2:+.1f} m² ({rec.diff_ratio:+.1%})",
                   field="cert_area_m2", value=f"{rec.cert_area_m2:g}")
    report.extra["area_difference"] = {
        "with_cert_area": int(has.sum()),
        "over_tolerance": len(big),
        "tolerance": tolerance,
        "median_abs_ratio": float(np.nanmedian(np.abs(ratio[has]))) if has.any() else None,
    }
    return frame


#: Parcel attribute fields and how to parse them.
PARCEL_FIELDS: dict[str, str] = {
    "parcel_code": "text", "cert_area_m2": "number", "land_use_code": "landuse",
    "supply_date": "date", "agreed_start_date": "date", "agreed_finish_date": "date",
    "planned_far": "number", "town": "text", "district": "text",
}


def parse_attributes(frame: pd.DataFrame, fields: dict[str, tuple[str, float]],
                     rows: np.ndarray, report: ImportReport,
                     kinds: dict[str, str] | None = None) -> pd.DataFrame:
    """Parse mapped source columns into typed schema columns.

    Parameters
    ----------
    frame : DataFrame of source columns.
    fields : dict
        schema field -> (source column, unit factor).
    rows : feature/row numbers.
    kinds : dict, optional
        schema field -> ``'text' | 'number' | 'date' | 'landuse'``
        (default :data:`PARCEL_FIELDS`).

    Returns
    -------
    pandas.DataFrame
        One column per field in ``kinds``; unparseable cells are errors and None.
    """
    kinds = kinds or PARCEL_FIELDS
    out: dict[str, list[Any]] = {}
    n = len(frame)
    for name, kind in kinds.items():
        if name not in fields:
            out[name] = [None] * n
            continue
        column, factor = fields[name]
        series = frame[column]
        if kind == "number" and pd.api.types.is_numeric_dtype(series.dtype) \
                and not pd.api.types.is_bool_dtype(series.dtype):
            numbers = series.to_numpy(dtype=float) * factor
            bad = ~np.isfinite(numbers) & ~np.isnan(numbers)
            for r in rows[bad]:
                report.add(int(r), "bad_value", "error", f"not a finite number in column "
                           f"{column!r}", field=name)
            parsed = [None if not np.isfinite(x) else float(x) for x in numbers]
            out[name] = parsed
            continue
        if kind == "date" and pd.api.types.is_datetime64_any_dtype(series.dtype):
            years = series.dt.year
            odd = (years < 1949) | (years > 2100)
            for r in rows[odd.fillna(False).to_numpy()]:
                report.add(int(r), "bad_value", "error", f"implausible date in column {column!r}",
                           field=name)
            out[name] = [None if pd.isna(d) else d for d in series.dt.date.where(~odd, None)]
            continue
        cache: dict[Any, tuple[Any, str | None]] = {}
        parsed = []
        for v, r in zip(series.tolist(), rows, strict=True):
            try:
                x, problem = cache[v]
            except (KeyError, TypeError):
                x, problem = _parse_cell(kind, v, factor)
                with contextlib.suppress(TypeError):  # unhashable cell: not cached
                    cache[v] = (x, problem)
            if problem:
                report.add(int(r), "bad_value", "error", problem + f" in column {column!r}",
                           field=name, value=v)
            parsed.append(x)
        out[name] = parsed
    result = pd.DataFrame(out)
    _check_ranges(result, rows, report)
    return result


def _parse_cell(kind: str, v: Any, factor: float) -> tuple[Any, str | None]:
    if kind == "number":
        x, problem = parse_number(v)
        return (None if x is None else x * factor), problem
    if kind == "date":
        return parse_date(v)
    x = parse_text(v)
    if kind == "landuse" and x is not None and x.isdigit() and len(x) in (1, 3):
        x = x.zfill(len(x) + 1)  # 601 -> 0601 (a lost leading zero)
    return x, None


def _check_ranges(frame: pd.DataFrame, rows: np.ndarray, report: ImportReport) -> None:
    if "planned_far" in frame:
        for r, v in zip(rows, frame["planned_far"], strict=True):
            if v is not None and not pd.isna(v) and not 0 <= v <= 30:
                report.add(int(r), "absurd_value", "error",
                           f"planned floor-area ratio {v:g} is outside 0-30", "planned_far", v)
    if "cert_area_m2" in frame:
        for r, v in zip(rows, frame["cert_area_m2"], strict=True):
            if v is not None and not pd.isna(v) and v <= 0:
                report.add(int(r), "absurd_value", "error",
                           f"certificate area {v:g} m² is not positive", "cert_area_m2", v)
    if {"agreed_start_date", "agreed_finish_date"} <= set(frame):
        for r, a, b in zip(rows, frame["agreed_start_date"], frame["agreed_finish_date"],
                           strict=True):
            if a is not None and b is not None and b < a:
                report.add(int(r), "date_order", "warning",
                           f"agreed completion {b} is before agreed start {a}",
                           "agreed_finish_date", b)
