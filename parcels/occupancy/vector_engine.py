"""The ``vector`` engine: read parcels and footprints from PostGIS, run the shapely kernel.

Up to :data:`parcels.occupancy.reading.MAX_PARCELS` parcels are read and computed in
one go; more (a province) are computed chunk by chunk along a Hilbert curve, each
chunk read with the footprints it needs (:mod:`parcels.occupancy.reading` explains
why that is exact), so memory is bounded by the chunk size, not the province.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from parcels.occupancy.kernel import (
    DEFAULT_OPTIONS,
    RESULT_COLUMNS,
    KernelOptions,
    occupancy_kernel,
)
from parcels.occupancy.reading import MAX_PARCELS, footprint_halo, plan_chunks, read_chunk

if TYPE_CHECKING:
    import psycopg

    from gis.progress import Progress

log = logging.getLogger(__name__)


def vector_occupancy(conn: psycopg.Connection, options: KernelOptions = DEFAULT_OPTIONS,
                     *, threads: int | None = None, max_parcels: int = MAX_PARCELS,
                     progress: Progress | None = None, **_: Any) -> pd.DataFrame:
    """Per-parcel occupancy: read from PostGIS, compute with the shapely kernel.

    Parameters
    ----------
    conn : psycopg.Connection
    options : KernelOptions
    threads : int, optional
        Kernel threads (default: CPU count).
    max_parcels : int
        Parcels per chunk; more parcels than this are computed chunk by chunk.
    progress : callable, optional
        Called with parcels finished.

    Returns
    -------
    DataFrame
        One row per parcel ordered by ``parcel_id``, columns ``RESULT_COLUMNS``.
    """
    from gis.db.copy import get_working_srid

    srid = get_working_srid(conn)
    chunks = plan_chunks(conn, max_parcels)
    if not chunks:
        return pd.DataFrame(columns=list(RESULT_COLUMNS))
    halo = footprint_halo(conn) if len(chunks) > 1 else None
    parts, ids = [], []
    for number, chunk in enumerate(chunks, 1):
        parcels, footprints = read_chunk(conn, chunk, srid=srid, halo=halo)
        if len(chunks) > 1:
            log.info("chunk %d/%d: %d parcels, %d footprints", number, len(chunks),
                     len(parcels), len(footprints))
        parts.append(occupancy_kernel(parcels, footprints, options, threads=threads,
                                      progress=progress))
        ids.append(parcels["parcel_id"].to_numpy())
        del parcels, footprints
    if len(parts) == 1:
        return parts[0]
    order = np.argsort(np.concatenate(ids), kind="stable")
    return pd.concat(parts, ignore_index=True).iloc[order].reset_index(drop=True)
