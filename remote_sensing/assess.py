"""Accuracy of footprints against a reference (a pure kernel on GeoDataFrames).

Object level, as SpaceNet defines it: a prediction and a reference building
match when their IoU is at least the threshold (0.5); each reference matches
at most one prediction and vice versa. Candidate pairs are taken greedily in
order of decreasing IoU, which for a threshold >= 0.5 and non-overlapping
footprints is the same as any one-to-one matching (a building cannot have two
disjoint partners each covering more than half of it). Then precision =
TP / predictions, recall = TP / references, F1.

Area level, which is what land measurement needs: the IoU of the union of all
predictions with the union of all references (the pixel IoU at infinitely fine
pixels), the total built-area error, and with parcels the distribution of the
per-parcel built-area error.
"""

from __future__ import annotations

import numpy as np
import shapely


def iou_pairs(pred, ref) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All intersecting (pred, ref) index pairs and their IoU."""
    pg = np.asarray(pred, dtype=object)
    rg = np.asarray(ref, dtype=object)
    if len(pg) == 0 or len(rg) == 0:
        return np.zeros(0, int), np.zeros(0, int), np.zeros(0)
    tree = shapely.STRtree(rg)
    pi, ri = tree.query(pg, predicate="intersects")
    inter = shapely.area(shapely.intersection(pg[pi], rg[ri]))
    union = shapely.area(pg[pi]) + shapely.area(rg[ri]) - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        iou = np.where(union > 0, inter / union, 0.0)
    return pi, ri, iou


def match_objects(pred, ref, iou_threshold: float = 0.5) -> list[tuple[int, int, float]]:
    """One-to-one matches ``(pred index, ref index, iou)`` with IoU >= threshold."""
    pi, ri, iou = iou_pairs(pred, ref)
    ok = iou >= iou_threshold
    pi, ri, iou = pi[ok], ri[ok], iou[ok]
    order = np.lexsort((ri, pi, -iou))
    used_p: set[int] = set()
    used_r: set[int] = set()
    out = []
    for k in order:
        p, r = int(pi[k]), int(ri[k])
        if p in used_p or r in used_r:
            continue
        used_p.add(p)
        used_r.add(r)
        out.append((p, r, float(iou[k])))
    return out


def valid_geometries(geoms) -> np.ndarray:
    """``shapely.make_valid`` of each geometry, an empty polygon for a missing one.

    ``geoms``: an array of geometries, or a GeoDataFrame / GeoSeries (its geometries).
    """
    geoms = getattr(geoms, "geometry", geoms)
    fixed = shapely.make_valid(np.asarray(getattr(geoms, "values", geoms), dtype=object))
    return np.array([g if g is not None else shapely.Polygon() for g in fixed], dtype=object)


def assess(pred, ref, *, iou_threshold: float = 0.5, parcels=None) -> dict:
    """Compare predicted footprints with reference footprints.

    Parameters
    ----------
    pred, ref : GeoDataFrame
        Footprints; ``pred`` is reprojected to ``ref``'s CRS if they differ.
    iou_threshold : float
        Object match threshold (SpaceNet: 0.5).
    parcels : GeoDataFrame, optional
        Parcels for the per-parcel built-area error distribution.

    Returns
    -------
    dict
        ``n_pred``, ``n_ref``, ``tp``, ``fp``, ``fn``, ``precision``, ``recall``,
        ``f1``, ``mean_iou`` (of matched pairs), ``pixel_iou``, ``pred_area_m2``,
        ``ref_area_m2``, ``built_area_error`` (relative, signed), and
        ``per_parcel`` (quantiles) when parcels are given.

    Examples
    --------
    >>> import geopandas as gpd
    >>> ref = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 10, 10)], crs=3857)
    >>> pred = gpd.GeoDataFrame(geometry=[shapely.box(1, 0, 11, 10)], crs=3857)
    >>> r = assess(pred, ref)
    >>> r["tp"], round(r["mean_iou"], 4), r["built_area_error"]
    (1, 0.8182, 0.0)
    """
    if pred.crs is not None and ref.crs is not None and pred.crs != ref.crs:
        pred = pred.to_crs(ref.crs)
    pg, rg = valid_geometries(pred), valid_geometries(ref)
    matches = match_objects(pg, rg, iou_threshold)
    tp = len(matches)
    n_pred, n_ref = len(pg), len(rg)
    precision = tp / n_pred if n_pred else 0.0
    recall = tp / n_ref if n_ref else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    pu = shapely.union_all(pg) if n_pred else shapely.Polygon()
    ru = shapely.union_all(rg) if n_ref else shapely.Polygon()
    inter = pu.intersection(ru).area
    union = pu.union(ru).area
    out = {
        "iou_threshold": iou_threshold,
        "n_pred": n_pred,
        "n_ref": n_ref,
        "tp": tp,
        "fp": n_pred - tp,
        "fn": n_ref - tp,
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "mean_iou": float(np.mean([m[2] for m in matches])) if matches else 0.0,
        "pixel_iou": inter / union if union else 0.0,
        "pred_area_m2": pu.area,
        "ref_area_m2": ru.area,
        "built_area_error": (pu.area - ru.area) / ru.area if ru.area else float("nan"),
    }
    if parcels is not None:
        out["per_parcel"] = per_parcel_error(pu, ru, parcels.to_crs(ref.crs) if ref.crs else parcels)
    return out


def parcel_built_area(built, parcels) -> np.ndarray:
    """Built area (m²) inside each parcel, for one (multi)polygon of built land."""
    geoms = valid_geometries(parcels)
    return shapely.area(shapely.intersection(geoms, built))


def per_parcel_error(pred_union, ref_union, parcels) -> dict:
    """Distribution of the per-parcel built-area error (predicted minus reference)."""
    pa = parcel_built_area(pred_union, parcels)
    ra = parcel_built_area(ref_union, parcels)
    err = pa - ra
    with np.errstate(invalid="ignore", divide="ignore"):
        rel = np.where(ra > 0, err / ra, np.nan)
    absrel = np.abs(rel[np.isfinite(rel)])

    def q(a, p):
        return float(np.quantile(a, p)) if len(a) else float("nan")

    return {
        "n_parcels": len(parcels),
        "n_with_buildings": int((ra > 0).sum()),
        "abs_error_m2": {"mean": float(np.mean(np.abs(err))) if len(err) else float("nan"),
                         "p50": q(np.abs(err), 0.5), "p90": q(np.abs(err), 0.9), "max": q(np.abs(err), 1.0)},
        "abs_rel_error": {"p50": q(absrel, 0.5), "p90": q(absrel, 0.9), "max": q(absrel, 1.0)},
        "share_within_5pct": float(np.mean(absrel <= 0.05)) if len(absrel) else float("nan"),
    }
