"""Load a generated sample city into PostGIS (the trusted-data path of ``mujun demo``).

The clean sample tables are known to be valid, so parcels and enterprise
records go straight in with :func:`gis.db.copy.copy_frame`; the buildings go
through the one footprint loader (:func:`gis.importing.footprints.load_footprints`)
like every other footprint. Everything happens in **one** transaction with
one ``import_batch`` of kind ``sample`` per table; each batch carries the
table's content digest from ``sample.json``, so loading the same sample
again is a no-op. Loading a
different sample replaces the rows of the previously loaded sample (and only
those: rows from real imports are never touched).
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from typing import TYPE_CHECKING

from gis.progress import Progress, no_progress

if TYPE_CHECKING:
    import psycopg

    from sample.generate import SampleCity

log = logging.getLogger(__name__)

KIND = "sample"
#: Sample table -> database table, in load order.
TARGETS = {
    "parcels": "parcel",
    "buildings": "footprint",
    "enterprises": "enterprise",
    "enterprise_years": "enterprise_year",
    "land_rights": "land_right",
}
#: Buildings are read and copied in chunks of this many features (bounded memory).
CHUNK = 200_000


def _targets(tables: Collection[str] | None) -> dict[str, str]:
    """The sample tables to load (all of :data:`TARGETS` by default), in load order."""
    if tables is None:
        return dict(TARGETS)
    unknown = set(tables) - set(TARGETS)
    if unknown:
        raise ValueError(f"unknown sample tables {sorted(unknown)}; known: {', '.join(TARGETS)}")
    return {name: table for name, table in TARGETS.items() if name in tables}


def is_loaded(
    conn: psycopg.Connection, city: SampleCity, tables: Collection[str] | None = None
) -> bool:
    """True when every table of ``city`` (or of ``tables``) is loaded (same content digests)."""
    from gis.db.batches import find_batch_by_sha

    targets = _targets(tables)
    found = {find_batch_by_sha(conn, KIND, city.digests[name]) for name in targets}
    if None in found:
        return False
    # Loading another sample deletes this one's rows but keeps its batch records, so
    # the batches found must also be the newest sample batches.
    newest = conn.execute(
        "SELECT batch_id FROM import_batch WHERE kind = %s AND finished_at IS NOT NULL "
        "ORDER BY batch_id DESC LIMIT %s",
        (KIND, len(targets)),
    ).fetchall()
    return found == {r[0] for r in newest}


def table_steps(city: SampleCity, tables: Collection[str] | None = None) -> int:
    """Rows :func:`load_sample` reports through ``progress``."""
    return sum(int(city.counts[name]) for name in _targets(tables))


def load_sample(
    conn: psycopg.Connection,
    city: SampleCity,
    progress: Progress | None = None,
    tables: Collection[str] | None = None,
) -> dict:
    """Load the clean tables of a generated sample city in one transaction.

    Parameters
    ----------
    conn : psycopg.Connection
        Open connection (autocommit off). When no transaction is open, the load
        runs in its own transaction, committed once at the end; inside a
        caller's transaction it uses a savepoint and the caller commits.
    city : SampleCity
        From :func:`sample.generate_city` or ``SampleCity.load``.
    progress : callable, optional
        Called with the number of rows just loaded.
    tables : collection of str, optional
        Names in :data:`TARGETS` to load (default all); ``mujun demo`` leaves out
        ``buildings`` when it extracts footprints from the sample's imagery instead.

    Returns
    -------
    dict
        ``loaded`` (False when the sample was already there), ``srid``,
        ``replaced`` (rows of an earlier sample removed), and rows per table.
    """
    from psycopg.pq import TransactionStatus

    from gis.db.connection import translate_errors
    from gis.db.srid import get_working_srid, set_working_srid
    from sample.config import EPSG

    progress = progress or no_progress
    # Own the transaction unless the caller already has one open (then it commits).
    owns = conn.info.transaction_status == TransactionStatus.IDLE
    targets = _targets(tables)
    if is_loaded(conn, city, tables):
        log.info("sample %s-%s already loaded; nothing to do", city.size, city.seed)
        counts = {table: _count_batch_rows(conn, city, name) for name, table in targets.items()}
        srid = get_working_srid(conn)
        if owns:
            conn.rollback()
        return {"loaded": False, "srid": srid, "replaced": 0, **counts}
    if owns:
        conn.rollback()  # end the read-only transaction of the check above

    with translate_errors(f"loading the sample city {city.root}"), conn.transaction():
        replaced = _remove_previous_samples(conn)
        srid = get_working_srid(conn) or EPSG
        set_working_srid(conn, srid)
        counts = {}
        for name, table in targets.items():
            counts[table] = _LOADERS[name](conn, city, name, table, srid, progress)
        conn.execute("ANALYZE parcel")
        conn.execute("ANALYZE footprint")
    log.info("sample %s-%s loaded: %s", city.size, city.seed, counts)
    return {"loaded": True, "srid": srid, "replaced": replaced, **counts}


def _count_batch_rows(conn, city, name: str) -> int:
    from gis.db.batches import find_batch_by_sha

    batch = find_batch_by_sha(conn, KIND, city.digests[name])
    row = conn.execute("SELECT n_loaded FROM import_batch WHERE batch_id = %s", (batch,)).fetchone()
    return int(row[0]) if row else 0


def _remove_previous_samples(conn) -> int:
    """Delete rows loaded by earlier sample batches; return how many were removed."""
    from psycopg import sql

    batches = [
        r[0]
        for r in conn.execute(
            "SELECT batch_id FROM import_batch WHERE kind = %s", (KIND,)
        ).fetchall()
    ]
    if not batches:
        return 0
    from gis.importing.footprints import remove_footprint_batches

    removed = 0
    for table in ("land_right", "enterprise_year", "enterprise", "footprint", "parcel"):
        if table == "footprint":  # the footprints and their surveys: the loader's way out
            removed += remove_footprint_batches(conn, batches)
            continue
        cur = conn.execute(
            sql.SQL("DELETE FROM {} WHERE batch_id = ANY(%s)").format(sql.Identifier(table)),
            (batches,),
        )
        removed += cur.rowcount
    log.info("removed %d rows of earlier sample batches %s", removed, batches)
    return removed


def _batch(conn, city, name: str, srid: int | None, layer: str | None = None) -> int:
    from gis.db.batches import start_batch

    return start_batch(
        conn,
        KIND,
        str(city.paths[name]),
        source_sha256=city.digests[name],
        layer=layer or name,
        params={"size": city.size, "seed": city.seed, "generator_version": city.generator_version},
        srid=srid,
    )


def _finish(conn, batch: int, n: int) -> None:
    from gis.db.batches import finish_batch

    finish_batch(conn, batch, n_read=n, n_loaded=n)


def _read_layer(path, layer: str, srid: int, skip: int = 0, limit: int | None = None):
    import pyogrio

    frame = pyogrio.read_dataframe(path, layer=layer, skip_features=skip, max_features=limit)
    if frame.crs is not None and frame.crs.to_epsg() != srid:
        frame = frame.to_crs(srid)
    return frame.rename_geometry("geom")


def _load_parcels(conn, city, name, table, srid, progress) -> int:
    from gis.db.copy import copy_frame

    batch = _batch(conn, city, name, srid)
    frame = _read_layer(city.paths[name], "parcels", srid)
    frame["batch_id"] = batch
    columns = [
        "parcel_code",
        "geom",
        "cert_area_m2",
        "land_use_code",
        "supply_date",
        "agreed_start_date",
        "agreed_finish_date",
        "planned_far",
        "town",
        "district",
        "batch_id",
    ]
    n = copy_frame(conn, table, frame, columns, srid=srid, progress=progress)
    _finish(conn, batch, n)
    return n


def _load_buildings(conn, city, name, table, srid, progress) -> int:
    from gis.importing.footprints import load_footprints
    from sample.config import AS_OF

    # One survey, dated the sample's "today", covering the whole sample (the generated
    # imagery covers every town): the extent of its parcels, grown by a block.
    row = conn.execute(
        "SELECT ST_AsBinary(ST_Expand(ST_Envelope(ST_Collect(geom)), 100)) FROM parcel"
        " WHERE batch_id IN (SELECT batch_id FROM import_batch WHERE kind = %s)",
        (KIND,)).fetchone()
    coverage = None
    if row and row[0] is not None:
        import shapely

        coverage = shapely.from_wkb(bytes(row[0]))
    result = load_footprints(
        conn, city.paths[name], layer="buildings", kind=KIND, file_hash=city.digests[name],
        fid_column="building_id", method="sample", source_name=f"sample {city.size}-{city.seed}",
        params={"size": city.size, "seed": city.seed,
                "generator_version": city.generator_version},
        survey_date=AS_OF, coverage=coverage,
        skip_if_loaded=False, commit=False, chunk=CHUNK, progress=progress)
    return result.report.n_loaded


def _read_csv(path, dates=()):
    import pandas as pd

    frame = pd.read_csv(path, dtype={"credit_code": str, "parcel_code": str, "industry_code": str})
    for col in dates:
        frame[col] = pd.to_datetime(frame[col])
    return frame


def _load_enterprises(conn, city, name, table, srid, progress) -> int:
    from gis.db.copy import copy_frame

    batch = _batch(conn, city, name, None)
    frame = _read_csv(city.paths[name], dates=("established_date",))
    frame["batch_id"] = batch
    frame["checksum_ok"] = True
    from sample.town import ENTERPRISE_COLUMNS  # the columns the generator writes

    columns = [*ENTERPRISE_COLUMNS, "checksum_ok", "batch_id"]
    frame["industry_version"] = frame["industry_version"].astype(str)
    n = copy_frame(conn, table, frame, columns, progress=progress)
    _finish(conn, batch, n)
    return n


def _load_years(conn, city, name, table, srid, progress) -> int:
    from gis.db.copy import copy_frame
    from sample.records import COLUMNS

    batch = _batch(conn, city, name, None)
    frame = _read_csv(city.paths[name])
    frame["batch_id"] = batch
    n = copy_frame(conn, table, frame, [*COLUMNS, "batch_id"], progress=progress)
    _finish(conn, batch, n)
    return n


def _load_rights(conn, city, name, table, srid, progress) -> int:
    from gis.db.copy import copy_frame
    from sample.town import RIGHT_COLUMNS

    batch = _batch(conn, city, name, None)
    frame = _read_csv(city.paths[name], dates=("start_date", "end_date"))
    frame["batch_id"] = batch
    n = copy_frame(conn, table, frame, [*RIGHT_COLUMNS, "batch_id"], progress=progress)
    _finish(conn, batch, n)
    return n


_LOADERS = {
    "parcels": _load_parcels,
    "buildings": _load_buildings,
    "enterprises": _load_enterprises,
    "enterprise_years": _load_years,
    "land_rights": _load_rights,
}
