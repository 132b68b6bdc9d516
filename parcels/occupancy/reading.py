"""Occupancy inputs from PostGIS, whole or one spatial chunk at a time.

A city (≤ ``max_parcels``) is read in one go: two unordered scans (ordering a
million footprints on the server cost ~1.5 s and the kernel does not need it).
Province-sized data is read chunk by chunk (:mod:`parcels.occupancy.chunking`), so
memory stays bounded by the chunk size.

**Chunks are exact.** A chunk gets its parcels and every footprint whose bounding box
meets a parcel's bounding box expanded by ``halo`` = the largest footprint extent
(width or height). That covers the footprints touching the chunk's parcels *and*
every footprint overlapping one of those (its bounding box meets theirs, which lie
within ``halo`` of the parcel's), which is all the kernel's overlap rule looks at. So
every footprint piece touching a parcel is computed exactly as in a whole run;
footprints near a chunk edge are read by both chunks, parcels never twice.

Rows come through a binary cursor; numbers are cast to ``float8`` with NaN for NULL
in SQL so they decode straight into numpy, and geometries are decoded with one
vectorized ``shapely.from_wkb`` call per column.
"""

from __future__ import annotations

import itertools
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import geopandas as gpd
    import psycopg

log = logging.getLogger(__name__)

#: Rows per batch of a read (decoded in a thread while the server sends the next).
BATCH_ROWS = 100_000
#: Parcels per chunk of the vector engine (≈ 1 M footprints and ~2 GB at city density).
MAX_PARCELS = 150_000

PARCEL_COLUMNS = ("p.parcel_id, p.parcel_code,"
                  " coalesce(p.cert_area_m2, 'NaN')::float8 AS cert_area_m2,"
                  " p.town, p.district, ST_AsBinary(p.geom) AS geom")
FOOTPRINT_COLUMNS = ("f.footprint_id, coalesce(f.height_m, 'NaN')::float8 AS height_m,"
                     " coalesce(f.storeys::float8, 'NaN') AS storeys,"
                     " ST_AsBinary(f.geom) AS geom")

ALL_PARCELS = f"SELECT {PARCEL_COLUMNS} FROM parcel p"
ALL_FOOTPRINTS = f"SELECT {FOOTPRINT_COLUMNS} FROM footprint f"
CHUNK_PARCELS = f"SELECT {PARCEL_COLUMNS} FROM parcel p WHERE p.parcel_id = ANY(%(ids)s)"
CHUNK_FOOTPRINTS = f"""
SELECT {FOOTPRINT_COLUMNS} FROM footprint f
WHERE f.footprint_id IN (
    SELECT g.footprint_id FROM parcel p
    JOIN footprint g ON g.geom && ST_Expand(p.geom, %(halo)s)
    WHERE p.parcel_id = ANY(%(ids)s))
"""
#: Largest footprint extent: how far beyond a parcel an overlapping footprint can reach.
HALO_SQL = ("SELECT coalesce(max(greatest(ST_XMax(geom) - ST_XMin(geom),"
            " ST_YMax(geom) - ST_YMin(geom))), 0) FROM footprint")
PLAN_SQL = ("SELECT parcel_id, (ST_XMin(geom) + ST_XMax(geom)) / 2,"
            " (ST_YMin(geom) + ST_YMax(geom)) / 2,"
            " coalesce(district, '') || '/' || coalesce(town, '') FROM parcel")

_INT8, _FLOAT8, _BYTEA = 20, 701, 17


@dataclass(frozen=True)
class Chunk:
    """Parcels read and computed together; ``parcel_ids is None`` means every parcel."""

    parcel_ids: np.ndarray | None
    n_parcels: int


def fetch_geo(conn: psycopg.Connection, query: str, params: dict[str, Any] | None = None,
              srid: int | None = None, *, batch_rows: int = BATCH_ROWS) -> gpd.GeoDataFrame:
    """Run ``query`` (its ``geom`` column as WKB) and return a GeoDataFrame.

    Inside a transaction the rows come through a server-side cursor in batches of
    ``batch_rows``, each decoded in a worker thread while the server produces the next
    (decoding a million footprints takes as long as producing them); in autocommit
    mode, in one fetch.

    Parameters
    ----------
    conn : psycopg.Connection
    query : str
        A SELECT with a ``geom`` column of WKB (``ST_AsBinary``); ``bigint`` and
        ``float8`` columns become int64/float64 arrays, others object arrays.
    params : dict, optional
    srid : int, optional
        EPSG code of the result's CRS.
    batch_rows : int
        Rows per batch.
    """
    import geopandas as gpd
    import pandas as pd

    from gis.db.connection import translate_errors

    with translate_errors("reading occupancy inputs"):
        if conn.autocommit:
            with conn.cursor(binary=True) as cur:
                cur.execute(query, params)
                names, oids = _columns(cur)
                batches = [_decode(cur.fetchall(), names, oids)]
        else:
            with ThreadPoolExecutor(max_workers=1) as pool, \
                    conn.cursor(name="mujun_occupancy_read", binary=True) as cur:
                cur.execute(query, params)
                names, oids = _columns(cur)
                futures = []
                while rows := cur.fetchmany(batch_rows):
                    futures.append(pool.submit(_decode, rows, names, oids))
                    del rows
                batches = [f.result() for f in futures] or [_decode([], names, oids)]
    data = {name: np.concatenate([b[name] for b in batches]) for name in names}
    geoms = data.pop("geom")
    return gpd.GeoDataFrame(pd.DataFrame(data), geometry=gpd.GeoSeries(geoms),
                            crs=f"EPSG:{srid}" if srid else None)


