"""Town layout: a road grid around blocks, and blocks cut into parcels that tile them.

Each town is an industrial park drawn in its own local frame (metres, x along
the blocks' long side) and then rotated by a small angle and moved into place
in EPSG:4549. A block is cut into one or two strips along its long side (two
when parcels are shallow enough to stand back to back), and each strip into
parcels across its length. Every parcel therefore fronts a road.

Parcels tile their block exactly: neighbours share edges vertex for vertex.
Where a cut of one strip meets the middle line inside a parcel of the other
strip (a T-junction), that point is inserted into the other parcel's ring too,
so the shared boundary is the same chain of coordinates on both sides and no
gap or overlap appears after rotation, not even a floating-point one.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from sample.config import (
    CENTRE_LON_LAT,
    EPSG,
    MAX_PARCEL_M2,
    MIN_PARCEL_M2,
    SizeSpec,
    stream,
)
from sample.names import county, town_names

#: Rough mean parcel area produced by :func:`cut_block`, used to size towns.
MEAN_PARCEL_M2 = 6200.0
#: Narrowest parcel frontage, metres.
MIN_WIDTH_M = 22.0


@dataclass
class Frame:
    """Local town frame -> EPSG:4549: rotate by ``angle`` (radians) then shift by (ox, oy)."""

    ox: float
    oy: float
    angle: float

    def to_world(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Transform local coordinates (arrays of any shape) to world coordinates."""
        c, s = math.cos(self.angle), math.sin(self.angle)
        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        return self.ox + c * x - s * y, self.oy + s * x + c * y


@dataclass
class TownPlan:
    """Everything needed to generate one town, drawn before any geometry."""

    index: int
    name: str
    county_code: str
    district: str
    cadastral_district: int
    col_widths: np.ndarray
    row_depths: np.ndarray
    vroads: np.ndarray
    hroads: np.ndarray
    angle: float
    frame: Frame = field(default_factory=lambda: Frame(0.0, 0.0, 0.0))

    @property
    def width(self) -> float:
        return float(self.col_widths.sum() + self.vroads.sum())

    @property
    def height(self) -> float:
        return float(self.row_depths.sum() + self.hroads.sum())

    def block_origins(self) -> tuple[np.ndarray, np.ndarray]:
        """Local x of each block column's left edge and y of each row's bottom edge."""
        xs = self.vroads[0] + np.concatenate(
            [[0.0], np.cumsum(self.col_widths + self.vroads[1:])[:-1]]
        )
        ys = self.hroads[0] + np.concatenate(
            [[0.0], np.cumsum(self.row_depths + self.hroads[1:])[:-1]]
        )
        return xs, ys


def _road_widths(rng: np.random.Generator, n: int) -> np.ndarray:
    widths = rng.uniform(14.0, 22.0, size=n)
    main = rng.random(n) < 0.3
    widths[main] = rng.uniform(30.0, 40.0, size=int(main.sum()))
    return np.round(widths, 1)


