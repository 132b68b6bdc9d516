"""The footprint extraction tool: rasters in, building polygons out, in bounded memory.

Pipeline per tile (in worker processes): read the tile's overlapping window of
every input (aligned onto the image grid), compute a building probability with
a mask method (:mod:`remote_sensing.masks`), threshold, mask nodata, clean up
with a 4-connected opening, keep the core, label blobs, trace them
in image pixel coordinates (:mod:`remote_sensing.polygonize`) and compute
per-blob statistics. Blobs that do not touch a seam are complete buildings:
they are filtered by area, regularized and handed to the *sink* right away.
Blobs touching a seam are kept (geometry plus a few numbers) until all tiles
are done, then merged exactly across seams, filtered, regularized and emitted.

Workers are forked from the caller when that is safe (no other thread, no library with a
thread pool loaded), otherwise started by a fork server (:func:`_worker_context`); the
parent writes finished footprints in batches while the workers run.

Memory: each worker holds one tile's arrays; the parent holds at most
``4 x workers`` pending tile results (polygons, not pixels) and the seam pieces; finished footprints stream
to the sink (a file being written), so peak memory does not grow with the
image size.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from gis.errors import ConfigError, DataError
from gis.progress import Progress

from .errors import NoFootprintsError, TileReadError
from .masks import MASK_METHODS, TileInputs, get_method
from .readers import (
    Grid,
    aligned,
    check_georeferenced,
    grid_of,
    image_date,
    open_raster,
    overlap_check,
)
from .windows import Tile, tile_grid

log = logging.getLogger(__name__)


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
    workers: int = 1
    gdal_cache_mb: int = 64
    #: finished footprints go to the sink in batches of this many (one write per
    #: batch, not per tile; memory stays bounded by the batch; small enough that the
    #: writing overlaps the workers' tiles instead of waiting for the end)
    batch_rows: int = 5_000

    @property
    def pixel_area(self) -> float:
        a, b, _, d, e, _ = self.grid.transform
        return abs(a * e - b * d)


@dataclass
class ExtractResult:
    """Summary of an extraction (the footprints went to the sink)."""

    n_footprints: int
    n_tiles: int
    n_seam_pieces: int
    n_seam_merged: int
    megapixels: float
    grid: Grid
    image_date: str | None
    image_id: str
    method: str
    model_card: dict | None = None
    extras: dict = field(default_factory=dict)


# ----------------------------------------------------------------------------- worker side

_STATE: dict[str, Any] = {}


def _init_worker(cfg: ExtractConfig) -> None:
    """Worker initializer: remember the config; datasets are opened on first use."""
    _STATE.clear()
    _STATE["cfg"] = cfg
    if cfg.workers > 1:  # one thread per worker: the workers already use every core
        os.environ.setdefault("OMP_NUM_THREADS", "1")
        import cv2

        cv2.setNumThreads(1)


def _open_inputs(cfg: ExtractConfig) -> dict:
    if "datasets" in _STATE:
        return _STATE["datasets"]
    from contextlib import ExitStack

    import rasterio

    stack = ExitStack()
    # GDAL's block cache defaults to 5 % of RAM per process; bound it so that
    # memory does not grow with the image (tiles are read once anyway).
    stack.enter_context(rasterio.Env(GDAL_CACHEMAX=cfg.gdal_cache_mb * 2**20))
    out = {}
    for name in ("image", "ndsm", "dsm", "dtm", "mask"):
        path = getattr(cfg, name)
        if path is None:
            continue
        ds = stack.enter_context(open_raster(path))
        out[name] = stack.enter_context(aligned(ds, cfg.grid, cfg.warp.get(name, False)))
    params: dict[str, Any] = {
        "height_threshold": cfg.height_threshold,
        "ndvi_threshold": cfg.ndvi_threshold,
        "is_probability": cfg.mask_is_probability,
    }
    if cfg.threshold is not None:
        params["threshold"] = cfg.threshold
    if cfg.method == "classify":
        from .classifier import load_classifier

        params["model"] = load_classifier(cfg.model) if isinstance(cfg.model, (str, Path)) else cfg.model
    elif cfg.method == "onnx":
        from .onnx_model import load_onnx_model

        threads = 1 if cfg.workers > 1 else 0
        params["model"] = (
            load_onnx_model(cfg.model, threads=threads) if isinstance(cfg.model, (str, Path)) else cfg.model
        )
        params["tta"] = cfg.tta
    _STATE["stack"] = stack
    _STATE["datasets"] = out
    _STATE["params"] = params
    return out


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

    from .polygonize import height_stats

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


def _seam_heights_on(run, cfg: ExtractConfig, outlines: list) -> tuple[np.ndarray, np.ndarray]:
    """:func:`seam_heights` of many outlines, in row-ordered chunks mapped with ``run``
    (a worker pool's ``map``), or here when ``run`` is None."""
    import shapely

    if run is None or not outlines:
        return seam_heights(cfg, outlines)
    outlines = np.asarray(outlines, dtype=object)
    order = np.argsort(shapely.bounds(outlines)[:, 1], kind="stable")
    chunks = [c for c in np.array_split(order, max(1, min(len(order) // 64, 4 * max(1, cfg.workers))))
              if len(c)]
    med = np.full(len(outlines), np.nan)
    p95 = np.full(len(outlines), np.nan)
    wkbs = [shapely.to_wkb(outlines[c]) for c in chunks]
    for c, (m, p) in zip(chunks, run(_seam_heights_chunk, wkbs), strict=True):
        med[c], p95[c] = m, p
    return med, p95


def _seam_heights_chunk(wkbs) -> tuple[np.ndarray, np.ndarray]:
    """Worker side of :func:`_seam_heights_on`."""
    import shapely

    return seam_heights(_STATE["cfg"], list(shapely.from_wkb(wkbs)))


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


def process_tile(tile: Tile, cfg: ExtractConfig | None = None) -> dict:
    """Mask, polygonize and describe one tile (runs in a worker process).

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

    from .polygonize import blob_stats, label_blobs, polygonize_labels, seam_labels
    from .regularize import regularize_all

    cfg = cfg or _STATE["cfg"]
    if _STATE.get("cfg") is not cfg:
        _init_worker(cfg)
    ds = _open_inputs(cfg)
    params = _STATE["params"]
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
        inputs = TileInputs(valid=valid, resolution=cfg.grid.resolution, nir_band=cfg.nir_band,
                            image=image, hag=hag, mask=None if mask is None else mask.astype(np.float32))
        prob = np.asarray(get_method(cfg.method)(inputs, params), dtype=np.float32)
        prob[~valid] = 0.0
        if cfg.postprocess == "objects":
            from .objects import objects_mask

            binary = objects_mask(prob, valid=valid, min_px=cfg.min_area_m2 / cfg.pixel_area,
                                  **(cfg.objects or {}))
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


def _safe_process(tile: Tile) -> dict:
    try:
        return process_tile(tile)
    except DataError:
        raise
    except Exception as exc:  # report the tile; keep the traceback in the chain
        raise TileReadError(f"processing failed: {type(exc).__name__}: {exc}",
                            source=_STATE["cfg"].image or _STATE["cfg"].ndsm,
                            location=tile.describe()) from exc


# ----------------------------------------------------------------------------- parent side


def prepare_config(
    *,
    method: str = "ndsm",
    image: str | Path | None = None,
    ndsm: str | Path | None = None,
    dsm: str | Path | None = None,
    dtm: str | Path | None = None,
    mask: str | Path | None = None,
    model: Any = None,
    **options: Any,
) -> tuple[ExtractConfig, dict]:
    """Check the inputs and build the worker configuration.

    The first of image, nDSM, DSM and mask defines the grid; the others must
    overlap it and are resampled onto it (with a warning) when their grid differs.

    Returns
    -------
    cfg, meta
        ``meta`` holds ``image_date`` (from tags) and ``grid_source``.

    Raises
    ------
    CRSError, RasterMismatchError, ConfigError
        Missing CRS, no overlap, missing inputs for the method.
    """
    if method not in MASK_METHODS:
        get_method(method)  # raises with the list of valid names
    need = {
        "ndsm": "an nDSM (--ndsm) or a DSM and DTM (--dsm/--dtm)",
        "classify": "an image (--image) and a model or training reference",
        "onnx": "an image (--image) and an ONNX model (--model)",
        "mask": "a mask raster (--mask)",
    }
    if method == "ndsm" and ndsm is None and not (dsm is not None and dtm is not None):
        raise ConfigError(f"the ndsm method needs {need['ndsm']}")
    if method in ("classify", "onnx") and (image is None or model is None):
        raise ConfigError(f"the {method} method needs {need[method]}")
    if method == "mask" and mask is None:
        raise ConfigError(f"the mask method needs {need['mask']}")
    if (dsm is None) != (dtm is None):
        raise ConfigError("give both --dsm and --dtm (or an nDSM with --ndsm)")
    paths = {k: (str(v) if v is not None else None) for k, v in
             {"image": image, "ndsm": ndsm, "dsm": dsm, "dtm": dtm, "mask": mask}.items()}
    if method == "mask":
        paths["ndsm"] = paths["ndsm"]  # heights used for attributes when given
    order = [k for k in ("image", "ndsm", "dsm", "mask") if paths[k]]
    grid_name = order[0]
    with open_raster(paths[grid_name]) as ds:
        check_georeferenced(ds, paths[grid_name])
        grid = grid_of(ds)
        tags = ds.tags()
        if ds.count == 0:
            raise DataError("the raster has no bands", source=paths[grid_name])
    warp = {grid_name: False}
    for name, path in paths.items():
        if path is None or name == grid_name:
            continue
        with open_raster(path) as ds:
            warp[name] = overlap_check(grid, ds, path, {"ndsm": "nDSM", "dsm": "DSM", "dtm": "DTM"}.get(name, name))
    if method == "ndsm" and paths["image"] is None:
        options["ndvi_threshold"] = options.get("ndvi_threshold", 0.3)
    overlap = int(options.pop("overlap", 32))
    if method == "classify":
        from .features import CONTEXT_RADIUS

        overlap = max(overlap, CONTEXT_RADIUS + 4)
    post = options.pop("postprocess", "auto")
    objects = options.pop("objects", None)
    if post == "auto":
        post = "objects" if method == "onnx" else "threshold"
    if post not in ("objects", "threshold"):
        raise ConfigError(f"unknown post-processing {post!r}; choose objects or threshold")
    if options.get("tta") is not None:
        from .onnx_model import TTA_CHOICES

        if method != "onnx":
            raise ConfigError(f"test-time augmentation (--tta) applies to the onnx method, not {method}")
        if options["tta"] not in TTA_CHOICES:
            raise ConfigError(f"--tta must be one of {', '.join(map(str, TTA_CHOICES))}, not {options['tta']!r}")
    if method == "onnx" and isinstance(model, (str, Path)):
        from .onnx_model import check_model_fits, read_model_card

        card = read_model_card(model)
        overlap = max(overlap, int(card.get("overlap", 32)))
        with open_raster(paths["image"]) as ds:
            check_model_fits(card, n_bands=ds.count, resolution=grid.resolution,
                             image=paths["image"], model=str(model))
        if objects is None and isinstance(card.get("postprocess"), dict):
            objects = {k: card["postprocess"][k] for k in ("low", "high", "split")
                       if k in card["postprocess"]}
    if method == "classify":
        _check_model_resolution(model, grid.resolution, paths["image"])
    cfg = ExtractConfig(method=method, model=model, grid=grid, warp=warp, overlap=overlap,
                        postprocess=post, objects=objects, **paths, **options)
    return cfg, {"image_date": image_date(tags), "grid_source": paths[grid_name]}


def extract_footprints(
    cfg: ExtractConfig,
    *,
    sink: Callable[[Any], None] | None = None,
    image_id: str | None = None,
    date: str | None = None,
    storey_height_m: float = 3.5,
    to_crs: Any = None,
    progress: Progress | None = None,
    meta: dict | None = None,
):
    """Run the pipeline over all tiles; stream footprints to ``sink`` in batches.

    Parameters
    ----------
    cfg : ExtractConfig
        From :func:`prepare_config`.
    sink : callable, optional
        Receives GeoDataFrame batches in the output CRS. When None, the
        batches are collected and returned as one GeoDataFrame.
    image_id, date : str, optional
        Image identifier (default: the grid file's stem) and acquisition date
        ``YYYY-MM-DD`` (default: from the image tags).
    storey_height_m : float
        Storey height for storeys = height / storey height.
    to_crs : CRS-like, optional
        Output CRS (default: the image CRS).
    progress : callable, optional
        Called with the number of tiles finished.

    Returns
    -------
    ExtractResult or (GeoDataFrame, ExtractResult)
        The summary; with ``sink=None`` also the footprints.

    Raises
    ------
    NoFootprintsError
        No building was found anywhere.
    TileReadError
        A tile could not be read; the message names its window.
    """
    import time

    import shapely

    from .attributes import attribute_table
    from .polygonize import merge_pieces, seam_groups, to_world
    from .regularize import regularize_all

    meta = meta or {}
    grid = cfg.grid
    tiles = tile_grid(grid.height, grid.width, cfg.tile_size, cfg.overlap)
    grid_source = meta.get("grid_source") or cfg.image or cfg.ndsm or cfg.mask or cfg.dsm
    image_id = image_id or Path(str(grid_source)).stem
    date = date or meta.get("image_date")
    collected: list = []
    emit = sink if sink is not None else collected.append
    n_out = 0

    buffered: list[tuple[np.ndarray, np.ndarray]] = []
    n_buffered = 0

    def emit_rows(geoms_px, rows):
        """Queue finished footprints; they go to the sink in batches of ``cfg.batch_rows``."""
        nonlocal n_buffered
        if not len(geoms_px):
            return
        buffered.append((np.asarray(geoms_px, dtype=object), np.asarray(rows, dtype=float).reshape(-1, 4)))
        n_buffered += len(geoms_px)
        if n_buffered >= cfg.batch_rows:
            flush()

    def flush():
        """Attributes, world coordinates and one GeoDataFrame per batch, handed to the sink."""
        nonlocal n_out, n_buffered
        if not buffered:
            return
        t_flush = time.process_time()
        geoms_px = np.concatenate([b[0] for b in buffered])
        rows = np.concatenate([b[1] for b in buffered])
        buffered.clear()
        n_buffered = 0
        world = to_world(geoms_px, grid.transform)
        bad = np.flatnonzero(~shapely.is_valid(world))
        if len(bad):  # the outlines are valid by construction; repair what rounding broke
            world[bad] = [_polygonal(g) for g in shapely.make_valid(world[bad])]
        keep = ~shapely.is_empty(world)
        world, rows = world[keep], rows[keep]
        stats = {"n_px": rows[:, 0], "prob_sum": rows[:, 1], "h_med": rows[:, 2], "h_p95": rows[:, 3]}
        attrs = attribute_table(stats, areas_m2=shapely.area(world), resolution=grid.resolution,
                                method=cfg.method, image_id=image_id, image_date=date,
                                storey_height_m=storey_height_m)
        import geopandas as gpd  # here, not above: the workers start while it loads

        frame = gpd.GeoDataFrame(attrs, geometry=world, crs=grid.crs_wkt)
        if to_crs is not None:
            frame = frame.to_crs(to_crs)
        n_out += len(frame)
        t_attr = time.process_time()
        emit(frame)
        timing["attributes"] = timing.get("attributes", 0.0) + t_attr - t_flush
        timing["write"] = timing.get("write", 0.0) + time.process_time() - t_attr

    seam_wkb: list[bytes] = []
    seam_rows: list[tuple] = []

    timing: dict[str, float] = {}

    def consume(res: dict) -> None:
        for k, v in res.get("seconds", {}).items():
            timing[k] = timing.get(k, 0.0) + v
        if len(res["done_wkb"]):
            emit_rows(shapely.from_wkb(res["done_wkb"]), res["done_rows"])
        if len(res["seam_wkb"]):
            seam_wkb.extend(res["seam_wkb"])
            seam_rows.extend(res["seam_rows"])
        if progress is not None:
            progress(1)

    def merge_seams(run) -> tuple[int, int]:
        """Merge the seam pieces into buildings and queue them; ``run``: the workers' map, or None."""
        n_seam = len(seam_wkb)
        if not n_seam:
            return 0, 0
        t_seam = time.process_time()
        geoms = shapely.from_wkb(seam_wkb)
        rows = np.asarray(seam_rows, dtype=float)
        groups = seam_groups(geoms)
        merged = merge_pieces(geoms, groups)
        n_groups = len(merged)
        n_merged = n_seam - n_groups
        cnt = np.bincount(groups, weights=rows[:, 0], minlength=n_groups)
        psum = np.bincount(groups, weights=rows[:, 1], minlength=n_groups)
        hw = np.where(np.isfinite(rows[:, 2]), rows[:, 2], 0.0) * rows[:, 0]
        hn = np.where(np.isfinite(rows[:, 2]), rows[:, 0], 0.0)
        hsum = np.bincount(groups, weights=hw, minlength=n_groups)
        hcnt = np.bincount(groups, weights=hn, minlength=n_groups)
        with np.errstate(invalid="ignore", divide="ignore"):
            hmed = np.where(hcnt > 0, hsum / hcnt, np.nan)
        hp95 = np.full(n_groups, np.nan)
        finite = np.isfinite(rows[:, 3])
        np.fmax.at(hp95, groups[finite], rows[finite, 3])
        pieces_per_group = np.bincount(groups, minlength=n_groups)
        multi = np.flatnonzero(pieces_per_group > 1)
        if multi.size and (cfg.ndsm is not None or (cfg.dsm is not None and cfg.dtm is not None)):
            # pieces' statistics do not combine into the building's median: read its pixels
            exact_med, exact_p95 = _seam_heights_on(run, cfg, [merged[i] for i in multi])
            hmed[multi], hp95[multi] = exact_med, exact_p95
        min_px = cfg.min_area_m2 / cfg.pixel_area
        merged_arr = np.asarray(merged, dtype=object)
        keep = shapely.area(merged_arr) >= min_px
        merged_arr = _drop_small_holes_all(merged_arr[keep], min_px)
        if cfg.regularize and len(merged_arr):
            merged_arr = regularize_all(merged_arr, tolerance=cfg.regularize_tolerance)
        timing["seam_merge"] = time.process_time() - t_seam
        emit_rows(merged_arr, np.column_stack([cnt, psum, hmed, hp95])[keep])
        return n_seam, n_merged

    if cfg.workers <= 1:
        _init_worker(cfg)
        try:
            for tile in tiles:
                consume(_safe_process(tile))
        finally:
            _close_state()
        n_seam, n_merged = merge_seams(None)
    else:
        import threading

        ctx = _worker_context()
        with ProcessPoolExecutor(cfg.workers, mp_context=ctx, initializer=_init_worker,
                                 initargs=(cfg,)) as pool:
            if ctx.get_start_method() == "fork":
                pool.submit(int)  # forks every worker now, before any thread of ours starts
            # the parent waits on the workers most of the time: load what it needs for
            # writing and seam merging meanwhile, not after the last tile
            threading.Thread(target=_warm_parent_imports, daemon=True).start()
            pending = set()
            it = iter(tiles)
            limit = 4 * cfg.workers  # results are small: a deeper queue keeps workers busy
            while True:
                while len(pending) < limit:
                    tile = next(it, None)
                    if tile is None:
                        break
                    pending.add(pool.submit(_safe_process, tile))
                if not pending:
                    break
                finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                for fut in finished:
                    try:
                        consume(fut.result())
                    except BaseException:
                        for other in pending:
                            other.cancel()
                        raise
            n_seam, n_merged = merge_seams(pool.map)  # seam heights are read by the workers

    flush()
    result = ExtractResult(
        n_footprints=n_out, n_tiles=len(tiles), n_seam_pieces=n_seam, n_seam_merged=n_merged,
        megapixels=grid.width * grid.height / 1e6, grid=grid, image_date=date, image_id=image_id,
        method=cfg.method, extras={"seconds": {k: round(v, 3) for k, v in timing.items()}},
    )
    if n_out == 0:
        raise NoFootprintsError(
            f"no building found by the {cfg.method} method over {result.megapixels:.2f} "
            "megapixels; check the threshold, the nodata value and that the inputs show buildings",
            source=str(grid_source),
        )
    if sink is None:
        import geopandas as gpd
        import pandas as pd

        frame = gpd.GeoDataFrame(
            pd.concat(collected, ignore_index=True), crs=collected[0].crs
        )
        return frame, result
    return result


def _check_model_resolution(model, resolution: float, image) -> None:
    """Warn when a classifier meets an image of another ground resolution (it will not transfer)."""
    import warnings

    if isinstance(model, (str, Path)):
        import json

        card_path = Path(model).with_suffix(".json")
        res = json.loads(card_path.read_text()).get("resolution") if card_path.exists() else None
    else:
        res = getattr(model, "resolution", None)
    if res and abs(resolution / float(res) - 1) > 0.05:
        msg = (f"{image}: the classifier was trained at {float(res):g} m but the image is "
               f"{resolution:g} m; a pixel classifier does not transfer across ground resolutions, "
               "so expect poor footprints (train on imagery like this one)")
        log.warning(msg)
        warnings.warn(msg, UserWarning, stacklevel=3)


def _polygonal(geom):
    """Keep only the polygonal part of a (made-valid) geometry."""
    import shapely

    if geom is None or geom.is_empty:
        return shapely.Polygon()
    if isinstance(geom, (shapely.Polygon, shapely.MultiPolygon)):
        return geom
    parts = [g for g in getattr(geom, "geoms", []) if isinstance(g, (shapely.Polygon, shapely.MultiPolygon))]
    if not parts:
        return shapely.Polygon()
    u = shapely.union_all(parts)
    return u


#: what a worker imports before its first tile; the fork server loads it once for all workers
_WORKER_MODULES = ["numpy", "scipy.ndimage", "shapely", "rasterio", "remote_sensing.extract",
                   "remote_sensing.polygonize", "remote_sensing.regularize", "remote_sensing.masks"]


#: modules whose native thread pools make forking the process that loaded them unsafe
#: (OpenCV's pool, once used, deadlocks a forked child's first call; scikit-learn runs
#: OpenMP, whose pool does the same)
_THREADED_MODULES = ("cv2", "jax", "jaxlib", "onnxruntime", "sklearn", "torch", "tensorflow")
#: OpenMP runtimes: a process that has loaded one (through any package) is not forked
_OPENMP_LIBRARIES = ("libgomp", "libomp", "libiomp")


def _openmp_loaded() -> bool:
    """True when an OpenMP runtime is mapped into this process (Linux; False elsewhere)."""
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as maps:
            return any(lib in line for line in maps for lib in _OPENMP_LIBRARIES)
    except OSError:
        return False


def _worker_context():
    """A multiprocessing context for tile workers.

    ``fork`` when the caller runs no other thread and has loaded no library that
    runs its own thread pool, OpenMP included (the usual case: ``mujun footprints
    extract``): workers start at once with the caller's modules. Otherwise a fork server, a clean process
    with the tile modules preloaded, which is safe whatever the caller runs, and
    ``spawn`` where neither exists (Windows).
    """
    import multiprocessing as mp
    import sys
    import threading

    methods = mp.get_all_start_methods()
    if ("fork" in methods and threading.active_count() == 1
            and not any(m in sys.modules for m in _THREADED_MODULES) and not _openmp_loaded()):
        return mp.get_context("fork")
    if "forkserver" in methods:
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(_WORKER_MODULES)
        return ctx
    return mp.get_context("spawn")


def _warm_parent_imports() -> None:
    """Import the modules the parent needs after the tiles (runs in a thread)."""
    import geopandas  # noqa: F401
    import pyogrio  # noqa: F401
    import scipy.sparse.csgraph  # noqa: F401


def _close_state() -> None:
    stack = _STATE.pop("stack", None)
    if stack is not None:
        stack.close()
    _STATE.clear()


def with_options(cfg: ExtractConfig, **changes: Any) -> ExtractConfig:
    """A copy of a config with some options changed."""
    return replace(cfg, **changes)
