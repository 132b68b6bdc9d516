"""Occupancy inputs from PostGIS, whole or one spatial chunk at a time.

A city (≤ ``max_parcels``) is read in one go: two unordered scans (ordering a
million footprints on the server cost ~1.5 s and the kernel does not need it).
Province-sized data is read chunk by chunk (:mod:`parcels.occupancy.chunking`), so
memory stays bounded by the chunk size.

**Chunks are exact.** A chunk's footprints are read with one index range scan: those
whose bounding box meets the chunk's extent grown by ``halo`` = the largest footprint
extent (width or height). That includes every footprint touching a parcel of the chunk
(set A) and every footprint overlapping a member of A (its bounding box meets theirs,
which lie within ``halo`` of the extent), which is all the kernel's overlap rule looks
at. The rest is pruned in memory (STRtree) before the kernel runs. So every footprint
piece touching a parcel is computed exactly as in a whole run; footprints near a chunk
edge are read by both chunks, parcels never twice.

Rows come through a binary server-side cursor in batches, each decoded in a worker
thread while the server produces the next: numbers are cast to ``float8`` with NaN for
NULL in SQL so they decode straight into numpy; geometries (single-part MultiPolygons
sent as Polygons) are decoded with one vectorized ``shapely.from_wkb`` call per batch
and repaired there when invalid.
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

    from parcels.surveys import SurveyScope

log = logging.getLogger(__name__)

#: Rows per batch of a read (decoded in a thread while the server sends the next).
BATCH_ROWS = 100_000
#: Parcels per chunk of the vector engine (≈ 1 M footprints and ~2 GB at city density).
MAX_PARCELS = 150_000

#: Geometry as WKB, single-part MultiPolygons (nearly all) as Polygons: the server does
#: this in its own process, and every GEOS operation of the kernel on a Polygon is
#: cheaper (city sample: kernel 3.6 s on MultiPolygons, 2.6 s on Polygons).
_WKB = ("ST_AsBinary(CASE WHEN ST_NumGeometries({t}.geom) = 1 THEN ST_GeometryN({t}.geom, 1)"
        " ELSE {t}.geom END) AS geom")
PARCEL_COLUMNS = ("p.parcel_id, p.parcel_code,"
                  " coalesce(p.cert_area_m2, 'NaN')::float8 AS cert_area_m2,"
                  " p.town, p.district, " + _WKB.format(t="p"))
FOOTPRINT_COLUMNS = ("f.footprint_id, coalesce(f.height_m, 'NaN')::float8 AS height_m,"
                     " coalesce(f.storeys::float8, 'NaN') AS storeys, " + _WKB.format(t="f"))

ALL_PARCELS = f"SELECT {PARCEL_COLUMNS} FROM parcel p"
ALL_FOOTPRINTS = f"SELECT {FOOTPRINT_COLUMNS} FROM footprint f"
#: Survey selection (:mod:`parcels.surveys`): only the surveys some parcel rests on, each
#: footprint labelled with its survey so the kernel runs per survey.
SURVEY_COLUMN = ", coalesce(f.survey_id, -1) AS survey_id"
SURVEY_FILTER = " f.survey_id = ANY(%(surveys)s)"
CHUNK_PARCELS = f"SELECT {PARCEL_COLUMNS} FROM parcel p WHERE p.parcel_id = ANY(%(ids)s)"
CHUNK_FOOTPRINTS = (f"SELECT {FOOTPRINT_COLUMNS} FROM footprint f"
                    " WHERE f.geom && ST_MakeEnvelope(%(xmin)s, %(ymin)s, %(xmax)s, %(ymax)s,"
                    " %(srid)s)")
#: Largest footprint extent: how far beyond a parcel an overlapping footprint can reach.
HALO_SQL = ("SELECT coalesce(max(greatest(ST_XMax(geom) - ST_XMin(geom),"
            " ST_YMax(geom) - ST_YMin(geom))), 0) FROM footprint")
PLAN_SQL = ("SELECT parcel_id, ST_XMin(geom), ST_YMin(geom), ST_XMax(geom), ST_YMax(geom),"
            " coalesce(district, '') || '/' || coalesce(town, '') FROM parcel")

_INT8, _FLOAT8, _BYTEA = 20, 701, 17


@dataclass(frozen=True)
class Chunk:
    """Parcels read and computed together; ``parcel_ids is None`` means every parcel."""

    parcel_ids: np.ndarray | None
    n_parcels: int
    extent: tuple[float, float, float, float] | None = None   # of the parcels' boxes


def fetch_geo(conn: psycopg.Connection, query: str, params: dict[str, Any] | None = None,
              srid: int | None = None, *, batch_rows: int = BATCH_ROWS,
              repair: str | None = None) -> gpd.GeoDataFrame:
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
    repair : str, optional
        Repair invalid geometries while decoding
        (:func:`parcels.occupancy.kernel.repair_polygons`), naming them ``repair`` in
        the warning; the test then overlaps with the transfer of the next batch.
    """
    import geopandas as gpd
    import pandas as pd

    from gis.db.connection import translate_errors

    with translate_errors("reading occupancy inputs"):
        if conn.autocommit:
            with conn.cursor(binary=True) as cur:
                cur.execute(query, params)
                names, oids = _columns(cur)
                batches = [_decode(cur.fetchall(), names, oids, repair)]
        else:
            with ThreadPoolExecutor(max_workers=1) as pool, \
                    conn.cursor(name="mujun_occupancy_read", binary=True) as cur:
                cur.execute(query, params)
                names, oids = _columns(cur)
                futures = []
                while rows := cur.fetchmany(batch_rows):
                    futures.append(pool.submit(_decode, rows, names, oids, repair))
                    del rows
                batches = [f.result() for f in futures] or [_decode([], names, oids, None)]
    data = {name: np.concatenate([b[name] for b in batches]) for name in names}
    geoms = data.pop("geom")
    return gpd.GeoDataFrame(pd.DataFrame(data), geometry=gpd.GeoSeries(geoms),
                            crs=f"EPSG:{srid}" if srid else None)


