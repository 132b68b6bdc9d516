"""How good a trained model is, on the validation stripes held back from training.

Pixel scores (the band around label edges excluded) and, after the same object
post-processing as extraction (:mod:`remote_sensing.objects`, seeded by the interior
output when the model has one), object scores (F1 at IoU >= 0.5, matched IoU,
built-area error), pooled over the stripes of every training image; optionally the
hysteresis thresholds are tuned there (:data:`POSTPROCESS_GRID`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from remote_sensing.training.data import TrainingData
from remote_sensing.training.samples import Stripe


def stripe_geometry(stripe: Stripe, data: TrainingData):
    """The validation stripe as a rectangle in the image CRS."""
    import shapely
    from rasterio.windows import Window, bounds

    h, w = data.label.shape
    if stripe.axis == 0:
        win = Window(0, stripe.start, w, stripe.stop - stripe.start)
    else:
        win = Window(stripe.start, 0, stripe.stop - stripe.start, h)
    return shapely.box(*bounds(win, data.transform))


#: Hysteresis thresholds ``(low, high)`` tried on the validation stripe (the default first).
POSTPROCESS_GRID = ((0.4, 0.7), (0.5, 0.8), (0.6, 0.8), (0.3, 0.6), (0.3, 0.5), (0.2, 0.5), (0.2, 0.4))

#: Interior seed thresholds tried with each pair for two-output models (the default first):
#: a higher one splits blobs whose interiors touch faintly.
SEED_GRID = (0.5, 0.3, 0.7, 0.85)

#: Smallest interior blob (m²) that starts a building of its own, tried with each of the above
#: (None: a sixteenth of the smallest building, the default).
SEED_MIN_GRID = (None, 2.0)

#: Tuning the post-processing by default needs at least this many labelled buildings in the
#: validation stripes (fewer, and the choice would follow noise).
TUNE_MIN_BUILDINGS = 30


@dataclass
class StripePrediction:
    """One training image's validation stripe: the model's maps and the targets there."""

    prob: np.ndarray  # building probability
    interior: np.ndarray | None  # interior probability (two-output models)
    yv: np.ndarray  # building labels
    wv: np.ndarray  # loss weights (0 outside the stripe's usable pixels)
    data: TrainingData
    stripe: Stripe


def _pixel_counts(s: StripePrediction) -> tuple[int, int, int]:
    ok = s.wv > 0
    pred = s.prob >= 0.5
    return (int((pred & (s.yv > 0) & ok).sum()), int((pred & (s.yv == 0) & ok).sum()),
            int((~pred & (s.yv > 0) & ok).sum()))


@dataclass
class _Reference:
    """One stripe's labelled buildings, read once for every post-processing choice tried."""

    geoms: np.ndarray  # valid geometries, image CRS
    area_m2: float  # area of their union
    valid: np.ndarray  # usable pixels of the stripe
    origin: tuple[int, int]  # (row, col) of the stripe in the image


def _reference(s: StripePrediction, min_area_m2: float) -> _Reference | None:
    """The labels inside one stripe (None when it holds no labelled building)."""
    import shapely

    from remote_sensing.assess import valid_geometries

    data = s.data
    sx, sy = data.scale
    stripe_geom = stripe_geometry(s.stripe, data)
    ref = data.labels.geometry.intersection(stripe_geom)
    ref = ref[shapely.area(np.asarray(ref.values, dtype=object)) * sx * sy >= min_area_m2]
    if len(ref) == 0:
        return None
    geoms = valid_geometries(ref.values)
    valid = data.usable[s.stripe.mask(data.usable.shape)].reshape(s.prob.shape)
    origin = (s.stripe.start, 0) if s.stripe.axis == 0 else (0, s.stripe.start)
    return _Reference(geoms, float(shapely.union_all(geoms).area) * sx * sy, valid, origin)


def _object_counts(s: StripePrediction, ref: _Reference, *, low: float, high: float, split: Any,
                   seed: float, min_area_m2: float, seed_min_m2: float | None = None,
                   blobs: dict | None = None) -> dict:
    """Object counts of one stripe for one post-processing choice.

    The objects come from one label image, so they never overlap: their built area is the
    sum of their areas (no union needed), and the matching is SpaceNet's
    (:func:`remote_sensing.assess.match_objects`, IoU >= 0.5). ``blobs`` keeps this
    stripe's :func:`~remote_sensing.objects.blob_mask` per threshold pair between calls.
    """
    import shapely

    from remote_sensing.assess import match_objects, valid_geometries
    from remote_sensing.objects import blob_mask, split_and_drop
    from remote_sensing.polygonize import label_blobs, polygonize_labels, to_world

    data = s.data
    sx, sy = data.scale
    min_px = min_area_m2 / data.resolution ** 2
    blobs = {} if blobs is None else blobs
    if (low, high) not in blobs:
        blobs[(low, high)] = blob_mask(s.prob, valid=ref.valid, low=low, high=high, min_px=min_px)
    mask = split_and_drop(blobs[(low, high)], s.prob, split=split, min_px=min_px,
                          interior=s.interior, seed=seed,
                          seed_min_px=None if seed_min_m2 is None else seed_min_m2 / data.resolution ** 2)
    labels, n = label_blobs(mask)
    polys = list(polygonize_labels(labels, *ref.origin).values()) if n else []
    counts = {"n_pred": len(polys), "n_ref": len(ref.geoms), "tp": 0, "iou_sum": 0.0, "pred_area": 0.0,
              "ref_area": ref.area_m2}
    if polys:
        geoms = valid_geometries(to_world(np.asarray(polys, dtype=object), data.transform))
        matches = match_objects(geoms, ref.geoms)
        counts.update(tp=len(matches), iou_sum=float(sum(m[2] for m in matches)),
                      pred_area=float(shapely.area(geoms).sum()) * sx * sy)
    return counts


