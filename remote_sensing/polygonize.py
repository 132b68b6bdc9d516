"""Mask tiles to polygons, and exact merging of pieces split at tile seams.

Polygons are traced in *pixel coordinates of the whole image* (integers), so
the edge a building shares with the next tile has bit-identical vertices on
both sides of the seam; world coordinates are applied once at the end
(:func:`to_world`). Connectivity is 4 everywhere: two blobs that meet only at
a pixel corner are two buildings, inside a tile and across a seam alike.

Pieces that touch a seam are merged when they share a boundary segment of
positive length (never when they share only a point); the merged polygon is
the exact union.
"""

from __future__ import annotations

import numpy as np
import shapely

#: 4-connectivity structuring element.
FOUR = np.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]], dtype=bool)


def label_blobs(mask: np.ndarray) -> tuple[np.ndarray, int]:
    """Label 4-connected blobs of a boolean mask (0 = background).

    OpenCV's block-based labelling, about twice as fast as ``scipy.ndimage.label``
    with the same labels (numbered in raster order).

    Examples
    --------
    >>> labels, n = label_blobs(np.array([[1, 0, 1], [0, 1, 1]], bool))
    >>> n, labels.tolist()
    (2, [[1, 0, 2], [0, 2, 2]])
    """
    import cv2

    n, labels = cv2.connectedComponents(np.ascontiguousarray(mask, dtype=np.uint8), connectivity=4,
                                        ltype=cv2.CV_32S)
    return labels, int(n) - 1


def polygonize_labels(labels: np.ndarray, row_off: int = 0, col_off: int = 0, *,
                      mask: np.ndarray | None = None) -> dict[int, shapely.Polygon]:
    """Trace each labelled blob to a polygon in image pixel coordinates.

    Vectorized crack following (:func:`trace_rings`): no Python loop per blob or
    per vertex. The polygons are the same point sets GDAL's polygonize gives
    (4-connectivity; a blob touching itself at a corner gets a hole that touches
    its shell there), with a vertex only where the outline turns.

    Parameters
    ----------
    labels : ndarray of int32
        Blob labels of a core window (0 = background), as from :func:`label_blobs`:
        each label one 4-connected blob.
    row_off, col_off : int
        Offset of the window in the image.
    mask : ndarray of bool, optional
        ``labels > 0`` when the labels are the 4-connected components of this mask
        (then edges are found on the 1-byte mask, faster than on the labels).

    Returns
    -------
    dict
        label -> Polygon with x = column, y = row (pixel corners at integers).

    Examples
    --------
    >>> import numpy as np
    >>> polys = polygonize_labels(np.array([[1, 1], [0, 2]], np.int32), 10, 20)
    >>> polys[1].bounds, polys[2].area
    ((20.0, 10.0, 22.0, 11.0), 1.0)
    """
    out: dict[int, shapely.Polygon] = {}
    if labels.size == 0 or not labels.any():
        return out
    xy, ring_of_vertex, ring_label, ring_is_hole = trace_rings(labels, mask=mask)
    xy = xy + np.array([col_off, row_off], dtype=np.float64)
    rings = shapely.linearrings(xy, indices=ring_of_vertex)
    # shells first, then holes, grouped by label
    order = np.lexsort((ring_is_hole, ring_label))
    rings, lab = rings[order], ring_label[order]
    uniq = np.unique(lab)
    polys = shapely.polygons(rings, indices=np.searchsorted(uniq, lab))
    return dict(zip(uniq.tolist(), polys, strict=True))


#: Directions of boundary edges (image frame, rows down): east, south, west, north.
_DX = np.array([1, 0, -1, 0])
_DY = np.array([0, 1, 0, -1])


