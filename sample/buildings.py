"""Buildings of the sample city: factory compounds laid out inside their parcels.

A built parcel gets a gate house in the front setback, often an office or
dormitory block behind the front green strip, and a grid of workshops behind
that, separated by fire lanes. Grid cells hold one workshop (sometimes
L-shaped), a row of smaller warehouses, or stay open as a storage yard.
Building coverage of an ordinary built parcel is kept at or above
:data:`MIN_NORMAL_COVERAGE`, so only the planted "unfinished" parcels fall
below the one-third line.

About :data:`CROSSING_SHARE` of all buildings are then made to cross their
parcel boundary: most by a sliver of 0.2-1.5 m (the misregistration seen when
footprints from imagery meet cadastral parcels), some by a real overhang of
2-6 m. A crossing is kept only if it does not make the building overlap
another one, so the clean data never has overlapping buildings.
"""

from __future__ import annotations

import numpy as np

from sample.config import EPSG, stream
from sample.layout import TownPlan

#: Share of buildings that cross their parcel's boundary.
CROSSING_SHARE = 0.10
#: Lowest building coverage of an ordinary built parcel.
MIN_NORMAL_COVERAGE = 0.38

# Building kinds
WORKSHOP, WAREHOUSE, OFFICE, DORMITORY, ANCILLARY = (
    "workshop",
    "warehouse",
    "office",
    "dormitory",
    "ancillary",
)


def _cells(rng, u0, v0, u1, v1, allow_empty: bool) -> list[tuple]:
    """Fill the workshop zone ``[u0, u1] x [v0, v1]`` with a grid of buildings."""
    out: list[tuple] = []
    width, depth = u1 - u0, v1 - v0
    if width < 8.0 or depth < 8.0:
        return out
    gap = rng.uniform(6.0, 12.0)
    nc = max(1, round(width / rng.uniform(15.0, 34.0)))
    nr = max(1, round(depth / rng.uniform(14.0, 28.0)))
    cw = (width - (nc - 1) * gap) / nc
    ch = (depth - (nr - 1) * gap) / nr
    if cw < 8.0:
        nc, cw = 1, width
    if ch < 8.0:
        nr, ch = 1, depth
    for i in range(nc):
        for j in range(nr):
            a0 = u0 + i * (cw + gap)
            b0 = v0 + j * (ch + gap)
            draw = rng.random()
            if allow_empty and nc * nr > 2 and draw < 0.07:
                continue  # open storage yard
            if draw < 0.7 and max(cw, ch) > 18.0:
                # a row of 2-5 smaller warehouses / small workshops
                k = int(rng.integers(2, 7))
                inner = rng.uniform(4.0, 7.0)
                along_u = cw >= ch
                span = cw if along_u else ch
                piece = (span - (k - 1) * inner) / k
                if piece < 6.0:
                    k, piece = 1, span
                for m in range(k):
                    if along_u:
                        box = (
                            a0 + m * (piece + inner),
                            b0,
                            a0 + m * (piece + inner) + piece,
                            b0 + ch,
                        )
                    else:
                        box = (
                            a0,
                            b0 + m * (piece + inner),
                            a0 + cw,
                            b0 + m * (piece + inner) + piece,
                        )
                    out.append((*box, 0, 0.0, 0.0, WAREHOUSE))
            else:
                notch = 0
                na = nb = 0.0
                if cw > 20.0 and ch > 20.0 and rng.random() < 0.18:
                    notch = int(rng.integers(1, 5))  # which corner is cut away
                    na, nb = rng.uniform(0.3, 0.5) * cw, rng.uniform(0.3, 0.5) * ch
                out.append((a0, b0, a0 + cw, b0 + ch, notch, na, nb, WORKSHOP))
    return out


