"""Synthetic survey imagery rendered from known vectors, in bounded memory.

:func:`render_scene` turns building footprints (with heights), tree crowns and
road polygons into the two rasters a land bureau gets from an aerial survey: a
4-band uint8 RGBN orthophoto and a float32 nDSM (height above ground). Because
the answer is known, the footprint extractors can be assessed against it.

The rasters are written window by window: for each block the vectors that hit
it are found with an STRtree and rasterized into that block only, so a
40000 x 40000 scene needs no more memory than a 4000 x 4000 one.
Randomness is derived from ``(seed, window)`` so the output does not depend on
the order in which windows are written.

:func:`make_scene` lays out a plausible town (road grid, blocks of rectangular
and L-shaped buildings, trees in the gaps) and :func:`make_synthetic_inputs`
combines both, for tests and the benchmark.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from gis.progress import Progress

if TYPE_CHECKING:
    import geopandas as gpd

log = logging.getLogger(__name__)

#: Nodata of the nDSM written here (the RGBN image uses 0; valid pixels are >= 1).
NDSM_NODATA = -9999.0

#: Roof colours (R, G, B, NIR): terracotta, blue steel, grey concrete, white, dark tile, rust.
_ROOF_PALETTE = np.array(
    [
        [178, 84, 62, 95],
        [70, 110, 170, 80],
        [150, 150, 145, 120],
        [225, 225, 220, 170],
        [80, 75, 80, 70],
        [160, 110, 70, 100],
        [120, 135, 150, 105],
    ],
    dtype=np.float32,
)
_GRASS = np.array([85, 125, 60, 185], dtype=np.float32)
_SOIL = np.array([150, 125, 95, 135], dtype=np.float32)
_ASPHALT = np.array([65, 65, 68, 55], dtype=np.float32)
_TREE = np.array([45, 90, 40, 200], dtype=np.float32)


def _window_seed(seed: int, row: int, col: int) -> np.random.Generator:
    return np.random.default_rng([seed, row, col, 7])


def _block_windows(height: int, width: int, block: int):
    from rasterio.windows import Window

    for row in range(0, height, block):
        for col in range(0, width, block):
            yield Window(col, row, min(block, width - col), min(block, height - row))


def _rasterize_index(tree, geoms, window_bounds, shape, transform, all_touched=False):
    """Burn 1-based indices of the geometries hitting a window (0 = none)."""
    from rasterio.features import rasterize
    from shapely import box

    if tree is None:
        return np.zeros(shape, dtype=np.int32)
    hits = tree.query(box(*window_bounds), predicate="intersects")
    if len(hits) == 0:
        return np.zeros(shape, dtype=np.int32)
    hits = np.sort(hits)
    return rasterize(
        ((geoms[i], int(i) + 1) for i in hits),
        out_shape=shape,
        transform=transform,
        fill=0,
        dtype="int32",
        all_touched=all_touched,
    )


def _prepare(frame, name):
    from shapely import STRtree

    if frame is None or len(frame) == 0:
        return None, np.array([]), np.array([], dtype=np.float32)
    geoms = np.asarray(frame.geometry.values, dtype=object)
    if "height_m" in frame.columns:
        heights = frame["height_m"].to_numpy(dtype=np.float32)
    else:
        heights = np.zeros(len(frame), dtype=np.float32)
    if name != "roads" and np.isnan(heights).any():
        raise ValueError(f"{name}: height_m has missing values")
    return STRtree(geoms), geoms, heights


def render_scene(
    buildings: gpd.GeoDataFrame,
    out_dir: str | Path,
    *,
    bounds: tuple[float, float, float, float],
    resolution: float = 0.5,
    trees: gpd.GeoDataFrame | None = None,
    roads: gpd.GeoDataFrame | None = None,
    seed: int = 0,
    progress: Progress | None = None,
    date: str = "2024:06:15 10:30:00",
    block: int = 1024,
    noise: float = 1.0,
) -> dict[str, Path]:
    """Render an RGBN orthophoto and an nDSM from vectors, window by window.

    Parameters
    ----------
    buildings : GeoDataFrame
        Footprint polygons with a ``height_m`` column, in a projected CRS (metres).
    out_dir : path
        Folder receiving ``rgbn.tif`` and ``ndsm.tif`` (created if missing).
    bounds : tuple
        ``(minx, miny, maxx, maxy)`` of the rendered area in the buildings' CRS.
    resolution : float
        Ground sample distance in CRS units (default 0.5 m).
    trees : GeoDataFrame, optional
        Crown polygons with ``height_m``; bright in NIR, high in the nDSM.
    roads : GeoDataFrame, optional
        Road surface polygons (asphalt, height 0).
    seed : int
        Seed of every random choice (roof colours, texture, sensor noise).
    progress : callable, optional
        Called with 1 after each written window.
    date : str
        Acquisition time stored as ``TIFFTAG_DATETIME`` (``YYYY:MM:DD HH:MM:SS``).
    block : int
        Side of the windows rendered at a time (memory is O(block²)).
    noise : float
        Scale of the sensor and height noise (0 gives clean rasters).

    Returns
    -------
    dict
        ``{"rgbn": Path, "ndsm": Path}``.

    Examples
    --------
    >>> import geopandas as gpd, shapely, tempfile
    >>> b = gpd.GeoDataFrame({"height_m": [9.0]}, geometry=[shapely.box(10, 10, 30, 25)], crs=32650)
    >>> paths = render_scene(b, tempfile.mkdtemp(), bounds=(0, 0, 50, 50))
    >>> sorted(paths)
    ['ndsm', 'rgbn']
    """
    import rasterio
    from rasterio.transform import from_origin
    from rasterio.windows import bounds as window_bounds
    from rasterio.windows import transform as window_transform
    from scipy import ndimage

    if buildings.crs is None:
        raise ValueError("buildings have no CRS; set one before rendering")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    minx, miny, maxx, maxy = map(float, bounds)
    width = max(1, math.ceil((maxx - minx) / resolution - 1e-9))
    height = max(1, math.ceil((maxy - miny) / resolution - 1e-9))
    transform = from_origin(minx, maxy, resolution, resolution)
    crs = buildings.crs.to_wkt()

    b_tree, b_geoms, b_heights = _prepare(buildings, "buildings")
    t_tree, t_geoms, t_heights = _prepare(trees, "trees")
    r_tree, r_geoms, _ = _prepare(roads, "roads")

    rng = np.random.default_rng(seed)
    n_b = len(b_geoms)
    roof_colour = _ROOF_PALETTE[rng.integers(0, len(_ROOF_PALETTE), size=max(n_b, 1))]
    roof_colour = roof_colour * rng.uniform(0.9, 1.1, size=(max(n_b, 1), 1)).astype(np.float32)
    if n_b:
        import shapely

        cent = shapely.centroid(b_geoms)
        b_cx = shapely.get_x(cent).astype(np.float64)
        b_cy = shapely.get_y(cent).astype(np.float64)
        # Gable direction: shade the half facing away from the sun along x or y.
        b_axis = rng.integers(0, 2, size=n_b)
    phase = rng.uniform(0, 2 * np.pi, size=4)

    profile = {
        "driver": "GTiff",
        "width": width,
        "height": height,
        "crs": crs,
        "transform": transform,
        "tiled": True,
        "blockxsize": 256,
        "blockysize": 256,
        "compress": "deflate",
        "BIGTIFF": "IF_SAFER",
    }
    rgbn_path = out / "rgbn.tif"
    ndsm_path = out / "ndsm.tif"
    pad = 3
    with (
        rasterio.open(
            rgbn_path, "w", count=4, dtype="uint8", nodata=0, photometric="RGB", **profile
        ) as rgbn_ds,
        rasterio.open(
            ndsm_path, "w", count=1, dtype="float32", nodata=NDSM_NODATA, predictor=3, **profile
        ) as ndsm_ds,
    ):
        for ds in (rgbn_ds, ndsm_ds):
            ds.update_tags(TIFFTAG_DATETIME=date, MUJUN_SYNTHETIC="1", MUJUN_SEED=str(seed))
        rgbn_ds.set_band_description(1, "red")
        rgbn_ds.set_band_description(2, "green")
        rgbn_ds.set_band_description(3, "blue")
        rgbn_ds.set_band_description(4, "nir")
        ndsm_ds.set_band_description(1, "height above ground (m)")

        for win in _block_windows(height, width, block):
            # Render with a halo so the edge blur is seamless across windows.
            from rasterio.windows import Window

            padded = Window(win.col_off - pad, win.row_off - pad, win.width + 2 * pad, win.height + 2 * pad)
            shape = (int(padded.height), int(padded.width))
            wt = window_transform(padded, transform)
            wb = window_bounds(padded, transform)
            b_idx = _rasterize_index(b_tree, b_geoms, wb, shape, wt)
            t_idx = _rasterize_index(t_tree, t_geoms, wb, shape, wt)
            r_idx = _rasterize_index(r_tree, r_geoms, wb, shape, wt)
            wrng = _window_seed(seed, int(win.row_off), int(win.col_off))

            # Pixel-centre world coordinates of the padded window.
            cols = np.arange(shape[1], dtype=np.float64)
            rows = np.arange(shape[0], dtype=np.float64)
            xs = wt.c + (cols + 0.5) * wt.a
            ys = wt.f + (rows + 0.5) * wt.e

            # nDSM: trees then buildings (roofs over crowns), blurred edges, noise.
            hag = np.zeros(shape, dtype=np.float32)
            if t_tree is not None:
                crown = t_idx > 0
                hag[crown] = t_heights[t_idx[crown] - 1] * (
                    0.75 + 0.25 * wrng.random(int(crown.sum()), dtype=np.float32)
                )
            roof = b_idx > 0
            if b_tree is not None:
                hag[roof] = b_heights[b_idx[roof] - 1]
            hag = ndimage.gaussian_filter(hag, sigma=0.6, mode="nearest")
            hag += wrng.normal(0.0, 0.12 * noise, size=shape).astype(np.float32)

            # Ground: grass/soil mix varying smoothly over the world.
            gx = np.sin(xs / 37.0 + phase[0])[None, :] + np.cos(ys / 53.0 + phase[1])[:, None]
            gy = np.sin(xs / 11.0 + phase[2])[None, :] * np.cos(ys / 13.0 + phase[3])[:, None]
            mix = np.clip(0.5 + 0.3 * gx + 0.15 * gy, 0, 1).astype(np.float32)[..., None]
            img = mix * _GRASS + (1 - mix) * _SOIL
            if r_tree is not None:
                img[r_idx > 0] = _ASPHALT
            if t_tree is not None:
                img[t_idx > 0] = _TREE * (0.85 + 0.3 * wrng.random((int((t_idx > 0).sum()), 1), dtype=np.float32))
            if b_tree is not None and roof.any():
                ids = b_idx[roof] - 1
                colour = roof_colour[ids].copy()
                yy, xx = np.nonzero(roof)
                along_x = b_axis[ids] == 0
                side = np.where(along_x, xs[xx] > b_cx[ids], ys[yy] > b_cy[ids])
                colour[side] *= 0.82  # the shaded slope of a gable roof
                img[roof] = colour
            img += wrng.normal(0.0, 4.0 * noise, size=img.shape).astype(np.float32)
            rgb = np.clip(np.rint(img), 1, 255).astype(np.uint8)

            core = (slice(pad, pad + int(win.height)), slice(pad, pad + int(win.width)))
            rgbn_ds.write(np.moveaxis(rgb[core], -1, 0), window=win)
            ndsm_ds.write(hag[core][None], window=win)
            if progress is not None:
                progress(1)
    log.info("rendered %d x %d synthetic scene to %s", width, height, out)
    return {"rgbn": rgbn_path, "ndsm": ndsm_path}


def n_windows(bounds, resolution: float = 0.5, block: int = 1024) -> int:
    """Number of progress steps :func:`render_scene` will report."""
    minx, miny, maxx, maxy = bounds
    w = math.ceil((maxx - minx) / resolution - 1e-9)
    h = math.ceil((maxy - miny) / resolution - 1e-9)
    return math.ceil(w / block) * math.ceil(h / block)


def make_scene(
    bounds: tuple[float, float, float, float],
    *,
    crs="EPSG:4547",
    seed: int = 0,
    block_size: float = 120.0,
    road_width: float = 10.0,
    tree_share: float = 0.5,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Lay out a synthetic town: road grid, buildings in the blocks, trees in the gaps.

    Buildings are rectangles (some rotated up to 30°) and L-shapes of 8-45 m,
    at least 4 m apart; trees are round crowns of 2-5 m radius that keep 1.5 m
    off buildings. Everything is clipped to ``bounds``.

    Parameters
    ----------
    bounds : tuple
        ``(minx, miny, maxx, maxy)`` in metres.
    crs : CRS-like
        CRS of the returned frames (projected, metres).
    seed : int
        Random seed.
    block_size : float
        Road grid spacing in metres.
    road_width : float
        Road width in metres.
    tree_share : float
        Expected trees per building.

    Returns
    -------
    buildings, trees, roads : GeoDataFrame
        ``buildings`` has ``building_id`` and ``height_m``; ``trees`` has ``height_m``.
    """
    import geopandas as gpd
    import shapely
    from shapely import affinity

    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = bounds
    area = shapely.box(minx, miny, maxx, maxy)
    xs = np.arange(minx, maxx + block_size, block_size)
    ys = np.arange(miny, maxy + block_size, block_size)
    roads = [shapely.box(x - road_width / 2, miny, x + road_width / 2, maxy) for x in xs]
    roads += [shapely.box(minx, y - road_width / 2, maxx, y + road_width / 2) for y in ys]
    roads = [r.intersection(area) for r in roads]
    roads = [r for r in roads if not r.is_empty]

    buildings: list = []
    heights: list[float] = []
    trees: list = []
    t_heights: list[float] = []
    margin = road_width / 2 + 3.0
    gap = 4.0
    for x0 in xs[:-1]:
        for y0 in ys[:-1]:
            cell = (x0 + margin, y0 + margin, x0 + block_size - margin, y0 + block_size - margin)
            if cell[2] - cell[0] < 10 or cell[3] - cell[1] < 10:
                continue
            placed: list = []
            for _ in range(int(rng.integers(2, 7)) * 3):
                if len(placed) >= 6:
                    break
                w, h = rng.uniform(8, 45), rng.uniform(8, 35)
                cx = rng.uniform(cell[0] + w / 2, max(cell[0] + w / 2, cell[2] - w / 2))
                cy = rng.uniform(cell[1] + h / 2, max(cell[1] + h / 2, cell[3] - h / 2))
                geom = shapely.box(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
                if rng.random() < 0.25:  # L-shape: cut a corner out
                    cut = shapely.box(cx, cy, cx + w / 2, cy + h / 2)
                    geom = geom.difference(cut)
                if rng.random() < 0.25:
                    geom = affinity.rotate(geom, rng.uniform(-30, 30), origin="centroid")
                if not shapely.box(*cell).contains(geom):
                    continue
                if any(geom.distance(p) < gap for p in placed):
                    continue
                placed.append(geom)
                buildings.append(geom)
                heights.append(float(rng.choice([4.0, 6.5, 9.0, 12.0, 18.0, 30.0]) + rng.uniform(-0.8, 0.8)))
            n_trees = rng.poisson(tree_share * max(len(placed), 1) + 1)
            for _ in range(n_trees * 3):
                if n_trees <= 0:
                    break
                r = rng.uniform(2, 5)
                c = shapely.Point(rng.uniform(x0 + road_width / 2 + r, x0 + block_size - road_width / 2 - r),
                                  rng.uniform(y0 + road_width / 2 + r, y0 + block_size - road_width / 2 - r))
                crown = c.buffer(r, quad_segs=8)
                if any(crown.distance(p) < 1.5 for p in placed):
                    continue
                if not area.contains(crown):
                    continue
                trees.append(crown)
                t_heights.append(float(rng.uniform(4, 12)))
                n_trees -= 1
    bgdf = gpd.GeoDataFrame(
        {"building_id": np.arange(1, len(buildings) + 1), "height_m": heights},
        geometry=buildings,
        crs=crs,
    )
    bgdf = bgdf[bgdf.within(area)].reset_index(drop=True)
    tgdf = gpd.GeoDataFrame({"height_m": t_heights}, geometry=trees, crs=crs)
    rgdf = gpd.GeoDataFrame({"kind": ["road"] * len(roads)}, geometry=roads, crs=crs)
    return bgdf, tgdf, rgdf


def make_synthetic_inputs(
    out_dir: str | Path,
    size_px: int,
    *,
    resolution: float = 0.5,
    seed: int = 0,
    origin: tuple[float, float] = (500000.0, 3400000.0),
    crs="EPSG:4547",
    progress: Progress | None = None,
    noise: float = 1.0,
) -> dict[str, Path]:
    """Make a square synthetic scene of ``size_px`` pixels a side, with its truth.

    Writes ``rgbn.tif``, ``ndsm.tif``, ``buildings.gpkg`` (the truth),
    ``trees.gpkg`` and ``roads.gpkg`` into ``out_dir``. Used by tests (a few
    hundred pixels) and the benchmark (10k-40k pixels).

    Returns
    -------
    dict
        Paths keyed ``rgbn``, ``ndsm``, ``buildings``, ``trees``, ``roads``.
    """
    import pyogrio

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    x0, y0 = origin
    side = size_px * resolution
    bounds = (x0, y0, x0 + side, y0 + side)
    buildings, trees, roads = make_scene(bounds, crs=crs, seed=seed)
    paths = render_scene(
        buildings, out, bounds=bounds, resolution=resolution, trees=trees, roads=roads,
        seed=seed, progress=progress, noise=noise,
    )
    for name, frame in (("buildings", buildings), ("trees", trees), ("roads", roads)):
        path = out / f"{name}.gpkg"
        if path.exists():
            path.unlink()
        pyogrio.write_dataframe(frame, path, layer=name)
        paths[name] = path
    return paths