def _columns(cur: psycopg.Cursor) -> tuple[list[str], list[int]]:
    assert cur.description is not None
    return [d.name for d in cur.description], [d.type_code for d in cur.description]


def _decode(rows: list[tuple], names: list[str], oids: list[int], repair: str | None
            ) -> dict[str, np.ndarray]:
    """Column arrays of ``rows`` (``zip(*rows)`` is 3× slower on 10⁶ rows)."""
    import shapely

    from parcels.occupancy.kernel import repair_polygons

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
            if oid == _BYTEA and name == "geom":
                arr = shapely.from_wkb(arr)
                arr[shapely.is_missing(arr)] = shapely.Polygon()
                if repair:
                    arr = repair_polygons(arr, repair, threads=1)
            data[name] = arr
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
        rows = cur.fetchall()
    ids_arr = np.array([r[0] for r in rows], dtype="int64")
    box = np.array([r[1:5] for r in rows], dtype="float64")
    groups = np.array([r[5] for r in rows], dtype=object)
    del rows
    labels = chunk_labels((box[:, 0] + box[:, 2]) / 2, (box[:, 1] + box[:, 3]) / 2, groups,
                          max_parcels)
    order = np.argsort(labels, kind="stable")
    bounds = np.flatnonzero(np.r_[True, np.diff(labels[order]) != 0, True])
    chunks = []
    for a, b in itertools.pairwise(bounds):
        members = order[a:b]
        sub = box[members]
        extent = (float(sub[:, 0].min()), float(sub[:, 1].min()),
                  float(sub[:, 2].max()), float(sub[:, 3].max()))
        chunks.append(Chunk(np.sort(ids_arr[members]), int(b - a), extent))
    log.info("%d parcels in %d chunks of at most %d", n, len(chunks), max_parcels)
    return chunks


def footprint_halo(conn: psycopg.Connection) -> float:
    """The largest width or height of a stored footprint's bounding box (metres)."""
    return float(conn.execute(HALO_SQL).fetchone()[0])