def _pooled_objects(parts: list[dict]) -> dict:
    tp = sum(p["tp"] for p in parts)
    n_pred, n_ref = sum(p["n_pred"] for p in parts), sum(p["n_ref"] for p in parts)
    pred_area, ref_area = sum(p["pred_area"] for p in parts), sum(p["ref_area"] for p in parts)
    return {"n_predicted": n_pred, "n_labelled": n_ref, "n_found": tp,
            "object_f1": 2 * tp / (n_pred + n_ref) if n_pred + n_ref else 0.0,
            "object_precision": tp / n_pred if n_pred else 0.0,
            "object_recall": tp / n_ref if n_ref else 0.0,
            "matched_iou": sum(p["iou_sum"] for p in parts) / tp if tp else 0.0,
            "built_area_error": (pred_area - ref_area) / ref_area if ref_area else -1.0}


def validation_scores(stripes: list[StripePrediction], *, low: float, high: float, split: Any,
                      seed: float = 0.5, min_area_m2: float,
                      tune_postprocess: bool | None) -> tuple[dict, tuple]:
    """Pixel scores (edge band excluded) and object scores, pooled over the validation stripes.

    ``low``, ``high``, ``split`` and ``seed`` are the object post-processing's options
    (:func:`remote_sensing.objects.objects_mask`), ``min_area_m2`` the smallest building
    counted. With ``tune_postprocess`` the thresholds are chosen here among
    :data:`POSTPROCESS_GRID` (each with every interior seed threshold of :data:`SEED_GRID`
    and smallest seed of :data:`SEED_MIN_GRID` when the stripes have an interior map): the
    choice with the best pooled object F1, then the best matched IoU (the first, i.e. the
    default, on a tie). None tunes when the stripes hold at least
    :data:`TUNE_MIN_BUILDINGS` labelled buildings. Only the validation stripes are looked
    at, never the area a model is later measured on.

    Returns
    -------
    scores : dict
    thresholds : (low, high, seed, seed_min_m2)
    """
    tp, fp, fn = (sum(c) for c in zip(*(_pixel_counts(s) for s in stripes), strict=True))
    out: dict = {"pixel_precision": tp / (tp + fp) if tp + fp else 0.0,
                 "pixel_recall": tp / (tp + fn) if tp + fn else 0.0,
                 "pixel_f1": 2 * tp / (2 * tp + fp + fn) if tp else 0.0,
                 "pixel_iou": tp / (tp + fp + fn) if tp else 0.0}
    chosen = (low, high, seed, None)
    grid = [chosen]
    if tune_postprocess is not False:
        seeded = any(s.interior is not None for s in stripes)
        seeds = [seed] + [v for v in SEED_GRID if v != seed] if seeded else [seed]
        grid += [(lo, hi, sd, sm) for lo, hi in [(low, high)] + [g for g in POSTPROCESS_GRID if g != (low, high)]
                 for sd in seeds for sm in (SEED_MIN_GRID if seeded else (None,))
                 if (lo, hi, sd, sm) != chosen]
    refs = [(s, r) for s in stripes if (r := _reference(s, min_area_m2)) is not None]
    if not refs:
        out["note"] = "no labelled building in the validation stripe: object scores unavailable"
        return _rounded(out), chosen
    tried = []
    best_key, best = None, None
    blobs: list[dict] = [{} for _ in refs]
    for i, (lo, hi, sd, sm) in enumerate(grid):
        if i == 1 and not tune_postprocess:
            break
        parts = [_object_counts(s, r, low=lo, high=hi, split=split, seed=sd, min_area_m2=min_area_m2,
                                seed_min_m2=sm, blobs=kept)
                 for (s, r), kept in zip(refs, blobs, strict=True)]
        pooled = _pooled_objects(parts)
        if i == 0 and tune_postprocess is None:  # automatic: tune only where the stripes say something
            tune_postprocess = pooled["n_labelled"] >= TUNE_MIN_BUILDINGS
        key = (pooled["object_f1"], pooled["matched_iou"])
        tried.append({"low": lo, "high": hi, "seed": sd, "seed_min_m2": sm, "object_f1": round(key[0], 4),
                      "matched_iou": round(key[1], 4)})
        if best_key is None or key > best_key:
            best_key, best, chosen = key, pooled, (lo, hi, sd, sm)
    out.update(best)
    out["note"] = ("validation stripe held back from training; objects after post-processing, "
                   "before regularization; IoU >= 0.5"
                   + ("; thresholds chosen on this stripe (see postprocess_tried), so "
                      "these object scores are optimistic" if len(tried) > 1 else ""))
    if len(tried) > 1:
        out["postprocess_tried"] = tried
    return _rounded(out), chosen


def _rounded(d: dict) -> dict:
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in d.items()}
