"""Regularize traced outlines: straight, orthogonal walls along the dominant direction.

Pixel tracing gives staircase outlines. :func:`regularize_polygon` rotates a
polygon so its dominant wall direction is horizontal, removes the staircase
(Douglas-Peucker), replaces runs of near-horizontal and near-vertical edges by
one least-squares wall each, intersects consecutive walls, and rotates back.
The result is kept only when it is valid and its area differs from the input by
less than ``tolerance`` (a share of the area); otherwise the simplified outline
(if that passes the same test) or the input is kept.

:func:`regularize_all` leaves polygons that share a wall with a neighbour
unchanged, so shared walls stay exactly shared (no gaps, no overlaps).
"""

from __future__ import annotations

import math

import numpy as np
import shapely
from shapely import affinity


def dominant_angle(poly: shapely.Polygon) -> float:
    """Dominant wall direction in degrees, in [-45, 45), weighted by edge length.

    Examples
    --------
    >>> round(dominant_angle(shapely.box(0, 0, 4, 2)), 6)
    0.0
    """
    xy = np.asarray(poly.exterior.coords)
    d = np.diff(xy, axis=0)
    weight = np.hypot(d[:, 0], d[:, 1]) ** 2  # long walls decide
    theta = np.arctan2(d[:, 1], d[:, 0])
    s = float(np.sum(weight * np.sin(4 * theta)))
    c = float(np.sum(weight * np.cos(4 * theta)))
    ang = math.degrees(math.atan2(s, c) / 4)
    return ((ang + 45) % 90) - 45


def _orthogonal_ring(xy: np.ndarray, max_skew: float) -> np.ndarray | None:
    pts = xy[:-1]
    n = len(pts)
    if n < 4:
        return None
    d = np.roll(pts, -1, axis=0) - pts
    length = np.hypot(d[:, 0], d[:, 1])
    horiz = np.abs(d[:, 0]) >= np.abs(d[:, 1])
    skew = np.degrees(np.arctan2(np.where(horiz, np.abs(d[:, 1]), np.abs(d[:, 0])),
                                 np.where(horiz, np.abs(d[:, 0]), np.abs(d[:, 1]))))
    if np.any((skew > max_skew) & (length > 2.0)):
        return None  # a real oblique wall: not an orthogonal building
    mid = (pts + np.roll(pts, -1, axis=0)) / 2
    # Start at an orientation change so runs do not wrap around.
    change = np.flatnonzero(horiz != np.roll(horiz, 1))
    if len(change) == 0:
        return None
    start = change[0]
    idx = np.roll(np.arange(n), -start)
    runs: list[tuple[bool, float]] = []
    cur_h, w_sum, v_sum = horiz[idx[0]], 0.0, 0.0
    for i in idx:
        if horiz[i] != cur_h:
            runs.append((bool(cur_h), v_sum / w_sum if w_sum else 0.0))
            cur_h, w_sum, v_sum = horiz[i], 0.0, 0.0
        w = max(length[i], 1e-9)
        w_sum += w
        v_sum += w * (mid[i, 1] if horiz[i] else mid[i, 0])
    runs.append((bool(cur_h), v_sum / w_sum))
    if len(runs) < 4 or len(runs) % 2:
        return None
    out = []
    for k in range(len(runs)):
        h0, v0 = runs[k]
        h1, v1 = runs[(k + 1) % len(runs)]
        if h0 == h1:
            return None
        out.append((v1, v0) if h0 else (v0, v1))
    out.append(out[0])
    return np.asarray(out)


def regularize_polygon(
    poly: shapely.Polygon, *, tolerance: float = 0.1, simplify: float = 1.0, max_skew: float = 25.0
) -> shapely.Polygon:
    """Orthogonalize a polygon along its dominant direction (see module docstring).

    Parameters
    ----------
    poly : Polygon
        Outline, typically traced from pixels (units: pixels or metres).
    tolerance : float
        Largest accepted relative area change (0.1 = 10 %).
    simplify : float
        Douglas-Peucker tolerance that removes the staircase, in the polygon's units.
    max_skew : float
        Edges deviating more than this (degrees) from the dominant axes make the
        polygon non-orthogonal: it is only simplified.

    Returns
    -------
    Polygon
        Always valid; the input itself when nothing better passes the area test.

    Examples
    --------
    >>> stairs = shapely.Polygon([(0, 0), (10, 0), (10, 5), (9, 5), (9, 6), (0, 6)])
    >>> regularize_polygon(stairs, tolerance=0.05).bounds
    (0.0, 0.0, 10.0, 6.0)
    """
    if poly.is_empty or not isinstance(poly, shapely.Polygon) or poly.area <= 0:
        return poly
    poly = shapely.normalize(poly.simplify(0))  # the same shape gives the same result
    area = poly.area
    origin = poly.centroid
    angle = dominant_angle(poly.simplify(simplify, preserve_topology=True))
    rot = affinity.rotate(poly, -angle, origin=origin)
    simple = rot.simplify(simplify, preserve_topology=True)
    candidates = []
    ext = _orthogonal_ring(np.asarray(simple.exterior.coords), max_skew)
    if ext is not None:
        holes = []
        for ring in simple.interiors:
            h = _orthogonal_ring(np.asarray(ring.coords), max_skew)
            holes.append(h if h is not None else np.asarray(ring.coords))
        candidates.append(shapely.Polygon(ext, holes))
    candidates.append(simple)
    for cand in candidates:
        back = affinity.rotate(cand, angle, origin=origin)
        if back.is_valid and not back.is_empty and abs(back.area - area) <= tolerance * area:
            return back
    return poly


def regularize_all(geoms, *, tolerance: float = 0.1, simplify: float = 1.0) -> np.ndarray:
    """Regularize many polygons, keeping those that share a wall unchanged.

    Two polygons share a wall when their boundaries intersect along a segment
    of positive length; both keep their traced outline so the wall stays
    exactly shared.
    """
    geoms = np.asarray(geoms, dtype=object)
    out = geoms.copy()
    if len(geoms) == 0:
        return out
    shared = np.zeros(len(geoms), dtype=bool)
    if len(geoms) > 1:
        tree = shapely.STRtree(geoms)
        a, b = tree.query(geoms, predicate="touches")
        keep = a < b
        a, b = a[keep], b[keep]
        if len(a):
            common = shapely.intersection(shapely.boundary(geoms[a]), shapely.boundary(geoms[b]))
            wall = shapely.length(common) > 0
            shared[a[wall]] = True
            shared[b[wall]] = True
    for i in np.flatnonzero(~shared):
        out[i] = regularize_polygon(geoms[i], tolerance=tolerance, simplify=simplify)
    # A regularized outline must not overlap a neighbour: revert both until none do.
    for _ in range(10):
        tree = shapely.STRtree(out)
        a, b = tree.query(out, predicate="intersects")
        keep = a < b
        a, b = a[keep], b[keep]
        if not len(a):
            break
        over = shapely.area(shapely.intersection(out[a], out[b])) > 1e-9
        bad = np.unique(np.concatenate([a[over], b[over]]))
        bad = bad[[out[i] is not geoms[i] for i in bad]]
        if not len(bad):
            break
        out[bad] = geoms[bad]
    return out
