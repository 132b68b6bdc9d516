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
    """Label 4-connected blobs of a boolean mask (0 = background)."""
    from scipy import ndimage

    labels, n = ndimage.label(mask, structure=FOUR)
    return labels.astype(np.int32, copy=False), int(n)


def polygonize_labels(labels: np.ndarray, row_off: int = 0, col_off: int = 0) -> dict[int, shapely.Polygon]:
    """Trace each labelled blob to a polygon in image pixel coordinates.

    Parameters
    ----------
    labels : ndarray of int32
        Blob labels of a core window (0 = background), as from :func:`label_blobs`.
    row_off, col_off : int
        Offset of the window in the image.

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
    from affine import Affine
    from rasterio.features import shapes

    out: dict[int, shapely.Polygon] = {}
    if labels.size == 0 or not labels.any():
        return out
    transform = Affine.translation(col_off, row_off)
    for geom, value in shapes(labels, mask=labels > 0, connectivity=4, transform=transform):
        poly = shapely.geometry.shape(geom)
        out[int(value)] = poly
    return out


def blob_stats(labels: np.ndarray, n: int, prob: np.ndarray, hag: np.ndarray | None) -> dict[str, np.ndarray]:
    """Per-blob pixel count, probability sum and height median / 95th percentile.

    Arrays are indexed by label (index 0 is the background).
    """
    flat = labels.ravel()
    n_px = np.bincount(flat, minlength=n + 1).astype(np.int64)
    prob_sum = np.bincount(flat, weights=prob.ravel().astype(np.float64), minlength=n + 1)
    h_med = np.full(n + 1, np.nan)
    h_p95 = np.full(n + 1, np.nan)
    if hag is not None and n:
        sel = flat > 0
        lab = flat[sel]
        h = hag.ravel()[sel].astype(np.float64)
        order = np.lexsort((h, lab))
        lab, h = lab[order], h[order]
        starts = np.searchsorted(lab, np.arange(1, n + 1), side="left")
        ends = np.searchsorted(lab, np.arange(1, n + 1), side="right")
        for k, (s, e) in enumerate(zip(starts, ends, strict=True), start=1):
            if e > s:
                h_med[k], h_p95[k] = height_stats(h[s:e], presorted=True)
    return {"n_px": n_px, "prob_sum": prob_sum, "h_med": h_med, "h_p95": h_p95}


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
