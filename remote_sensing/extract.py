"""The footprint extraction pipeline: rasters in, building polygons out, in bounded memory.

:func:`prepare_config` checks the inputs and settles the worker configuration;
:func:`extract_footprints` cuts the grid into tiles, runs the tile kernel
(:mod:`remote_sensing.tile_kernel`) over them where :mod:`remote_sensing.tile_workers`
says (this process or a pool of workers), hands finished footprints to the *sink*
in batches, and once all tiles are done merges the pieces that touch seams exactly
across them, filters, regularizes and emits them too.

Memory: each worker holds one tile's arrays; the parent holds at most
``4 x workers`` pending tile results (polygons, not pixels) and the seam pieces; finished footprints stream
to the sink (a file being written), so peak memory does not grow with the
image size.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from gis.errors import ConfigError, DataError
from gis.progress import Progress
from remote_sensing.errors import NoFootprintsError
from remote_sensing.ground import metres_per_unit
from remote_sensing.masks import MASK_METHODS, get_method
from remote_sensing.readers import (
    Grid,
    alpha_bands,
    check_georeferenced,
    grid_of,
    image_date,
    open_raster,
    overlap_check,
)
from remote_sensing.tile_kernel import ExtractConfig, _drop_small_holes_all
from remote_sensing.tile_workers import _seam_heights_on, run_tiles
from remote_sensing.windows import tile_grid

__all__ = ["ExtractConfig", "ExtractResult", "extract_footprints", "prepare_config",
           "with_options"]

log = logging.getLogger(__name__)


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
        scale = metres_per_unit(ds.crs, ds.bounds)
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
        from remote_sensing.features import CONTEXT_RADIUS

        overlap = max(overlap, CONTEXT_RADIUS + 4)
    post = options.pop("postprocess", "auto")
    objects = options.pop("objects", None)
    if post == "auto":
        post = "objects" if method == "onnx" else "threshold"
    if post not in ("objects", "threshold"):
        raise ConfigError(f"unknown post-processing {post!r}; choose objects or threshold")
    if options.get("tta") is not None:
        from remote_sensing.onnx_model import TTA_CHOICES

        if method != "onnx":
            raise ConfigError(f"test-time augmentation (--tta) applies to the onnx method, not {method}")
        if options["tta"] not in TTA_CHOICES:
            raise ConfigError(f"--tta must be one of {', '.join(map(str, TTA_CHOICES))}, not {options['tta']!r}")
    ground_res = math.sqrt(abs(grid.transform[0] * grid.transform[4]) * scale[0] * scale[1])
    if method == "onnx" and isinstance(model, (str, Path)):
        from remote_sensing.onnx_model import check_model_fits, read_model_card

        card = read_model_card(model)
        overlap = max(overlap, int(card.get("overlap", 32)))
        with open_raster(paths["image"]) as ds:
            check_model_fits(card, n_bands=ds.count, n_alpha=len(alpha_bands(ds)), resolution=ground_res,
                             image=paths["image"], model=str(model))
        if objects is None and isinstance(card.get("postprocess"), dict):
            objects = {k: card["postprocess"][k] for k in ("low", "high", "split", "seed", "seed_min_m2")
                       if k in card["postprocess"]}
    if method == "classify":
        _check_model_resolution(model, ground_res, paths["image"])
    cfg = ExtractConfig(method=method, model=model, grid=grid, warp=warp, overlap=overlap,
                        postprocess=post, objects=objects, ground_scale=scale, **paths, **options)
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

    from remote_sensing.attributes import attribute_table
    from remote_sensing.polygonize import merge_pieces, seam_groups, to_world
    from remote_sensing.regularize import regularize_all

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
        attrs = attribute_table(stats, areas_m2=shapely.area(world) * cfg.ground_scale[0] * cfg.ground_scale[1],
                                resolution=cfg.ground_resolution,
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

    n_seam, n_merged = run_tiles(cfg, tiles, consume, merge_seams)

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

def with_options(cfg: ExtractConfig, **changes: Any) -> ExtractConfig:
    """A copy of a config with some options changed."""
    return replace(cfg, **changes)
