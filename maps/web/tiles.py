"""Cut a polygon layer into small per-zoom tiles a browser draws quickly (a kernel: no I/O).

Why: the 100,000-parcel city as one GeoJSON is ~50 MB that a browser must parse and
draw before anything shows. Instead, for every zoom of the map:

* **detail zooms** (``detail_min`` … ``max_native``): each polygon, simplified to one
  tile unit (``extent`` units per 256-px tile, so invisible below a pixel), goes into
  every Web Mercator tile its bounding box touches, coordinates quantized to integer
  tile units and delta-encoded per ring;
* **overview zooms** (``min_zoom`` … ``detail_min - 1``): the polygons are aggregated
  into square cells of ``cell_px`` pixels, each coloured by the area-weighted
  dominant key (categories) or by the class of the area-weighted mean (numbers),
  so a zoomed-out view draws a few hundred squares instead of 100,000 polygons.

A tile (:class:`Tile`) is three flat integer arrays: ``id, key, n_rings`` per feature,
points per ring, and coordinates ``x0, y0, dx1, dy1, …`` per ring (first point
absolute, then deltas). Overview cells carry ``-n`` (the number of polygons in the
cell) as their id. Everything is vectorized with numpy: the city's 100,000 parcels
become ~3,400 tiles over 8 zooms in a few seconds. The page's JavaScript
(:file:`maps/web/js/mujun-map.js`) decodes them for Leaflet.VectorGrid.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

WORLD = 20037508.342789244  # half the Web Mercator world width, metres


@dataclass(frozen=True)
class TileOptions:
    """Zoom range and resolution of the tiles."""

    min_zoom: int = 9
    detail_min: int = 13
    max_native: int = 16
    extent: int = 512
    cell_px: int = 16


def tile_size_m(z: int) -> float:
    """Width of one tile at zoom ``z`` in Web Mercator metres."""
    return 2 * WORLD / (1 << z)


def _rings(geoms: np.ndarray):
    """Ragged arrays of polygons: coords, coord -> ring index, ring -> feature index."""
    import shapely

    polys, poly_feature = shapely.get_parts(shapely.force_2d(geoms), return_index=True)
    rings, ring_poly = shapely.get_rings(polys, return_index=True)  # exterior, then holes
    coords, ring_of_coord = shapely.get_coordinates(rings, return_index=True)
    return coords, ring_of_coord, poly_feature[ring_poly]


def _ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Concatenation of ``arange(s, s + n)`` for every (s, n), vectorized."""
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    offsets = np.repeat(np.cumsum(lengths) - lengths, lengths)
    return np.repeat(starts, lengths) + np.arange(total) - offsets


@dataclass
class Tile:
    """One tile as flat integer arrays (what the page decodes).

    ``f``: ``id, key, n_rings`` per feature; ``r``: points per ring;
    ``c``: ``x0, y0, dx1, dy1, …`` per ring (first point absolute, in tile units).
    """

    f: np.ndarray
    r: np.ndarray
    c: np.ndarray

    def __len__(self) -> int:
        return len(self.f) // 3

    def encoded(self) -> tuple[str, str, str]:
        """The three arrays as base64 little-endian Int32 (fast to write and to decode)."""
        return tuple(_b64(a) for a in (self.f, self.r, self.c))  # type: ignore[return-value]


def _b64(values: np.ndarray) -> str:
    import base64

    return base64.b64encode(np.asarray(values, dtype="<i4").tobytes()).decode("ascii")


