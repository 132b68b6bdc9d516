"""Area and boundary length of convex ∩ convex polygons, many pairs at once (numpy).

The occupancy kernel's boundary pairs are mostly a rectangular footprint across the
edge of a simple parcel: both convex. Their intersection is the subject polygon
clipped by each edge's half-plane of the other (Sutherland–Hodgman), which for two
convex polygons gives exactly the convex intersection polygon. Done here for all
pairs of a chunk together with padded coordinate arrays, it replaced one GEOS overlay
per pair for the city sample's ~180k boundary pairs and cut the whole kernel from
~3.5 s to ~2.9 s. Areas and lengths agree with GEOS to 1e-9 relative, and to the
~1e-9 m by which GEOS rounds its result vertices to global coordinates (property-tested
in ``tests/test_parcels/test_occupancy_convex_clip.py``).

Only convex, hole-free, single polygons with few vertices qualify
(:func:`convex_rings`); every other pair goes through GEOS as before.
Coordinates are shifted to a per-pair origin first, so magnitudes of projected
coordinates (10⁶ m) cost no precision.
"""

from __future__ import annotations

import numpy as np
import shapely

#: Most ring vertices a polygon may have to take the numpy path.
MAX_VERTICES = 16
#: A turn counts as convex when sin(angle) ≥ -this: collinear points, and the ~1e-12
#: dents that rounding leaves in surveyed straight edges, are fine.
CONVEX_SLACK = 1e-9