def _compound(rng, width: float, depth: float, relaxed: bool) -> list[tuple]:
    """Buildings of an ordinary factory on a ``width x depth`` parcel (canonical frame).

    The canonical frame has u along the frontage and v from the front boundary
    inwards. Rows are ``(u0, v0, u1, v1, notch, notch_a, notch_b, kind)``.
    """
    out: list[tuple] = []
    area = width * depth
    if relaxed:
        front, side, back = min(6.0, depth * 0.1), 1.5, 2.0
    else:
        front = rng.uniform(6.0, 14.0) if depth > 70 else rng.uniform(4.0, 8.0)
        side, back = rng.uniform(1.5, 5.0), rng.uniform(2.0, 6.0)
    u0, u1 = side, width - side
    v0, v1 = front, depth - back
    if u1 - u0 < 12.0 or v1 - v0 < 12.0:
        return [(u0, v0, u1, v1, 0, 0.0, 0.0, WORKSHOP)]
    # Gate house (and a shed) in the front setback.
    if front >= 6.0 and area > 2600.0:
        gw, gd = rng.uniform(3.0, 6.0), rng.uniform(3.0, min(5.0, front - 2.0))
        gu = u0 + rng.uniform(0.0, min(12.0, u1 - u0 - gw))
        gv = rng.uniform(1.0, front - gd - 1.0)
        out.append((gu, gv, gu + gw, gv + gd, 0, 0.0, 0.0, ANCILLARY))
        # Sheds and parking canopies along the front strip.
        su = gu + gw
        for _ in range(3):
            sw = rng.uniform(5.0, 14.0)
            su += rng.uniform(4.0, 12.0)
            if rng.random() < 0.3 or su + sw >= u1:
                break
            sd = rng.uniform(2.5, min(5.0, front - 2.0))
            sv = rng.uniform(1.0, front - sd - 1.0)
            out.append((su, sv, su + sw, sv + sd, 0, 0.0, 0.0, ANCILLARY))
            su += sw
    # Office or dormitory block behind the green strip.
    zone_v0 = v0
    if area > 4000.0 and v1 - v0 > 45.0 and rng.random() < 0.65:
        ow = min((u1 - u0) * rng.uniform(0.3, 0.6), rng.uniform(30.0, 70.0))
        od = rng.uniform(12.0, 18.0)
        ou = u0 + rng.uniform(0.0, u1 - u0 - ow)
        kind = DORMITORY if rng.random() < 0.25 else OFFICE
        out.append((ou, v0, ou + ow, v0 + od, 0, 0.0, 0.0, kind))
        zone_v0 = v0 + od + (6.0 if relaxed else rng.uniform(8.0, 14.0))
    out += _cells(rng, u0, zone_v0, u1, v1, allow_empty=not relaxed)
    # Small back-yard structures (pump room, transformer, bike shed).
    if back >= 3.5 and area > 3000.0:
        for _ in range(int(rng.integers(1, 5))):
            w = rng.uniform(4.0, 9.0)
            pu = u0 + rng.uniform(0.0, max(0.0, u1 - u0 - w))
            d = rng.uniform(2.0, min(3.0, back - 1.5))
            candidate = (pu, depth - back + 0.5, pu + w, depth - back + 0.5 + d)
            if candidate[3] < depth - 0.5 and not any(
                _boxes_touch(candidate, row[:4], 1.0) for row in out
            ):
                out.append((*candidate, 0, 0.0, 0.0, ANCILLARY))
    return out


def _boxes_touch(a, b, margin: float) -> bool:
    return (
        a[0] < b[2] + margin
        and b[0] < a[2] + margin
        and a[1] < b[3] + margin
        and b[1] < a[3] + margin
    )


def _coverage(rows: list[tuple], area: float) -> float:
    total = 0.0
    for u0, v0, u1, v1, notch, na, nb, _ in rows:
        total += (u1 - u0) * (v1 - v0) - (na * nb if notch else 0.0)
    return total / area


def parcel_buildings(rng, width: float, depth: float, role: str) -> list[tuple]:
    """Buildings of one parcel in its canonical frame (see :func:`_compound`).

    ``role`` is ``'normal'`` (full factory), ``'unfinished'`` (one or two
    buildings covering 6-22 % of the parcel) or anything else (no buildings).
    """
    if role == "normal":
        rows = _compound(rng, width, depth, relaxed=False)
        if _coverage(rows, width * depth) < MIN_NORMAL_COVERAGE:
            rows = _compound(rng, width, depth, relaxed=True)
        if _coverage(rows, width * depth) < MIN_NORMAL_COVERAGE:
            rows = [(1.5, 2.0, width - 1.5, depth - 2.0, 0, 0.0, 0.0, WORKSHOP)]
        return rows
    if role == "unfinished":
        target = rng.uniform(0.06, 0.22) * width * depth
        aspect = rng.uniform(1.0, 2.0)
        w = min(np.sqrt(target * aspect), width - 8.0)
        d = min(target / w, depth - 8.0)
        u = rng.uniform(4.0, width - 4.0 - w)
        return [(u, depth - 4.0 - d, u + w, depth - 4.0, 0, 0.0, 0.0, WORKSHOP)]
    return []


