"""Where extraction's tiles run: this process, or a pool of worker processes.

:func:`run_tiles` maps the tile kernel (:func:`remote_sensing.tile_kernel.process_tile`)
over the tiles. Each process opens its inputs once (:func:`open_inputs`, GDAL's block
cache bounded) and keeps them in its own state. Workers are forked from the caller when
that is safe (no other thread, no library with a thread pool loaded), otherwise started
by a fork server (:func:`_worker_context`); the parent consumes results while the
workers run.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from gis.errors import DataError
from remote_sensing.errors import TileReadError
from remote_sensing.readers import aligned, open_raster
from remote_sensing.tile_kernel import ExtractConfig, process_tile, seam_heights
from remote_sensing.windows import Tile

T = TypeVar("T")

_STATE: dict[str, Any] = {}

def _init_worker(cfg: ExtractConfig) -> None:
    """Worker initializer: remember the config; datasets are opened on first use."""
    _STATE.clear()
    _STATE["cfg"] = cfg
    if cfg.workers > 1:  # one thread per worker: the workers already use every core
        os.environ.setdefault("OMP_NUM_THREADS", "1")
        import cv2

        cv2.setNumThreads(1)


def open_inputs(cfg: ExtractConfig) -> tuple[dict, dict]:
    """This process's open inputs and mask-method options (opened on first use)."""
    if "datasets" in _STATE:
        return _STATE["datasets"], _STATE["params"]
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
        from remote_sensing.classifier import load_classifier

        params["model"] = load_classifier(cfg.model) if isinstance(cfg.model, (str, Path)) else cfg.model
    elif cfg.method == "onnx":
        from remote_sensing.onnx_model import load_onnx_model

        threads = 1 if cfg.workers > 1 else 0
        params["model"] = (
            load_onnx_model(cfg.model, threads=threads) if isinstance(cfg.model, (str, Path)) else cfg.model
        )
        params["tta"] = cfg.tta
    _STATE["stack"] = stack
    _STATE["datasets"] = out
    _STATE["params"] = params
    return out, params


def _safe_process(tile: Tile) -> dict:
    """The tile kernel on one tile, with this process's inputs; failures name the tile."""
    try:
        cfg = _STATE["cfg"]
        return process_tile(tile, cfg, *open_inputs(cfg))
    except DataError:
        raise
    except Exception as exc:  # report the tile; keep the traceback in the chain
        raise TileReadError(f"processing failed: {type(exc).__name__}: {exc}",
                            source=_STATE["cfg"].image or _STATE["cfg"].ndsm,
                            location=tile.describe()) from exc


def run_tiles(cfg: ExtractConfig, tiles: list[Tile], consume: Callable[[dict], None],
              then: Callable[[Callable | None], T]) -> T:
    """Process every tile and hand each result to ``consume``, then call ``then``.

    With ``cfg.workers > 1`` the tiles run in a pool of worker processes, at most
    ``4 x workers`` of them pending at a time (results are polygons, not pixels), and
    ``then`` gets the pool's ``map`` while the workers still live (the seams' heights
    are read there); with one worker everything runs here and ``then`` gets None.

    Returns
    -------
    What ``then`` returns.
    """
    if cfg.workers <= 1:
        _init_worker(cfg)
        try:
            for tile in tiles:
                consume(_safe_process(tile))
        finally:
            _close_state()
        return then(None)
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
        return then(pool.map)


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


#: what a worker imports before its first tile; the fork server loads it once for all workers
_WORKER_MODULES = ["numpy", "scipy.ndimage", "shapely", "rasterio", "remote_sensing.tile_kernel",
                   "remote_sensing.tile_workers",
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