def convex_rings(geoms: np.ndarray, max_vertices: int = MAX_VERTICES
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Counter-clockwise vertex arrays of the convex polygons among ``geoms``.

    Parameters
    ----------
    geoms : numpy.ndarray of shapely geometries
    max_vertices : int

    Returns
    -------
    x, y : numpy.ndarray, shape (n, max_vertices)
        Ring vertices without the closing one, counter-clockwise, zero-padded.
    counts : numpy.ndarray of int64
        Vertices per ring (0 for geometries that do not qualify).
    convex : numpy.ndarray of bool
        Polygon without holes, at most ``max_vertices`` vertices, convex.
    """
    n = len(geoms)
    x = np.zeros((n, max_vertices))
    y = np.zeros((n, max_vertices))
    counts = np.zeros(n, dtype="int64")
    ok = (shapely.get_type_id(geoms) == 3) & (shapely.get_num_interior_rings(geoms) == 0)
    npts = np.zeros(n, dtype="int64")
    npts[ok] = shapely.get_num_coordinates(geoms[ok]) - 1     # closing vertex dropped
    ok &= (npts >= 3) & (npts <= max_vertices)
    idx = np.flatnonzero(ok)
    if idx.size == 0:
        return x, y, counts, ok
    xy, which = shapely.get_coordinates(geoms[idx], return_index=True)
    c = npts[idx]
    starts = np.r_[0, np.cumsum(c + 1)[:-1]]
    pos = np.arange(len(xy)) - starts[which]
    keep = pos < c[which]
    sx = np.zeros((idx.size, max_vertices))
    sy = np.zeros((idx.size, max_vertices))
    sx[which[keep], pos[keep]] = xy[keep, 0]
    sy[which[keep], pos[keep]] = xy[keep, 1]
    sx -= sx[:, :1]                                   # local coordinates for the tests
    sy -= sy[:, :1]
    area2 = _twice_signed_area(sx, sy, c)
    j = np.arange(max_vertices)[None, :]
    valid = j < c[:, None]
    order = np.where((area2 < 0)[:, None] & valid, c[:, None] - 1 - j, j)   # make CCW
    sx, sy = _take(sx, order), _take(sy, order)
    nxt = _next_index(c, max_vertices)
    ex, ey = _take(sx, nxt) - sx, _take(sy, nxt) - sy
    fx, fy = _take(ex, nxt), _take(ey, nxt)
    cross = ex * fy - ey * fx
    scale = np.hypot(ex, ey) * np.hypot(fx, fy)
    convex = np.where(valid, cross >= -CONVEX_SLACK * scale, True).all(axis=1) & (area2 != 0)
    origin_x = xy[starts, 0]
    origin_y = xy[starts, 1]
    x[idx] = np.where(valid, sx + origin_x[:, None], 0.0)
    y[idx] = np.where(valid, sy + origin_y[:, None], 0.0)
    ok[idx] = convex
    counts[idx[convex]] = c[convex]
    return x, y, counts, ok


def _take(values: np.ndarray, index: np.ndarray) -> np.ndarray:
    """``values[i, index[i, j]]`` for 2-D arrays (flat ``take``: much faster than
    ``take_along_axis`` here)."""
    width = values.shape[1]
    flat = index + (np.arange(len(values)) * width)[:, None]
    return np.take(values.ravel(), flat)


def _next_index(counts: np.ndarray, width: int) -> np.ndarray:
    j = np.arange(width)[None, :]
    return np.where(j + 1 < counts[:, None], j + 1, 0)


def _twice_signed_area(x: np.ndarray, y: np.ndarray, counts: np.ndarray) -> np.ndarray:
    nxt = _next_index(counts, x.shape[1])
    valid = np.arange(x.shape[1])[None, :] < counts[:, None]
    return np.where(valid, x * _take(y, nxt) - _take(x, nxt) * y, 0.0).sum(axis=1)


def clip_convex(sx: np.ndarray, sy: np.ndarray, n_subject: np.ndarray,
                cx: np.ndarray, cy: np.ndarray, n_clip: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray]:
    """Area and boundary length of each ``subject[i] ∩ clip[i]`` (convex, CCW rings).

    Parameters
    ----------
    sx, sy, cx, cy : numpy.ndarray, shape (n, k)
        Padded counter-clockwise rings as from :func:`convex_rings`.
    n_subject, n_clip : numpy.ndarray of int
        Vertex counts (≥ 3).

    Returns
    -------
    area, length : numpy.ndarray of float64
        An empty or degenerate intersection has area 0 and length 0.

    Examples
    --------
    >>> import shapely
    >>> x, y, c, _ = convex_rings(np.array([shapely.box(0, 0, 2, 2), shapely.box(1, 1, 3, 3)]))
    >>> area, length = clip_convex(x[:1], y[:1], c[:1], x[1:], y[1:], c[1:])
    >>> float(area[0]), float(length[0])
    (1.0, 4.0)
    """
    n = len(sx)
    if n == 0:
        return np.zeros(0), np.zeros(0)
    ox, oy = cx[:, :1], cy[:, :1]                       # per-pair origin
    width = int(n_subject.max())
    px, py = sx[:, :width] - ox, sy[:, :width] - oy
    cx, cy = cx - ox, cy - oy
    count = n_subject.astype("int64").copy()
    rows = np.arange(n)
    for e in range(int(n_clip.max())):
        active = e < n_clip
        k0 = np.minimum(e, n_clip - 1)
        k1 = np.where(e + 1 < n_clip, e + 1, 0)
        ax, ay = cx[rows, k0][:, None], cy[rows, k0][:, None]
        dx, dy = cx[rows, k1][:, None] - ax, cy[rows, k1][:, None] - ay
        width = px.shape[1]
        j = np.arange(width)[None, :]
        valid = j < count[:, None]
        s = np.where(active[:, None], dx * (py - ay) - dy * (px - ax), 1.0)
        nxt = _next_index(count, width)
        s_next = _take(s, nxt)
        inside = (s >= 0) & valid
        cross = valid & (((s > 0) & (s_next < 0)) | ((s < 0) & (s_next > 0)))
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.where(cross, s / (s - s_next), 0.0)
        qx = px + t * (_take(px, nxt) - px)
        qy = py + t * (_take(py, nxt) - py)
        emit = inside.astype("int64") + cross
        offset = np.cumsum(emit, axis=1) - emit
        out_w = width + 1
        ox_ = np.zeros((n, out_w))
        oy_ = np.zeros((n, out_w))
        r, c = np.nonzero(inside)
        ox_[r, offset[r, c]] = px[r, c]
        oy_[r, offset[r, c]] = py[r, c]
        r, c = np.nonzero(cross)
        dest = offset[r, c] + inside[r, c]
        ox_[r, dest] = qx[r, c]
        oy_[r, dest] = qy[r, c]
        count = emit.sum(axis=1)
        keep = max(int(count.max()), 1)
        px, py = ox_[:, :keep], oy_[:, :keep]
    area = np.where(count >= 3, 0.5 * _twice_signed_area(px, py, count), 0.0)
    nxt = _next_index(count, px.shape[1])
    valid = np.arange(px.shape[1])[None, :] < count[:, None]
    length = np.where(valid, np.hypot(_take(px, nxt) - px, _take(py, nxt) - py), 0.0).sum(axis=1)
    area = np.maximum(area, 0.0)
    return area, np.where(area > 0, length, 0.0)
