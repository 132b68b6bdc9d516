"""From a building probability map to building objects, not fragments (a pure kernel).

A learned model gives a soft probability: roofs are mostly high, their edges and
shadowed parts lower, and two houses wall to wall form one connected blob.
Thresholding at 0.5 turns that into fragments and merged blocks. :func:`objects_mask`
instead

1. **hysteresis**: keeps every connected region of ``prob >= low`` that holds a
   seed of ``prob >= high`` (a roof's weak corner stays, a weak smudge goes);
2. **fills holes** smaller than ``max_hole_px`` (chimneys, skylights, a dark patch);
3. **splits touching roofs** with a marker watershed: markers are the cores
   ``prob >= split`` (eroded once), each large enough to be a building; a blob with
   two or more markers is cut along the valley of the probability between them,
   and a one-pixel background line is left on the cut, so the 4-connected labelling
   downstream sees two buildings (also across tile seams). When the model also gives
   an **interior** probability (the roof shrunk away from its outline and from its
   neighbours, learnt from the labels), its blobs ``interior >= seed`` are the markers
   and each pixel of the blob goes to its nearest interior, so the cut runs midway
   between them: two roofs wall to wall have one building blob but two interiors,
   which the building probability alone cannot tell;
4. drops objects smaller than ``min_px``.

Steps 1–2 are :func:`blob_mask`, steps 3–4 :func:`split_and_drop`, for a search that
tries many splits on the same thresholds (the validation stripe's tuning).

The result is a boolean mask that the extraction pipeline labels, traces and
regularizes like any other. Everything works on the tile's read window, so the
overlap gives the same context on both sides of a seam.

Examples
--------
>>> import numpy as np
>>> p = np.zeros((12, 20), np.float32)
>>> p[2:10, 2:9] = 0.9; p[2:10, 9:18] = 0.9; p[2:10, 9] = 0.55   # two roofs, one weak wall
>>> from scipy import ndimage
>>> ndimage.label(objects_mask(p, min_px=4), structure=[[0,1,0],[1,1,1],[0,1,0]])[1]
2
"""

from __future__ import annotations

import numpy as np

FOUR = np.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]], dtype=bool)
EIGHT = np.ones((3, 3), dtype=bool)


def hysteresis(prob: np.ndarray, low: float, high: float) -> np.ndarray:
    """Connected regions (4-connected) of ``prob >= low`` holding at least one ``prob >= high`` pixel."""
    from scipy import ndimage

    weak = prob >= low
    labels, n = ndimage.label(weak, structure=FOUR)
    if n == 0:
        return weak
    strong = np.bincount(labels[prob >= high], minlength=n + 1) > 0
    strong[0] = False
    return strong[labels]


def fill_small_holes(mask: np.ndarray, max_hole_px: float) -> np.ndarray:
    """Fill background holes (not connected to the window edge) smaller than ``max_hole_px``."""
    from scipy import ndimage

    if max_hole_px <= 0:
        return mask
    filled = ndimage.binary_fill_holes(mask, structure=FOUR)
    holes = filled & ~mask
    if not holes.any():
        return mask
    labels, n = ndimage.label(holes, structure=FOUR)
    size = np.bincount(labels.ravel(), minlength=n + 1)
    small = size < max_hole_px
    small[0] = False
    return mask | small[labels]


def split_touching(mask: np.ndarray, prob: np.ndarray, split: float, min_marker_px: float,
                   *, cores: np.ndarray | None = None, nearest: bool = False) -> np.ndarray:
    """Cut blobs that hold several building cores along the probability valley between them.

    ``cores`` are the markers (default: ``prob >= split``, eroded once); the watershed
    floods ``1 - prob`` from them, so ``prob`` is the map whose valleys are the cuts.
    With ``nearest`` each pixel of a blob goes to its nearest marker instead (for
    interior seeds, which all keep the same distance from their outlines).
    """
    from scipy import ndimage

    if cores is None:
        cores = ndimage.binary_erosion(prob >= split, structure=FOUR)
    cores = cores & mask
    markers, n = ndimage.label(cores, structure=FOUR)
    if n < 2:
        return mask
    size = np.bincount(markers.ravel(), minlength=n + 1)
    keep = size >= min_marker_px
    keep[0] = False
    blobs, nb = ndimage.label(mask, structure=FOUR)
    # markers per blob: only blobs with two or more cores need the watershed. A marker lies
    # inside one blob (cores are in the mask, both 4-connected), so any of its pixels says which.
    kept_ids = np.flatnonzero(keep)
    if len(kept_ids) < 2:
        return mask
    blob_of = np.zeros(n + 1, np.int64)
    marked = markers > 0
    blob_of[markers[marked]] = blobs[marked]
    blob_of_marker = blob_of[kept_ids]
    per_blob = np.bincount(blob_of_marker, minlength=nb + 1)
    multi = per_blob >= 2
    multi[0] = False
    if not multi.any():
        return mask
    region = multi[blobs]
    # the split blobs' box and a pixel around it (their neighbours are all background):
    # the flood and the cut lines never leave it
    rows, cols = np.flatnonzero(region.any(axis=1)), np.flatnonzero(region.any(axis=0))
    box = (slice(max(rows[0] - 1, 0), rows[-1] + 2), slice(max(cols[0] - 1, 0), cols[-1] + 2))
    region_b, mask_b = region[box], mask[box]
    relabel = np.zeros(n + 1, np.int32)
    sel = kept_ids[multi[blob_of_marker]]
    relabel[sel] = np.arange(1, len(sel) + 1, dtype=np.int32)
    seeds = relabel[markers[box]]
    seeds[~region_b] = 0
    # background outside the split blobs is one more marker, so the flood stays inside them
    seeds[~mask_b] = len(sel) + 1
    if nearest:
        # every pixel goes to its nearest seed: the cut runs midway between two interiors,
        # i.e. on the party wall, as each interior keeps the same distance from its outline
        roofs = np.where(seeds <= len(sel), seeds, 0)
        ri, ci = ndimage.distance_transform_edt(roofs == 0, return_distances=False,
                                                return_indices=True)
        ws = roofs[ri, ci]
    else:
        cost = np.round((1.0 - np.clip(prob[box], 0, 1)) * 255).astype(np.uint8)
        ws = ndimage.watershed_ift(cost, seeds.astype(np.int32), structure=FOUR)
    ws[~region_b] = 0
    # a one-pixel background line where two cut parts meet (on the higher label's side)
    line = np.zeros_like(mask_b)
    for axis in (0, 1):
        a = ws.take(np.arange(ws.shape[axis] - 1), axis=axis)
        b = ws.take(np.arange(1, ws.shape[axis]), axis=axis)
        differ = (a > 0) & (b > 0) & (a != b) & (a <= len(sel)) & (b <= len(sel))
        hi_first = differ & (a > b)
        hi_second = differ & (b > a)
        idx = [slice(None), slice(None)]
        idx[axis] = slice(0, -1)
        line[tuple(idx)] |= hi_first
        idx[axis] = slice(1, None)
        line[tuple(idx)] |= hi_second
    out = mask.copy()
    out[box] &= ~line
    return out


