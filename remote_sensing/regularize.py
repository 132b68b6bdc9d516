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

Everything is vectorized over all polygons of a tile (:func:`regularize_many`):
rotations, Douglas-Peucker and the wall fitting run on concatenated coordinate
arrays, with no Python loop per polygon or per vertex; a single polygon goes
through the same code.
"""

from __future__ import annotations

import math

import numpy as np
import shapely


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
    return regularize_many([poly], tolerance=tolerance, simplify=simplify, max_skew=max_skew)[0]


def _rotate_many(geoms: np.ndarray, angle_deg: np.ndarray, ox: np.ndarray, oy: np.ndarray) -> np.ndarray:
    """Rotate each geometry by its own angle about its own origin (as :func:`shapely.affinity.rotate`)."""
    if not len(geoms):
        return geoms
    xy, idx = shapely.get_coordinates(geoms, return_index=True)
    rad = np.deg2rad(angle_deg)
    cosp, sinp = np.cos(rad), np.sin(rad)
    cosp[np.abs(cosp) < 2.5e-16] = 0.0
    sinp[np.abs(sinp) < 2.5e-16] = 0.0
    xoff = ox - ox * cosp + oy * sinp
    yoff = oy - ox * sinp - oy * cosp
    c, s_, xo, yo = cosp[idx], sinp[idx], xoff[idx], yoff[idx]
    x, y = xy[:, 0], xy[:, 1]
    new = np.column_stack([c * x - s_ * y + xo, s_ * x + c * y + yo])
    return shapely.set_coordinates(geoms.copy(), new)


def dominant_angles(polys: np.ndarray) -> np.ndarray:
    """:func:`dominant_angle` of many polygons at once (exteriors), in degrees."""
    rings = shapely.get_exterior_ring(polys)
    xy, idx = shapely.get_coordinates(rings, return_index=True)
    same = idx[1:] == idx[:-1]
    d = np.diff(xy, axis=0)[same]
    gi = idx[1:][same]
    weight = np.hypot(d[:, 0], d[:, 1]) ** 2
    theta = np.arctan2(d[:, 1], d[:, 0])
    n = len(polys)
    s = np.bincount(gi, weights=weight * np.sin(4 * theta), minlength=n)
    c = np.bincount(gi, weights=weight * np.cos(4 * theta), minlength=n)
    ang = np.degrees(np.arctan2(s, c) / 4)
    return ((ang + 45) % 90) - 45


def _orthogonal_rings(rings: np.ndarray, max_skew: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`_orthogonal_ring` of many rings at once.

    Returns
    -------
    ok : bool array (one per ring)
    coords : (m, 2) array of the new rings' vertices (closed), for the ``ok`` rings
    ring_of : ring index of each of those vertices
    """
    n_rings = len(rings)
    xy, idx = shapely.get_coordinates(rings, return_index=True)
    counts = np.bincount(idx, minlength=n_rings)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    # drop each ring's closing vertex
    last = starts + counts - 1
    keep = np.ones(len(xy), bool)
    keep[last[counts > 0]] = False
    pts, pidx = xy[keep], idx[keep]
    n_pts = np.bincount(pidx, minlength=n_rings)
    pstart = np.concatenate([[0], np.cumsum(n_pts)[:-1]])
    pos = np.arange(len(pts)) - pstart[pidx]
    nxt = np.where(pos + 1 < n_pts[pidx], np.arange(len(pts)) + 1, pstart[pidx])
    prv = np.where(pos > 0, np.arange(len(pts)) - 1, pstart[pidx] + n_pts[pidx] - 1)
    d = pts[nxt] - pts
    length = np.hypot(d[:, 0], d[:, 1])
    ax, ay = np.abs(d[:, 0]), np.abs(d[:, 1])
    horiz = ax >= ay
    skew = np.degrees(np.arctan2(np.where(horiz, ay, ax), np.where(horiz, ax, ay)))
    oblique = np.bincount(pidx, weights=((skew > max_skew) & (length > 2.0)), minlength=n_rings) > 0
    mid = (pts + pts[nxt]) / 2
    change = horiz != horiz[prv]
    n_change = np.bincount(pidx, weights=change, minlength=n_rings)
    ok = (n_pts >= 4) & ~oblique & (n_change >= 4)
    # run number inside each ring, counted from the first orientation change; the
    # vertices before it belong to the last run (the run that wraps around)
    cum = np.cumsum(change)
    ring_cum0 = np.concatenate([[0], cum])[pstart]  # changes before each ring
    local = cum - ring_cum0[pidx]  # 1-based run number, 0 before the first change
    nr = n_change.astype(np.int64)
    local = np.where(local == 0, nr[pidx], local) - 1
    run_off = np.concatenate([[0], np.cumsum(nr)[:-1]])
    # a ring without an orientation change has no runs (and is not ``ok``): its points
    # must not count toward another ring's runs
    has_runs = nr[pidx] > 0
    run = (run_off[pidx] + local)[has_runs]
    n_runs = int(nr.sum())
    w = np.maximum(length, 1e-9)[has_runs]
    val = np.where(horiz, mid[:, 1], mid[:, 0])[has_runs]
    wsum = np.bincount(run, weights=w, minlength=n_runs)
    vsum = np.bincount(run, weights=w * val, minlength=n_runs)
    rv = vsum / np.where(wsum > 0, wsum, 1.0)
    rh = np.zeros(n_runs, bool)
    rh[run] = horiz[has_runs]
    ring_of_run = np.repeat(np.arange(n_rings), nr)
    k = np.arange(n_runs) - run_off[ring_of_run]
    nxt_run = np.where(k + 1 < nr[ring_of_run], np.arange(n_runs) + 1, run_off[ring_of_run])
    h0, v0, v1 = rh, rv, rv[nxt_run]
    vx = np.where(h0, v1, v0)
    vy = np.where(h0, v0, v1)
    sel = ok[ring_of_run]
    vx, vy, rr = vx[sel], vy[sel], ring_of_run[sel]
    # close every ring: repeat its first vertex after its last
    first = np.flatnonzero(np.r_[True, rr[1:] != rr[:-1]]) if len(rr) else np.zeros(0, int)
    ends = np.r_[first[1:], len(rr)] if len(rr) else np.zeros(0, int)
    out_x = np.insert(vx, ends, vx[first])
    out_y = np.insert(vy, ends, vy[first])
    out_r = np.insert(rr, ends, rr[first])
    return ok, np.column_stack([out_x, out_y]), out_r