def detail_tiles(geoms: np.ndarray, keys: np.ndarray, ids: np.ndarray, z: int,
                 options: TileOptions) -> dict[tuple[int, int], Tile]:
    """Tiles of zoom ``z``: ``{(x, y): Tile}``, vectorized over all features.

    Parameters
    ----------
    geoms : array of shapely Polygon/MultiPolygon in EPSG:3857
    keys : int array
        Style key of each feature (category or class index).
    ids : int array
        Feature id (row number, for popups).
    """
    import shapely

    size = tile_size_m(z)
    ext = options.extent
    unit = size / ext
    # Douglas-Peucker without topology repair: 5x faster, and a display needs no validity
    simple = shapely.simplify(geoms, unit, preserve_topology=False)
    idx = np.flatnonzero(~shapely.is_missing(simple) & ~shapely.is_empty(simple))
    if idx.size == 0:
        return {}
    coords, ring_of, ring_feature = _rings(simple[idx])
    gx = np.rint((coords[:, 0] + WORLD) / unit).astype(np.int64)
    gy = np.rint((WORLD - coords[:, 1]) / unit).astype(np.int64)
    # drop repeated points (after quantizing) and each ring's closing point
    start = np.r_[True, ring_of[1:] != ring_of[:-1]]
    keep = start | (np.diff(gx, prepend=0) != 0) | (np.diff(gy, prepend=0) != 0)
    gx, gy, ring_of, start = gx[keep], gy[keep], ring_of[keep], start[keep]
    last = np.r_[ring_of[1:] != ring_of[:-1], True]
    first_of = np.maximum.accumulate(np.where(start, np.arange(len(gx)), 0))
    closing = last & ~start & (gx == gx[first_of]) & (gy == gy[first_of])
    gx, gy, ring_of = gx[~closing], gy[~closing], ring_of[~closing]
    n_rings_total = len(ring_feature)
    ring_len = np.bincount(ring_of, minlength=n_rings_total)
    good_ring = ring_len >= 3
    keep = good_ring[ring_of]
    gx, gy, ring_of = gx[keep], gy[keep], ring_of[keep]
    ring_len, ring_feature = ring_len[good_ring], ring_feature[good_ring]
    # per-ring deltas (the same in every tile; only each ring's first point moves)
    start = np.r_[True, ring_of[1:] != ring_of[:-1]]
    dx = np.where(start, 0, np.diff(gx, prepend=0))
    dy = np.where(start, 0, np.diff(gy, prepend=0))
    n_feat = len(idx)
    feat_rings = np.bincount(ring_feature, minlength=n_feat)
    feat_points = np.bincount(ring_feature, weights=ring_len, minlength=n_feat).astype(np.int64)
    feat_ring0 = np.cumsum(feat_rings) - feat_rings
    feat_pt0 = np.cumsum(feat_points) - feat_points
    present = feat_rings > 0
    # tile ranges from the quantized extent of each feature
    fmin_x = np.full(n_feat, np.iinfo(np.int64).max)
    fmax_x = np.full(n_feat, np.iinfo(np.int64).min)
    fmin_y, fmax_y = fmin_x.copy(), fmax_x.copy()
    pt_feat = np.repeat(ring_feature, ring_len)
    np.minimum.at(fmin_x, pt_feat, gx)
    np.maximum.at(fmax_x, pt_feat, gx)
    np.minimum.at(fmin_y, pt_feat, gy)
    np.maximum.at(fmax_y, pt_feat, gy)
    f = np.flatnonzero(present)
    tx0, tx1 = fmin_x[f] // ext, fmax_x[f] // ext
    ty0, ty1 = fmin_y[f] // ext, fmax_y[f] // ext
    nx, ny = tx1 - tx0 + 1, ty1 - ty0 + 1
    n_pairs = nx * ny
    pf = np.repeat(f, n_pairs)                      # feature of each (feature, tile) pair
    k = _ranges(np.zeros(len(f), dtype=np.int64), n_pairs)
    ptx = np.repeat(tx0, n_pairs) + k // np.repeat(ny, n_pairs)
    pty = np.repeat(ty0, n_pairs) + k % np.repeat(ny, n_pairs)
    order = np.lexsort((pf, pty, ptx))
    pf, ptx, pty = pf[order], ptx[order], pty[order]
    # gather rings and points of every pair, in pair order
    pr = _ranges(feat_ring0[pf], feat_rings[pf])        # ring ids
    pp = _ranges(feat_pt0[pf], feat_points[pf])         # point ids
    cx, cy = dx[pp].copy(), dy[pp].copy()
    ring_pair = np.repeat(np.arange(len(pf)), feat_rings[pf])
    pt_ring_start = np.cumsum(ring_len[pr]) - ring_len[pr]
    first = pp[pt_ring_start]
    cx[pt_ring_start] = gx[first] - ptx[ring_pair] * ext
    cy[pt_ring_start] = gy[first] - pty[ring_pair] * ext
    c = np.empty(2 * len(cx), dtype=np.int64)
    c[0::2], c[1::2] = cx, cy
    ftab = np.empty((len(pf), 3), dtype=np.int64)
    ftab[:, 0] = ids[idx[pf]]
    ftab[:, 1] = keys[idx[pf]]
    ftab[:, 2] = feat_rings[pf]
    # slice per tile
    tile_break = np.flatnonzero(np.r_[True, (ptx[1:] != ptx[:-1]) | (pty[1:] != pty[:-1]),
                                      True])
    ring_cum = np.r_[0, np.cumsum(feat_rings[pf])]
    pt_cum = np.r_[0, np.cumsum(feat_points[pf])]
    rl = ring_len[pr]
    out: dict[tuple[int, int], Tile] = {}
    for a, b in itertools.pairwise(tile_break):
        r0, r1 = ring_cum[a], ring_cum[b]
        p0, p1 = pt_cum[a], pt_cum[b]
        out[(int(ptx[a]), int(pty[a]))] = Tile(ftab[a:b].ravel(), rl[r0:r1], c[2 * p0:2 * p1])
    return out


