"""The ``dask`` engine: the same kernel per spatial partition on ``dask.distributed``.

Partitioning is done **once** and kept on disk (``<home>/cache/occupancy/<key>/``,
the key being a hash of the input fingerprint), as GeoParquet files that workers read
themselves; a later run on unchanged inputs reuses them. Partitions follow
district/town (parcels of one town together, large towns split), ordered along a
Hilbert curve, so each partition is spatially compact.

Exactness across partition boundaries: each parcel belongs to exactly one partition,
and a partition gets every footprint that intersects the bounding box of one of its
parcels, plus the footprints those overlap (the overlap resolution of the kernel only
looks one neighbour deep). Every footprint piece that touches a parcel is therefore in
that parcel's partition with the same piece geometry as in a single-machine run, so
the per-parcel numbers are the kernel's. Footprints near a boundary are simply read by
two partitions; no parcel is counted twice.

Workers run :func:`run_partition` (a plain function mapped over the partition files,
no ``sjoin``, so the dask-geopandas ``spatial_partitions``/attrs issues never arise).
With ``--scheduler ADDRESS`` the cluster is the user's (workers need mujun installed
and the partition folder on a shared path); otherwise a LocalCluster bound to
127.0.0.1 is started for the run and closed after it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from gis.errors import ConfigError
from parcels.occupancy.kernel import (
    DEFAULT_OPTIONS,
    RESULT_COLUMNS,
    KernelOptions,
    occupancy_kernel,
)

if TYPE_CHECKING:
    import geopandas as gpd
    import psycopg

    from gis.progress import Progress

log = logging.getLogger(__name__)

#: Parcels per partition at most (towns larger than this are split along the curve).
MAX_PARCELS_PER_PARTITION = 20_000
#: Bump when the partition layout changes, so old caches are not reused.
LAYOUT_VERSION = 1


def assign_partitions(parcels: gpd.GeoDataFrame,
                      max_parcels: int = MAX_PARCELS_PER_PARTITION) -> np.ndarray:
    """Partition number of each parcel: by district/town, then Hilbert order, chunked.

    Returns
    -------
    numpy.ndarray of int64
        Same length as ``parcels``; partitions are numbered 0..k-1 along the curve.
    """
    n = len(parcels)
    if n == 0:
        return np.zeros(0, dtype="int64")
    hilbert = parcels.geometry.hilbert_distance(total_bounds=parcels.total_bounds).to_numpy()
    keys = [parcels[c].fillna("").astype(str).to_numpy() for c in ("district", "town")
            if c in parcels.columns]
    frame = pd.DataFrame({"h": hilbert, "i": np.arange(n)})
    group = (pd.Series(list(zip(*keys, strict=True))).factorize()[0] if keys
             else np.zeros(n, dtype="int64"))
    frame["g"] = group
    # order groups along the curve by their median Hilbert position
    frame["g_pos"] = frame.groupby("g")["h"].transform("median")
    frame = frame.sort_values(["g_pos", "g", "h"], kind="stable")
    within = frame.groupby("g", sort=False).cumcount().to_numpy() // max_parcels
    labels = pd.Series(list(zip(frame["g"].to_numpy(), within, strict=True))).factorize()[0]
    out = np.empty(n, dtype="int64")
    out[frame["i"].to_numpy()] = labels
    return out


def write_partitions(parcels: gpd.GeoDataFrame, footprints: gpd.GeoDataFrame,
                     out_dir: Path, *, max_parcels: int = MAX_PARCELS_PER_PARTITION
                     ) -> list[dict[str, Any]]:
    """Write one parcels/footprints GeoParquet pair per partition into ``out_dir``.

    Parcels keep their input position in a column ``_order``. Returns the manifest
    (one dict per partition: file names and counts).
    """
    import shapely

    out_dir.mkdir(parents=True, exist_ok=True)
    part = assign_partitions(parcels, max_parcels)
    parcels = parcels.assign(_order=np.arange(len(parcels)))
    fp_geoms = np.asarray(footprints.geometry.values, dtype=object)
    tree = shapely.STRtree(fp_geoms)
    manifest = []
    for k in range(int(part.max()) + 1 if len(part) else 0):
        sel = parcels[part == k]
        hilb = sel.geometry.hilbert_distance(total_bounds=parcels.total_bounds).to_numpy()
        sel = sel.iloc[np.argsort(hilb, kind="stable")]
        envelopes = shapely.envelope(np.asarray(sel.geometry.values, dtype=object))
        hit = np.unique(tree.query(envelopes, predicate="intersects")[1])
        if hit.size:   # one-hop halo: footprints overlapping those (for the piece rule)
            hit = np.unique(np.r_[hit, tree.query(fp_geoms[hit], predicate="intersects")[1]])
        fps = footprints.iloc[hit]
        pname, fname = f"parcels_{k:05d}.parquet", f"footprints_{k:05d}.parquet"
        sel.to_parquet(out_dir / pname, write_covering_bbox=True)
        fps.to_parquet(out_dir / fname, write_covering_bbox=True)
        manifest.append({"partition": k, "parcels": pname, "footprints": fname,
                         "n_parcels": len(sel), "n_footprints": len(fps)})
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=1))
    return manifest


def run_partition(directory: str, entry: dict[str, Any], options: KernelOptions
                  ) -> pd.DataFrame:
    """Worker task: read one partition's files and run the kernel on them."""
    import geopandas as gpd

    parcels = gpd.read_parquet(Path(directory) / entry["parcels"])
    footprints = gpd.read_parquet(Path(directory) / entry["footprints"])
    out = occupancy_kernel(parcels, footprints, options, threads=1)
    out["_order"] = parcels["_order"].to_numpy()
    return out


