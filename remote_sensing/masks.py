"""Building masks: the registry of methods that turn input tiles into building probability.

Every method is a pure function ``method(inputs, params) -> ndarray`` returning a
float32 probability in [0, 1] (1 = building) for the pixels of the read window;
the pipeline thresholds it at 0.5 and cleans it up. ``inputs`` is a
:class:`TileInputs`; ``params`` a dict of the method's options (and, for
``classify``/``onnx``, the loaded model). Add a method by adding it to
:data:`MASK_METHODS` or by passing a callable to :func:`get_method`.

==========  ====================================================================
``ndsm``    height above ground above a threshold (soft edge of 0.25 m), minus
            vegetation (NDVI above ``ndvi_threshold``) when an RGBN image is given
``classify``  a trained pixel classifier (:mod:`remote_sensing.classifier`)
``onnx``    an external segmentation model (:mod:`remote_sensing.onnx_model`)
``mask``    a given classification or probability raster, ``value >= threshold``
==========  ====================================================================
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .errors import UnknownMethodError

if TYPE_CHECKING:  # numpy is imported where used, so the CLI's --method choices stay cheap
    import numpy as np


@dataclass
class TileInputs:
    """Arrays of one read window, all on the image grid.

    ``image`` is ``(bands, rows, cols)`` float32 (in the file's own type for the
    ``ndsm`` method, which only takes an NDVI from it), ``hag`` and ``mask`` are
    ``(rows, cols)`` float32; any may be None when the method does not use it.
    ``valid`` is False where any input is nodata.
    """

    valid: np.ndarray
    image: np.ndarray | None = None
    hag: np.ndarray | None = None
    mask: np.ndarray | None = None
    resolution: float = 1.0
    nir_band: int | None = None


MaskMethod = Callable[[TileInputs, dict], "np.ndarray"]


def _ndvi(inputs: TileInputs) -> np.ndarray | None:
    img = inputs.image
    if img is None:
        return None
    nir = inputs.nir_band if inputs.nir_band is not None else (3 if img.shape[0] >= 4 else None)
    if nir is None or nir >= img.shape[0]:
        return None
    import numpy as np

    red = img[0].astype(np.float32, copy=False)  # the image may come in its own (integer) type
    near = img[nir].astype(np.float32, copy=False)
    return (near - red) / (near + red + 1e-6)


def max3x3(values: np.ndarray) -> np.ndarray:
    """Maximum over each pixel's 3 x 3 neighbourhood, edges repeated outward.

    The same as ``scipy.ndimage.maximum_filter(values, size=3, mode="nearest")``
    (property-tested), with OpenCV's dilation, several times faster.
    """
    import cv2
    import numpy as np

    return cv2.dilate(np.ascontiguousarray(values, dtype=np.float32), np.ones((3, 3), np.uint8),
                      borderType=cv2.BORDER_REPLICATE)


def ndsm_mask(inputs: TileInputs, params: dict) -> np.ndarray:
    """Probability that a pixel is building from its height above ground.

    ``params``: ``height_threshold`` (m, default 2.5), ``ndvi_threshold``
    (default 0.3; pixels greener than this are vegetation), ``softness`` (m),
    ``edge_fraction`` (default 0.5: a pixel lower than this share of the highest
    pixel next to it is outside the roof edge; 0 turns it off).

    Examples
    --------
    >>> import numpy as np
    >>> hag = np.array([[0.0, 2.5, 6.0]], np.float32)
    >>> ndsm_mask(TileInputs(valid=np.ones((1, 3), bool), hag=hag), {"edge_fraction": 0}).round(2).tolist()
    [[0.0, 0.5, 1.0]]
    """
    import numpy as np

    if inputs.hag is None:
        raise ValueError("the ndsm method needs a height-above-ground raster")
    thr = float(params.get("height_threshold", 2.5))
    soft = float(params.get("softness", 0.25))
    hag = np.asarray(inputs.hag, dtype=np.float32)
    # the logistic is increasing: min(sigmoid(a), sigmoid(b)) = sigmoid(min(a, b)), one exp
    z = hag - np.float32(thr)
    frac = params.get("edge_fraction", 0.5)
    if frac:
        # A blurred roof edge is at half the step height (as in a full width at
        # half maximum); without this, tall buildings grow by the blur width.
        local = max3x3(np.nan_to_num(hag, nan=0.0))
        np.minimum(z, hag - np.float32(frac) * local, out=z)
    z /= np.float32(-soft)
    np.clip(z, -30, 30, out=z)
    np.exp(z, out=z)
    z += np.float32(1)
    prob = np.reciprocal(z, out=z)
    ndvi = _ndvi(inputs)
    if ndvi is not None and params.get("ndvi_threshold", 0.3) is not None:
        prob[ndvi > float(params.get("ndvi_threshold", 0.3))] = 0.0
    return prob


def classify_mask(inputs: TileInputs, params: dict) -> np.ndarray:
    """Probability from a trained pixel classifier (``params["model"]``)."""
    from .classifier import predict_proba

    if inputs.image is None:
        raise ValueError("the classify method needs an image")
    return predict_proba(params["model"], inputs.image)


def onnx_mask(inputs: TileInputs, params: dict) -> np.ndarray:
    """Probability from an ONNX segmentation model (``params["model"]``)."""
    from .onnx_model import predict_tile

    if inputs.image is None:
        raise ValueError("the onnx method needs an image")
    return predict_tile(params["model"], inputs.image, inputs.resolution, tta=params.get("tta"))


def given_mask(inputs: TileInputs, params: dict) -> np.ndarray:
    """A given mask: ``1`` where ``value >= threshold``.

    ``params["threshold"]`` defaults to 0.5 (probability rasters); integer class
    rasters should pass the building class value or 1 (any positive value).
    Probabilities (floats in [0, 1]) are kept as the confidence above the threshold.
    """
    import numpy as np

    if inputs.mask is None:
        raise ValueError("the mask method needs a mask raster")
    thr = float(params.get("threshold", 0.5))
    m = inputs.mask
    if params.get("is_probability"):
        out = np.where(m >= thr, np.maximum(m, 0.5), np.minimum(m, 0.49))
        return np.clip(out, 0, 1).astype(np.float32)
    return (m >= thr).astype(np.float32)


#: Mask methods by name (the CLI's ``--method`` choices).
MASK_METHODS: dict[str, MaskMethod] = {
    "ndsm": ndsm_mask,
    "classify": classify_mask,
    "onnx": onnx_mask,
    "mask": given_mask,
}


def get_method(method: str | MaskMethod) -> MaskMethod:
    """Look a method up by name (or pass a callable through).

    Raises
    ------
    UnknownMethodError
        The name is not registered; the message lists the valid ones.
    """
    if callable(method):
        return method
    try:
        return MASK_METHODS[method]
    except KeyError:
        raise UnknownMethodError(
            f"unknown mask method {method!r}; choose one of {', '.join(MASK_METHODS)}"
        ) from None
