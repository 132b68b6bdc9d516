"""Training targets and patches for segmentation (pure numpy; no file, no framework).

Survey labels are imperfect: a year old, misregistered by a pixel or two, with
holes. Three things keep that from teaching the model wrong edges:

* :func:`edge_weights` gives a low weight (0 = ignored) to a band of ``band_px``
  pixels on each side of every label edge (and zero to nodata and pixels outside the
  training area), so a misregistered wall costs little while the edge is still learnt,
  except in the narrow gaps between two buildings, which :func:`gap_weights` weighs up;
* :func:`validation_stripe` holds back one contiguous stripe of the labelled area
  (about ``fraction`` of its buildings) for validation and early stopping, with a
  ``gap`` of unused pixels around it so the training patches do not see its labels;
* :func:`sample_patches` draws patches half around building pixels and half
  anywhere, with random 90° rotations, flips and brightness/contrast changes.

:func:`interior_target` makes the second target: each footprint shrunk away from its
outline and from its neighbours, so two roofs wall to wall have two separate interiors
(the seeds that split them after prediction, :mod:`remote_sensing.objects`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def edge_weights(label: np.ndarray, usable: np.ndarray, band_px: int,
                 band_weight: float = 0.0) -> np.ndarray:
    """Per-pixel loss weight: 1; ``band_weight`` near label edges; 0 where ``usable`` is False.

    Examples
    --------
    >>> lab = np.zeros((7, 7), np.uint8); lab[2:5, 2:5] = 1
    >>> edge_weights(lab, np.ones((7, 7), bool), 1)[3].tolist()
    [1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 1.0]
    >>> edge_weights(lab, np.ones((7, 7), bool), 1, 0.25)[3].tolist()
    [1.0, 0.25, 0.25, 1.0, 0.25, 0.25, 1.0]
    """
    from scipy import ndimage

    w = usable.astype(np.float32)
    if band_px > 0:
        lab = label.astype(bool)
        se = np.ones((3, 3), bool)
        grown = ndimage.binary_dilation(lab, se, iterations=band_px)
        shrunk = ndimage.binary_erosion(lab, se, iterations=band_px, border_value=1)
        w[grown & ~shrunk & usable] = np.float32(band_weight)
    return w


def gap_weights(instances: np.ndarray, radius_px: float, weight: float) -> np.ndarray:
    """``weight`` on background pixels within ``radius_px`` of two different footprints, else 0.

    The narrow gaps between neighbouring buildings (an alley, a yard wall) decide whether
    two roofs come out as two objects or one; they lie inside the band around label edges
    that :func:`edge_weights` distrusts, so without this they would weigh least where they
    matter most (the weighting of the original U-Net paper, as a flat band).

    Examples
    --------
    >>> ids = np.zeros((3, 9), np.int32); ids[:, :3] = 1; ids[:, 5:] = 2   # a 2-pixel alley
    >>> gap_weights(ids, 2, 5.0)[1].tolist()
    [0.0, 0.0, 0.0, 5.0, 5.0, 0.0, 0.0, 0.0, 0.0]
    >>> ids[:, 5:] = 0   # one building alone: no gap
    >>> float(gap_weights(ids, 2, 5.0).max())
    0.0
    """
    from scipy import ndimage

    ids = np.asarray(instances)
    r = max(1, round(radius_px))
    yy, xx = np.mgrid[-r : r + 1, -r : r + 1]
    disk = (yy ** 2 + xx ** 2) <= r * r
    big = np.iinfo(np.int32).max
    highest = ndimage.maximum_filter(ids.astype(np.int32), footprint=disk, mode="constant", cval=0)
    lowest = ndimage.minimum_filter(np.where(ids > 0, ids, big).astype(np.int32), footprint=disk,
                                    mode="constant", cval=big)
    gap = (ids == 0) & (highest > 0) & (lowest < big) & (highest != lowest)
    return np.where(gap, np.float32(weight), np.float32(0.0)).astype(np.float32)


def interior_target(instances: np.ndarray, band_px: float) -> np.ndarray:
    """Pixels of each footprint farther than ``band_px`` from its outline and its neighbours.

    A footprint too small to keep anything at that distance keeps its inner half (the
    pixels farther than half its largest distance), so every footprint has an interior.

    Parameters
    ----------
    instances : ndarray of int
        0 background, ``k > 0`` the k-th footprint.
    band_px : float
        Distance (pixels) the interior keeps from every outline.

    Examples
    --------
    >>> ids = np.zeros((6, 12), np.int32); ids[:, :6] = 1; ids[:, 6:] = 2  # wall to wall, cut by the window
    >>> interior_target(ids, 1).astype(int)[3].tolist()
    [1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1]
    """
    from scipy import ndimage

    ids = np.asarray(instances)
    edge = np.zeros(ids.shape, bool)
    for axis in (0, 1):
        d = np.diff(ids, axis=axis) != 0
        lo = [slice(None), slice(None)]
        hi = [slice(None), slice(None)]
        lo[axis], hi[axis] = slice(0, -1), slice(1, None)
        edge[tuple(lo)] |= d
        edge[tuple(hi)] |= d
    inside = (ids > 0) & ~edge
    if not inside.any():
        return inside
    dist = ndimage.distance_transform_edt(inside)
    n = int(ids.max())
    deepest = np.zeros(n + 1)
    np.maximum.at(deepest, ids[inside], dist[inside])
    thr = np.minimum(float(band_px), 0.5 * deepest)
    return inside & (dist > thr[ids])


@dataclass(frozen=True)
class Stripe:
    """A held-back stripe: ``axis`` 0 = rows, 1 = columns; ``[start, stop)`` pixels."""

    axis: int
    start: int
    stop: int

    def mask(self, shape: tuple[int, int], grow: int = 0) -> np.ndarray:
        """Boolean mask of the stripe (grown by ``grow`` pixels along its axis)."""
        m = np.zeros(shape, bool)
        s0, s1 = max(0, self.start - grow), min(shape[self.axis], self.stop + grow)
        if self.axis == 0:
            m[s0:s1, :] = True
        else:
            m[:, s0:s1] = True
        return m


def validation_stripe(label: np.ndarray, usable: np.ndarray, fraction: float = 0.2,
                      min_px: int = 64) -> Stripe:
    """The stripe across the longer axis holding the share of building pixels closest to ``fraction``.

    The stripe covers ``fraction`` of the usable extent (at least ``min_px`` pixels);
    among all positions, the one whose share of building pixels is closest to
    ``fraction`` is chosen, so validation sees buildings whenever there are any.
    """
    axis = 0 if label.shape[0] >= label.shape[1] else 1
    other = 1 - axis
    used = np.flatnonzero(usable.any(axis=other))
    lo, hi = (int(used[0]), int(used[-1]) + 1) if len(used) else (0, label.shape[axis])
    extent = hi - lo
    width = max(min(min_px, extent), round(fraction * extent))
    prof = (label.astype(bool) & usable).sum(axis=other).astype(np.float64)
    total = prof.sum()
    cum = np.concatenate([[0.0], np.cumsum(prof)])
    best, best_err = lo, np.inf
    for start in range(lo, hi - width + 1, max(1, width // 8)):
        share = (cum[start + width] - cum[start]) / total if total else 0.0
        err = abs(share - fraction)
        if err < best_err - 1e-12:
            best, best_err = start, err
    return Stripe(axis, best, best + width)


def normalisation(images, usables) -> tuple[np.ndarray, np.ndarray]:
    """Per-band mean and standard deviation over the usable pixels of one or more images (raw units).

    Examples
    --------
    >>> a = np.array([[[0.0, 2.0]]]); b = np.array([[[4.0, 6.0]]]); ok = np.ones((1, 2), bool)
    >>> [v.tolist() for v in normalisation([a, b], [ok, ok])]
    [[3.0], [2.2360680103302]]
    """
    if isinstance(images, np.ndarray):
        images, usables = [images], [usables]
    n, s1, s2 = 0.0, 0.0, 0.0
    for image, usable in zip(images, usables, strict=True):
        vals = image[:, usable].astype(np.float64)
        n += vals.shape[1]
        s1 = s1 + vals.sum(axis=1)
        s2 = s2 + (vals ** 2).sum(axis=1)
    mean = s1 / max(n, 1.0)
    std = np.sqrt(np.maximum(s2 / max(n, 1.0) - mean ** 2, 0.0))
    return mean.astype(np.float32), np.maximum(std, 1e-6).astype(np.float32)


def pad_to(arr: np.ndarray, rows: int, cols: int, mode: str = "reflect") -> np.ndarray:
    """Pad the last two axes up to at least ``rows`` x ``cols``."""
    pr, pc = max(0, rows - arr.shape[-2]), max(0, cols - arr.shape[-1])
    if not pr and not pc:
        return arr
    pads = [(0, 0)] * (arr.ndim - 2) + [(0, pr), (0, pc)]
    if mode == "constant":
        return np.pad(arr, pads)
    return np.pad(arr, pads, mode="reflect" if min(arr.shape[-2:]) > max(pr, pc) else "edge")


def sample_patches(x: np.ndarray, y: np.ndarray, w: np.ndarray, n: int, size: int,
                   rng: np.random.Generator, *, augment: bool = True,
                   building_share: float = 0.5, extra: np.ndarray | None = None) -> tuple[np.ndarray, ...]:
    """Draw ``n`` augmented patches.

    Parameters
    ----------
    x : ndarray
        Normalised image ``(bands, rows, cols)``.
    y, w : ndarray
        Labels (0/1) and weights ``(rows, cols)``; patches are centred on weighted pixels.
    n, size : int
        Number of patches and their side.
    rng : Generator
    augment : bool
        Random 90° rotations, flips and brightness/contrast (``x * a + b``).
    building_share : float
        Share of patches centred on a (weighted) building pixel.
    extra : ndarray, optional
        A second target ``(rows, cols)`` (the interior), cut and turned like ``y``.

    Returns
    -------
    xb, yb, wb : ndarray
        ``(n, size, size, bands)``, ``(n, size, size)``, ``(n, size, size)`` float32;
        with ``extra``, its patches ``(n, size, size)`` follow.
    """
    x = pad_to(x, size, size)
    y = pad_to(y, size, size, "constant")
    w = pad_to(w, size, size, "constant")
    z = pad_to(extra, size, size, "constant") if extra is not None else y
    rows, cols = y.shape
    pos = np.flatnonzero((y > 0) & (w > 0))
    anyw = np.flatnonzero(w > 0)
    if len(anyw) == 0:
        raise ValueError("no pixel with a positive training weight")
    xb = np.empty((n, size, size, x.shape[0]), np.float32)
    yb = np.empty((n, size, size), np.float32)
    wb = np.empty((n, size, size), np.float32)
    zb = np.empty((n, size, size), np.float32)
    half = size // 2
    for k in range(n):
        pool = pos if len(pos) and rng.random() < building_share else anyw
        centre = pool[rng.integers(len(pool))]
        r, c = divmod(int(centre), cols)
        r0 = int(np.clip(r - half + rng.integers(-half // 2, half // 2 + 1), 0, rows - size))
        c0 = int(np.clip(c - half + rng.integers(-half // 2, half // 2 + 1), 0, cols - size))
        px = x[:, r0 : r0 + size, c0 : c0 + size]
        py = y[r0 : r0 + size, c0 : c0 + size]
        pw = w[r0 : r0 + size, c0 : c0 + size]
        pz = z[r0 : r0 + size, c0 : c0 + size]
        if augment:
            k90 = int(rng.integers(4))
            px, py, pw, pz = (np.rot90(a, k90, axes=(-2, -1)) for a in (px, py, pw, pz))
            if rng.random() < 0.5:
                px, py, pw, pz = px[..., ::-1], py[..., ::-1], pw[..., ::-1], pz[..., ::-1]
            gain = np.float32(np.exp(rng.uniform(np.log(0.75), np.log(1.33))))
            shift = np.float32(rng.uniform(-0.3, 0.3))
            px = px * gain + shift
        xb[k] = np.moveaxis(px, 0, -1)
        yb[k] = py
        wb[k] = pw
        zb[k] = pz
    return (xb, yb, wb, zb) if extra is not None else (xb, yb, wb)