def drop_small(mask: np.ndarray, min_px: float) -> np.ndarray:
    """Remove 4-connected objects with fewer than ``min_px`` pixels."""
    from scipy import ndimage

    if min_px <= 1:
        return mask
    labels, n = ndimage.label(mask, structure=FOUR)
    if n == 0:
        return mask
    size = np.bincount(labels.ravel(), minlength=n + 1)
    keep = size >= min_px
    keep[0] = False
    return keep[labels]


def objects_mask(
    prob: np.ndarray,
    *,
    valid: np.ndarray | None = None,
    low: float = 0.4,
    high: float = 0.7,
    split: float | None = 0.8,
    min_px: float = 32.0,
    max_hole_px: float | None = None,
    interior: np.ndarray | None = None,
    seed: float = 0.5,
    seed_min_px: float | None = None,
) -> np.ndarray:
    """Building objects from a probability map (see the module docstring).

    Parameters
    ----------
    prob : ndarray of float
        Building probability in [0, 1].
    valid : ndarray of bool, optional
        False where the image is nodata (never building).
    low, high : float
        Hysteresis thresholds.
    split : float or None
        Core threshold for splitting touching roofs; None turns splitting off.
    min_px : float
        Smallest object (pixels); also the smallest core that can start its own building
        is a quarter of it.
    max_hole_px : float, optional
        Holes smaller than this are filled (default: ``4 * min_px``).
    interior : ndarray of float, optional
        The model's interior probability; its blobs ``>= seed`` of at least
        ``seed_min_px`` pixels then seed the split instead of the cores ``prob >= split``.
    seed : float
        Interior threshold of the seeds.
    seed_min_px : float, optional
        Smallest interior blob that starts a building of its own (default: a sixteenth of
        ``min_px``, at least 2); larger values keep rooftop clutter (tanks, stairwells)
        from cutting one roof into several.

    Returns
    -------
    ndarray of bool
    """
    prob = np.asarray(prob, dtype=np.float32)
    mask = blob_mask(prob, valid=valid, low=low, high=high, min_px=min_px, max_hole_px=max_hole_px)
    return split_and_drop(mask, prob, split=split, min_px=min_px, interior=interior, seed=seed,
                          seed_min_px=seed_min_px)


def blob_mask(prob: np.ndarray, *, valid: np.ndarray | None = None, low: float = 0.4,
              high: float = 0.7, min_px: float = 32.0,
              max_hole_px: float | None = None) -> np.ndarray:
    """The first half of :func:`objects_mask`: hysteresis, nodata removed, small holes filled.

    It depends on neither the split nor the seeds, so a search over those (the validation
    stripe's tuning) computes it once per threshold pair.
    """
    mask = hysteresis(np.asarray(prob, dtype=np.float32), low, high)
    if valid is not None:
        mask &= valid
    return fill_small_holes(mask, 4 * min_px if max_hole_px is None else max_hole_px)


def split_and_drop(mask: np.ndarray, prob: np.ndarray, *, split: float | None = 0.8,
                   min_px: float = 32.0, interior: np.ndarray | None = None, seed: float = 0.5,
                   seed_min_px: float | None = None) -> np.ndarray:
    """The second half of :func:`objects_mask`: touching roofs split, small objects dropped.

    ``mask`` is :func:`blob_mask`'s (it is not modified); the other arguments are
    :func:`objects_mask`'s.
    """
    if interior is not None:
        inner = np.asarray(interior, dtype=np.float32)
        smallest = max(2.0, min_px / 16) if seed_min_px is None else max(1.0, float(seed_min_px))
        mask = split_touching(mask, inner, seed, smallest, cores=inner >= seed, nearest=True)
    elif split is not None:
        mask = split_touching(mask, prob, split, max(4.0, min_px / 4))
    return drop_small(mask, min_px)