def _columns(cur: psycopg.Cursor) -> tuple[list[str], list[int]]:
    assert cur.description is not None
    return [d.name for d in cur.description], [d.type_code for d in cur.description]


def _decode(rows: list[tuple], names: list[str], oids: list[int]) -> dict[str, np.ndarray]:
    """Column arrays of ``rows`` (``zip(*rows)`` is 3× slower on 10⁶ rows)."""
    import shapely

    data: dict[str, np.ndarray] = {}
    for i, (name, oid) in enumerate(zip(names, oids, strict=True)):
        values = [row[i] for row in rows]
        if oid == _INT8:
            data[name] = np.array(values, dtype="int64")
        elif oid == _FLOAT8:
            data[name] = np.array(values, dtype="float64")
        else:
            arr = np.empty(len(values), dtype=object)
            arr[:] = values
            data[name] = shapely.from_wkb(arr) if oid == _BYTEA and name == "geom" else arr
    return data


def plan_chunks(conn: psycopg.Connection, max_parcels: int = MAX_PARCELS, *,
                split: bool = False) -> list[Chunk]:
    """Cut the stored parcels into chunks of at most ``max_parcels``.

    Parameters
    ----------
    conn : psycopg.Connection
    max_parcels : int
    split : bool
        Always list parcel ids, even when everything fits one chunk (the dask
        engine's partitions); otherwise a single chunk is "every parcel".

    Returns
    -------
    list of Chunk
        In Hilbert order; empty when there are no parcels.
    """
    from parcels.occupancy.chunking import chunk_labels

    n = int(conn.execute("SELECT count(*) FROM parcel").fetchone()[0])
    if n == 0:
        return []
    if n <= max_parcels and not split:
        return [Chunk(None, n)]
    with conn.cursor(binary=True) as cur:
        cur.execute(PLAN_SQL)
        ids, x, y, groups = (list(c) for c in zip(*cur.fetchall(), strict=True))
    ids_arr = np.array(ids, dtype="int64")
    labels = chunk_labels(np.array(x, dtype="float64"), np.array(y, dtype="float64"),
                          np.array(groups, dtype=object), max_parcels)
    order = np.argsort(labels, kind="stable")
    bounds = np.flatnonzero(np.r_[True, np.diff(labels[order]) != 0, True])
    chunks = [Chunk(np.sort(ids_arr[order[a:b]]), int(b - a))
              for a, b in itertools.pairwise(bounds)]
    log.info("%d parcels in %d chunks of at most %d", n, len(chunks), max_parcels)
    return chunks


def footprint_halo(conn: psycopg.Connection) -> float:
    """The largest width or height of a stored footprint's bounding box (metres)."""
    return float(conn.execute(HALO_SQL).fetchone()[0])


def read_chunk(conn: psycopg.Connection, chunk: Chunk, *, srid: int | None,
               halo: float | None = None) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Parcels of ``chunk`` (ordered by ``parcel_id``) and the footprints they need.

    Parameters
    ----------
    conn : psycopg.Connection
    chunk : Chunk
    srid : int or None
        Working SRID (CRS of the frames).
    halo : float, optional
        :func:`footprint_halo` (computed when not given; pass it when reading many
        chunks).
    """
    if chunk.parcel_ids is None:
        parcels = fetch_geo(conn, ALL_PARCELS, srid=srid)
        footprints = fetch_geo(conn, ALL_FOOTPRINTS, srid=srid)
    else:
        if halo is None:
            halo = footprint_halo(conn)
        params = {"ids": chunk.parcel_ids.tolist(), "halo": halo}
        parcels = fetch_geo(conn, CHUNK_PARCELS, params, srid=srid)
        footprints = fetch_geo(conn, CHUNK_FOOTPRINTS, params, srid=srid)
    order = np.argsort(parcels["parcel_id"].to_numpy(), kind="stable")
    parcels = parcels.iloc[order].reset_index(drop=True)
    log.debug("read %d parcels and %d footprints", len(parcels), len(footprints))
    return parcels, footprints


def read_inputs(conn: psycopg.Connection) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Every parcel (ordered by ``parcel_id``) and footprint, in the working CRS."""
    from gis.db.copy import get_working_srid

    return read_chunk(conn, Chunk(None, 0), srid=get_working_srid(conn))