def plan_town(seed: int, index: int, name: str, n_parcels: int) -> TownPlan:
    """Draw the block grid of one town sized for about ``n_parcels`` parcels."""
    rng = stream(seed, "town-plan", index)
    n_blocks = max(2, round(n_parcels * MEAN_PARCEL_M2 / 75_000.0))
    ncols = max(1, round(math.sqrt(n_blocks * 1.1)))
    nrows = max(1, math.ceil(n_blocks / ncols))
    cols = rng.uniform(180.0, 460.0, size=ncols)
    wide = rng.random(ncols) < 0.1
    cols[wide] = rng.uniform(460.0, 650.0, size=int(wide.sum()))
    rows = rng.uniform(130.0, 340.0, size=nrows)
    deep = rng.random(nrows) < 0.1
    rows[deep] = rng.uniform(340.0, 450.0, size=int(deep.sum()))
    code, district = county(index // 60)
    return TownPlan(
        index=index,
        name=name,
        county_code=code,
        district=district,
        cadastral_district=index % 60 + 1,
        col_widths=np.round(cols, 1),
        row_depths=np.round(rows, 1),
        vroads=_road_widths(rng, ncols + 1),
        hroads=_road_widths(rng, nrows + 1),
        angle=math.radians(rng.uniform(-12.0, 12.0)),
    )


def plan_city(spec: SizeSpec, seed: int) -> list[TownPlan]:
    """Plan every town and place the towns side by side around the sample centre.

    Towns are shelf-packed in rows (their rotated bounding boxes plus a strip of
    farmland), then the whole arrangement is centred on :data:`CENTRE_LON_LAT`.
    """
    from pyproj import Transformer

    names = town_names(stream(seed, "town-names"), spec.n_towns)
    plans = [plan_town(seed, i, names[i], spec.parcels_per_town) for i in range(spec.n_towns)]
    rng = stream(seed, "placement")
    gaps = rng.uniform(*spec.town_gap_m, size=spec.n_towns)

    boxes = []
    for plan in plans:
        corners_x = np.array([0.0, plan.width, plan.width, 0.0])
        corners_y = np.array([0.0, 0.0, plan.height, plan.height])
        wx, wy = Frame(0.0, 0.0, plan.angle).to_world(corners_x, corners_y)
        boxes.append((wx.min(), wy.min(), wx.max() - wx.min(), wy.max() - wy.min()))
    total = sum((w + g) * (h + g) for (_, _, w, h), g in zip(boxes, gaps, strict=True))
    row_limit = max(math.sqrt(total) * 1.3, max(b[2] for b in boxes))
    if len(boxes) <= 4:
        row_limit = math.inf  # a few towns: one row keeps the imagery scene compact

    x = y = row_height = 0.0
    slots = []
    for (_, _, w, h), g in zip(boxes, gaps, strict=True):
        if x > 0 and x + w > row_limit:
            x, y, row_height = 0.0, y - row_height, 0.0
        slots.append((x, y - h))
        x += w + g
        row_height = max(row_height, h + g)
    minx = min(s[0] for s in slots)
    maxx = max(s[0] + b[2] for s, b in zip(slots, boxes, strict=True))
    miny = min(s[1] for s in slots)
    maxy = max(s[1] + b[3] for s, b in zip(slots, boxes, strict=True))
    to_proj = Transformer.from_crs(4490, EPSG, always_xy=True)
    cx, cy = to_proj.transform(*CENTRE_LON_LAT)
    shift_x = round(cx - (minx + maxx) / 2.0)
    shift_y = round(cy - (miny + maxy) / 2.0)
    for plan, (sx, sy), (bx, by, _, _) in zip(plans, slots, boxes, strict=True):
        plan.frame = Frame(
            float(round(sx - bx + shift_x, 3)), float(round(sy - by + shift_y, 3)), plan.angle
        )
    return plans


# ---------------------------------------------------------------------------
# Cutting blocks into parcels


def _strip_cuts(
    rng: np.random.Generator, x0: float, x1: float, depth: float, median: float
) -> list[float]:
    """Positions (including both ends) that cut one strip into parcels."""
    max_w = MAX_PARCEL_M2 / depth
    min_w = max(MIN_WIDTH_M, math.ceil(MIN_PARCEL_M2 / depth * 10.0) / 10.0)
    length = x1 - x0
    if length < 2 * min_w:
        return [x0, x1]
    cuts = [x0]
    pos = x0
    while True:
        target = float(np.clip(median * rng.lognormal(0.0, 0.45), MIN_PARCEL_M2, MAX_PARCEL_M2))
        width = float(np.clip(round(target / depth, 1), min_w, max_w))
        if pos + width >= x1 - 1e-9:
            break
        pos += width
        cuts.append(pos)
    rest = x1 - cuts[-1]
    if rest < min_w and len(cuts) > 1:
        merged = x1 - cuts[-2]
        if merged <= max_w:
            cuts.pop()
        else:
            cuts[-1] = round(cuts[-2] + merged / 2.0, 1)
    cuts.append(x1)
    return cuts


def cut_block(rng: np.random.Generator, x0: float, y0: float, x1: float, y1: float) -> list[dict]:
    """Cut the block ``[x0, x1] x [y0, y1]`` (local frame) into parcels.

    Returns
    -------
    list of dict
        One dict per parcel: ``xa, xb, ya, yb`` (its rectangle), ``front``
        (``'S'`` or ``'N'``: the side facing the road used as the entrance) and
        ``ring`` (closed list of (x, y) including T-junction points).
    """
    median = float(np.clip(rng.lognormal(math.log(4600.0), 1.2), 2400.0, 200_000.0))
    depth_pref = float(np.clip(math.sqrt(median * 1.3), 45.0, 420.0))
    depth = y1 - y0
    if depth >= 1.6 * depth_pref and depth >= 110.0:
        ym = round(y0 + depth * rng.uniform(0.42, 0.58), 1)
        strips = [(y0, ym, "S"), (ym, y1, "N")]
    else:
        strips = [(y0, y1, "S" if rng.random() < 0.5 else "N")]
    cuts = [_strip_cuts(rng, x0, x1, yb - ya, median) for ya, yb, _ in strips]

    parcels = []
    for k, (ya, yb, front) in enumerate(strips):
        other = cuts[1 - k][1:-1] if len(strips) == 2 else []
        xs = cuts[k]
        for xa, xb in itertools.pairwise(xs):
            inner = [x for x in other if xa < x < xb]
            bottom = inner if k == 1 else []
            top = inner if k == 0 else []
            ring = [(xa, ya), *((x, ya) for x in bottom), (xb, ya), (xb, yb)]
            ring += [(x, yb) for x in reversed(top)]
            ring += [(xa, yb), (xa, ya)]
            parcels.append({"xa": xa, "xb": xb, "ya": ya, "yb": yb, "front": front, "ring": ring})
    return parcels


def town_blocks(plan: TownPlan, seed: int) -> Iterator[tuple[tuple, list[dict]]]:
    """Each block of a town, ``(block_no, col, row, x0, y0, x1, y1)``, with its parcels.

    The parcels are :func:`cut_block`'s, drawn from the town's ``blocks`` stream in
    block order: :func:`town_layout` and :func:`parcel_count` see the same cuts.
    """
    rng = stream(seed, "blocks", plan.index)
    bx, by = plan.block_origins()
    block_no = 0
    for j, (y0, d) in enumerate(zip(by, plan.row_depths, strict=True)):
        for i, (x0, w) in enumerate(zip(bx, plan.col_widths, strict=True)):
            block_no += 1
            x1, y1 = float(x0 + w), float(y0 + d)
            yield ((block_no, i, j, float(x0), float(y0), x1, y1),
                   cut_block(rng, float(x0), float(y0), x1, y1))


def parcel_count(spec: SizeSpec, seed: int) -> int:
    """Parcels a sample of this size and seed has, without drawing any geometry.

    Cheap (a few seconds for the city): the README's stated sizes are checked with it.

    >>> from sample.config import SIZES
    >>> 300 < parcel_count(SIZES["small"], 1) < 600
    True
    """
    return sum(len(parcels) for plan in plan_city(spec, seed)
               for _, parcels in town_blocks(plan, seed))


def town_layout(plan: TownPlan, seed: int):
    """Blocks, roads and parcel rectangles of one town.

    Returns
    -------
    dict
        ``blocks`` and ``roads`` (GeoDataFrames in EPSG:4549) and ``parcels``:
        a GeoDataFrame with the parcel polygons, their local rectangle
        (``xa, xb, ya, yb``), ``front``, ``block_no`` and ``seq`` (number within
        the block).
    """
    import geopandas as gpd
    import shapely

    records: list[dict] = []
    block_rects = []
    for block, parcels in town_blocks(plan, seed):
        block_rects.append(block)
        for seq, parcel in enumerate(parcels, start=1):
            parcel.update(block_no=block[0], seq=seq)
            records.append(parcel)

    frame = plan.frame
    # Parcels: ragged rings in one vectorized call.
    lengths = np.array([len(r["ring"]) for r in records])
    coords = np.array([pt for r in records for pt in r["ring"]], dtype=float)
    wx, wy = frame.to_world(coords[:, 0], coords[:, 1])
    ring_index = np.repeat(np.arange(len(records)), lengths)
    rings = shapely.linearrings(np.column_stack([wx, wy]), indices=ring_index)
    parcel_geoms = shapely.polygons(rings)

    table = {
        key: np.array([r[key] for r in records])
        for key in ("xa", "xb", "ya", "yb", "front", "block_no", "seq")
    }
    parcels = gpd.GeoDataFrame(table, geometry=parcel_geoms, crs=EPSG)

    rect = np.array([b[3:] for b in block_rects])
    blocks = gpd.GeoDataFrame(
        {
            "town": plan.name,
            "block_no": np.array([b[0] for b in block_rects], dtype=np.int32),
        },
        geometry=_rectangles(frame, rect),
        crs=EPSG,
    )

    road_rects, road_widths = [], []
    xs = np.concatenate(
        [[0.0], np.cumsum(np.column_stack([plan.vroads[:-1], plan.col_widths]).ravel())]
    )
    for k, w in enumerate(plan.vroads):
        x0 = xs[2 * k]
        road_rects.append((x0, 0.0, x0 + w, plan.height))
        road_widths.append(w)
    ys = np.concatenate(
        [[0.0], np.cumsum(np.column_stack([plan.hroads[:-1], plan.row_depths]).ravel())]
    )
    for k, w in enumerate(plan.hroads):
        y0 = ys[2 * k]
        road_rects.append((0.0, y0, plan.width, y0 + w))
        road_widths.append(w)
    road_widths = np.array(road_widths)
    road_rects = np.array(road_rects)
    roads = gpd.GeoDataFrame(
        {
            "town": plan.name,
            "kind": np.where(road_widths >= 30.0, "main", "secondary"),
            "width_m": road_widths,
            "x0": road_rects[:, 0],
            "y0": road_rects[:, 1],
            "x1": road_rects[:, 2],
            "y1": road_rects[:, 3],
        },
        geometry=_rectangles(frame, road_rects),
        crs=EPSG,
    )
    return {"blocks": blocks, "roads": roads, "parcels": parcels}


def _rectangles(frame: Frame, rects: np.ndarray):
    """Polygons of local axis-aligned rectangles ``(x0, y0, x1, y1)`` in world coordinates."""
    import shapely

    x0, y0, x1, y1 = rects.T
    xs = np.stack([x0, x1, x1, x0, x0], axis=1)
    ys = np.stack([y0, y0, y1, y1, y0], axis=1)
    wx, wy = frame.to_world(xs, ys)
    return shapely.polygons(np.stack([wx, wy], axis=-1))


def local_rectangles(frame: Frame, x0, y0, x1, y1):
    """Public helper: world polygons of local rectangles given as four arrays."""
    return _rectangles(frame, np.column_stack([x0, y0, x1, y1]))


def town_outline(plan: TownPlan):
    """The town's extent (roads included) as a world polygon."""
    return _rectangles(plan.frame, np.array([[0.0, 0.0, plan.width, plan.height]]))[0]
