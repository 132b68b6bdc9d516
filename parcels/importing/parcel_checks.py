"""Checks on parcel layers: codes, overlaps, certificate areas, value ranges.

Pure kernels: arrays and (Geo)DataFrames in, arrays, frames and
:class:`~gis.importing.report.ImportReport` issues out. Row numbers are the
feature numbers users see (1-based position in the source layer). Geometry
repair is generic and lives in :mod:`gis.importing.geometry`.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import shapely

from gis.importing.report import ImportReport
from parcels.codes import parse_parcel_code

log = logging.getLogger(__name__)


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
    "planned_far": "number", "town": "text", "district": "text", "park": "text",
}
#: Largest certificate area believed (m²): 100 km², larger than any industrial parcel;
#: anything above is a unit or typing error (1e30 has been seen).
MAX_CERT_AREA_M2 = 1e8


def check_ranges(frame: pd.DataFrame, rows: np.ndarray, report: ImportReport) -> None:
    """Values no parcel can have: FAR outside 0-30, certificate area not in (0, 100 km²]."""
    def numbers(column: str) -> np.ndarray:
        return pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)

    if "planned_far" in frame:
        far = numbers("planned_far")
        for i in np.flatnonzero(np.isfinite(far) & ((far < 0) | (far > 30))):
            report.add(int(rows[i]), "absurd_value", "error",
                       f"planned floor-area ratio {far[i]:g} is outside 0-30", "planned_far",
                       far[i])
    if "cert_area_m2" in frame:
        cert = numbers("cert_area_m2")
        for i in np.flatnonzero(np.isfinite(cert) & (cert <= 0)):
            report.add(int(rows[i]), "absurd_value", "error",
                       f"certificate area {cert[i]:g} m² is not positive", "cert_area_m2", cert[i])
        for i in np.flatnonzero(np.isfinite(cert) & (cert > MAX_CERT_AREA_M2)):
            report.add(int(rows[i]), "absurd_value", "error",
                       f"certificate area {cert[i]:g} m² is beyond any parcel "
                       f"({MAX_CERT_AREA_M2:g} m² = 100 km²); check the unit in the header "
                       "(亩? 公顷?)", "cert_area_m2", cert[i])
    if {"agreed_start_date", "agreed_finish_date"} <= set(frame):
        for r, a, b in zip(rows, frame["agreed_start_date"], frame["agreed_finish_date"],
                           strict=True):
            if a is not None and b is not None and b < a:
                report.add(int(r), "date_order", "warning",
                           f"agreed completion {b} is before agreed start {a}",
                           "agreed_finish_date", b)
