"""External segmentation models in ONNX format, run on the CPU tile by tile.

A bureau may be given a model file; nothing is ever downloaded. The model
comes with a small *model card* next to it (``MODEL.json``, or
``MODEL.onnx.json``) that says how to feed it::

    {
      "bands": [1, 2, 3],          # 1-based image bands, in the model's input order
      "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225],
      "scale": 255,                # divide raw values by this before mean/std
      "resolution": 0.5,           # ground resolution the model was trained at (m)
      "tile_size": 256, "overlap": 32,
      "output": "probability",     # or "logits"; channel "building_channel" (default last)
      "size_multiple": 1,          # model tiles are padded to a multiple of this (U-Nets: 2^levels)
      "tta": 1,                    # test-time augmentation: 1, 2, 4 or 8 flips/rotations averaged
      "outputs": ["building", "interior"]   # optional: what each output channel is
    }

A model with an ``interior`` output (the roof shrunk away from its outline and its
neighbours, as ``footprints train`` writes) gives, per pixel, the building probability
and the interior probability; the interior's blobs seed the split of touching roofs
(:mod:`remote_sensing.objects`). Models without it give the building probability alone.

Models trained by ``mujun footprints train`` carry more in their card (training
area, validation scores, buildings used, the object post-processing thresholds).
:func:`check_model_fits` refuses an image whose bands do not match the card, or that
is far coarser than the model's ground resolution, before any tile is read.

:func:`predict_tile` cuts a window into model tiles with overlap, runs them and
blends the outputs with a weight that falls off towards tile edges, so there
are no seams. When the image resolution differs from the card's by more than
5 %, the window is resampled to the model's resolution and the output back
(ground resolutions: Web-Mercator or degree pixels are measured on the ground,
:mod:`remote_sensing.ground`).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .errors import ModelError

log = logging.getLogger(__name__)


def card_path_for(model_path: str | Path) -> Path:
    """The model card path: ``MODEL.json`` or ``MODEL.onnx.json``, whichever exists."""
    p = Path(model_path)
    for cand in (p.with_suffix(".json"), p.with_name(p.name + ".json")):
        if cand.exists():
            return cand
    return p.with_suffix(".json")


def read_model_card(model_path: str | Path) -> dict:
    """Read and check the model card of an ONNX model."""
    cp = card_path_for(model_path)
    if not cp.exists():
        raise ModelError(
            f"no model card found next to the model (expected {cp.name}); write one with the "
            "band order, mean/std normalisation and ground resolution",
            source=str(model_path),
        )
    try:
        card = json.loads(cp.read_text())
    except json.JSONDecodeError as exc:
        raise ModelError(f"model card is not valid JSON ({exc})", source=str(cp)) from exc
    for key in ("bands", "resolution"):
        if key not in card:
            raise ModelError(f"model card lacks {key!r}", source=str(cp))
    n = len(card["bands"])
    for key in ("mean", "std"):
        card.setdefault(key, [0.0 if key == "mean" else 1.0] * n)
        if len(card[key]) != n:
            raise ModelError(f"model card {key!r} has {len(card[key])} values for {n} bands", source=str(cp))
    card.setdefault("scale", 1.0)
    card.setdefault("tile_size", 256)
    card.setdefault("overlap", 32)
    card.setdefault("output", "probability")
    card.setdefault("size_multiple", 1)
    card.setdefault("tta", 1)
    if card["tta"] not in TTA_CHOICES:
        raise ModelError(f"model card 'tta' is {card['tta']!r}; use one of {TTA_CHOICES} "
                         "(flips/rotations averaged per model tile; 1 = none)", source=str(cp))
    return card


#: An image may be this many times coarser than the model's ground resolution (it is
#: resampled to it); beyond, the roofs' detail the model looks for is not in the image.
MAX_COARSER = 2.05


def check_model_fits(card: dict, *, n_bands: int, resolution: float, image: str,
                     model: str, max_coarser: float = MAX_COARSER, n_alpha: int = 0) -> None:
    """Refuse an image the model was not made for (bands, or far too coarse).

    ``resolution`` is the image's ground pixel size in metres
    (:func:`remote_sensing.ground.ground_resolution`). Finer imagery, and imagery up to
    ``max_coarser`` times coarser, is resampled to the model's resolution tile by tile.
    ``n_bands`` counts all the image's bands, ``n_alpha`` those GDAL marks as alpha: for a
    card that records its own (``alpha_bands``), an RGB model fits an RGBA mosaic and back.

    Raises
    ------
    ModelError
        The card asks for a band the image lacks, the model was trained on an image
        with another number of bands, or the image is more than ``max_coarser`` times
        coarser than the model's resolution.
    """
    bands = [int(b) for b in card["bands"]]
    if max(bands) > n_bands or min(bands) < 1:
        raise ModelError(f"the model reads band(s) {bands} but {image} has {n_bands} band(s); "
                         "use imagery with the bands the model was trained on "
                         "(see 'bands' in its card)", source=model)
    trained_n = card.get("n_image_bands")
    if "alpha_bands" in card:  # alpha says where the image is valid: RGB and RGBA fit alike
        trained_n, n_bands = int(trained_n) - int(card["alpha_bands"]), n_bands - n_alpha
    if trained_n is not None and int(trained_n) != n_bands:
        raise ModelError(f"the model was trained on a {trained_n}-band image but {image} has "
                         f"{n_bands} band(s); the band order would not mean the same, so train a "
                         "model on imagery like this one", source=model)
    res = float(card["resolution"])
    if resolution / res > max_coarser:
        raise ModelError(f"the model was trained at {res:g} m per pixel but {image} is "
                         f"{resolution:.3g} m, more than {max_coarser:.0f} times coarser: the roofs' detail "
                         "the model looks for is not in it; train a model on imagery of this "
                         f"resolution (footprints train --resolution {resolution:.2g})", source=model)


@dataclass
class OnnxModel:
    """An ONNX Runtime session and its model card."""

    session: Any
    card: dict
    input_name: str
    path: str

    def __reduce__(self):  # sessions do not pickle: rebuild from the file
        return (load_onnx_model, (self.path,))


def load_onnx_model(path: str | Path, threads: int = 0) -> OnnxModel:
    """Open an ONNX model on the CPU with its card.

    Parameters
    ----------
    path : path
        ``.onnx`` file.
    threads : int
        Intra-op threads (0 = ONNX Runtime's default; 1 inside worker processes).
    """
    import onnxruntime as ort

    p = Path(path)
    if not p.exists():
        raise ModelError("ONNX model not found", source=str(p))
    card = read_model_card(p)
    opts = ort.SessionOptions()
    if threads:
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
    try:
        sess = ort.InferenceSession(str(p), sess_options=opts, providers=["CPUExecutionProvider"])
    except Exception as exc:
        raise ModelError(f"ONNX Runtime cannot load the model ({exc})", source=str(p)) from exc
    return OnnxModel(sess, card, sess.get_inputs()[0].name, str(p))


def _blend_weight(n: int, margin: int) -> np.ndarray:
    w = np.ones(n, dtype=np.float32)
    if margin > 0:
        ramp = (np.arange(margin, dtype=np.float32) + 0.5) / margin
        k = min(margin, n // 2)
        w[:k] = ramp[:k]
        w[n - k :] = ramp[:k][::-1]
    return w


def has_interior(card: dict) -> bool:
    """True when the model's card names an ``interior`` output next to the building."""
    outputs = card.get("outputs")
    return isinstance(outputs, list) and "building" in outputs and "interior" in outputs


def _run(model: OnnxModel, x: np.ndarray) -> np.ndarray:
    out = model.session.run(None, {model.input_name: x[None].astype(np.float32)})[0]
    out = np.asarray(out)
    if out.ndim == 4 and has_interior(model.card):
        names = model.card["outputs"]
        if out.shape[1] != len(names):
            raise ModelError(f"the model gives {out.shape[1]} outputs but its card names {len(names)} "
                             f"({', '.join(names)})", source=model.path)
        out = out[0, [names.index("building"), names.index("interior")]]
    elif out.ndim == 4:
        ch = model.card.get("building_channel", out.shape[1] - 1)
        out = out[0, ch]
    elif out.ndim == 3:
        out = out[0]
    if model.card["output"] == "logits":
        out = 1.0 / (1.0 + np.exp(-out))
    return out.astype(np.float32)


#: Test-time augmentation: how many of the eight flips and rotations of the square each
#: model tile is run in (1 = none; 2 adds the left-right mirror; 4 the mirrors and the
#: half turn; 8 also the quarter turns and the two diagonal mirrors).
TTA_CHOICES = (1, 2, 4, 8)


def _dihedral(k: int):
    """The ``k``-th transform of the square's symmetry group and its inverse (on ``(..., rows, cols)``)."""
    rot, flip = k % 4, k >= 4

    def fwd(a):
        a = np.rot90(a, rot, axes=(-2, -1))
        return a[..., ::-1] if flip else a

    def inv(a):
        a = a[..., ::-1] if flip else a
        return np.rot90(a, -rot, axes=(-2, -1))

    return fwd, inv


#: Transform indices used for each TTA level (0 identity, 2 half turn, 4 mirror, 6 mirror+half turn).
_TTA_ORDER = {1: (0,), 2: (0, 4), 4: (0, 4, 2, 6), 8: (0, 4, 2, 6, 1, 3, 5, 7)}


def tta_mean(predict, x: np.ndarray, tta: int = 1, source: str | None = None) -> np.ndarray:
    """Mean of ``predict(t(x))`` mapped back by ``t``'s inverse, over ``tta`` flips/rotations ``t``.

    Parameters
    ----------
    predict : callable
        ``(bands, rows, cols)`` array to a ``(rows, cols)`` probability map; any fully
        convolutional model accepts the quarter-turned ``(bands, cols, rows)`` too.
    x : ndarray
        One model tile ``(bands, rows, cols)``.
    tta : int
        1, 2, 4 or 8 (see :data:`TTA_CHOICES`).
    source : str, optional
        Named in the error.

    Examples
    --------
    >>> x = np.arange(12, dtype=np.float32).reshape(1, 3, 4)
    >>> bool(np.allclose(tta_mean(lambda a: a[0] * 2, x, 8), x[0] * 2))
    True
    """
    if tta not in _TTA_ORDER:
        raise ModelError(f"test-time augmentation must be one of {TTA_CHOICES}, not {tta!r}", source=source)
    acc = None
    for k in _TTA_ORDER[tta]:
        fwd, inv = _dihedral(k)
        out = inv(np.asarray(predict(np.ascontiguousarray(fwd(x)))))
        acc = out if acc is None else acc + out
    return (acc / np.float32(len(_TTA_ORDER[tta]))).astype(np.float32)


def run_tta(model: OnnxModel, x: np.ndarray, tta: int = 1) -> np.ndarray:
    """Mean building probability of a model tile ``(bands, rows, cols)`` over ``tta`` flips/rotations.

    Convolutional networks are not exactly invariant to flips and rotations; averaging the
    probability over the symmetric copies of the tile (test-time augmentation) cancels part
    of the noise of a model trained on few buildings. Quarter turns swap rows and columns,
    which a fully convolutional model accepts when both are multiples of its size multiple
    (:func:`predict_tile` pads the tile first).
    """
    return tta_mean(lambda a: _run(model, a), x, tta, model.path)


def predict_tile(model: OnnxModel, image: np.ndarray, resolution: float, tta: int | None = None) -> np.ndarray:
    """Building probability for an image window ``(bands, rows, cols)`` (raw values).

    ``resolution`` is the window's ground pixel size (m); when it differs from the card's
    by more than 5 %, the window is resampled to the model's resolution and the output back.

    ``(rows, cols)``; for a model with an interior output (:func:`has_interior`)
    ``(2, rows, cols)``: the building probability, then the interior's.
    Model tiles overlap by ``card["overlap"]`` and are blended with linear ramps. Each
    model tile is run in ``tta`` flips/rotations and the probabilities averaged
    (:func:`run_tta`; default: the card's ``"tta"``, else 1).
    """
    from scipy import ndimage

    card = model.card
    tta = int(card.get("tta", 1)) if tta is None else int(tta)
    bands = [b - 1 for b in card["bands"]]
    if max(bands) >= image.shape[0]:
        raise ModelError(f"the model card asks for band {max(bands) + 1} but the image has "
                         f"{image.shape[0]} band(s)", source=model.path)
    x = image[bands].astype(np.float32) / np.float32(card["scale"])
    mean = np.asarray(card["mean"], np.float32)[:, None, None]
    std = np.asarray(card["std"], np.float32)[:, None, None]
    x = (x - mean) / std
    h0, w0 = x.shape[1:]
    mult = max(1, int(card.get("size_multiple", 1)))
    factor = resolution / float(card["resolution"])
    if abs(factor - 1) > 0.05:
        if not getattr(model, "_warned", False):
            log.info("%s: image ground resolution %.3g m, the model's %.3g m; resampling each tile "
                     "to the model's", model.path, resolution, card["resolution"])
            model._warned = True
        x = ndimage.zoom(x, (1, factor, factor), order=1)
    ts, ov = int(card["tile_size"]), int(card["overlap"])
    h, w = x.shape[1:]
    if ts <= 0 or (h <= ts and w <= ts):
        ts_h, ts_w = h, w
    else:
        ts_h, ts_w = min(ts, h), min(ts, w)
    lead = (2,) if has_interior(card) else ()
    acc = np.zeros((*lead, h, w), np.float32)
    wsum = np.zeros((h, w), np.float32)
    step_h = max(1, ts_h - ov)
    step_w = max(1, ts_w - ov)
    rows = list(range(0, max(h - ts_h, 0) + 1, step_h))
    cols = list(range(0, max(w - ts_w, 0) + 1, step_w))
    if rows[-1] + ts_h < h:
        rows.append(h - ts_h)
    if cols[-1] + ts_w < w:
        cols.append(w - ts_w)
    wy = _blend_weight(ts_h, ov if len(rows) > 1 else 0)
    wx = _blend_weight(ts_w, ov if len(cols) > 1 else 0)
    weight = np.outer(wy, wx)
    pad_h, pad_w = -ts_h % mult, -ts_w % mult
    for r in rows:
        for c in cols:
            xt = x[:, r : r + ts_h, c : c + ts_w]
            if pad_h or pad_w:  # the network halves the tile: pad it to a multiple, crop after
                mode = "reflect" if min(ts_h, ts_w) > max(pad_h, pad_w) else "edge"
                xt = np.pad(xt, ((0, 0), (0, pad_h), (0, pad_w)), mode=mode)
            out = run_tta(model, xt, tta)
            if pad_h or pad_w:
                out = out[..., :ts_h, :ts_w]
            if out.shape != (*lead, ts_h, ts_w):
                raise ModelError(f"the model returned shape {out.shape} for a {ts_h}x{ts_w} input; "
                                 "it must output one map the size of its input", source=model.path)
            acc[..., r : r + ts_h, c : c + ts_w] += out * weight
            wsum[r : r + ts_h, c : c + ts_w] += weight
    prob = acc / np.maximum(wsum, 1e-6)
    if prob.shape[-2:] != (h0, w0):
        zoom = (1,) * len(lead) + (h0 / prob.shape[-2], w0 / prob.shape[-1])
        prob = ndimage.zoom(prob, zoom, order=1)[..., :h0, :w0]
        if prob.shape[-2:] != (h0, w0):
            pads = [(0, 0)] * len(lead) + [(0, h0 - prob.shape[-2]), (0, w0 - prob.shape[-1])]
            prob = np.pad(prob, pads, mode="edge")
    return np.clip(prob, 0, 1)
