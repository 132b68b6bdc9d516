"""The ``vector`` engine: read parcels and footprints from PostGIS, run the shapely kernel.

Two ways to use the cores, same numbers:

* **threads in this process** (the default when everything fits one chunk): the kernel
  threaded (shapely releases the GIL in its vectorized functions) while batches of rows
  are decoded in a reader thread;
* **worker processes** (the default for several chunks, or ``processes=N``,
  ``mujun occupancy --processes N``): parcels are cut into spatial chunks
  (:mod:`parcels.occupancy.chunking`), at least one per process;
  each worker opens its own connection at the caller's exported snapshot (so it reads
  exactly what the caller's transaction sees), reads its chunk with the footprints it
  needs, runs the kernel single-threaded and sends back the per-parcel rows. Decoding,
  building and freeing geometries hold the interpreter lock, so processes overlap one
  chunk's reading with another's computing. Measured on 2 cores: the city (one chunk)
  takes 8.4 s with threads and 11.2 s cut into two chunks for two processes; the
  2.2-million-parcel province (15 chunks) 200 s chunk after chunk with threads and 161 s
  with two processes.

Chunks are exact (:mod:`parcels.occupancy.reading` explains why), so both give the
whole-run result; more than :data:`parcels.occupancy.reading.MAX_PARCELS` parcels are
always chunked so memory is bounded by the chunk, not the province.
"""

from __future__ import annotations

import logging
import math
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from parcels.occupancy.kernel import (
    DEFAULT_OPTIONS,
    RESULT_COLUMNS,
    KernelOptions,
    occupancy_kernel,
)
from parcels.occupancy.per_survey import occupancy_by_survey
from parcels.occupancy.reading import (
    MAX_PARCELS,
    Chunk,
    footprint_halo,
    plan_chunks,
    read_chunk,
)

if TYPE_CHECKING:
    import psycopg

    from gis.progress import Progress
    from parcels.surveys import SurveyScope

log = logging.getLogger(__name__)

def vector_occupancy(conn: psycopg.Connection, options: KernelOptions = DEFAULT_OPTIONS,
                     *, threads: int | None = None, processes: int | None = None,
                     max_parcels: int = MAX_PARCELS, scope: SurveyScope | None = None,
                     progress: Progress | None = None) -> pd.DataFrame:
    """Per-parcel occupancy: read from PostGIS, compute with the shapely kernel.

    Parameters
    ----------
    conn : psycopg.Connection
        Worker processes read this transaction's exported snapshot, so they are used
        only when it has written nothing yet (and autocommit is off).
    options : KernelOptions
    threads : int, optional
        Kernel threads when computing in this process (default: CPU count).
    processes : int, optional
        Worker processes; 1 computes here with threads. Default: threads when all
        parcels fit one chunk, else one process per core (at most 4).
    max_parcels : int
        Parcels per chunk at most.
    scope : SurveyScope, optional
        Which survey each parcel rests on (:func:`parcels.surveys.assign_surveys`):
        each parcel is computed with its survey's footprints only, and the result has
        ``survey_id`` (-1: none). Default: every footprint.
    progress : callable, optional
        Called with parcels finished.

    Returns
    -------
    DataFrame
        One row per parcel ordered by ``parcel_id``, columns ``RESULT_COLUMNS``.
    """
    from gis.db.srid import get_working_srid

    srid = get_working_srid(conn)
    n = int(conn.execute("SELECT count(*) FROM parcel").fetchone()[0])
    if n == 0:
        return pd.DataFrame(columns=list(RESULT_COLUMNS))
    if processes is None:
        processes = 1 if n <= max_parcels else min(4, os.cpu_count() or 1)
    processes = max(1, int(processes))
    if processes > 1 and not _snapshot_shows_everything(conn):
        processes = 1
    chunk_size = min(max_parcels, math.ceil(n / processes))
    chunks = plan_chunks(conn, chunk_size)
    halo = footprint_halo(conn) if len(chunks) > 1 else None
    if processes > 1 and len(chunks) > 1:
        parts = _in_processes(conn, chunks, srid, halo, options, processes, progress, scope)
    else:
        parts = []
        for number, chunk in enumerate(chunks, 1):
            if len(chunks) > 1:
                log.info("chunk %d/%d: %d parcels", number, len(chunks), chunk.n_parcels)
            parts.append(_compute_chunk(conn, chunk, srid, halo, options, threads, progress,
                                        scope))
    if len(parts) == 1:
        return parts[0].drop(columns="parcel_id").reset_index(drop=True)
    out = pd.concat(parts, ignore_index=True)
    order = np.argsort(out["parcel_id"].to_numpy(), kind="stable")
    return out.iloc[order].drop(columns="parcel_id").reset_index(drop=True)


def _snapshot_shows_everything(conn: psycopg.Connection) -> bool:
    """Whether other connections at an exported snapshot would see what ``conn`` sees.

    Not in autocommit mode (the snapshot would end with the statement), and not after
    this transaction wrote anything (its uncommitted rows are invisible to them).
    """
    if conn.autocommit:
        return False
    row = conn.execute("SELECT pg_current_xact_id_if_assigned() IS NULL").fetchone()
    return bool(row and row[0])


def _compute_chunk(conn: psycopg.Connection, chunk: Chunk, srid: int | None,
                   halo: float | None, options: KernelOptions, threads: int | None,
                   progress: Progress | None = None, scope: SurveyScope | None = None,
                   ) -> pd.DataFrame:
    parcels, footprints = read_chunk(conn, chunk, srid=srid, halo=halo, scope=scope)
    if "survey_id" in parcels.columns:       # a parcel sees only its survey's footprints
        return occupancy_by_survey(parcels, footprints, options, threads=threads,
                                   progress=progress, assume_valid=True)
    out = occupancy_kernel(parcels, footprints, options, threads=threads,
                           progress=progress, assume_valid=True)
    out.insert(0, "parcel_id", parcels["parcel_id"].to_numpy())
    return out


def _worker(dsn: str, snapshot: str, chunk: Chunk, srid: int | None, halo: float | None,
            options: KernelOptions, scope: SurveyScope | None = None) -> pd.DataFrame:
    """One chunk in a worker process, on its own connection at the caller's snapshot."""
    from gis.db.connection import connect_at_snapshot

    with connect_at_snapshot(dsn, snapshot) as conn:
        out = _compute_chunk(conn, chunk, srid, halo, options, threads=1, scope=scope)
        conn.rollback()
    return out


def _in_processes(conn: psycopg.Connection, chunks: list[Chunk], srid: int | None,
                  halo: float | None, options: KernelOptions, processes: int,
                  progress: Progress | None, scope: SurveyScope | None = None,
                  ) -> list[pd.DataFrame]:
    from gis.db.connection import export_snapshot

    dsn, snapshot = export_snapshot(conn)
    methods = multiprocessing.get_all_start_methods()
    # fork: workers inherit the imported libraries (a fresh interpreter costs ~1 s each)
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    log.info("%d chunks in %d worker processes", len(chunks), processes)
    parts = []
    with ProcessPoolExecutor(max_workers=min(processes, len(chunks)),
                             mp_context=context) as pool:
        futures = [pool.submit(_worker, dsn, snapshot, chunk, srid, halo, options, scope)
                   for chunk in chunks]
        try:
            for future in as_completed(futures):
                part = future.result()
                parts.append(part)
                if progress is not None:
                    progress(len(part))
        except BaseException:
            for future in futures:
                future.cancel()
            raise
    return parts
