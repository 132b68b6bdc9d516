"""Surveys: each footprint batch is recorded as a dated survey with its coverage.

A **survey** (table ``survey``, migration 0009) is a set of footprints with its date and
the area it covers. Every load of footprints (``mujun import footprints``, ``mujun
footprints extract --load``, the sample loader) records its survey in the same transaction:
:func:`open_survey`, called by the loader when the batch opens, inserts it, so every
footprint row is written with its ``survey_id`` (no row is updated afterwards: 827,000
rows rewritten cost more than loading them), and :func:`record_survey`, called once the
rows are in, settles its date and coverage:

* date: the load's ``survey_date`` (``--date``), else the newest image date of the
  batch, else the day of the load (noted in the survey's ``attrs``);
* coverage: the load's ``coverage`` (the image outline for extracted footprints,
  ``--coverage FILE`` for imports; a GeoSeries/GeoDataFrame with its CRS is reprojected,
  a bare geometry is taken as the working CRS), else the extent of the batch;
* image: ``attrs["image"]``, the absolute path of the image the footprints were extracted
  from or seen on (``footprints extract --load``, the demo's extract stage, ``mujun import
  footprints --image``; :func:`image_attrs`). The review app cuts the parcel's before/after
  chips from it; the path never leaves the server.

Which survey each parcel's occupancy rests on is decided in :mod:`parcels.surveys`.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gis.errors import DataError

if TYPE_CHECKING:
    import psycopg

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FootprintBatch:
    """A footprint batch as its survey sees it, inside the load's transaction.

    :func:`open_survey` gets it when the batch opens (``n_loaded`` 0),
    :func:`record_survey` once the rows are written.
    """

    batch_id: int
    srid: int
    n_loaded: int
    source: str
    method: str
    survey_date: dt.date | None
    coverage: Any
    dry_run: bool
    #: More ``survey.attrs`` of the survey the batch becomes (``{"image": path}``).
    survey_attrs: Mapping[str, Any] | None = None


def as_coverage(coverage: Any, srid: int):
    """A shapely (Multi)Polygon in ``srid`` from a geometry, GeoSeries or GeoDataFrame.

    Raises
    ------
    DataError
        Not polygonal, or empty.
    """
    import shapely

    if coverage is None:
        return None
    if hasattr(coverage, "to_crs"):
        if coverage.crs is not None and srid:
            coverage = coverage.to_crs(epsg=srid)
        coverage = shapely.union_all(list(getattr(coverage, "geometry", coverage).values))
    geom = shapely.make_valid(coverage)
    if geom.geom_type == "GeometryCollection":
        parts = [g for g in geom.geoms if g.geom_type in ("Polygon", "MultiPolygon")]
        geom = shapely.union_all(parts) if parts else shapely.Polygon()
    if geom.is_empty or geom.geom_type not in ("Polygon", "MultiPolygon"):
        raise DataError("a survey's coverage must be a non-empty polygon (the area the images "
                        "cover)")
    return geom


def image_attrs(path: str | Path | None) -> dict[str, str]:
    """``{"image": absolute path}`` for a survey's ``attrs`` (empty for no path).

    Raises
    ------
    DataError
        The file does not exist, is not a raster GDAL reads, or has no CRS.
    """
    if path is None:
        return {}
    import rasterio
    from rasterio.errors import RasterioIOError

    path = Path(path).expanduser().resolve()
    if not path.is_file():
        raise DataError(f"{path}: image not found (give the orthophoto or satellite image "
                        "the footprints were seen on)")
    try:
        with rasterio.open(path) as src:
            crs, count = src.crs, src.count
    except RasterioIOError as exc:
        raise DataError(f"{path}: not a raster image GDAL can read ({exc})") from exc
    if count < 1 or crs is None:
        raise DataError(f"{path}: the image has no bands or no CRS; give a georeferenced "
                        "raster (GeoTIFF)")
    return {"image": str(path)}


def create_survey(conn: psycopg.Connection, *, survey_date: dt.date, coverage: Any = None,
                  srid: int | None = None, batch_id: int | None = None,
                  source: str | None = None, method: str | None = None,
                  footprint_ids: list[int] | None = None,
                  attrs: dict[str, Any] | None = None) -> int:
    """Record a survey and attach its footprints (no commit); returns the survey id.

    Parameters
    ----------
    survey_date : date
    coverage : geometry, GeoSeries or GeoDataFrame, optional
        Area covered (default: the extent of its footprints).
    srid : int, optional
        Working SRID (default: the database's).
    batch_id : int, optional
        The footprint batch making up the survey (each batch belongs to one survey).
    footprint_ids : list of int, optional
        Footprints to attach instead of (or besides) the batch's.

    Raises
    ------
    DataError
        No footprints and no coverage, or the batch already has a survey.
    """
    import shapely
    from psycopg.types.json import Jsonb

    from gis.db.connection import translate_errors
    from gis.db.srid import get_working_srid

    srid = srid or get_working_srid(conn)
    if batch_id is not None:
        known = conn.execute("SELECT survey_id FROM survey WHERE batch_id = %s",
                             (int(batch_id),)).fetchone()
        if known is not None:
            raise DataError(f"footprint batch {batch_id} already belongs to survey {known[0]}")
    where = "(batch_id = %(batch)s OR footprint_id = ANY(%(ids)s))"
    args = {"batch": batch_id, "ids": [int(i) for i in footprint_ids or []]}
    basis = "given"
    geom = as_coverage(coverage, srid)
    if geom is None:
        row = conn.execute(
            f"SELECT ST_AsBinary(ST_Envelope(ST_Collect(geom))) FROM footprint WHERE {where}",
            args).fetchone()
        if row is None or row[0] is None:
            raise DataError("a survey without footprints needs its coverage (--coverage FILE)")
        geom = as_coverage(shapely.from_wkb(bytes(row[0])).buffer(0.5, join_style="mitre"),
                           srid)
        basis = "extent"
    with translate_errors("recording a survey"):
        row = conn.execute(
            "INSERT INTO survey (survey_date, coverage, source, method, batch_id, attrs)"
            " VALUES (%s, ST_Multi(ST_SetSRID(ST_GeomFromWKB(%s), %s)), %s, %s, %s, %s)"
            " RETURNING survey_id",
            (survey_date, shapely.to_wkb(geom), srid, source, method, batch_id,
             Jsonb({"coverage": basis, **(attrs or {})}))).fetchone()
        survey_id = int(row[0])
        conn.execute(f"UPDATE footprint SET survey_id = %(survey)s WHERE {where}",
                     {**args, "survey": survey_id})
    return survey_id


def open_survey(conn: psycopg.Connection, batch: FootprintBatch) -> dict[str, Any] | None:
    """A provisional survey for a batch that opens (called by the footprint loader).

    Returns ``{"survey_id": id}`` for the loader to write into every row; the date and
    coverage are settled by :func:`record_survey` once the rows are in.
    """
    from psycopg.types.json import Jsonb

    from gis.db.connection import translate_errors

    if batch.dry_run or not batch.srid:
        return None
    with translate_errors("opening the survey of a footprint batch"):
        row = conn.execute(
            "INSERT INTO survey (survey_date, coverage, source, method, batch_id, attrs)"
            " VALUES (%s, ST_SetSRID('MULTIPOLYGON EMPTY'::geometry, %s), %s, %s, %s, %s)"
            " RETURNING survey_id",
            (batch.survey_date or dt.date.today(), batch.srid, batch.source, batch.method,
             batch.batch_id, Jsonb({"provisional": True}))).fetchone()
    return {"survey_id": int(row[0])}


def _settle_survey(conn: psycopg.Connection, survey_id: int, batch: FootprintBatch,
                   date: dt.date, attrs: dict[str, Any]) -> int:
    """Give an opened survey its date and coverage (the batch's extent when none was given)."""
    import shapely
    from psycopg.types.json import Jsonb

    from gis.db.connection import translate_errors

    geom = as_coverage(batch.coverage, batch.srid)
    basis = "given"
    if geom is None:
        row = conn.execute("SELECT ST_AsBinary(ST_Envelope(ST_Collect(geom))) FROM footprint"
                           " WHERE batch_id = %s", (batch.batch_id,)).fetchone()
        if row is None or row[0] is None:
            conn.execute("DELETE FROM survey WHERE survey_id = %s", (survey_id,))
            return survey_id
        geom = as_coverage(shapely.from_wkb(bytes(row[0])).buffer(0.5, join_style="mitre"),
                           batch.srid)
        basis = "extent"
    with translate_errors("recording a survey"):
        conn.execute(
            "UPDATE survey SET survey_date = %s,"
            " coverage = ST_Multi(ST_SetSRID(ST_GeomFromWKB(%s), %s)),"
            " attrs = (attrs - 'provisional') || %s WHERE survey_id = %s",
            (date, shapely.to_wkb(geom), batch.srid, Jsonb({"coverage": basis, **attrs}),
             survey_id))
    return survey_id


def record_survey(conn: psycopg.Connection, batch: FootprintBatch) -> int | None:
    """The batch becomes a survey once its rows are in (called by the footprint loader)."""
    if batch.dry_run or (batch.n_loaded == 0 and batch.coverage is None):
        opened = conn.execute("SELECT survey_id FROM survey WHERE batch_id = %s",
                              (batch.batch_id,)).fetchone()
        if opened is not None and not batch.dry_run:
            conn.execute("DELETE FROM survey WHERE survey_id = %s", (opened[0],))
        return None
    attrs: dict[str, Any] = dict(batch.survey_attrs or {})
    date = batch.survey_date
    if date is None:
        row = conn.execute("SELECT max(image_date) FROM footprint WHERE batch_id = %s",
                           (batch.batch_id,)).fetchone()
        date = row[0] if row else None
        attrs["date"] = "newest image date"
    if date is None:
        date = dt.date.today()
        attrs["date"] = "day of the load (no date given or found)"
        log.warning("footprint batch %d has no survey or image date: its survey is dated %s; "
                    "give --date to date it", batch.batch_id, date)
    opened = conn.execute("SELECT survey_id FROM survey WHERE batch_id = %s",
                          (batch.batch_id,)).fetchone()
    if opened is not None:
        return _settle_survey(conn, int(opened[0]), batch, date, attrs)
    return create_survey(conn, survey_date=date, coverage=batch.coverage,
                         srid=batch.srid or None, batch_id=batch.batch_id, source=batch.source,
                         method=batch.method, attrs=attrs)
