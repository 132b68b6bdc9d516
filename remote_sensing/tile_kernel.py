"""The tile kernel of footprint extraction: one tile's windows in, its outlines out.

:func:`process_tile` reads a tile's overlapping window of every input (aligned onto
the image grid), computes a building probability with a mask method
(:mod:`remote_sensing.masks`), thresholds, masks nodata, cleans up with a
4-connected opening, keeps the core, labels blobs, traces them in image pixel
coordinates (:mod:`remote_sensing.polygonize`) and computes per-blob statistics.
Blobs that touch no seam are complete buildings (filtered by area, regularized);
blobs touching a seam are returned apart, for the pipeline
(:mod:`remote_sensing.extract`) to merge across seams. :func:`seam_heights` reads
the heights of such merged buildings.

The kernel is given its open datasets; which process runs it, and how datasets are
opened there, is :mod:`remote_sensing.tile_workers`' business.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from remote_sensing.errors import TileReadError
from remote_sensing.masks import TileInputs, get_method
from remote_sensing.readers import Grid, aligned, open_raster
from remote_sensing.windows import Tile


@dataclass(frozen=True)
class ExtractConfig:
    """Everything a worker needs to process tiles (picklable)."""

    method: str = "ndsm"
    image: str | None = None
    ndsm: str | None = None
    dsm: str | None = None
    dtm: str | None = None
    mask: str | None = None
    model: Any = None  # path of a model file, or a loaded model object
    grid: Grid | None = None
    warp: dict = field(default_factory=dict)  # input name -> bool
    height_threshold: float = 2.5
    ndvi_threshold: float | None = 0.3
    threshold: float | None = None
    mask_is_probability: bool = False
    min_area_m2: float = 8.0
    tile_size: int = 1024
    overlap: int = 32
    morphology: int = 1
    regularize: bool = True
    regularize_tolerance: float = 0.1
    postprocess: str = "auto"  # "threshold" (>= 0.5), "objects" (remote_sensing.objects) or "auto"
    objects: dict | None = None  # low/high/split of the objects post-processing
    tta: int | None = None  # onnx: flips/rotations averaged per model tile (None: the card's)
    nir_band: int | None = None
    #: metres on the ground per CRS unit along x and y (Web Mercator, degrees: see
    #: :mod:`remote_sensing.ground`); areas and minimum areas are on the ground
    ground_scale: tuple[float, float] = (1.0, 1.0)
    workers: int = 1
    gdal_cache_mb: int = 64
    #: finished footprints go to the sink in batches of this many (one write per
    #: batch, not per tile; memory stays bounded by the batch; small enough that the
    #: writing overlaps the workers' tiles instead of waiting for the end)
    batch_rows: int = 5_000

    @property
    def pixel_area(self) -> float:
        """Ground area of one pixel (m²)."""
        a, b, _, d, e, _ = self.grid.transform
        return abs(a * e - b * d) * self.ground_scale[0] * self.ground_scale[1]

    @property
    def ground_resolution(self) -> float:
        """Ground pixel size (m; geometric mean of the two axes)."""
        return math.sqrt(self.pixel_area)

def _validity_in_values(ds) -> bool:
    """True when the values alone tell which pixels are valid: no mask band or alpha,
    at most a nodata value (then reading GDAL's dataset mask would decode the tile twice)."""
    from rasterio.enums import MaskFlags

    flags = getattr(ds, "mask_flag_enums", None)
    plain = {MaskFlags.all_valid, MaskFlags.nodata}
    return bool(flags) and all(set(f) <= plain for f in flags)

def _read(ds, path, tile: Tile, bands=None, *, native: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
    """Read a window with its validity mask; errors name the window.

    Values come as float32, or in the file's own type with ``native=True``. A pixel is
    invalid where GDAL's dataset mask says so, where any band holds the nodata value, or
    where a value is not finite. The validity mask is None when every pixel is valid.
    """
    from rasterio.errors import RasterioError
    from rasterio.windows import Window

    win = Window(tile.read_col, tile.read_row, tile.read_width, tile.read_height)
    try:
        arr = ds.read(bands, window=win, out_dtype=None if native else "float32")
        valid = None if _validity_in_values(ds) else ds.dataset_mask(window=win) > 0
    except RasterioError as exc:
        raise TileReadError(
            f"could not read the raster here ({exc}); the file may be corrupt or truncated: "
            "re-export or repair it (e.g. gdal_translate) or cut this area out",
            source=str(path),
            location=tile.describe(),
        ) from exc
    if arr.dtype.kind == "f":
        finite = np.isfinite(arr).all(axis=0) if arr.ndim == 3 else np.isfinite(arr)
        if valid is not None:
            valid &= finite
        elif not finite.all():
            valid = finite
    if ds.nodata is not None and not math.isnan(ds.nodata):
        nd = np.asarray(ds.nodata).astype(arr.dtype)
        ok = ~((arr == nd).any(axis=0) if arr.ndim == 3 else arr == nd)
        valid = ok if valid is None else valid & ok
    return arr, valid

def _and_valid(valid: np.ndarray | None, more: np.ndarray | None) -> np.ndarray | None:
    """Combine validity masks where None means "all valid"."""
    if more is None:
        return valid
    if valid is None:
        return more.copy()
    valid &= more
    return valid


def seam_heights(cfg: ExtractConfig, outlines: list) -> tuple[np.ndarray, np.ndarray]:
    """Median and 95th-percentile height of buildings merged across tile seams.

    Each outline (pixel coordinates, the exact union of its pixels, before
    regularization) is rasterized over a window of the height raster just around it, so
    the statistics are those of all the building's pixels, as for a building inside one
    tile, and memory stays bounded by the largest building. Outlines are visited in row
    order so neighbouring windows share GDAL's block cache.

    Returns
    -------
    (median, p95) : numpy.ndarray of float64
        NaN where a building has no valid height pixel.
    """
    from contextlib import ExitStack

    import rasterio
    import shapely
    from rasterio.features import geometry_mask
    from rasterio.transform import Affine

    from remote_sensing.polygonize import height_stats

    med = np.full(len(outlines), np.nan)
    p95 = np.full(len(outlines), np.nan)
    if not outlines:
        return med, p95
    bounds = shapely.bounds(np.asarray(outlines, dtype=object))
    with ExitStack() as stack:
        stack.enter_context(rasterio.Env(GDAL_CACHEMAX=cfg.gdal_cache_mb * 2**20))
        names = ("ndsm",) if cfg.ndsm is not None else ("dsm", "dtm")
        ds = {}
        for name in names:
            path = getattr(cfg, name)
            opened = stack.enter_context(open_raster(path))
            ds[name] = stack.enter_context(aligned(opened, cfg.grid, cfg.warp.get(name, False)))
        for i in np.argsort(bounds[:, 1], kind="stable"):
            c0, r0 = int(np.floor(bounds[i, 0])), int(np.floor(bounds[i, 1]))
            c1, r1 = int(np.ceil(bounds[i, 2])), int(np.ceil(bounds[i, 3]))
            win = Tile(index=-1, row=0, col=0, core_row=r0, core_col=c0, core_height=r1 - r0,
                       core_width=c1 - c0, read_row=r0, read_col=c0, read_height=r1 - r0,
                       read_width=c1 - c0)
            if cfg.ndsm is not None:
                hag, valid = _read(ds["ndsm"], cfg.ndsm, win, 1)
            else:
                dsm, v1 = _read(ds["dsm"], cfg.dsm, win, 1)
                dtm, v2 = _read(ds["dtm"], cfg.dtm, win, 1)
                hag, valid = dsm - dtm, _and_valid(v1, v2)
            inside = geometry_mask([outlines[i]], out_shape=hag.shape, invert=True,
                                   transform=Affine.translation(c0, r0))
            med[i], p95[i] = height_stats(hag[inside if valid is None else inside & valid])
    return med, p95


def _pad_morph(binary: np.ndarray, k: int) -> np.ndarray:
    """Opening with a 3x3 square, ``k`` times, of the edge-padded mask (then cropped).

    Opening only (a square keeps rectangle corners): closing would bridge blobs that
    meet at a corner, which 4-connectivity keeps apart. Small holes are dropped at the
    polygon stage. Same result as ``scipy.ndimage.binary_opening`` on the padded array
    (border value 0), computed with OpenCV, several times faster.
    """
    if k <= 0:
        return binary
    import cv2

    p = cv2.copyMakeBorder(np.ascontiguousarray(binary, dtype=np.uint8), k + 1, k + 1, k + 1, k + 1,
                           cv2.BORDER_REPLICATE)
    out = cv2.morphologyEx(p, cv2.MORPH_OPEN, _SQUARE, iterations=k, borderType=cv2.BORDER_CONSTANT,
                           borderValue=0)
    return out[k + 1 : -(k + 1), k + 1 : -(k + 1)].view(bool)  # 0/1 bytes

_SQUARE = np.ones((3, 3), np.uint8)

def _drop_small_holes(poly, min_px: float):
    import shapely

    if not len(poly.interiors):
        return poly
    holes = [r for r in poly.interiors if shapely.Polygon(r).area >= min_px]
    return shapely.Polygon(poly.exterior, holes)

def _drop_small_holes_all(geoms: np.ndarray, min_px: float) -> np.ndarray:
    """:func:`_drop_small_holes` of many polygons (only those with holes are visited)."""
    import shapely

    geoms = np.asarray(geoms, dtype=object)
    if not len(geoms):
        return geoms
    holed = np.flatnonzero(shapely.get_num_interior_rings(geoms) > 0)
    if len(holed):
        geoms = geoms.copy()
        geoms[holed] = [_drop_small_holes(g, min_px) for g in geoms[holed]]
    return geoms


def process_tile(tile: Tile, cfg: ExtractConfig, datasets: dict, params: dict) -> dict:
    """Mask, polygonize and describe one tile.

    Parameters
    ----------
    tile : Tile
        The window to work on (its core and the overlap read around it).
    cfg : ExtractConfig
    datasets : dict
        Input name (``image``, ``ndsm``, ``dsm``, ``dtm``, ``mask``) -> open dataset
        aligned on ``cfg.grid`` (:func:`remote_sensing.tile_workers.open_inputs`).
    params : dict
        Options of the mask method (thresholds, the loaded model).

    Returns
    -------
    dict
        ``done_wkb``/``done_rows``: complete footprints (pixel-coordinate WKB and
        n_px, prob_sum, h_med, h_p95) that touch no seam; ``seam_wkb``/``seam_rows``:
        pieces touching a seam, to be merged by the parent; ``seconds``: time per
        stage in CPU seconds (read, mask, label, stats, trace, regularize, serialize).
    """
    import time

    import shapely

    from remote_sensing.polygonize import blob_stats, label_blobs, polygonize_labels, seam_labels
    from remote_sensing.regularize import regularize_all

    ds = datasets
    clock = time.process_time  # CPU seconds: the figures stay meaningful on a busy machine
    t0 = clock()
    sec: dict[str, float] = {}
    valid: np.ndarray | None = None  # None: every pixel valid
    hag = image = mask = None
    if "image" in ds:
        # the height method takes only an NDVI from the image: no float copy of every band
        image, v = _read(ds["image"], cfg.image, tile, native=cfg.method == "ndsm")
        valid = _and_valid(valid, v)
    if "ndsm" in ds:
        hag, v = _read(ds["ndsm"], cfg.ndsm, tile, 1)
        valid = _and_valid(valid, v)
    elif "dsm" in ds and "dtm" in ds:
        dsm, v1 = _read(ds["dsm"], cfg.dsm, tile, 1)
        dtm, v2 = _read(ds["dtm"], cfg.dtm, tile, 1)
        hag = dsm - dtm
        valid = _and_valid(_and_valid(valid, v1), v2)
    binary_mask = cfg.method == "mask" and not cfg.mask_is_probability
    if "mask" in ds:
        # a class raster is compared in its own type: no float copy of the tile
        mask, v = _read(ds["mask"], cfg.mask, tile, 1, native=binary_mask)
        valid = _and_valid(valid, v)
    t1 = clock()
    sec["read"] = t1 - t0
    if binary_mask:
        prob = None
        above = mask >= float(params.get("threshold", 0.5))
        if valid is not None:
            above &= valid
        binary = _pad_morph(above, cfg.morphology)
        if valid is not None:
            binary &= valid  # the opening pads with edge values, never past invalid pixels
    else:
        if valid is None:
            valid = np.ones((tile.read_height, tile.read_width), dtype=bool)
        inputs = TileInputs(valid=valid, resolution=cfg.ground_resolution, nir_band=cfg.nir_band,
                            image=image, hag=hag, mask=None if mask is None else mask.astype(np.float32))
        prob = np.asarray(get_method(cfg.method)(inputs, params), dtype=np.float32)
        interior = None
        if prob.ndim == 3:  # a model with an interior output: (building, interior)
            prob, interior = prob[0], prob[1]
        prob[~valid] = 0.0
        if cfg.postprocess == "objects":
            from remote_sensing.objects import objects_mask

            objects = dict(cfg.objects or {})
            if "seed_min_m2" in objects:  # the card gives it on the ground
                objects["seed_min_px"] = float(objects.pop("seed_min_m2")) / cfg.pixel_area
            binary = objects_mask(prob, valid=valid, min_px=cfg.min_area_m2 / cfg.pixel_area,
                                  interior=interior, **objects)
        else:
            binary = prob >= 0.5
        binary = _pad_morph(binary, cfg.morphology) & valid

    cs = tile.core_slices
    core = binary[cs]
    t2 = clock()
    sec["mask"] = t2 - t1
    labels, n = label_blobs(core)
    t3 = clock()
    sec["label"] = t3 - t2
    if n == 0:
        none = np.zeros((0, 4))
        return {"index": tile.index, "n_px": 0, "done_wkb": [], "done_rows": none, "seam_wkb": [],
                "seam_rows": none, "seconds": sec}
    hag_core = hag[cs] if hag is not None else None
    stats = None
    if prob is not None or hag_core is not None:
        stats = blob_stats(labels, n, None if prob is None else prob[cs], hag_core)
    t4 = clock()
    sec["stats"] = t4 - t3
    polys = polygonize_labels(labels, tile.core_row, tile.core_col, mask=core)
    t5 = clock()
    sec["trace"] = t5 - t4
    g = cfg.grid
    seam_ids = seam_labels(
        labels,
        top=tile.core_row > 0,
        bottom=tile.core_row + tile.core_height < g.height,
        left=tile.core_col > 0,
        right=tile.core_col + tile.core_width < g.width,
    )
    ids = np.fromiter(polys.keys(), dtype=np.int64, count=len(polys))
    geoms = np.fromiter(polys.values(), dtype=object, count=len(polys))
    if stats is None:
        # a binary mask without heights: a blob's pixel count is its outline's area
        # (pixel corners at integers, so the area is exact), and its probability sum too
        n_px = shapely.area(geoms)
        nan = np.full(len(geoms), np.nan)
        rows = np.column_stack([n_px, n_px, nan, nan])
    else:
        rows = np.column_stack([stats["n_px"][ids], stats["prob_sum"][ids], stats["h_med"][ids],
                                stats["h_p95"][ids]]).astype(np.float64)
    on_seam = np.isin(ids, seam_ids)
    min_px = cfg.min_area_m2 / cfg.pixel_area
    done = ~on_seam & (shapely.area(geoms) >= min_px)
    done_geoms = _drop_small_holes_all(geoms[done], min_px)
    if len(done_geoms) and cfg.regularize:
        # blobs of one label image are 4-connected components: none shares a wall
        done_geoms = regularize_all(done_geoms, tolerance=cfg.regularize_tolerance, shared_walls=False)
    t6 = clock()
    sec["regularize"] = t6 - t5
    out = {"index": tile.index, "n_px": int(core.sum()),
           "done_wkb": shapely.to_wkb(done_geoms) if len(done_geoms) else [], "done_rows": rows[done],
           "seam_wkb": shapely.to_wkb(geoms[on_seam]) if on_seam.any() else [], "seam_rows": rows[on_seam],
           "seconds": sec}
    sec["serialize"] = clock() - t6
    return out
