"""Train a building segmentation model from an orthophoto and a past survey's footprints.

The bureau's usual situation: last year's surveyed footprints for the whole county
and new imagery of the same place. :func:`train_segmentation` reads the image over
the training area (where the survey is complete), burns the footprints into a
label raster, ignores a band around every label edge (the survey is a little off),
holds back a validation stripe, and fits the compact U-Net of :mod:`.unet` with
Adam on augmented patches until the validation loss stops improving (early
stopping; the best epoch is kept). The validation stripe is then run through the
same object post-processing as extraction (:mod:`remote_sensing.objects`) and
scored at object level (F1 at IoU >= 0.5, matched IoU, built-area error).

:func:`save_model` writes the network as ONNX (:mod:`.onnx_export`) with its model
card (bands, resolution, normalisation, training area, validation scores, buildings
used) next to it; ``footprints extract --method onnx`` runs it tile by tile.

JAX runs the training: on the CPU by default, on a GPU when a CUDA build of jaxlib
is installed. Nothing is downloaded: weights start from a seeded random draw.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from gis.progress import Progress

from ..errors import ModelError
from ..onnx_model import tta_mean
from .samples import Stripe, edge_weights, normalisation, pad_to, sample_patches, validation_stripe
from .unet import DEFAULT_WIDTHS, init_params, n_weights, size_multiple

log = logging.getLogger(__name__)

#: Card ``kind`` of the models this module writes.
CARD_KIND = "mujun-segmentation"


@dataclass(frozen=True)
class TrainOptions:
    """Training settings (defaults: a few megapixels in a few minutes on two cores).

    ``min_steps`` is the least number of optimisation steps before early stopping may
    end training, and before an epoch may be kept as the best one: on a small area an
    epoch is only 8 steps, and the validation loss of a stripe holding two or three
    buildings is noisy enough to pick an untrained network otherwise. ``max_epochs``
    caps everything (also that warm-up); None means 60, or the warm-up plus
    ``patience`` when that is more. ``tta`` is the
    test-time augmentation written into the card (see
    :func:`remote_sensing.onnx_model.run_tta`) and used for the validation scores.
    ``tune_postprocess`` chooses the hysteresis thresholds written into the card on the
    validation stripe (:data:`POSTPROCESS_GRID`); worth it when the stripe holds dozens of
    buildings, noise when it holds two or three.
    """

    widths: tuple[int, ...] = DEFAULT_WIDTHS
    patch: int = 128
    batch: int = 8
    max_epochs: int | None = None
    min_epochs: int = 6
    patience: int = 8
    steps_per_epoch: int | None = None
    learning_rate: float = 2e-3
    edge_band_m: float = 1.0
    edge_weight: float = 0.25
    val_fraction: float = 0.2
    min_area_m2: float = 8.0
    low: float = 0.4
    high: float = 0.7
    split: float | None = 0.8
    max_megapixels: float = 64.0
    max_seconds: float | None = None
    seed: int = 0
    min_steps: int = 600
    tta: int = 4
    tune_postprocess: bool = False


@dataclass
class TrainingData:
    """The image and labels of the training area, on the image grid."""

    image: np.ndarray  # (bands, rows, cols) float32, raw values
    label: np.ndarray  # (rows, cols) uint8
    usable: np.ndarray  # (rows, cols) bool: valid pixel inside the training area
    transform: Any
    crs: Any
    resolution: float
    area: Any  # shapely geometry in the image CRS
    labels: Any  # GeoDataFrame of the footprints inside the area (image CRS)
    bands: list[int]
    n_image_bands: int
    dtype: str
    image_path: str


@dataclass
class TrainResult:
    """Trained weights, their model card and the per-epoch history."""

    params: dict
    card: dict
    history: list[dict] = field(default_factory=list)


def read_training_data(image_path: str | Path, labels, *, area=None, bands: list[int] | None = None,
                       max_megapixels: float = 64.0) -> TrainingData:
    """Read the image window of the training area and burn the footprints into labels.

    Parameters
    ----------
    image_path : path
        Orthophoto (any band count, 8/16-bit or float).
    labels : GeoDataFrame
        Surveyed footprints (any CRS; reprojected to the image's).
    area : GeoDataFrame or shapely geometry, optional
        Where the survey is complete; default: the footprints' bounding box.
    bands : list of int, optional
        1-based bands to train on (default: all).
    max_megapixels : float
        Refuse larger training areas (they are read into memory).

    Raises
    ------
    ModelError
        No footprint in the area, area outside the image, bands out of range, area too large.
    """
    import shapely
    from rasterio.features import geometry_mask, rasterize
    from rasterio.windows import Window, from_bounds
    from rasterio.windows import transform as wtransform

    from ..readers import check_georeferenced, open_raster

    src = str(image_path)
    with open_raster(image_path) as ds:
        check_georeferenced(ds, image_path)
        if bands is None:
            bands = list(range(1, ds.count + 1))
        bad = [b for b in bands if not 1 <= b <= ds.count]
        if bad:
            raise ModelError(f"band(s) {bad} do not exist; the image has {ds.count} band(s)", source=src)
        if labels.crs is None:
            raise ModelError("the labels have no CRS; assign one (they must overlap the image)",
                             source=src)
        ref = labels.to_crs(ds.crs) if labels.crs != ds.crs else labels
        ref = ref[~ref.geometry.is_empty & ref.geometry.notna()]
        ref = ref.set_geometry(shapely.make_valid(np.asarray(ref.geometry.values, dtype=object)))
        if area is None:
            if len(ref) == 0:
                raise ModelError("the labels hold no footprint", source=src)
            geom = shapely.box(*ref.total_bounds)
        elif hasattr(area, "geometry"):
            ta = area.to_crs(ds.crs) if area.crs is not None and area.crs != ds.crs else area
            geom = shapely.union_all(shapely.make_valid(np.asarray(ta.geometry.values, dtype=object)))
        else:
            geom = area
        geom = geom.intersection(shapely.box(*ds.bounds))
        if geom.is_empty:
            raise ModelError("the training area does not overlap the image; check the CRS of "
                             "--area/--labels", source=src)
        win = from_bounds(*geom.bounds, transform=ds.transform).round_offsets().round_lengths()
        win = win.intersection(Window(0, 0, ds.width, ds.height))
        mpx = win.width * win.height / 1e6
        if mpx > max_megapixels:
            raise ModelError(f"the training area covers {mpx:.0f} megapixels (limit {max_megapixels:g}); "
                             "give a smaller --area (a few megapixels of complete survey are enough)",
                             source=src)
        image = ds.read(bands, window=win, out_dtype="float32")
        valid = ds.dataset_mask(window=win) > 0
        valid &= np.isfinite(image).all(axis=0)
        tr = wtransform(win, ds.transform)
        inside = ~geometry_mask([geom], out_shape=valid.shape, transform=tr)
        ref = ref[ref.intersects(geom)]
        if len(ref) == 0:
            raise ModelError("no labelled footprint lies in the training area", source=src)
        label = rasterize(((g, 1) for g in ref.geometry.values), out_shape=valid.shape, transform=tr,
                          fill=0, dtype="uint8")
        return TrainingData(image=image, label=label, usable=valid & inside, transform=tr, crs=ds.crs,
                            resolution=float(abs(ds.transform.a)), area=geom, labels=ref,
                            bands=list(bands), n_image_bands=ds.count, dtype=ds.dtypes[0],
                            image_path=src)


def _adam(lr: float, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8):
    import jax
    import jax.numpy as jnp

    def init(params):
        zeros = jax.tree_util.tree_map(jnp.zeros_like, params)
        return {"m": zeros, "v": zeros, "t": jnp.zeros((), jnp.float32)}

    def update(grads, state, params):
        t = state["t"] + 1
        m = jax.tree_util.tree_map(lambda m, g: b1 * m + (1 - b1) * g, state["m"], grads)
        v = jax.tree_util.tree_map(lambda v, g: b2 * v + (1 - b2) * g * g, state["v"], grads)
        mhat = 1 / (1 - b1 ** t)
        vhat = 1 / (1 - b2 ** t)
        new = jax.tree_util.tree_map(lambda p, m, v: p - lr * (m * mhat) / (jnp.sqrt(v * vhat) + eps),
                                     params, m, v)
        return new, {"m": m, "v": v, "t": t}

    return init, update


def _loss_fn(widths, pos_weight: float):
    import jax
    import jax.numpy as jnp

    from .unet import forward

    def loss(params, x, y, w):
        z = forward(params, x, widths)
        bce = jax.nn.softplus(z) - y * z
        cw = w * (1 + (pos_weight - 1) * y)
        l_bce = jnp.sum(cw * bce) / jnp.maximum(jnp.sum(cw), 1.0)
        s = jax.nn.sigmoid(z)
        inter = jnp.sum(w * s * y)
        dice = 1 - (2 * inter + 1) / (jnp.sum(w * s) + jnp.sum(w * y) + 1)
        return l_bce + dice

    return loss


def predict_array(params: dict, x: np.ndarray, widths, forward_fn=None) -> np.ndarray:
    """Probability of a whole normalised ``(bands, rows, cols)`` array (JAX; for validation)."""
    import jax

    from .unet import forward

    mult = size_multiple(widths)
    _b, h, w = x.shape
    hp, wp = math.ceil(h / mult) * mult, math.ceil(w / mult) * mult
    xp = pad_to(x, hp, wp)
    fn = forward_fn or jax.jit(lambda p, a: jax.nn.sigmoid(forward(p, a, widths)))
    out = fn(params, np.moveaxis(xp, 0, -1)[None])
    return np.asarray(out)[0, :h, :w]


def _stripe_window(stripe: Stripe, shape, margin: int) -> tuple[slice, slice, slice, slice]:
    """Read slices (stripe plus context margin) and the stripe's slices inside them."""
    n = shape[stripe.axis]
    r0, r1 = max(0, stripe.start - margin), min(n, stripe.stop + margin)
    inner = slice(stripe.start - r0, stripe.stop - r0)
    if stripe.axis == 0:
        return slice(r0, r1), slice(None), inner, slice(None)
    return slice(None), slice(r0, r1), slice(None), inner


def train_segmentation(
    image_path: str | Path,
    labels,
    *,
    area=None,
    bands: list[int] | None = None,
    options: TrainOptions | None = None,
    progress: Progress | None = None,
) -> TrainResult:
    """Fit the U-Net on an image and surveyed footprints; validate; stop early.

    Parameters
    ----------
    image_path : path
        The orthophoto.
    labels : GeoDataFrame
        Surveyed building footprints (the labels).
    area : GeoDataFrame or geometry, optional
        Training area (where the survey is complete); default: the labels' extent.
    bands : list of int, optional
        1-based bands (default: all).
    options : TrainOptions, optional
    progress : callable, optional
        Called with 1 per epoch.

    Returns
    -------
    TrainResult
        ``card`` holds everything :func:`save_model` writes next to the model.

    Raises
    ------
    ModelError
        Unusable inputs (see :func:`read_training_data`), or no building pixel left
        for training after the validation stripe and the ignored edge band.
    """
    logging.getLogger("jax._src.xla_bridge").setLevel(logging.ERROR)  # "no TPU" is not news
    import jax
    import jax.numpy as jnp

    from .unet import forward

    opt = options or TrainOptions()
    t_start = time.perf_counter()
    data = read_training_data(image_path, labels, area=area, bands=bands, max_megapixels=opt.max_megapixels)
    band_px = round(opt.edge_band_m / data.resolution)
    weights = edge_weights(data.label, data.usable, band_px, opt.edge_weight)
    stripe = validation_stripe(data.label, data.usable, opt.val_fraction,
                               min_px=max(opt.patch // 2, 32))
    gap = max(8, opt.patch // 8)
    train_w = weights * ~stripe.mask(data.label.shape, grow=gap)
    val_w = weights * stripe.mask(data.label.shape)
    y = data.label.astype(np.float32)
    if not ((y > 0) & (train_w > 0)).any():
        raise ModelError("no labelled building is left for training outside the validation stripe "
                         "and the ignored edge band; give a larger training area or more labels",
                         source=data.image_path)
    mean, std = normalisation(data.image, data.usable)
    x = ((data.image - mean[:, None, None]) / std[:, None, None]).astype(np.float32)
    x[:, ~data.usable] = 0.0

    n_pos = float(((y > 0) & (train_w > 0)).sum())
    n_neg = float(((y == 0) & (train_w > 0)).sum())
    pos_weight = float(np.clip(math.sqrt(n_neg / max(n_pos, 1.0)), 1.0, 5.0))
    mult = size_multiple(opt.widths)
    patch = max(mult, opt.patch // mult * mult)
    train_px = float((train_w > 0).sum())
    steps = opt.steps_per_epoch or int(np.clip(round(2 * train_px / (opt.batch * patch * patch)), 8, 40))
    warmup = max(opt.min_epochs, math.ceil(opt.min_steps / steps))  # epochs before stopping/keeping
    max_epochs = opt.max_epochs if opt.max_epochs is not None else max(60, warmup + opt.patience)
    warmup = min(warmup, max_epochs)

    params = {k: jnp.asarray(v) for k, v in init_params(len(data.bands), opt.widths, opt.seed).items()}
    loss = _loss_fn(opt.widths, pos_weight)
    adam_init, adam_update = _adam(opt.learning_rate)
    state = adam_init(params)

    @jax.jit
    def step(params, state, xb, yb, wb):
        value, grads = jax.value_and_grad(loss)(params, xb, yb, wb)
        params, state = adam_update(grads, state, params)
        return params, state, value

    margin = 32
    rs, cs, inner_r, inner_c = _stripe_window(stripe, y.shape, margin)
    xv = x[:, rs, cs]
    yv, wv = y[rs, cs][inner_r, inner_c], val_w[rs, cs][inner_r, inner_c]
    prob_fn = jax.jit(lambda p, a: jax.nn.sigmoid(forward(p, a, opt.widths)))

    def validate(p):
        prob = predict_array(p, xv, opt.widths, prob_fn)[inner_r, inner_c]
        pc = np.clip(prob, 1e-6, 1 - 1e-6)
        cw = wv * (1 + (pos_weight - 1) * yv)
        bce = float(np.sum(cw * -(yv * np.log(pc) + (1 - yv) * np.log(1 - pc))) / max(cw.sum(), 1.0))
        inter = float(np.sum(wv * prob * yv))
        dice = 1 - (2 * inter + 1) / (float(np.sum(wv * prob)) + float(np.sum(wv * yv)) + 1)
        return bce + dice, prob

    rng = np.random.default_rng(opt.seed)
    history: list[dict] = []
    best = (np.inf, params, 0)
    stale = 0
    epoch = 0
    stopped = "max_epochs"
    for epoch in range(1, max_epochs + 1):
        t0 = time.perf_counter()
        losses = []
        for _ in range(steps):
            xb, yb, wb = sample_patches(x, y, train_w, opt.batch, patch, rng)
            params, state, value = step(params, state, xb, yb, wb)
            losses.append(float(value))
        val_loss, _ = validate(params)
        history.append({"epoch": epoch, "train_loss": round(float(np.mean(losses)), 5),
                        "val_loss": round(val_loss, 5), "seconds": round(time.perf_counter() - t0, 2)})
        log.info("epoch %d: train loss %.4f, validation loss %.4f", epoch, np.mean(losses), val_loss)
        if progress is not None:
            progress(1)
        if epoch >= warmup and (val_loss < best[0] - 1e-4 or epoch == warmup):
            best = (val_loss, params, epoch)
            stale = 0
        else:
            stale += 1
        if epoch >= warmup and stale >= opt.patience:
            stopped = "early_stopping"
            break
        if opt.max_seconds is not None and time.perf_counter() - t_start > opt.max_seconds:
            stopped = "time_limit"
            break
    if best[2] == 0:  # stopped by the time limit before the warm-up ended: keep the last epoch
        best = (np.inf, params, epoch)
    params = {k: np.asarray(v, np.float32) for k, v in best[1].items()}
    prob_val = tta_mean(lambda a: predict_array(best[1], a, opt.widths, prob_fn), xv, opt.tta)[inner_r, inner_c]
    scores, (low, high) = _validation_scores(prob_val, yv, wv, data, stripe, opt)
    seconds = time.perf_counter() - t_start
    stripe_geom = _stripe_geometry(stripe, data)
    n_val = int(data.labels.intersects(stripe_geom).sum())
    n_train = int(len(data.labels) - data.labels.within(stripe_geom).sum())
    card = {
        "kind": CARD_KIND,
        "bands": data.bands,
        "n_image_bands": data.n_image_bands,
        "image_dtype": data.dtype,
        "mean": [float(v) for v in mean],
        "std": [float(v) for v in std],
        "scale": 1.0,
        "resolution": data.resolution,
        "tile_size": 256,
        "overlap": 32,
        "size_multiple": mult,
        "output": "probability",
        "tta": opt.tta,
        "postprocess": {"method": "objects", "low": low, "high": high, "split": opt.split,
                        "min_area_m2": opt.min_area_m2},
        "architecture": {"name": "unet", "widths": list(opt.widths), "weights": n_weights(params),
                         "framework": f"jax {jax.__version__}", "device": jax.devices()[0].platform},
        "training_area": {"crs": data.crs.to_string(), "bounds": [float(v) for v in data.area.bounds],
                          "area_m2": float(data.area.area),
                          "megapixels": round(data.label.size / 1e6, 3)},
        "trained_on": Path(data.image_path).name,
        "labelled_buildings": {"in_area": len(data.labels), "train": n_train, "validation": n_val},
        "validation": {"stripe": {"axis": "rows" if stripe.axis == 0 else "columns",
                                  "start_px": stripe.start, "stop_px": stripe.stop,
                                  "bounds": [float(v) for v in stripe_geom.bounds]},
                       **scores},
        "training": {"epochs": epoch, "best_epoch": best[2], "stopped": stopped,
                     "steps_per_epoch": steps, "batch": opt.batch, "patch": patch,
                     "learning_rate": opt.learning_rate, "edge_band_m": opt.edge_band_m, "edge_weight": opt.edge_weight,
                     "pos_weight": round(pos_weight, 3), "min_steps": opt.min_steps, "augmentation": ["rot90", "flip", "brightness"],
                     "seconds": round(seconds, 1), "seed": opt.seed},
    }
    log.info("trained in %.0f s (%d epochs, best %d); validation object F1 %.3f", seconds, epoch,
             best[2], scores.get("object_f1", float("nan")))
    return TrainResult(params=params, card=card, history=history)


def _stripe_geometry(stripe: Stripe, data: TrainingData):
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


def _validation_scores(prob, yv, wv, data: TrainingData, stripe: Stripe,
                       opt: TrainOptions) -> tuple[dict, tuple[float, float]]:
    """Pixel scores (edge band excluded) and object scores of the validation stripe.

    With ``opt.tune_postprocess`` the hysteresis thresholds are chosen here among
    :data:`POSTPROCESS_GRID`: the pair with the best object F1 on the stripe, then the best
    pixel IoU of the objects (the first, i.e. the default, on a tie). Only the validation
    stripe is looked at, never the area a model is later measured on.

    Returns
    -------
    scores : dict
    thresholds : (low, high)
    """
    import geopandas as gpd

    from ..assess import assess
    from ..objects import objects_mask
    from ..polygonize import label_blobs, polygonize_labels, to_world

    ok = wv > 0
    pred = prob >= 0.5
    tp = int((pred & (yv > 0) & ok).sum())
    fp = int((pred & (yv == 0) & ok).sum())
    fn = int((~pred & (yv > 0) & ok).sum())
    out = {"pixel_precision": tp / (tp + fp) if tp + fp else 0.0,
           "pixel_recall": tp / (tp + fn) if tp + fn else 0.0,
           "pixel_f1": 2 * tp / (2 * tp + fp + fn) if tp else 0.0,
           "pixel_iou": tp / (tp + fp + fn) if tp else 0.0}
    stripe_geom = _stripe_geometry(stripe, data)
    ref = data.labels.geometry.intersection(stripe_geom)
    ref = ref[ref.area >= opt.min_area_m2]
    ref_frame = gpd.GeoDataFrame(geometry=list(ref.values), crs=data.crs)
    chosen = (opt.low, opt.high)
    if len(ref_frame) == 0:
        out["note"] = "no labelled building in the validation stripe: object scores unavailable"
        return {k: round(v, 4) if isinstance(v, float) else v for k, v in out.items()}, chosen
    valid = data.usable[stripe.mask(data.usable.shape)].reshape(prob.shape)
    min_px = opt.min_area_m2 / data.resolution ** 2
    r0, c0 = (stripe.start, 0) if stripe.axis == 0 else (0, stripe.start)

    def objects(low, high):
        mask = objects_mask(prob, valid=valid, low=low, high=high, split=opt.split, min_px=min_px)
        labels, n = label_blobs(mask)
        polys = list(polygonize_labels(labels, r0, c0).values()) if n else []
        geoms = to_world(np.asarray(polys, dtype=object), data.transform) if polys else np.array([], object)
        pred_frame = gpd.GeoDataFrame(geometry=list(geoms), crs=data.crs)
        return len(pred_frame), (assess(pred_frame, ref_frame) if len(pred_frame) else None)

    grid = [chosen] + [g for g in POSTPROCESS_GRID if g != chosen] if opt.tune_postprocess else [chosen]
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


def save_model(result: TrainResult, path: str | Path, *, overwrite: bool = False) -> tuple[Path, Path]:
    """Write ``PATH.onnx`` and its model card ``PATH.json`` atomically.

    Raises
    ------
    OutputExistsError
        The model exists and ``overwrite`` is False.
    """
    import json

    from gis.atomic import atomic_output

    from .onnx_export import write_model

    p = Path(path)
    if p.suffix.lower() != ".onnx":
        p = p.with_suffix(".onnx")
    card_path = p.with_suffix(".json")
    card = dict(result.card)
    with atomic_output(p, overwrite=overwrite, sidecars=(".json",)) as tmp:
        tmp = Path(tmp)
        write_model(tmp, result.params, card["architecture"]["widths"], len(card["bands"]),
                    doc="mujun building segmentation; see the model card next to this file")
        tmp.with_suffix(".json").write_text(json.dumps(card, indent=2, ensure_ascii=False))
    return p, card_path


def train_to_file(image: str | Path, labels: str | Path, output: str | Path, *,
                  area: str | Path | None = None, bands: list[int] | None = None,
                  options: TrainOptions | None = None, overwrite: bool = False,
                  progress: Progress | None = None) -> tuple[TrainResult, Path, Path]:
    """The ``footprints train`` tool: read the files, train, write the model and its card.

    Parameters
    ----------
    image, labels : path
        The orthophoto and the surveyed footprints (any vector format mujun reads).
    output : path
        The model (``.onnx`` is added when missing); the card goes next to it (``.json``).
    area : path, optional
        Polygon(s) where the survey is complete.
    bands, options, progress
        See :func:`train_segmentation`.
    overwrite : bool
        Replace an existing model and card.

    Raises
    ------
    OutputExistsError
        The model or its card exists and ``overwrite`` is False (checked before training).
    """
    from gis.errors import OutputExistsError

    from ..io import read_footprints

    out = Path(output)
    if out.suffix.lower() != ".onnx":
        out = out.with_suffix(".onnx")
    if (out.exists() or out.with_suffix(".json").exists()) and not overwrite:
        raise OutputExistsError(f"{out} (or its card) exists; use --overwrite to replace it")
    ref = read_footprints(labels)
    aoi = read_footprints(area) if area else None
    result = train_segmentation(image, ref, area=aoi, bands=bands, options=options, progress=progress)
    model_path, card_path = save_model(result, out, overwrite=overwrite)
    return result, model_path, card_path