def cached_partitions(conn: psycopg.Connection, workdir: Path, *,
                      max_parcels: int = MAX_PARCELS_PER_PARTITION
                      ) -> tuple[Path, list[dict[str, Any]]]:
    """The partition folder for the database's current inputs, written when missing."""
    from parcels.occupancy.store import input_batches, input_fingerprint
    from parcels.occupancy.vector_engine import read_inputs

    key_data = {"inputs": input_fingerprint(conn), "batches": input_batches(conn),
                "layout": LAYOUT_VERSION, "max_parcels": max_parcels}
    key = hashlib.sha256(json.dumps(key_data, sort_keys=True).encode()).hexdigest()[:16]
    folder = Path(workdir) / key
    manifest_path = folder / "manifest.json"
    if manifest_path.exists():
        log.info("reusing partitions in %s", folder)
        return folder, json.loads(manifest_path.read_text())
    parcels, footprints = read_inputs(conn)
    tmp = folder.with_name(f".{key}.tmp-{os.getpid()}")
    manifest = write_partitions(parcels, footprints, tmp, max_parcels=max_parcels)
    if folder.exists():   # written meanwhile by another run: keep theirs
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
        return folder, json.loads(manifest_path.read_text())
    tmp.rename(folder)
    log.info("wrote %d partitions to %s", len(manifest), folder)
    return folder, manifest


def _client(scheduler: str | None, n_workers: int | None, processes: bool):
    from distributed import Client, LocalCluster

    if scheduler:
        try:
            return Client(scheduler, timeout="20s"), None
        except OSError as exc:
            raise ConfigError(f"cannot reach the dask scheduler at {scheduler}: {exc}; "
                              "check the address (tcp://host:8786)") from exc
    workers = n_workers or min(4, os.cpu_count() or 1)
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=processes,
                           protocol="tcp", host="127.0.0.1", dashboard_address=None)
    return Client(cluster), cluster


def dask_occupancy(conn: psycopg.Connection, options: KernelOptions = DEFAULT_OPTIONS, *,
                   scheduler: str | None = None, workdir: Path | None = None,
                   n_workers: int | None = None, processes: bool = False,
                   max_parcels: int = MAX_PARCELS_PER_PARTITION,
                   progress: Progress | None = None, **_: Any) -> pd.DataFrame:
    """Per-parcel occupancy computed partition by partition on a dask cluster.

    Parameters
    ----------
    conn : psycopg.Connection
        Read once to write the partitions (skipped when cached).
    options : KernelOptions
    scheduler : str, optional
        ``dask.distributed`` scheduler address; default a LocalCluster on 127.0.0.1.
    workdir : Path, optional
        Folder for partition caches (default ``./.mujun-occupancy``; the CLI passes
        ``<home>/cache/occupancy``).
    n_workers : int, optional
        LocalCluster workers (default: CPU count, at most 4).
    processes : bool
        LocalCluster workers as separate processes. Default False: worker threads in
        this process (shapely and Parquet reading release the GIL, and starting worker
        processes costs ~10 s on 2 busy cores, more than a city takes to compute).
    max_parcels : int
        Parcels per partition at most.
    progress : callable, optional
        Called with parcels finished, partition by partition.

    Returns
    -------
    DataFrame
        One row per parcel in ``parcel_id`` order, columns ``RESULT_COLUMNS``.
    """
    from distributed import as_completed

    folder, manifest = cached_partitions(conn, Path(workdir or ".mujun-occupancy"),
                                         max_parcels=max_parcels)
    if not manifest:
        return pd.DataFrame(columns=list(RESULT_COLUMNS))
    client, cluster = _client(scheduler, n_workers, processes)
    try:
        futures = client.map(run_partition, [str(folder)] * len(manifest), manifest,
                             [options] * len(manifest), pure=False)
        parts = []
        for future in as_completed(futures):
            frame = future.result()
            parts.append(frame)
            if progress is not None:
                progress(len(frame))
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    out = pd.concat(parts, ignore_index=True).sort_values("_order", kind="stable")
    return out[list(RESULT_COLUMNS)].reset_index(drop=True)