def _footprint_query(base: str, scope: SurveyScope | None, *, labelled: bool = False) -> str:
    """``base`` with the survey column and filter when a survey scope selects; with
    ``labelled``, the survey column of every footprint (no filter)."""
    selects = scope is not None and not scope.legacy
    if not (selects or labelled):
        return base
    query = base.replace(" FROM footprint f", SURVEY_COLUMN + " FROM footprint f")
    if not selects:
        return query
    return query + (" AND" if " WHERE " in query else " WHERE") + SURVEY_FILTER


def read_chunk(conn: psycopg.Connection, chunk: Chunk, *, srid: int | None,
               halo: float | None = None, scope: SurveyScope | None = None,
               labelled: bool = False) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Parcels of ``chunk`` (ordered by ``parcel_id``) and the footprints they need.

    Geometries come back valid (repaired while decoding), so the kernel can be called
    with ``assume_valid=True``. With a survey ``scope``, parcels carry a ``survey_id``
    column (the survey they rest on) and footprints theirs; only footprints of the
    surveys used are read.

    Parameters
    ----------
    conn : psycopg.Connection
    chunk : Chunk
    srid : int or None
        Working SRID (CRS of the frames).
    halo : float, optional
        :func:`footprint_halo` (computed when not given; pass it when reading many
        chunks).
    scope : SurveyScope, optional
        Which survey each parcel rests on (default: every footprint, no survey).
    labelled : bool
        Without a selecting ``scope``: read every footprint with its ``survey_id``
        (:data:`~parcels.surveys.NO_SURVEY` for none), for partitions that serve runs
        of any survey selection (the dask engine's).
    """
    surveys = {"surveys": scope.surveys_used()} if scope is not None and not scope.legacy else {}
    if chunk.parcel_ids is None:
        parcels = fetch_geo(conn, ALL_PARCELS, srid=srid, repair="parcel")
        query = _footprint_query(ALL_FOOTPRINTS, scope, labelled=labelled)
        footprints = fetch_geo(conn, query, surveys or None,
                               srid=srid, repair="footprint")
    else:
        if halo is None:
            halo = footprint_halo(conn)
        assert chunk.extent is not None
        xmin, ymin, xmax, ymax = chunk.extent
        parcels = fetch_geo(conn, CHUNK_PARCELS, {"ids": chunk.parcel_ids.tolist()}, srid=srid,
                            repair="parcel")
        query = _footprint_query(CHUNK_FOOTPRINTS, scope, labelled=labelled)
        footprints = fetch_geo(conn, query, {
            "xmin": xmin - halo, "ymin": ymin - halo, "xmax": xmax + halo,
            "ymax": ymax + halo, "srid": srid or 0, **surveys}, srid=srid, repair="footprint")
        footprints = needed_footprints(parcels, footprints)
    order = np.argsort(parcels["parcel_id"].to_numpy(), kind="stable")
    parcels = parcels.iloc[order].reset_index(drop=True)
    if scope is not None and not scope.legacy:
        parcels["survey_id"] = scope.survey_of(parcels["parcel_id"].to_numpy())
    log.debug("read %d parcels and %d footprints", len(parcels), len(footprints))
    return parcels, footprints


def needed_footprints(parcels: gpd.GeoDataFrame, footprints: gpd.GeoDataFrame
                      ) -> gpd.GeoDataFrame:
    """The footprints whose box meets a parcel's box, and those overlapping one of them.

    Everything the kernel needs for ``parcels`` (see the module docstring); the
    others are dropped so the kernel does not prepare them.
    """
    import shapely

    if len(footprints) == 0 or len(parcels) == 0:
        return footprints.iloc[:0]
    geoms = np.asarray(footprints.geometry.values, dtype=object)
    tree = shapely.STRtree(geoms)
    near = np.unique(tree.query(shapely.envelope(np.asarray(parcels.geometry.values,
                                                           dtype=object)))[1])
    keep = np.unique(np.r_[near, tree.query(geoms[near])[1]])
    return footprints.iloc[keep].reset_index(drop=True)


def read_inputs(conn: psycopg.Connection) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Every parcel (ordered by ``parcel_id``) and footprint, in the working CRS."""
    from gis.db.srid import get_working_srid

    return read_chunk(conn, Chunk(None, 0), srid=get_working_srid(conn))