def _heights(rng, kinds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Heights (m) and storeys per building kind."""
    n = len(kinds)
    storeys = np.ones(n, dtype=np.int16)
    height = np.zeros(n)
    k = kinds == WORKSHOP
    s = rng.choice([1, 2, 3, 4], size=int(k.sum()), p=[0.5, 0.22, 0.16, 0.12])
    h = np.where(s == 1, rng.uniform(8.0, 14.0, s.size), s * rng.uniform(4.5, 6.0, s.size))
    storeys[k], height[k] = s, np.clip(h, 8.0, 24.0)
    k = kinds == WAREHOUSE
    s = rng.choice([1, 2], size=int(k.sum()), p=[0.75, 0.25])
    storeys[k] = s
    height[k] = np.where(s == 1, rng.uniform(6.0, 11.0, s.size), rng.uniform(9.0, 14.0, s.size))
    k = kinds == OFFICE
    s = rng.choice(np.arange(3, 11), size=int(k.sum()), p=np.array([8, 8, 6, 4, 3, 2, 1, 1]) / 33)
    storeys[k], height[k] = s, np.clip(s * rng.uniform(3.6, 4.0, s.size), 0, 40.0)
    k = kinds == DORMITORY
    s = rng.integers(4, 7, size=int(k.sum()))
    storeys[k], height[k] = s, s * rng.uniform(3.0, 3.3, s.size)
    k = kinds == ANCILLARY
    height[k] = rng.uniform(3.0, 5.0, int(k.sum()))
    return np.round(height, 1), storeys


def town_buildings(plan: TownPlan, parcels, roles: np.ndarray, seed: int):
    """All buildings of one town.

    Parameters
    ----------
    plan : TownPlan
    parcels : GeoDataFrame
        From :func:`sample.layout.town_layout` (local rectangles and fronts).
    roles : array of str
        Per parcel: ``'normal'``, ``'unfinished'``, ``'idle'`` or ``'new'``.
    seed : int

    Returns
    -------
    GeoDataFrame
        ``parcel_idx`` (row of ``parcels`` the building belongs to), ``kind``,
        ``height_m``, ``storeys``, ``crossing`` (``'none'``, ``'sliver'`` or
        ``'overhang'``) and the polygon in EPSG:4549.
    """
    import geopandas as gpd

    rng = stream(seed, "buildings", plan.index)
    xa, xb = parcels["xa"].to_numpy(), parcels["xb"].to_numpy()
    ya, yb = parcels["ya"].to_numpy(), parcels["yb"].to_numpy()
    front = parcels["front"].to_numpy()
    rows: list[tuple] = []
    owner: list[int] = []
    for i in range(len(parcels)):
        local = parcel_buildings(rng, xb[i] - xa[i], yb[i] - ya[i], roles[i])
        rows.extend(local)
        owner.extend([i] * len(local))
    if not rows:
        return gpd.GeoDataFrame(
            {"parcel_idx": [], "kind": [], "height_m": [], "storeys": [], "crossing": []},
            geometry=[],
            crs=EPSG,
        )
    arr = np.array([r[:7] for r in rows], dtype=float)
    kinds = np.array([r[7] for r in rows])
    owner_idx = np.array(owner)
    # canonical (u, v) -> town-local (x, y)
    north = front[owner_idx] == "N"
    x0 = xa[owner_idx] + arr[:, 0]
    x1 = xa[owner_idx] + arr[:, 2]
    y0 = np.where(north, yb[owner_idx] - arr[:, 3], ya[owner_idx] + arr[:, 1])
    y1 = np.where(north, yb[owner_idx] - arr[:, 1], ya[owner_idx] + arr[:, 3])
    notch = arr[:, 4].astype(int)
    # canonical corners 1..4 = (u-high, v-high), (u-low, v-high), (u-low, v-low), (u-high, v-low)
    mirror_x = np.isin(notch, (2, 3))
    mirror_y = np.isin(notch, (3, 4)) ^ north
    rect = np.column_stack([x0, y0, x1, y1])

    height, storeys = _heights(rng, kinds)
    rect, crossing = _cross_boundaries(
        rng, rect, notch > 0, np.column_stack([xa, ya, xb, yb])[owner_idx], plan
    )
    geoms = _polygons(plan, rect, notch > 0, mirror_x, mirror_y, arr[:, 5], arr[:, 6])
    return gpd.GeoDataFrame(
        {
            "parcel_idx": owner_idx,
            "kind": kinds,
            "height_m": height,
            "storeys": storeys,
            "crossing": crossing,
        },
        geometry=geoms,
        crs=EPSG,
    )


def _polygons(plan, rect, is_l, mirror_x, mirror_y, na, nb):
    """World polygons of local rectangles and L-shapes (one vectorized call)."""
    import shapely

    x0, y0, x1, y1 = rect.T
    w, h = x1 - x0, y1 - y0
    n = len(rect)
    # Relative ring of an L with the notch at the (high, high) corner; rectangles
    # use the same 7-point ring with a zero notch (a duplicate point is dropped below).
    fa = np.where(is_l, na / np.where(w > 0, w, 1.0), 0.0)
    fb = np.where(is_l, nb / np.where(h > 0, h, 1.0), 0.0)
    u = np.stack([np.zeros(n), np.ones(n), np.ones(n), 1 - fa, 1 - fa, np.zeros(n), np.zeros(n)], 1)
    v = np.stack([np.zeros(n), np.zeros(n), 1 - fb, 1 - fb, np.ones(n), np.ones(n), np.zeros(n)], 1)
    u = np.where(mirror_x[:, None], 1 - u, u)
    v = np.where(mirror_y[:, None], 1 - v, v)
    lx = x0[:, None] + u * w[:, None]
    ly = y0[:, None] + v * h[:, None]
    wx, wy = plan.frame.to_world(lx, ly)
    coords = np.stack([wx, wy], axis=-1)
    # Rectangles: keep points 0, 1, 2(=1,1), 5, 6 -> a plain 5-point ring.
    rect_coords = coords[:, [0, 1, 4, 5, 6], :]
    geoms = np.empty(n, dtype=object)
    geoms[~is_l] = shapely.polygons(rect_coords[~is_l])
    if is_l.any():
        geoms[is_l] = shapely.polygons(coords[is_l])
    return shapely.orient_polygons(geoms)


def _cross_boundaries(rng, rect, is_l, parcel_rect, plan):
    """Stretch about :data:`CROSSING_SHARE` of the buildings across their parcel boundary.

    Returns the new rectangles and the crossing label per building.
    """
    import shapely

    n = len(rect)
    crossing = np.full(n, "none", dtype=object)
    target = round(CROSSING_SHARE * n)
    gaps = np.column_stack(
        [
            rect[:, 0] - parcel_rect[:, 0],
            rect[:, 1] - parcel_rect[:, 1],
            parcel_rect[:, 2] - rect[:, 2],
            parcel_rect[:, 3] - rect[:, 3],
        ]
    )
    side = gaps.argmin(axis=1)
    gap = gaps[np.arange(n), side]
    candidates = np.flatnonzero((~is_l) & (gap <= 6.0))
    candidates = candidates[rng.permutation(candidates.size)]
    overhang = rng.random(n) < 0.25
    delta = np.where(overhang, rng.uniform(2.0, 6.0, n), rng.uniform(0.2, 1.5, n))

    new = rect.copy()
    accepted = np.zeros(n, dtype=bool)
    pos = 0
    while accepted.sum() < target and pos < candidates.size:
        take = candidates[pos : pos + (target - int(accepted.sum()))]
        pos += take.size
        for i in take:
            s = side[i]
            sign = -1.0 if s < 2 else 1.0
            new[i, s] = parcel_rect[i, s] + sign * delta[i]
        accepted[take] = True
        # Undo the stretches that make a building overlap another one.
        boxes = shapely.box(new[:, 0], new[:, 1], new[:, 2], new[:, 3])
        tree = shapely.STRtree(boxes)
        left, right = tree.query(boxes[take], predicate="intersects")
        left = take[left]
        other = left != right
        bad = np.unique(left[other])
        if bad.size:
            new[bad] = rect[bad]
            accepted[bad] = False
    crossing[accepted] = np.where(overhang[accepted], "overhang", "sliver")
    return new, crossing
