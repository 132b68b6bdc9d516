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
from typing import Any

import numpy as np

from gis.progress import Progress
from remote_sensing.training.data import read_training_data
from remote_sensing.training.validation import StripePrediction, stripe_geometry, validation_scores

from ..errors import ModelError
from ..onnx_model import tta_mean
from .pretrained import ENCODER_WEIGHTS, INPUT_MEAN, INPUT_STD
from .samples import (
    Stripe,
    edge_weights,
    gap_weights,
    interior_target,
    normalisation,
    pad_to,
    sample_patches,
    validation_stripe,
)
from .unet import (
    DEFAULT_WIDTHS,
    OUTPUTS,
    PRETRAINED_WIDTHS,
    add_batch_norm,
    fold_batch_norm,
    init_params,
    initial_statistics,
    n_outputs,
    n_weights,
    size_multiple,
)

log = logging.getLogger(__name__)

#: Card ``kind`` of the models this module writes.
CARD_KIND = "mujun-segmentation"

#: Batches on which the averaged weights' own batch statistics are measured before each validation.
STATS_BATCHES = 4


@dataclass(frozen=True)
class TrainOptions:
    """Training settings (defaults: a useful model in at most ten minutes on two cores).

    Training draws ``steps_per_epoch`` batches of random patches per *epoch* (a round
    between two validations), never passes over every pixel, and stops at
    ``max_seconds`` (default ten minutes) or when the validation loss has not improved
    for ``patience`` epochs, keeping the best epoch. The learning rate falls along a
    half cosine over ``max_epochs`` when it is given (so the same options and seed give the
    same model on a busy machine), else over ``max_seconds``.

    ``min_steps`` is the least number of optimisation steps before early stopping may
    end training, and before an epoch may be kept as the best one: on a small area the
    validation loss of a stripe holding two or three buildings is noisy enough to pick an
    untrained network otherwise. ``max_epochs`` caps everything (also that warm-up); None
    means no cap but the time. ``tta`` is the test-time augmentation written into the card
    (see :func:`remote_sensing.onnx_model.run_tta`) and used for the validation scores.
    ``tune_postprocess`` chooses the hysteresis and interior seed thresholds written into
    the card on the validation stripes (:data:`.validation.POSTPROCESS_GRID`, ``SEED_GRID``,
    ``SEED_MIN_GRID``); None (the default) does so when they hold at least
    :data:`.validation.TUNE_MIN_BUILDINGS` labelled buildings.

    ``resolution`` is the model's ground resolution (m): every image is resampled to it
    (default: the finest image's, but not finer than ``min_resolution``). ``interior``
    adds the interior output (each footprint shrunk by ``interior_m`` from its outline
    and its neighbours), whose blobs split touching roofs after prediction.
    ``gap_weight`` is the loss weight of background pixels within ``gap_m`` of two
    different footprints (the alleys that make two roofs two objects; 0 = off).
    ``batch_norm`` normalises every 3x3 convolution over the batch while training (a
    network from scratch learns several times faster) and folds the running statistics
    into the weights afterwards, so the model written is plain convolutions; a model
    fine-tuned from another (``init_from``) keeps its folded weights and trains without it.
    ``average`` is the decay of the moving average of the weights that is validated, kept
    and written: an exponential average over the last ~1/(1 - average) steps smooths the
    noise of the last steps (early on the decay is (1 + t)/(10 + t) after t steps, if that
    is less, so a short run is not held back by its random start); None or 0 = the last
    step's weights.
    ``encoder`` (``"efficientnet-lite0"``) puts the decoder on an encoder pretrained on
    ImageNet (:mod:`.pretrained`; RGB 8-bit images only, scaled as that network expects)
    in place of the U-Net's own (``"auto"``: when every image gives three 8-bit bands);
    ``widths`` are then the decoder's (the default becomes :data:`.unet.PRETRAINED_WIDTHS`) and the encoder learns at ``encoder_rate`` times the
    learning rate, so its pretrained filters are adjusted, not overwritten.
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
    seed_threshold: float = 0.5
    max_megapixels: float = 64.0
    max_seconds: float | None = 600.0
    seed: int = 0
    min_steps: int = 600
    tta: int = 4
    tune_postprocess: bool | None = None
    resolution: float | None = None
    min_resolution: float = 0.25
    interior: bool = True
    interior_m: float = 0.75
    batch_norm: bool = True
    gap_m: float = 1.5
    gap_weight: float = 3.0
    average: float | None = 0.99
    encoder: str | None = None
    encoder_rate: float = 0.1


@dataclass(frozen=True)
class Source:
    """One image and its surveyed footprints (one place; a model may learn from several)."""

    image: str | Path
    labels: Any  # GeoDataFrame
    area: Any = None  # GeoDataFrame or shapely geometry: where the survey is complete


@dataclass
class TrainResult:
    """Trained weights, their model card and the per-epoch history."""

    params: dict
    card: dict
    history: list[dict] = field(default_factory=list)


def _adam(b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8):
    import jax
    import jax.numpy as jnp

    def init(params):
        zeros = jax.tree_util.tree_map(jnp.zeros_like, params)
        return {"m": zeros, "v": zeros, "t": jnp.zeros((), jnp.float32)}

    def update(grads, state, params, lr):
        """One Adam step; ``lr`` is a number or a tree of numbers like ``params``."""
        if not isinstance(lr, dict):
            lr = jax.tree_util.tree_map(lambda _p: lr, params)
        t = state["t"] + 1
        m = jax.tree_util.tree_map(lambda m, g: b1 * m + (1 - b1) * g, state["m"], grads)
        v = jax.tree_util.tree_map(lambda v, g: b2 * v + (1 - b2) * g * g, state["v"], grads)
        mhat = 1 / (1 - b1 ** t)
        vhat = 1 / (1 - b2 ** t)
        new = jax.tree_util.tree_map(lambda p, m, v, r: p - r * (m * mhat) / (jnp.sqrt(v * vhat) + eps),
                                     params, m, v, lr)
        return new, {"m": m, "v": v, "t": t}

    return init, update


def averaging_decay(average: float, step):
    """Decay of the weights' moving average after ``step`` steps: ``average``, or less early on.

    ``(1 + step) / (10 + step)`` while that is smaller, so the average of a short run is not
    held back by the random start (works on NumPy and JAX scalars alike).

    Examples
    --------
    >>> [round(float(averaging_decay(0.99, t)), 3) for t in (0, 10, 100, 1000)]
    [0.1, 0.55, 0.918, 0.99]
    """
    ramp = (1 + step) / (10 + step)
    return average + (ramp - average) * (ramp < average)


def _bce_dice(z, y, w, pos_weight):
    import jax
    import jax.numpy as jnp

    bce = jax.nn.softplus(z) - y * z
    cw = w * (1 + (pos_weight - 1) * y)
    l_bce = jnp.sum(cw * bce) / jnp.maximum(jnp.sum(cw), 1.0)
    s = jax.nn.sigmoid(z)
    inter = jnp.sum(w * s * y)
    dice = 1 - (2 * inter + 1) / (jnp.sum(w * s) + jnp.sum(w * y) + 1)
    return l_bce + dice


def _loss_fn(widths, pos_weight: float, interior_weight: float):
    """The training loss and, as auxiliary output, the batch statistics (empty without batch norm)."""
    from .unet import forward_batch_norm

    def loss(params, x, y, w, z, wz):
        out, stats = forward_batch_norm(params, x, widths)
        if out.ndim == 3:
            return _bce_dice(out, y, w, pos_weight), stats
        return (_bce_dice(out[..., 0], y, w, pos_weight)
                + _bce_dice(out[..., 1], z, wz, interior_weight)), stats

    return loss


def predict_array(params: dict, x: np.ndarray, widths, forward_fn=None) -> np.ndarray:
    """Probabilities of a whole normalised ``(bands, rows, cols)`` array (JAX; for validation).

    ``(rows, cols)`` for a one-output network, ``(outputs, rows, cols)`` otherwise.
    """
    import jax

    from .unet import forward

    mult = size_multiple(widths)
    _b, h, w = x.shape
    hp, wp = math.ceil(h / mult) * mult, math.ceil(w / mult) * mult
    xp = pad_to(x, hp, wp)
    fn = forward_fn or jax.jit(lambda p, a: jax.nn.sigmoid(forward(p, a, widths)))
    out = np.asarray(fn(params, np.moveaxis(xp, 0, -1)[None]))[0]
    if out.ndim == 3:
        return np.moveaxis(out, -1, 0)[:, :h, :w]
    return out[:h, :w]


def _stripe_window(stripe: Stripe, shape, margin: int) -> tuple[slice, slice, slice, slice]:
    """Read slices (stripe plus context margin) and the stripe's slices inside them."""
    n = shape[stripe.axis]
    r0, r1 = max(0, stripe.start - margin), min(n, stripe.stop + margin)
    inner = slice(stripe.start - r0, stripe.stop - r0)
    if stripe.axis == 0:
        return slice(r0, r1), slice(None), inner, slice(None)
    return slice(None), slice(r0, r1), slice(None), inner


