"""The ``dask`` engine: the same kernel per spatial partition on ``dask.distributed``.

Partitioning is done **once** and kept on disk (``<home>/cache/occupancy/<key>/``,
the key being a hash of the input fingerprint), as GeoParquet files that workers read
themselves; a later run on unchanged inputs reuses them. Partitions are the chunks of
:func:`parcels.occupancy.reading.plan_chunks` (parcels of one district/town together,
packed along a Hilbert curve, at most ``max_parcels`` each), each written with the
footprints it needs, read straight from PostGIS partition by partition (so writing
them never holds the whole province in memory).

Exactness across partition boundaries: each parcel belongs to exactly one partition,
and a partition gets every footprint that can touch one of its parcels or overlap one
that does (:mod:`parcels.occupancy.reading`), so every footprint piece touching a
parcel is the same as in a single-machine run and the per-parcel numbers are the
kernel's. Footprints near a boundary are simply read by two partitions; no parcel is
counted twice.

Surveys: every footprint is written with its survey, so one set of partitions serves
runs of any ``--as-of`` or ``--survey``; the run's :class:`~parcels.surveys.SurveyScope`
(which survey each parcel rests on, decided once in the database) is sent to every
worker once, and each partition is computed survey by survey
(:func:`parcels.occupancy.per_survey.occupancy_by_survey`), exactly as the ``vector``
engine does.

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

import pandas as pd

from gis.errors import ConfigError
from parcels.occupancy.kernel import (
    DEFAULT_OPTIONS,
    RESULT_COLUMNS,
    KernelOptions,
    occupancy_kernel,
)
from parcels.occupancy.per_survey import occupancy_by_survey

if TYPE_CHECKING:
    import psycopg

    from gis.progress import Progress
    from gis.settings import Settings
    from parcels.surveys import SurveyScope

log = logging.getLogger(__name__)

#: Parcels per partition at most (towns larger than this are split along the curve).
MAX_PARCELS_PER_PARTITION = 20_000
#: Bump when the partition layout changes, so old caches are not reused
#: (3: footprints carry their ``survey_id``).
LAYOUT_VERSION = 3


def settings_defaults(settings: Settings) -> dict[str, Any]:
    """The engine's deployment defaults: partitions cached under ``<home>/cache/occupancy``."""
    return {"workdir": settings.home_path / "cache" / "occupancy"}


def write_partitions(conn: psycopg.Connection, out_dir: Path, *,
                     max_parcels: int = MAX_PARCELS_PER_PARTITION) -> list[dict[str, Any]]:
    """Write one parcels/footprints GeoParquet pair per partition into ``out_dir``.

    Parcels keep their ``parcel_id`` (the engine's output order). Returns the manifest
    (one dict per partition: file names and counts).
    """
    from gis.db.srid import get_working_srid
    from parcels.occupancy.reading import footprint_halo, plan_chunks, read_chunk

    out_dir.mkdir(parents=True, exist_ok=True)
    srid = get_working_srid(conn)
    chunks = plan_chunks(conn, max_parcels, split=True)
    halo = footprint_halo(conn) if chunks else 0.0
    manifest = []
    for k, chunk in enumerate(chunks):
        parcels, footprints = read_chunk(conn, chunk, srid=srid, halo=halo, labelled=True)
        pname, fname = f"parcels_{k:05d}.parquet", f"footprints_{k:05d}.parquet"
        parcels.to_parquet(out_dir / pname, write_covering_bbox=True)
        footprints.to_parquet(out_dir / fname, write_covering_bbox=True)
        manifest.append({"partition": k, "parcels": pname, "footprints": fname,
                         "n_parcels": len(parcels), "n_footprints": len(footprints)})
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=1))
    return manifest


