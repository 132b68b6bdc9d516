"""How good a trained model is, on the validation stripe held back from training.

Pixel scores (the band around label edges excluded) and, after the same object
post-processing as extraction (:mod:`remote_sensing.objects`), object scores (F1 at
IoU >= 0.5, matched IoU, built-area error); optionally the hysteresis thresholds
are tuned there (:data:`POSTPROCESS_GRID`).
"""

from __future__ import annotations

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
POSTPROCESS_GRID = ((0.4, 0.7), (0.5, 0.8), (0.3, 0.6), (0.3, 0.5), (0.2, 0.5), (0.2, 0.4))


def validation_scores(prob, yv, wv, data: TrainingData, stripe: Stripe, *, low: float,
                      high: float, split: Any, min_area_m2: float,
                      tune_postprocess: bool) -> tuple[dict, tuple[float, float]]:
    """Pixel scores (edge band excluded) and object scores of the validation stripe.

    ``low``, ``high`` and ``split`` are the object post-processing's options
    (:func:`remote_sensing.objects.objects_mask`), ``min_area_m2`` the smallest building
    counted. With ``tune_postprocess`` the hysteresis thresholds are chosen here among
    :data:`POSTPROCESS_GRID`: the pair with the best object F1 on the stripe, then the best
    pixel IoU of the objects (the first, i.e. the default, on a tie). Only the validation
    stripe is looked at, never the area a model is later measured on.

    Returns
    -------
    scores : dict
    thresholds : (low, high)
    """
    import geopandas as gpd

    from remote_sensing.assess import assess
    from remote_sensing.objects import objects_mask
    from remote_sensing.polygonize import label_blobs, polygonize_labels, to_world

    ok = wv > 0
    pred = prob >= 0.5
    tp = int((pred & (yv > 0) & ok).sum())
    fp = int((pred & (yv == 0) & ok).sum())
    fn = int((~pred & (yv > 0) & ok).sum())
    out = {"pixel_precision": tp / (tp + fp) if tp + fp else 0.0,
           "pixel_recall": tp / (tp + fn) if tp + fn else 0.0,
           "pixel_f1": 2 * tp / (2 * tp + fp + fn) if tp else 0.0,
           "pixel_iou": tp / (tp + fp + fn) if tp else 0.0}
    stripe_geom = stripe_geometry(stripe, data)
    ref = data.labels.geometry.intersection(stripe_geom)
    ref = ref[ref.area >= min_area_m2]
    ref_frame = gpd.GeoDataFrame(geometry=list(ref.values), crs=data.crs)
    chosen = (low, high)
    if len(ref_frame) == 0:
        out["note"] = "no labelled building in the validation stripe: object scores unavailable"
        return {k: round(v, 4) if isinstance(v, float) else v for k, v in out.items()}, chosen
    valid = data.usable[stripe.mask(data.usable.shape)].reshape(prob.shape)
    min_px = min_area_m2 / data.resolution ** 2
    r0, c0 = (stripe.start, 0) if stripe.axis == 0 else (0, stripe.start)

    def objects(low, high):
        mask = objects_mask(prob, valid=valid, low=low, high=high, split=split, min_px=min_px)
        labels, n = label_blobs(mask)
        polys = list(polygonize_labels(labels, r0, c0).values()) if n else []
        geoms = to_world(np.asarray(polys, dtype=object), data.transform) if polys else np.array([], object)
        pred_frame = gpd.GeoDataFrame(geometry=list(geoms), crs=data.crs)
        return len(pred_frame), (assess(pred_frame, ref_frame) if len(pred_frame) else None)

    grid = [chosen] + [g for g in POSTPROCESS_GRID if g != chosen] if tune_postprocess else [chosen]
    tried = []
    best_key, best = None, None
    for low, high in grid:
        n_pred, r = objects(low, high)
        key = (r["f1"], r["pixel_iou"]) if r else (0.0, 0.0)
        tried.append({"low": low, "high": high, "object_f1": round(key[0], 4), "pixel_iou": round(key[1], 4)})
        if best_key is None or key > best_key:
            best_key, best, chosen = key, (n_pred, r), (low, high)
    n_pred, r = best
    out.update({
        "n_predicted": n_pred,
        "n_labelled": len(ref_frame),
        "object_f1": r["f1"] if r else 0.0,
        "object_precision": r["precision"] if r else 0.0,
        "object_recall": r["recall"] if r else 0.0,
        "matched_iou": r["mean_iou"] if r else 0.0,
        "built_area_error": r["built_area_error"] if r else -1.0,
        "note": "validation stripe held back from training; objects after post-processing, "
                "before regularization; IoU >= 0.5"
                + ("; hysteresis thresholds chosen on this stripe (see postprocess_tried), so "
                   "these object scores are optimistic" if len(grid) > 1 else ""),
    })
    if len(grid) > 1:
        out["postprocess_tried"] = tried
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in out.items()}, chosen