def regularize_many(geoms, *, tolerance: float = 0.1, simplify: float = 1.0,
                    max_skew: float = 25.0) -> np.ndarray:
    """:func:`regularize_polygon` of many polygons, vectorized (same results).

    Non-polygons, empty or zero-area geometries are returned unchanged.
    """
    geoms = np.asarray(geoms, dtype=object)
    out = geoms.copy()
    if not len(geoms):
        return out
    todo = np.flatnonzero((shapely.get_type_id(geoms) == 3) & (shapely.area(geoms) > 0))
    if not len(todo):
        return out
    # Douglas-Peucker without the (slow) topology check; where that makes an
    # invalid outline, the topology-preserving variant is used instead
    poly = shapely.normalize(shapely.simplify(geoms[todo], 0, preserve_topology=False))
    bad = ~shapely.is_valid(poly)
    if bad.any():
        poly[bad] = shapely.normalize(shapely.simplify(geoms[todo][bad], 0))
    area = shapely.area(poly)
    cen = shapely.get_coordinates(shapely.centroid(poly))
    ox, oy = cen[:, 0], cen[:, 1]
    angle = dominant_angles(shapely.simplify(poly, simplify, preserve_topology=False))
    rot = _rotate_many(poly, -angle, ox, oy)
    simple = shapely.simplify(rot, simplify, preserve_topology=False)
    bad = ~shapely.is_valid(simple) | (shapely.get_type_id(simple) != 3)
    if bad.any():
        simple[bad] = shapely.simplify(rot[bad], simplify, preserve_topology=True)
    result = poly.copy()
    decided = np.zeros(len(poly), bool)

    def accept(cands, which):
        back = _rotate_many(cands, angle[which], ox[which], oy[which])
        good = (shapely.is_valid(back) & ~shapely.is_empty(back)
                & (np.abs(shapely.area(back) - area[which]) <= tolerance * area[which]))
        good &= ~decided[which]
        result[which[good]] = back[good]
        decided[which[good]] = True

    # candidate 1: orthogonal exterior, holes orthogonal where they can be
    ext = shapely.get_exterior_ring(simple)
    ok_ext, ext_xy, ext_r = _orthogonal_rings(ext, max_skew)
    cand_idx = np.flatnonzero(ok_ext)
    if len(cand_idx):
        n_holes = shapely.get_num_interior_rings(simple)
        ring_geoms, ring_owner = [], []
        shells = shapely.linearrings(ext_xy, indices=np.searchsorted(cand_idx, ext_r))
        ring_geoms.append(shells)
        ring_owner.append(cand_idx)
        with_holes = cand_idx[n_holes[cand_idx] > 0]
        if len(with_holes):
            holes, hole_owner = shapely.get_rings(simple[with_holes], return_index=True)
            # get_rings returns exterior first: drop it
            is_ext = np.r_[True, hole_owner[1:] != hole_owner[:-1]]
            holes, hole_owner = holes[~is_ext], with_holes[hole_owner[~is_ext]]
            ok_h, h_xy, h_r = _orthogonal_rings(holes, max_skew)
            new_holes = holes.copy()
            if ok_h.any():
                made = shapely.linearrings(h_xy, indices=np.searchsorted(np.flatnonzero(ok_h), h_r))
                new_holes[np.flatnonzero(ok_h)] = made
            ring_geoms.append(new_holes)
            ring_owner.append(hole_owner)
        rings = np.concatenate(ring_geoms)
        owner = np.concatenate(ring_owner)
        order = np.argsort(owner, kind="stable")  # shells first within an owner (they come first)
        rings, owner = rings[order], owner[order]
        cands = shapely.polygons(rings, indices=np.searchsorted(cand_idx, owner))
        accept(cands, cand_idx)
    # candidate 2: the simplified outline
    rest = np.flatnonzero(~decided)
    if len(rest):
        accept(simple[rest], rest)
    out[todo] = result
    return out


