"""Per-pixel features for the building classifier (a pure kernel).

Works on any number of bands: panchromatic (1), RGB (3) or RGBN (4+, NIR
fourth unless told otherwise). Features are the scaled bands, brightness,
NDVI and colour ratios when the bands exist, and local statistics (mean and
standard deviation in square windows) that give the classifier texture and
context: a roof is a flat patch, a road a long strip, a tree crown rough.
With ``morphology=True`` (the default for new models) a *morphological
profile* of the brightness is added: white and black top-hats (brightness minus
its grey opening, closing minus brightness) with square structuring elements of
:data:`PROFILE_SIZES` pixels, which respond to bright or dark objects narrower
than the element (a roof among lawns, a shadow) and not to wide uniform areas,
and the local standard deviation of the gradient (texture: a tree crown's
gradients vary, a roof's do not). Models saved before carry no profile in their
feature list and are applied without it.
The largest window is :data:`CONTEXT_RADIUS` pixels from its centre, so tiles
must be read with at least that much overlap.
"""

from __future__ import annotations

import numpy as np

#: Window sides (pixels) of the local statistics.
WINDOWS = (5, 11, 25)
#: Structuring element sides (pixels) of the morphological profile.
PROFILE_SIZES = (7, 15, 25)
#: Pixels of context the features need on each side of a tile core.
CONTEXT_RADIUS = max(*WINDOWS, *PROFILE_SIZES) // 2 + 1


def _local_mean_std(x: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    from scipy import ndimage

    m = ndimage.uniform_filter(x, size=size, mode="reflect")
    m2 = ndimage.uniform_filter(x * x, size=size, mode="reflect")
    return m, np.sqrt(np.maximum(m2 - m * m, 0.0))


def feature_names(n_bands: int, nir_band: int | None = None, *, morphology: bool = True) -> list[str]:
    """Names of the features :func:`pixel_features` returns, in order."""
    return _features(np.zeros((n_bands, 1, 1), np.float32), 1.0, nir_band, names_only=True,
                     morphology=morphology)


def pixel_features(
    image: np.ndarray, *, scale: float = 255.0, nir_band: int | None = None, morphology: bool = True
) -> np.ndarray:
    """Compute per-pixel features of an image window.

    Parameters
    ----------
    image : ndarray
        ``(bands, rows, cols)`` array (any numeric dtype; NaN not allowed).
    scale : float
        Value that maps to 1.0 (255 for 8-bit imagery, 10000 for reflectance x 1e4).
    nir_band : int, optional
        0-based index of the near-infrared band; default: 3 when there are 4+ bands.
    morphology : bool
        Add the morphological profile and gradient texture (see the module docstring).

    Returns
    -------
    ndarray
        ``(features, rows, cols)`` float32.
    """
    return _features(image, scale, nir_band, morphology=morphology)


def _features(image, scale, nir_band, names_only=False, morphology=True):
    img = np.asarray(image, dtype=np.float32) / np.float32(scale)
    n = img.shape[0]
    if nir_band is None and n >= 4:
        nir_band = 3
    feats: list[np.ndarray] = []
    names: list[str] = []

    def add(name, arr):
        names.append(name)
        if not names_only:
            feats.append(arr.astype(np.float32, copy=False))

    for b in range(n):
        add(f"band{b + 1}", img[b])
    visible = [b for b in range(min(n, 3))] or [0]
    bright = img[visible].mean(axis=0)
    add("brightness", bright)
    if n >= 3:
        total = img[0] + img[1] + img[2] + 1e-3
        add("red_ratio", img[0] / total)
        add("blue_ratio", img[2] / total)
        add("chroma", img[:3].max(axis=0) - img[:3].min(axis=0))
    if nir_band is not None and nir_band < n:
        nir, red = img[nir_band], img[0]
        ndvi = (nir - red) / (nir + red + 1e-3)
        add("ndvi", ndvi)
    else:
        ndvi = None
    for size in WINDOWS:
        if names_only:
            add(f"bright_mean{size}", None)
            add(f"bright_std{size}", None)
        else:
            m, s = _local_mean_std(bright, size)
            add(f"bright_mean{size}", m)
            add(f"bright_std{size}", s)
        if n >= 3:
            for b in range(3):
                add(f"band{b + 1}_mean{size}", None if names_only else _local_mean_std(img[b], size)[0])
        if ndvi is not None:
            add(f"ndvi_mean{size}", None if names_only else _local_mean_std(ndvi, size)[0])
    extra = ["edge", "edge_mean11"]
    if morphology:
        extra += [f"{kind}{size}" for size in PROFILE_SIZES for kind in ("tophat_white", "tophat_black")]
        extra += ["edge_std11"]
    if names_only:
        return [*names, *extra]
    from scipy import ndimage

    grad = np.hypot(ndimage.sobel(bright, axis=0), ndimage.sobel(bright, axis=1))
    feats.append(grad.astype(np.float32))
    feats.append(ndimage.uniform_filter(grad, 11).astype(np.float32))
    if morphology:
        for size in PROFILE_SIZES:
            feats.append(bright - ndimage.grey_opening(bright, size=(size, size), mode="reflect"))
            feats.append(ndimage.grey_closing(bright, size=(size, size), mode="reflect") - bright)
        feats.append(_local_mean_std(grad, 11)[1])
    names.extend(extra)
    return np.stack([f.astype(np.float32, copy=False) for f in feats])