def overview_tiles(centre: np.ndarray, area: np.ndarray, keys: np.ndarray,
                   values: np.ndarray | None, z: int, options: TileOptions, *, n_keys: int,
                   breaks: np.ndarray | None = None) -> dict[tuple[int, int], Tile]:
    """Aggregated cells of zoom ``z`` (see the module docstring).

    ``centre`` (interior point x, y) and ``area`` of every feature, in EPSG:3857.
    """
    size = tile_size_m(z)
    cells_per_tile = 256 // options.cell_px
    cell = size / cells_per_tile
    cx = np.floor((centre[:, 0] + WORLD) / cell).astype(np.int64)
    cy = np.floor((WORLD - centre[:, 1]) / cell).astype(np.int64)
    cell_id, inverse = np.unique(np.c_[cx, cy], axis=0, return_inverse=True)
    inverse = inverse.ravel()
    n = np.bincount(inverse)
    if values is not None and breaks is not None:
        finite = np.isfinite(values)
        weight = np.where(finite, area, 0.0)
        total = np.bincount(inverse, weights=np.where(finite, values, 0.0) * weight)
        wsum = np.bincount(inverse, weights=weight)
        mean = np.divide(total, wsum, out=np.full(len(wsum), np.nan), where=wsum > 0)
        cell_key = np.where(np.isnan(mean), -1,
                            np.minimum(np.searchsorted(breaks, mean, side="left"),
                                       len(breaks) - 1))
    else:
        table = np.zeros((len(cell_id), n_keys + 1))
        np.add.at(table, (inverse, np.where(keys < 0, n_keys, keys)), area)
        best = table[:, :n_keys].argmax(axis=1)
        cell_key = np.where(table[:, :n_keys].max(axis=1) > 0, best, -1)
    step = options.extent // cells_per_tile
    tiles: dict[tuple[int, int], list] = defaultdict(list)
    for (x, y), count, key in zip(cell_id, n, cell_key, strict=True):
        tx, ty = int(x) // cells_per_tile, int(y) // cells_per_tile
        lx, ly = (int(x) % cells_per_tile) * step, (int(y) % cells_per_tile) * step
        tiles[(tx, ty)].append((-int(count), int(key), lx, ly))
    out = {}
    for key, cells in tiles.items():
        arr = np.asarray(cells, dtype=np.int64)
        m = len(arr)
        ftab = np.c_[arr[:, 0], arr[:, 1], np.ones(m, dtype=np.int64)].ravel()
        ring = np.tile(np.array([0, 0, step, 0, 0, step, -step, 0]), (m, 1))
        ring[:, 0], ring[:, 1] = arr[:, 2], arr[:, 3]
        out[key] = Tile(ftab, np.full(m, 4, dtype=np.int64), ring.ravel())
    return out


def tile_pyramid(geoms: np.ndarray, keys: np.ndarray, *, values: np.ndarray | None = None,
                 breaks: np.ndarray | None = None, n_keys: int,
                 options: TileOptions | None = None,
                 progress=None) -> dict[tuple[int, int, int], Tile]:
    """Every tile of every zoom: ``{(z, x, y): features}`` (ids are row numbers)."""
    import shapely

    options = options or TileOptions()
    ids = np.arange(len(geoms))
    centre = shapely.get_coordinates(shapely.point_on_surface(geoms))
    area = shapely.area(geoms)
    out: dict[tuple[int, int, int], list] = {}
    for z in range(options.min_zoom, options.max_native + 1):
        if z < options.detail_min:
            level = overview_tiles(centre, area, keys, values, z, options, n_keys=n_keys,
                                   breaks=breaks)
        else:
            level = detail_tiles(geoms, keys, ids, z, options)
        for (x, y), feats in level.items():
            out[(z, x, y)] = feats
        if progress is not None:
            progress(1)
    return out
