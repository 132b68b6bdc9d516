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

The training data are read by :mod:`.data`, the validation stripe scored by
:mod:`.validation`.

JAX runs the training: on the CPU by default, on a GPU when a CUDA build of jaxlib
is installed. Nothing is downloaded: weights start from a seeded random draw.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from gis.progress import Progress
from remote_sensing.training.data import read_training_data
from remote_sensing.training.validation import stripe_geometry, validation_scores

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
    validation stripe (:data:`.validation.POSTPROCESS_GRID`); worth it when the stripe holds dozens of
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
class TrainResult:
    """Trained weights, their model card and the per-epoch history."""

    params: dict
    card: dict
    history: list[dict] = field(default_factory=list)


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
    scores, (low, high) = validation_scores(
        prob_val, yv, wv, data, stripe, low=opt.low, high=opt.high, split=opt.split,
        min_area_m2=opt.min_area_m2, tune_postprocess=opt.tune_postprocess)
    seconds = time.perf_counter() - t_start
    stripe_geom = stripe_geometry(stripe, data)
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