def regularize_all(geoms, *, tolerance: float = 0.1, simplify: float = 1.0,
                   shared_walls: bool = True) -> np.ndarray:
    """Regularize many polygons, keeping those that share a wall unchanged.

    Two polygons share a wall when their boundaries intersect along a segment
    of positive length; both keep their traced outline so the wall stays
    exactly shared. ``shared_walls=False`` skips that search when the caller knows
    no two polygons share a wall (the 4-connected blobs of one label image never
    do). A regularized outline that overlaps a neighbour is reverted in any case.
    """
    geoms = np.asarray(geoms, dtype=object)
    out = geoms.copy()
    if len(geoms) == 0:
        return out
    shared = np.zeros(len(geoms), dtype=bool)
    if len(geoms) > 1 and shared_walls:
        tree = shapely.STRtree(geoms)
        a, b = tree.query(geoms, predicate="touches")
        keep = a < b
        a, b = a[keep], b[keep]
        if len(a):
            common = shapely.intersection(shapely.boundary(geoms[a]), shapely.boundary(geoms[b]))
            wall = shapely.length(common) > 0
            shared[a[wall]] = True
            shared[b[wall]] = True
    alone = np.flatnonzero(~shared)
    out[alone] = regularize_many(geoms[alone], tolerance=tolerance, simplify=simplify)
    # A regularized outline must not overlap a neighbour: revert both until none do.
    for _ in range(10):
        tree = shapely.STRtree(out)
        a, b = tree.query(out)  # envelopes only: few pairs, the exact test below
        keep = a < b
        a, b = a[keep], b[keep]
        if not len(a):
            break
        over = shapely.area(shapely.intersection(out[a], out[b])) > 1e-9
        if not over.any():
            break
        bad = np.unique(np.concatenate([a[over], b[over]]))
        bad = bad[[out[i] is not geoms[i] for i in bad]]
        if not len(bad):
            break
        out[bad] = geoms[bad]
    return out