def run_partition(directory: str, entry: dict[str, Any], options: KernelOptions,
                  scope: SurveyScope | None = None) -> pd.DataFrame:
    """Worker task: read one partition's files and run the kernel on them.

    With a selecting ``scope``, each parcel is computed with the footprints of the
    survey it rests on only; otherwise with every footprint. The result has
    ``parcel_id`` and, with a scope, ``survey_id``.
    """
    import geopandas as gpd

    parcels = gpd.read_parquet(Path(directory) / entry["parcels"])
    footprints = gpd.read_parquet(Path(directory) / entry["footprints"])
    if scope is None or scope.legacy:
        out = occupancy_kernel(parcels, footprints, options, threads=1, assume_valid=True)
        out.insert(0, "parcel_id", parcels["parcel_id"].to_numpy())
        return out
    parcels["survey_id"] = scope.survey_of(parcels["parcel_id"].to_numpy())
    footprints = footprints[footprints["survey_id"].isin(scope.surveys_used())]
    return occupancy_by_survey(parcels, footprints, options, threads=1, assume_valid=True)


def cached_partitions(conn: psycopg.Connection, workdir: Path, *,
                      max_parcels: int = MAX_PARCELS_PER_PARTITION
                      ) -> tuple[Path, list[dict[str, Any]]]:
    """The partition folder for the database's current inputs, written when missing."""
    from parcels.occupancy.store import input_batches, input_fingerprint

    key_data = {"inputs": input_fingerprint(conn), "batches": input_batches(conn),
                "layout": LAYOUT_VERSION, "max_parcels": max_parcels}
    key = hashlib.sha256(json.dumps(key_data, sort_keys=True).encode()).hexdigest()[:16]
    folder = Path(workdir) / key
    manifest_path = folder / "manifest.json"
    if manifest_path.exists():
        log.info("reusing partitions in %s", folder)
        return folder, json.loads(manifest_path.read_text())
    tmp = folder.with_name(f".{key}.tmp-{os.getpid()}")
    manifest = write_partitions(conn, tmp, max_parcels=max_parcels)
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
                   scope: SurveyScope | None = None,
                   progress: Progress | None = None) -> pd.DataFrame:
    """Per-parcel occupancy computed partition by partition on a dask cluster.

    Parameters
    ----------
    conn : psycopg.Connection
        Read once to write the partitions (skipped when cached).
    options : KernelOptions
    scheduler : str, optional
        ``dask.distributed`` scheduler address; default a LocalCluster on 127.0.0.1.
    workdir : Path, optional
        Folder for partition caches (default ``./.mujun-occupancy``; runs through
        :func:`parcels.occupancy.run.run_occupancy` use ``<home>/cache/occupancy``).
    n_workers : int, optional
        LocalCluster workers (default: CPU count, at most 4).
    processes : bool
        LocalCluster workers as separate processes. Default False: worker threads in
        this process (shapely and Parquet reading release the GIL, and starting worker
        processes costs ~10 s on 2 busy cores, more than a city takes to compute).
    max_parcels : int
        Parcels per partition at most.
    scope : SurveyScope, optional
        Which survey each parcel rests on (:func:`parcels.surveys.assign_surveys`);
        each parcel is computed with its survey's footprints only and the result has
        ``survey_id`` (-1: none). Default: every footprint.
    progress : callable, optional
        Called with parcels finished, partition by partition.

    Returns
    -------
    DataFrame
        One row per parcel in ``parcel_id`` order, columns ``RESULT_COLUMNS`` (and
        ``survey_id`` with a selecting ``scope``).
    """
    from distributed import as_completed

    folder, manifest = cached_partitions(conn, Path(workdir or ".mujun-occupancy"),
                                         max_parcels=max_parcels)
    if not manifest:
        return pd.DataFrame(columns=list(RESULT_COLUMNS))
    selects = scope is not None and not scope.legacy
    client, cluster = _client(scheduler, n_workers, processes)
    try:
        # the scope goes to every worker once, not once per task
        sent = client.scatter(scope, broadcast=True) if selects else None
        futures = client.map(run_partition, [str(folder)] * len(manifest), manifest,
                             [options] * len(manifest), [sent] * len(manifest), pure=False)
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
    out = pd.concat(parts, ignore_index=True).sort_values("parcel_id", kind="stable")
    columns = list(RESULT_COLUMNS) + (["survey_id"] if selects else [])
    return out[columns].reset_index(drop=True)