def trace_rings(labels: np.ndarray, *, mask: np.ndarray | None = None
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Boundary rings of every blob of a label image, by vectorized crack following.

    Every pixel side between two different labels is a directed *edge* of the
    blob on its right-hand side (rows down), so a blob's outline runs clockwise on
    screen and its holes anticlockwise. At each corner an edge continues with the
    sharpest right turn its own blob allows (right, straight, left): that keeps
    blobs that meet only at a corner apart (4-connectivity). The successor map is a
    permutation whose cycles are the rings; they are found and ordered with
    pointer jumping (O(E log E) array operations, no per-edge Python).

    Returns
    -------
    xy : (m, 2) float64
        Ring vertices (x = column, y = row of pixel corners), each ring closed.
    ring_of_vertex : (m,) int
        Ring index of each vertex (0..k-1, increasing).
    ring_label : (k,) int
        Blob label of each ring.
    ring_is_hole : (k,) bool
        True for holes (negative area on screen), False for the one shell per blob.
    """
    lab = np.ascontiguousarray(labels)
    h, w = lab.shape
    flat = lab.ravel()
    parts = []
    # a boundary along the top of pixel (r, c): labels of (r, c) and (r - 1, c) differ
    # 4-connected components differ only where the mask does: compare the 1-byte mask
    src, zero = (lab, 0) if mask is None else (np.ascontiguousarray(mask, dtype=bool), False)
    dv = np.empty((h, w), bool)
    np.not_equal(src[0], zero, out=dv[0])
    np.not_equal(src[1:], src[:-1], out=dv[1:])
    iv = np.flatnonzero(dv)
    r, c = np.divmod(iv, w)
    here = flat[iv]
    above = np.where(r > 0, flat[np.maximum(iv - w, 0)], 0)
    k = here > 0  # east edge, interior (r, c) below it
    parts.append((c[k], r[k], 0, here[k]))
    k = above > 0  # west edge from x = c + 1, interior (r - 1, c) above it
    parts.append((c[k] + 1, r[k], 2, above[k]))
    # a boundary along the left of pixel (r, c): labels of (r, c) and (r, c - 1) differ
    dh = np.empty((h, w), bool)
    np.not_equal(src[:, 0], zero, out=dh[:, 0])
    np.not_equal(src[:, 1:], src[:, :-1], out=dh[:, 1:])
    ih = np.flatnonzero(dh)
    r, c = np.divmod(ih, w)
    here = flat[ih]
    left = np.where(c > 0, flat[np.maximum(ih - 1, 0)], 0)
    k = here > 0  # north edge from y = r + 1, interior (r, c) right of it
    parts.append((c[k], r[k] + 1, 3, here[k]))
    k = left > 0  # south edge, interior (r, c - 1) left of it
    parts.append((c[k], r[k], 1, left[k]))
    # the image's bottom row and right column
    bottom = lab[h - 1]
    cb = np.flatnonzero(bottom > 0)
    parts.append((cb + 1, np.full(len(cb), h), 2, bottom[cb]))
    right = lab[:, w - 1]
    rr = np.flatnonzero(right > 0)
    parts.append((np.full(len(rr), w), rr, 1, right[rr]))
    sx = np.concatenate([p[0] for p in parts]).astype(np.int64)
    sy = np.concatenate([p[1] for p in parts]).astype(np.int64)
    d = np.concatenate([np.full(len(p[0]), p[2], np.int64) for p in parts])
    el = np.concatenate([p[3] for p in parts]).astype(np.int64)
    n = len(sx)
    if n == 0:
        z = np.zeros(0, np.int64)
        return np.zeros((0, 2)), z, z, np.zeros(0, bool)
    # lookup: (vertex, direction) -> edge
    key = (sy * (w + 1) + sx) * 4 + d
    order = np.argsort(key, kind="stable")
    skey = key[order]
    ex, ey = sx + _DX[d], sy + _DY[d]
    vend = (ey * (w + 1) + ex) * 4
    nxt = np.full(n, -1, np.int64)
    for turn in (3, 0, 1):  # only a corner where a blob touches itself has a choice: turn left,
        # which makes the enclosed background a hole touching the shell (valid OGC)
        todo = nxt < 0
        if not todo.any():
            break
        want = vend[todo] + (d[todo] + turn) % 4
        pos = np.searchsorted(skey, want)
        pos = np.minimum(pos, n - 1)
        found = skey[pos] == want
        cand = order[pos]
        found &= el[cand] == el[todo]
        idx = np.flatnonzero(todo)[found]
        nxt[idx] = cand[found]
    # cycles: the smallest edge index of each cycle is its root (pointer jumping);
    # no ring is longer than its blob's edge count
    longest = int(np.bincount(el).max())
    root = np.arange(n)
    p = nxt.copy()
    step = 1
    while step < longest:
        np.minimum(root, root[p], out=root)
        p = p[p]
        step *= 2
    # rank along the cycle from the root (list ranking on the predecessor links)
    before = np.empty(n, np.int64)  # the edge before each one along its ring
    before[nxt] = np.arange(n)
    is_root = root == np.arange(n)
    pred = before.copy()
    pred[is_root] = np.flatnonzero(is_root)
    rank = np.where(is_root, 0, 1).astype(np.int64)
    step = 1
    while step < longest:
        rank = rank + np.where(pred == np.arange(n), 0, rank[pred])
        pred = pred[pred]
        step *= 2
    # edges in ring order (rings by root, then by rank): a scatter, not a sort
    length = np.bincount(root, minlength=n)
    start = np.cumsum(length) - length  # rings laid out in root order
    seq = np.empty(n, np.int64)
    seq[start[root] + rank] = np.arange(n)
    # keep the corners: where the direction changes from the previous edge of the ring
    sroot = root[seq]
    corner = d[seq] != d[before[seq]]
    seq, sroot = seq[corner], sroot[corner]
    roots, ring_idx = np.unique(sroot, return_inverse=True)
    vx, vy = sx[seq].astype(np.float64), sy[seq].astype(np.float64)
    # close each ring
    first = np.flatnonzero(np.r_[True, ring_idx[1:] != ring_idx[:-1]])
    ends = np.r_[first[1:], len(seq)]
    vx = np.insert(vx, ends, vx[first])
    vy = np.insert(vy, ends, vy[first])
    ring_of_vertex = np.insert(ring_idx, ends, ring_idx[first])
    xy = np.column_stack([vx, vy])
    # signed area on screen: shells positive, holes negative
    nv = np.bincount(ring_of_vertex)
    same = ring_of_vertex[1:] == ring_of_vertex[:-1]
    cross = (xy[:-1, 0] * xy[1:, 1] - xy[1:, 0] * xy[:-1, 1])[same]
    area2 = np.bincount(ring_of_vertex[1:][same], weights=cross, minlength=len(nv))
    return xy, ring_of_vertex, el[roots], area2 < 0


def polygonize_labels_gdal(labels: np.ndarray, row_off: int = 0, col_off: int = 0) -> dict[int, shapely.Polygon]:
    """The same as :func:`polygonize_labels` through GDAL (``rasterio.features.shapes``); a reference."""
    from affine import Affine
    from rasterio.features import shapes

    out: dict[int, shapely.Polygon] = {}
    if labels.size == 0 or not labels.any():
        return out
    transform = Affine.translation(col_off, row_off)
    for geom, value in shapes(labels, mask=labels > 0, connectivity=4, transform=transform):
        out[int(value)] = shapely.geometry.shape(geom)
    return out


def blob_stats(labels: np.ndarray, n: int, prob: np.ndarray | None, hag: np.ndarray | None) -> dict[str, np.ndarray]:
    """Per-blob pixel count, probability sum and height median / 95th percentile.

    Arrays are indexed by label (index 0 is the background). ``prob=None`` means a
    binary mask (probability 1 on every blob pixel): the sum is the pixel count.
    """
    flat = np.ascontiguousarray(labels).ravel()
    sel = np.flatnonzero(flat)  # buildings cover a small share of a tile: count only them
    lab = flat[sel]
    n_px = np.bincount(lab, minlength=n + 1).astype(np.int64)
    if prob is None:
        prob_sum = n_px.astype(np.float64)
    else:
        pflat = np.ascontiguousarray(prob, dtype=np.float32).ravel()
        prob_sum = np.bincount(lab, weights=pflat[sel].astype(np.float64), minlength=n + 1)
    h_med = np.full(n + 1, np.nan)
    h_p95 = np.full(n + 1, np.nan)
    if hag is not None and n:
        h = np.ascontiguousarray(hag, dtype=np.float32).ravel()[sel]
        finite = np.isfinite(h)
        lab_sorted, h_sorted = sort_by_label_then_value(lab[finite], h[finite])
        h_sorted = h_sorted.astype(np.float64)
        ids = np.arange(n + 1)
        start = np.searchsorted(lab_sorted, ids, side="left")
        count = np.searchsorted(lab_sorted, ids, side="right") - start
        has = count > 0
        s, c = start[has], count[has]
        lo, hi = s + (c - 1) // 2, s + c // 2  # the middle one, or the middle two
        h_med[has] = 0.5 * (h_sorted[lo] + h_sorted[hi])
        h_p95[has] = h_sorted[s + np.round(0.95 * (c - 1)).astype(np.int64)]
    return {"n_px": n_px, "prob_sum": prob_sum, "h_med": h_med, "h_p95": h_p95}


def sort_by_label_then_value(labels: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sort finite float32 ``values`` by (label, value) with one integer sort, exactly.

    A float32's bits, with the sign bit flipped for positives and every bit flipped for
    negatives, order like the floats; put below a 32-bit label they make one 64-bit key,
    so a single ``np.sort`` (no ``lexsort``, no index arrays) orders both, and the values
    come back bit for bit from the key.

    Examples
    --------
    >>> lab, val = sort_by_label_then_value(np.array([2, 1, 2, 1]), np.array([-1.5, 3, 0.25, -0.0], np.float32))
    >>> lab.tolist(), val.tolist()
    ([1, 1, 2, 2], [-0.0, 3.0, -1.5, 0.25])
    """
    bits = np.ascontiguousarray(values, dtype=np.float32).view(np.uint32)
    flip = np.where(bits >> 31, np.uint32(0xFFFFFFFF), np.uint32(0x80000000))
    key = (np.asarray(labels).astype(np.uint64) << np.uint64(32)) | (bits ^ flip).astype(np.uint64)
    key.sort()
    low = (key & np.uint64(0xFFFFFFFF)).astype(np.uint32)
    back = np.where(low >> 31, np.uint32(0x80000000), np.uint32(0xFFFFFFFF))
    return (key >> np.uint64(32)).astype(np.int64), (low ^ back).view(np.float32)


def height_stats(values: np.ndarray, *, presorted: bool = False) -> tuple[float, float]:
    """Median and 95th percentile (nearest rank) of the finite ``values``; NaN if none.

    >>> height_stats(np.array([3.0, 1.0, np.nan, 2.0, 10.0]))
    (2.5, 10.0)
    """
    vals = np.asarray(values, dtype=np.float64)
    vals = vals[np.isfinite(vals)]
    if not vals.size:
        return float("nan"), float("nan")
    if not presorted:
        vals = np.sort(vals)
    n = vals.size
    med = vals[(n - 1) // 2] if n % 2 else 0.5 * (vals[n // 2 - 1] + vals[n // 2])
    return float(med), float(vals[min(n - 1, round(0.95 * (n - 1)))])


def seam_labels(labels: np.ndarray, top: bool, bottom: bool, left: bool, right: bool) -> np.ndarray:
    """Labels of blobs touching the given core sides (sides that are seams, not image edges)."""
    parts = []
    if top:
        parts.append(labels[0, :])
    if bottom:
        parts.append(labels[-1, :])
    if left:
        parts.append(labels[:, 0])
    if right:
        parts.append(labels[:, -1])
    if not parts:
        return np.array([], dtype=np.int32)
    found = np.unique(np.concatenate(parts))
    return found[found > 0]


def seam_groups(geoms: np.ndarray) -> np.ndarray:
    """Group pieces that share a boundary segment (transitively).

    Parameters
    ----------
    geoms : array of Polygon
        Seam pieces in image pixel coordinates.

    Returns
    -------
    ndarray of int
        Group id per piece; pieces with the same id form one building.
        Pieces touching only at a point get different ids.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n = len(geoms)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    tree = shapely.STRtree(geoms)
    a, b = tree.query(geoms, predicate="intersects")
    keep = a < b
    a, b = a[keep], b[keep]
    if len(a):
        shared = shapely.intersection(shapely.boundary(geoms[a]), shapely.boundary(geoms[b]))
        edge = shapely.length(shared) > 0
        a, b = a[edge], b[edge]
    graph = coo_matrix((np.ones(len(a)), (a, b)), shape=(n, n))
    _, group = connected_components(graph, directed=False)
    return group


def merge_pieces(geoms: np.ndarray, groups: np.ndarray) -> list[shapely.Geometry]:
    """Exact union of the pieces of each group, in group order (0..max)."""
    out: list[shapely.Geometry] = []
    order = np.argsort(groups, kind="stable")
    g_sorted = groups[order]
    bounds = np.flatnonzero(np.diff(g_sorted)) + 1
    for idx in np.split(order, bounds):
        if len(idx) == 1:
            out.append(geoms[idx[0]])
        else:
            # simplify(0) drops the collinear vertices left where the seam was
            out.append(shapely.union_all(geoms[idx]).simplify(0))
    return out


def to_world(geoms, transform) -> np.ndarray:
    """Map pixel-coordinate geometries to world coordinates with an affine transform."""
    a, b, c, d, e, f = tuple(transform)[:6]

    def fn(xy):
        x, y = xy[:, 0], xy[:, 1]
        return np.column_stack([a * x + b * y + c, d * x + e * y + f])

    return shapely.transform(np.asarray(geoms, dtype=object), fn)