@dataclass
class _Place:
    """One source's arrays on the model grid, ready for training and validation."""

    data: Any
    y: np.ndarray
    z: np.ndarray  # interior target
    train_w: np.ndarray
    interior_w: np.ndarray
    stripe: Stripe
    val_w: np.ndarray
    x: np.ndarray | None = None  # normalised image


def _native_resolution(src: Source) -> float:
    from remote_sensing.ground import metres_per_unit
    from remote_sensing.readers import open_raster

    with open_raster(src.image) as ds:
        sx, sy = metres_per_unit(ds.crs, ds.bounds)
        return float(math.sqrt(abs(ds.transform.a * ds.transform.e) * sx * sy))


def _place(src: Source, opt: TrainOptions, resolution: float, bands, patch: int) -> _Place:
    data = read_training_data(src.image, src.labels, area=src.area, bands=bands,
                              max_megapixels=opt.max_megapixels, resolution=resolution)
    band_px = round(opt.edge_band_m / data.resolution)
    weights = edge_weights(data.label, data.usable, band_px, opt.edge_weight)
    if opt.gap_weight > 0:
        weights = np.maximum(weights, gap_weights(data.instances, opt.gap_m / data.resolution, opt.gap_weight)
                             * data.usable)
    stripe = validation_stripe(data.label, data.usable, opt.val_fraction, min_px=max(patch // 2, 32))
    gap = max(8, patch // 8)
    held = stripe.mask(data.label.shape, grow=gap)
    z = interior_target(data.instances, opt.interior_m / data.resolution).astype(np.float32)
    return _Place(data=data, y=data.label.astype(np.float32), z=z, train_w=weights * ~held,
                  interior_w=data.usable.astype(np.float32) * ~held, stripe=stripe,
                  val_w=weights * stripe.mask(data.label.shape))


def train_segmentation(
    image_path: str | Path,
    labels,
    *,
    area=None,
    bands: list[int] | None = None,
    options: TrainOptions | None = None,
    progress: Progress | None = None,
    more: list[Source] | tuple[Source, ...] = (),
    init_from: str | Path | None = None,
) -> TrainResult:
    """Fit the U-Net on one or more images and their surveyed footprints; validate; stop.

    Parameters
    ----------
    image_path : path
        The orthophoto.
    labels : GeoDataFrame
        Surveyed building footprints (the labels; any CRS).
    area : GeoDataFrame or geometry, optional
        Training area (where the survey is complete); default: the labels' extent.
    bands : list of int, optional
        1-based bands (default: all).
    options : TrainOptions, optional
    progress : callable, optional
        Called with the seconds trained since the last call, after every epoch; its
        ``note`` (when it has one) shows the validation figures.
    more : sequence of Source
        Further images with their footprints (other places, same bands): one model for all.
    init_from : path, optional
        A model written by :func:`save_model` to start from (fine-tuning): its
        architecture, normalisation and ground resolution are kept.

    Returns
    -------
    TrainResult
        ``card`` holds everything :func:`save_model` writes next to the model.

    Raises
    ------
    ModelError
        Unusable inputs (see :func:`read_training_data`), images with different band
        counts, a model to start from that does not fit, or no building pixel left for
        training after the validation stripe and the ignored edge band.
    """
    logging.getLogger("jax._src.xla_bridge").setLevel(logging.ERROR)  # "no TPU" is not news
    import jax
    import jax.numpy as jnp

    from gis.progress import note

    from .unet import forward, forward_batch_norm

    opt = options or TrainOptions()
    t_start = time.perf_counter()
    cpu_start = time.process_time()
    sources = [Source(image_path, labels, area), *more]
    start_params, start_card = None, None
    widths = tuple(opt.widths)
    encoder = _auto_encoder(sources, bands) if opt.encoder == "auto" and init_from is None else opt.encoder
    if encoder is not None and widths == DEFAULT_WIDTHS:
        widths = PRETRAINED_WIDTHS
    if init_from is not None:
        start_params, start_card, widths = _starting_model(init_from)
        encoder = start_card["architecture"].get("encoder")
    elif encoder is not None and (len(widths) != len(PRETRAINED_WIDTHS) or widths[-1] != PRETRAINED_WIDTHS[-1]):
        raise ModelError(f"on the pretrained encoder the widths are the decoder's: five, the last "
                         f"{PRETRAINED_WIDTHS[-1]} (the encoder's), e.g. "
                         f"{','.join(map(str, PRETRAINED_WIDTHS))}; got {','.join(map(str, widths))}")
    mult = size_multiple(widths)
    patch = max(mult, opt.patch // mult * mult)
    if start_card is not None:
        resolution = float(start_card["resolution"])
    elif opt.resolution is not None:
        resolution = float(opt.resolution)
    else:
        resolution = max(min(_native_resolution(s) for s in sources), opt.min_resolution)
    places = [_place(s, opt, resolution, bands, patch) for s in sources]
    first = places[0].data
    for pl in places[1:]:
        if pl.data.bands != first.bands or pl.data.n_colour_bands != first.n_colour_bands:
            raise ModelError(f"this image has {pl.data.n_colour_bands} band(s) (using {pl.data.bands}) but "
                             f"{Path(first.image_path).name} has {first.n_colour_bands} (using {first.bands}); "
                             "one model learns from images with the same bands", source=pl.data.image_path)
    if not any(((pl.y > 0) & (pl.train_w > 0)).any() for pl in places):
        raise ModelError("no labelled building is left for training outside the validation stripe "
                         "and the ignored edge band; give a larger training area or more labels",
                         source=first.image_path)
    if encoder is not None and (len(first.bands) != 3 or first.dtype != "uint8"):
        raise ModelError(f"the pretrained encoder reads RGB 8-bit images; this one gives {len(first.bands)} "
                         f"band(s) of {first.dtype} (choose three 8-bit bands with --bands, or train "
                         "with --encoder none)", source=first.image_path)
    if start_card is not None:
        mean, std = (np.asarray(start_card[k], np.float32) for k in ("mean", "std"))
        if len(mean) != len(first.bands):
            raise ModelError(f"the model to start from reads {len(mean)} band(s), these images "
                             f"{len(first.bands)}", source=str(init_from))
    elif encoder is not None:  # the scaling the pretrained network learnt with
        mean, std = np.full(3, INPUT_MEAN, np.float32), np.full(3, INPUT_STD, np.float32)
    else:
        mean, std = normalisation([pl.data.image for pl in places], [pl.data.usable for pl in places])
    for pl in places:
        x = ((pl.data.image - mean[:, None, None]) / std[:, None, None]).astype(np.float32)
        x[:, ~pl.data.usable] = 0.0
        pl.x = x
        pl.data.image = None  # the raw copy is not needed any more

    n_pos = float(sum(((pl.y > 0) & (pl.train_w > 0)).sum() for pl in places))
    n_neg = float(sum(((pl.y == 0) & (pl.train_w > 0)).sum() for pl in places))
    pos_weight = float(np.clip(math.sqrt(n_neg / max(n_pos, 1.0)), 1.0, 5.0))
    z_pos = float(sum(((pl.z > 0) & (pl.interior_w > 0)).sum() for pl in places))
    z_neg = float(sum(((pl.z == 0) & (pl.interior_w > 0)).sum() for pl in places))
    interior_weight = float(np.clip(math.sqrt(z_neg / max(z_pos, 1.0)), 1.0, 5.0))
    train_px = np.array([float((pl.train_w > 0).sum()) for pl in places])
    share = train_px / train_px.sum()
    steps = opt.steps_per_epoch or int(np.clip(round(2 * train_px.sum() / (opt.batch * patch * patch)), 8, 40))
    warmup = max(opt.min_epochs, math.ceil(opt.min_steps / steps))  # epochs before stopping/keeping
    max_epochs = opt.max_epochs if opt.max_epochs is not None else 1_000_000
    warmup = min(warmup, max_epochs)

    n_out = 2 if opt.interior else 1
    if start_params is not None:
        params = {k: jnp.asarray(v) for k, v in start_params.items()}
        n_out = n_outputs(start_params)
    else:
        fresh = init_params(len(first.bands), widths, opt.seed, n_out, encoder=encoder)
        params = {k: jnp.asarray(v) for k, v in (add_batch_norm(fresh) if opt.batch_norm else fresh).items()}
    batch_norm = any(k.endswith("/gamma") for k in params)
    running = {k: jnp.asarray(v) for k, v in initial_statistics(params).items()}
    loss = _loss_fn(widths, pos_weight, interior_weight)
    adam_init, adam_update = _adam()
    state = adam_init(params)
    rate = {k: np.float32(opt.encoder_rate if k.startswith("eff.") else 1.0) for k in params}

    decay = float(opt.average) if opt.average else 0.0
    averaged = params

    @jax.jit
    def step(params, state, running, averaged, xb, yb, wb, zb, wzb, lr, t):
        (value, stats), grads = jax.value_and_grad(loss, has_aux=True)(params, xb, yb, wb, zb, wzb)
        params, state = adam_update(grads, state, params, {k: lr * r for k, r in rate.items()})
        running = jax.tree_util.tree_map(lambda r, s: 0.9 * r + 0.1 * s, running, stats)
        d = averaging_decay(decay, t)
        averaged = jax.tree_util.tree_map(lambda a, p: d * a + (1 - d) * p, averaged, params)
        return params, state, running, averaged, value

    def plain(params, running):
        """The weights as plain convolutions (the running statistics folded in)."""
        return fold_batch_norm(params, running) if batch_norm else params

    margin = 32
    windows = []
    for pl in places:
        rs, cs, inner_r, inner_c = _stripe_window(pl.stripe, pl.y.shape, margin)
        windows.append((pl.x[:, rs, cs], pl.y[rs, cs][inner_r, inner_c], pl.val_w[rs, cs][inner_r, inner_c],
                        (inner_r, inner_c)))
    prob_fn = jax.jit(lambda p, a: jax.nn.sigmoid(forward(p, a, widths)))

    def draw(generator):
        """A batch of patches from the places, in proportion to their training pixels."""
        counts = generator.multinomial(opt.batch, share)
        parts = [sample_patches(pl.x, pl.y, pl.train_w, int(k), patch, generator, extra=pl.z)
                 for pl, k in zip(places, counts, strict=True) if k]
        return tuple(np.concatenate(a) for a in zip(*parts, strict=True))

    # the statistics of each batch, averaged over the batches: one compiled call per validation
    stats_fn = jax.jit(lambda p, xs: jax.tree_util.tree_map(
        lambda s: jnp.mean(s, axis=0), jax.vmap(lambda a: forward_batch_norm(p, a, widths)[1])(xs)))
    stats_rng = np.random.default_rng([opt.seed, 1])

    def averaged_model(averaged, running):
        """The averaged weights as plain convolutions, with batch statistics of their own.

        The running statistics follow the last steps' weights; the averaged network's own
        are measured on a few fresh batches (as for stochastic weight averaging).
        """
        if not batch_norm:
            return averaged
        if not decay:
            return plain(averaged, running)
        return plain(averaged, stats_fn(averaged, np.stack([draw(stats_rng)[0] for _ in range(STATS_BATCHES)])))

    def building(out):
        return out[0] if out.ndim == 3 else out

    def validate(p):
        cw_sum = bce_sum = inter = ps = ys = 0.0
        tp = fp = fn = 0
        for xv, yv, wv, (ir, ic) in windows:
            prob = building(predict_array(p, xv, widths, prob_fn))[ir, ic]
            pc = np.clip(prob, 1e-6, 1 - 1e-6)
            cw = wv * (1 + (pos_weight - 1) * yv)
            bce_sum += float(np.sum(cw * -(yv * np.log(pc) + (1 - yv) * np.log(1 - pc))))
            cw_sum += float(cw.sum())
            inter += float(np.sum(wv * prob * yv))
            ps += float(np.sum(wv * prob))
            ys += float(np.sum(wv * yv))
            ok, pred = wv > 0, prob >= 0.5
            tp += int((pred & (yv > 0) & ok).sum())
            fp += int((pred & (yv == 0) & ok).sum())
            fn += int((~pred & (yv > 0) & ok).sum())
        dice = 1 - (2 * inter + 1) / (ps + ys + 1)
        return bce_sum / max(cw_sum, 1.0) + dice, (2 * tp / (2 * tp + fp + fn) if tp else 0.0)

    rng = np.random.default_rng(opt.seed)
    history: list[dict] = []
    best = (np.inf, params, 0)
    kept = False  # whether ``best`` holds a model the validation chose
    if start_params is not None:
        # the model fine-tuned from is the first candidate (epoch 0): fine-tuning never hands
        # back a model that this survey's validation stripes find worse than its start
        start = averaged_model(params, running)
        start_loss, start_f1 = validate(start)
        best, kept = (start_loss, start, 0), True
        history.append({"epoch": 0, "train_loss": None, "val_loss": round(start_loss, 5),
                        "val_pixel_f1": round(start_f1, 4), "seconds": 0.0})
        log.info("the model fine-tuned from: validation loss %.4f, pixel F1 %.3f", start_loss, start_f1)
    stale = 0
    epoch = 0
    stopped = "max_epochs"
    reported = 0
    horizon_s = opt.max_seconds if opt.max_seconds is not None else math.inf
    horizon_steps = max_epochs * steps if opt.max_epochs is not None else math.inf
    done_steps = 0
    for epoch in range(1, max_epochs + 1):
        t0 = time.perf_counter()
        losses = []
        for _ in range(steps):
            # a step budget (max_epochs) sets the schedule when there is one, so a run with the
            # same options and seed is the same on a busy machine; else the time limit does
            frac = min(1.0, done_steps / horizon_steps if math.isfinite(horizon_steps)
                       else (time.perf_counter() - t_start) / horizon_s)
            lr = opt.learning_rate * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * frac)))
            xb, yb, wb, zb = draw(rng)
            wzb = (wb > 0).astype(np.float32)  # the interior lies away from label edges: weight 0 or 1
            params, state, running, averaged, value = step(params, state, running, averaged, xb, yb, wb, zb,
                                                           wzb, np.float32(lr), np.float32(done_steps))
            losses.append(float(value))
            done_steps += 1
        current = averaged_model(averaged, running)
        val_loss, val_f1 = validate(current)
        elapsed = time.perf_counter() - t_start
        history.append({"epoch": epoch, "train_loss": round(float(np.mean(losses)), 5),
                        "val_loss": round(val_loss, 5), "val_pixel_f1": round(val_f1, 4),
                        "seconds": round(time.perf_counter() - t0, 2)})
        log.info("epoch %d: train loss %.4f, validation loss %.4f, pixel F1 %.3f", epoch, np.mean(losses),
                 val_loss, val_f1)
        if progress is not None:
            progress(int(elapsed) - reported)
            reported = int(elapsed)
        if epoch >= warmup and (val_loss < best[0] - 1e-4 or (epoch == warmup and not kept)):
            best, kept = (val_loss, current, epoch), True
            stale = 0
        else:
            stale += 1
        note(progress, f"第{epoch}轮 验证像元F1 {val_f1:.2f}")
        if epoch >= warmup and stale >= opt.patience:
            stopped = "early_stopping"
            break
        if elapsed > horizon_s:
            stopped = "time_limit"
            break
    if not kept:  # stopped by the time limit before the warm-up ended: keep the last epoch
        best = (np.inf, averaged_model(averaged, running), epoch)
    params = {k: np.asarray(v, np.float32) for k, v in best[1].items()}
    stripes = []
    for pl, (xv, yv, wv, (ir, ic)) in zip(places, windows, strict=True):
        out = tta_mean(lambda a: predict_array(best[1], a, widths, prob_fn), xv, opt.tta)[..., ir, ic]
        prob, inner = (out[0], out[1]) if out.ndim == 3 else (out, None)
        stripes.append(StripePrediction(prob, inner, yv, wv, pl.data, pl.stripe))
    split = None if n_out == 2 else opt.split
    scores, (low, high, seed_threshold, seed_min_m2) = validation_scores(
        stripes, low=opt.low, high=opt.high, split=split, seed=opt.seed_threshold,
        min_area_m2=opt.min_area_m2, tune_postprocess=opt.tune_postprocess)
    seconds = time.perf_counter() - t_start
    cpu_seconds = time.process_time() - cpu_start
    n_val = n_train = n_in = 0
    areas = []
    for pl in places:
        stripe_geom = stripe_geometry(pl.stripe, pl.data)
        n_in += len(pl.data.labels)
        n_val += int(pl.data.labels.intersects(stripe_geom).sum())
        n_train += int(len(pl.data.labels) - pl.data.labels.within(stripe_geom).sum())
        areas.append({"image": Path(pl.data.image_path).name, "crs": pl.data.crs.to_string(),
                      "bounds": [float(v) for v in pl.data.area.bounds], "area_m2": round(pl.data.area_m2, 1),
                      "megapixels": round(pl.data.label.size / 1e6, 3),
                      "image_resolution": round(pl.data.native_resolution, 4),
                      "validation_stripe": {"axis": "rows" if pl.stripe.axis == 0 else "columns",
                                            "start_px": pl.stripe.start, "stop_px": pl.stripe.stop,
                                            "bounds": [float(v) for v in stripe_geom.bounds]}})
    outputs = list(OUTPUTS[:n_out])
    card = {
        "kind": CARD_KIND,
        "bands": first.bands,
        "n_image_bands": first.n_image_bands,
        "alpha_bands": first.n_alpha_bands,
        "image_dtype": first.dtype,
        "mean": [float(v) for v in mean],
        "std": [float(v) for v in std],
        "scale": 1.0,
        "resolution": round(resolution, 4),
        "resolution_note": "ground pixel size (m) the model works at; images are resampled to it",
        "tile_size": 256,
        "overlap": 32,
        "size_multiple": mult,
        "output": "probability",
        "outputs": outputs,
        "tta": opt.tta,
        "postprocess": {"method": "objects", "low": low, "high": high, "split": split,
                        **({"seed": seed_threshold} if n_out == 2 else {}),
                        **({"seed_min_m2": seed_min_m2} if n_out == 2 and seed_min_m2 is not None else {}), "min_area_m2": opt.min_area_m2},
        "architecture": {"name": "unet", "widths": list(widths), "weights": n_weights(params),
                         **({"encoder": encoder, "encoder_weights": ENCODER_WEIGHTS} if encoder else {}),
                         "outputs": outputs,
                         "batch_norm": "folded into the convolutions" if batch_norm else None,
                         "framework": f"jax {jax.__version__}", "device": jax.devices()[0].platform},
        "training_area": {**{k: areas[0][k] for k in ("crs", "bounds", "megapixels")},
                          "area_m2": round(sum(a["area_m2"] for a in areas), 1),
                          "megapixels": round(sum(a["megapixels"] for a in areas), 3),
                          "places": areas},
        "trained_on": ", ".join(a["image"] for a in areas),
        "labelled_buildings": {"in_area": n_in, "train": n_train, "validation": n_val},
        "validation": scores,
        "training": {"epochs": epoch, "best_epoch": best[2], "stopped": stopped,
                     "steps_per_epoch": steps, "steps": done_steps, "batch": opt.batch, "patch": patch,
                     "learning_rate": opt.learning_rate, "schedule": "half cosine to 5 % over the time limit",
                     "edge_band_m": opt.edge_band_m, "edge_weight": opt.edge_weight,
                     "gap_m": opt.gap_m if opt.gap_weight > 0 else None, "gap_weight": opt.gap_weight,
                     "interior_m": opt.interior_m if n_out == 2 else None,
                     "pos_weight": round(pos_weight, 3), "min_steps": opt.min_steps,
                     "weights_averaged": decay or None,
                     "max_seconds": opt.max_seconds,
                     "augmentation": ["rot90", "flip", "brightness"],
                     "fine_tuned_from": Path(init_from).name if init_from is not None else None,
                     "seconds": round(seconds, 1), "cpu_seconds": round(cpu_seconds, 1), "seed": opt.seed},
    }
    log.info("trained in %.0f s (%d epochs, best %d); validation object F1 %.3f", seconds, epoch,
             best[2], scores.get("object_f1", float("nan")))
    return TrainResult(params=params, card=card, history=history)


def _auto_encoder(sources, bands) -> str | None:
    """``encoder="auto"``: the pretrained encoder when every image gives three 8-bit bands
    (an RGBA mosaic's alpha band is its validity mask, not a fourth band)."""
    from remote_sensing.readers import colour_bands, open_raster

    from .pretrained import ENCODER

    for src in sources:
        with open_raster(src.image) as ds:
            n = len(bands) if bands else len(colour_bands(ds))
            if n != 3 or ds.dtypes[0] != "uint8":
                return None
    return ENCODER


def _starting_model(path: str | Path) -> tuple[dict, dict, tuple[int, ...]]:
    """Weights, card and widths of a model to fine-tune (written by :func:`save_model`)."""
    from ..onnx_model import read_model_card
    from .onnx_export import read_params

    card = read_model_card(path)
    if card.get("kind") != CARD_KIND:
        raise ModelError("only a model written by footprints train can be fine-tuned", source=str(path))
    widths = tuple(int(w) for w in card["architecture"]["widths"])
    try:
        params = read_params(path)
    except Exception as exc:  # a damaged file: say which
        raise ModelError(f"cannot read the model's weights ({exc})", source=str(path)) from exc
    return params, card, widths


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


def train_to_file(image, labels, output: str | Path, *,
                  area=None, bands: list[int] | None = None,
                  options: TrainOptions | None = None, overwrite: bool = False,
                  progress: Progress | None = None,
                  init_from: str | Path | None = None) -> tuple[TrainResult, Path, Path]:
    """The ``footprints train`` tool: read the files, train, write the model and its card.

    Parameters
    ----------
    image, labels : path or list of paths
        The orthophoto(s) and the surveyed footprints over each (any vector format mujun
        reads), paired in order: one model for several places.
    output : path
        The model (``.onnx`` is added when missing); the card goes next to it (``.json``).
    area : path or list of paths, optional
        Polygon(s) where the survey is complete: one file for all images, or one per image.
    bands, options, progress, init_from
        See :func:`train_segmentation`.
    overwrite : bool
        Replace an existing model and card.

    Raises
    ------
    OutputExistsError
        The model or its card exists and ``overwrite`` is False (checked before training).
    ConfigError
        Not as many label files (or areas) as images.
    """
    from gis.errors import ConfigError, OutputExistsError

    from ..io import read_footprints

    out = Path(output)
    if out.suffix.lower() != ".onnx":
        out = out.with_suffix(".onnx")
    if (out.exists() or out.with_suffix(".json").exists()) and not overwrite:
        raise OutputExistsError(f"{out} (or its card) exists; use --overwrite to replace it")
    images = list(image) if isinstance(image, (list, tuple)) else [image]
    label_files = list(labels) if isinstance(labels, (list, tuple)) else [labels]
    areas = list(area) if isinstance(area, (list, tuple)) else [area] * len(images)
    if len(areas) == 1 and len(images) > 1:
        areas = areas * len(images)
    if len(label_files) != len(images) or len(areas) != len(images):
        raise ConfigError(f"{len(images)} image(s) but {len(label_files)} label file(s) and "
                          f"{len(areas)} area file(s); give one --labels (and one --area, or none) "
                          "per --image, in the same order")
    sources = [Source(img, read_footprints(lab), read_footprints(ar) if ar else None)
               for img, lab, ar in zip(images, label_files, areas, strict=True)]
    result = train_segmentation(sources[0].image, sources[0].labels, area=sources[0].area, bands=bands,
                                options=options, progress=progress, more=sources[1:], init_from=init_from)
    model_path, card_path = save_model(result, out, overwrite=overwrite)
    return result, model_path, card_path
