"""The one way into the ``footprint`` table: validated, repeat-safe, recorded as a batch.

Every writer of footprints calls :func:`load_footprints`: ``mujun import
footprints`` (a survey or vendor delivery), ``mujun footprints extract
--load`` (footprints extracted from imagery) and the sample loader (the true
outlines of the sample city). Each load

1. takes the footprint import lock and computes the import's identity (the
   file's hash and every option that changes what is read): the same file
   read the same way is loaded once, even by two imports started together;
2. reads the layer in chunks of bounded size; maps its columns (synonyms,
   ``--map``; every guessed column is named in the report); understands
   OpenStreetMap's ``height`` (``"12 m"``), ``building:levels`` and the
   ``other_tags`` column of GDAL's OSM driver;
3. checks every feature: repaired when invalid, refused when empty, a sliver,
   or outside the declared CRS's area of use; unreadable optional
   attributes (height, storeys, date) are dropped with a warning, since the
   outline is what matters;
4. reprojects to the working CRS and COPYs the good rows, then records the
   batch's counts and report; commits once (or rolls back a dry run).

Footprints have no natural key: a corrected delivery is a new batch, and
consumers pick footprints by batch, date or survey. Every batch is a survey
(:mod:`gis.importing.surveys`), recorded inside the load's transaction: opened
with the batch (:func:`~gis.importing.surveys.open_survey`, whose id every row is
written with), settled when the rows are in
(:func:`~gis.importing.surveys.record_survey`: date and coverage).

:func:`remove_footprint_batches` takes batches out again (their footprints and
surveys), the one way rows leave the table.

Tool module (reads files, writes through the connection it is given).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from gis.errors import ConfigError
from gis.importing.common import (
    ImportResult,
    already_imported,
    close_batch,
    earlier_import,
    rollback_quietly,
    settle,
)
from gis.importing.report import ImportReport
from gis.importing.surveys import FootprintBatch, open_survey, record_survey
from gis.importing.values import as_date

if TYPE_CHECKING:
    import geopandas as gpd
    import psycopg

    from gis.progress import Progress

log = logging.getLogger(__name__)

#: Field table of footprint layers (see :mod:`gis.importing.headers`).
FOOTPRINT_FIELDS: dict[str, dict[str, Any]] = {
    "image_date": {"synonyms": ["测绘日期", "调查日期", "影像日期", "拍摄日期", "航拍日期",
                                "image_date", "survey_date", "date"]},
    "image_id": {"synonyms": ["影像编号", "影像号", "image_id"]},
    "source": {"synonyms": ["来源", "数据来源", "source"]},
    "method": {"synonyms": ["提取方法", "method"]},
    "ground_res_m": {"synonyms": ["分辨率", "ground_res_m"]},
    "confidence": {"synonyms": ["置信度", "confidence"]},
    "height_m": {"synonyms": ["高度", "建筑高度", "height_m", "height"]},
    "storeys": {"synonyms": ["层数", "楼层数", "建筑层数", "地上层数", "storeys", "floors", "levels",
                             "building:levels", "building_levels"]},
}

#: How each field is parsed (:func:`gis.importing.attributes.parse_attributes`).
FIELD_KINDS = {"image_date": "date", "image_id": "text", "source": "text", "method": "text",
               "ground_res_m": "number", "confidence": "number", "height_m": "length",
               "storeys": "number"}
#: Columns written to ``footprint``.
FOOTPRINT_COLUMNS = ("geom", "image_id", "image_date", "source", "method", "ground_res_m",
                     "confidence", "height_m", "storeys", "attrs", "batch_id", "source_fid")
#: Features read and written per chunk (bounded memory for million-footprint files).
CHUNK = 200_000
#: Tallest building believed (m) and most storeys; beyond is a typing or unit error.
MAX_HEIGHT_M = 1000.0
MAX_STOREYS = 200


def load_footprints(conn: psycopg.Connection, path: str | Path, *, layer: str | None = None,
                    crs: Any = None, encoding: str | None = None, swap_xy: bool = False,
                    mapping: Mapping[str, Any] | None = None,
                    survey_date: str | dt.date | None = None, coverage: Any = None,
                    survey_attrs: Mapping[str, Any] | None = None,
                    source_name: str | None = None, method: str = "survey",
                    kind: str = "footprints", file_hash: str | None = None,
                    fid_column: str | None = None, params: Mapping[str, Any] | None = None,
                    skip_if_loaded: bool = True,
                    dry_run: bool = False, accept_partial: bool = False,
                    rejects: str | Path | None = None, overwrite: bool = False,
                    settings: Any = None, min_area_m2: float = 1.0, chunk: int = CHUNK,
                    commit: bool = True, progress: Progress | None = None) -> ImportResult:
    """Validate a footprint layer and add it to ``footprint`` as one batch (all or nothing).

    Parameters
    ----------
    conn : psycopg.Connection
        Committed on success, rolled back on error or for a dry run (unless
        ``commit=False``: then the caller's transaction is left open).
    path : any vector source :func:`gis.vector_io.read_vector` reads.
    layer, crs, encoding, swap_xy :
        As for :func:`gis.importing.layers.read_layer`.
    mapping : mapping, optional
        ``{'columns': {field: column}}`` (``--map``); ``{field: ''}`` reads no
        column as that field. Fields: :data:`FOOTPRINT_FIELDS`.
    survey_date : str or date, optional
        Date of the survey or imagery; wins over any date column.
    coverage : geometry, optional
        Area the survey covers (:func:`gis.importing.surveys.record_survey`).
    survey_attrs : mapping, optional
        Stored in the survey's ``attrs``: ``{"image": path}`` names the image the
        footprints were seen on (:func:`gis.importing.surveys.image_attrs`), which the
        review app cuts its before/after chips from.
    source_name : str, optional
        Vendor, survey or image; wins over a source column; default the file name.
    method : str
        Stored when the file has no method column (``survey``, ``sample``; the
        extractor's files carry ``ndsm``, ``classify`` ...).
    kind : str
        Batch kind (``footprints``; the sample loader uses ``sample``).
    file_hash : str, optional
        The file's content hash when already known (skips hashing), or
        ``"features"``: hash the features rather than the file's bytes (for
        files mujun wrote itself, whose metadata changes with every write).
    fid_column : str, optional
        Column stored as ``source_fid`` (default: the feature number).
    params : mapping, optional
        More options recorded on the batch (not part of its identity).
    skip_if_loaded : bool
        Return the earlier batch when this import was done before (default).
        The sample loader, which removes and reloads its own rows, turns it off.
    dry_run, accept_partial, rejects, overwrite :
        Check only; load the good features and list the rest in ``rejects``.
    settings : Settings, optional
        ``working_crs`` overrides the CRS chosen from the data.
    min_area_m2 : float
        Smaller footprints are refused as slivers.
    chunk : int
        Features read and written at a time.
    commit : bool
        End the transaction here (default).
    progress : callable, optional
        Called with the number of features just processed.

    Returns
    -------
    ImportResult
        ``batch_id`` is the new batch (or the earlier one when
        ``already_imported``; None for a dry run).

    Raises
    ------
    gis.errors.ImportRejected
        Features with errors (and no ``accept_partial``), or most of the file
        outside the CRS's area of use: nothing was written.
    gis.errors.CRSError, gis.errors.DataError, gis.errors.MappingError
        Unreadable source, unknown layer, no CRS, a mapped column that does not exist.

    Examples
    --------
    With an open connection ``conn`` (``mujun import footprints`` does this)::

        result = load_footprints(conn, "buildings.gpkg", survey_date="2024-05-01")
        result.batch_id, result.report.n_loaded      # -> (3, 48213)
    """
    from gis.vector_io import resolve_layer

    tick = progress or (lambda n: None)
    date = _survey_date(survey_date)
    mapping = _with_date_override(mapping, date)
    source = str(path) + (f":{layer}" if layer else "")
    layer = resolve_layer(path, layer)
    report = ImportReport(source=source, unit="feature")
    options = {"layer": layer, "crs": str(crs) if crs is not None else None,
               "encoding": encoding, "swap_xy": swap_xy or None,
               "mapping": dict(mapping or {}) or None, "date": str(date) if date else None,
               "source": source_name, "method": method, "fid_column": fid_column,
               "min_area_m2": min_area_m2 if min_area_m2 != 1.0 else None}
    if file_hash == "features":
        from gis.importing.common import content_sha256

        file_hash = content_sha256(path, layer)
    try:
        ident = earlier_import(conn, kind, path, options, file_hash=file_hash)
        if ident.earlier is not None and skip_if_loaded:
            return already_imported(conn, kind, source, report, ident.earlier, dry_run=dry_run,
                                    commit=commit)
        writer = _Writer(conn, kind=kind, path=path, layer=layer, report=report, ident=ident,
                         options={**options, **dict(params or {})},
                         info=FootprintBatch(0, 0, 0, source, method, date, coverage, dry_run,
                                             survey_attrs))
        for offset, gdf in _chunks(path, layer, crs, encoding, swap_xy, report, chunk):
            frame = _check_chunk(conn, gdf, offset, report, mapping=mapping, date=date,
                                 source_name=source_name or Path(path).name, method=method,
                                 fid_column=fid_column, settings=settings,
                                 min_area_m2=min_area_m2, swapped=swap_xy)
            if frame is not None:
                writer.write(frame, accept_partial or dry_run)
            tick(len(gdf))
        rejects_path = settle(report, accept_partial=accept_partial, source=source,
                              rejects=None if dry_run else rejects, overwrite=overwrite)
        batch_id = writer.finish()
        info = FootprintBatch(batch_id, writer.srid or 0, writer.n, source,
                              method, date, coverage, dry_run, survey_attrs)
        record_survey(conn, info)
        close_batch(conn, batch_id, report, n_loaded=writer.n, inserted=writer.n,
                    dry_run=dry_run, commit=commit)
    except BaseException:
        if commit:
            rollback_quietly(conn)
        raise
    return ImportResult(kind, source, report, batch_id=None if dry_run else batch_id,
                        dry_run=dry_run, rejects_path=rejects_path, srid=writer.srid)


def remove_footprint_batches(conn: psycopg.Connection, batch_ids: list[int]) -> int:
    """Take footprint batches out: their footprints and surveys go, their records stay.

    The batch records are kept for the history but no longer count as loaded
    (their identity is cleared and ``params.removed`` says when), so loading the same
    file again loads it anew. Runs in the caller's transaction (no commit).

    Returns
    -------
    int
        Footprints removed.
    """
    from psycopg.types.json import Jsonb

    from gis.db.connection import translate_errors

    ids = [int(b) for b in batch_ids]
    if not ids:
        return 0
    with translate_errors("removing footprint batches"):
        removed = conn.execute("DELETE FROM footprint WHERE batch_id = ANY(%s)", (ids,)).rowcount
        conn.execute("DELETE FROM survey WHERE batch_id = ANY(%s)", (ids,))
        conn.execute("UPDATE import_batch SET identity = NULL, params = params || %s"
                     " WHERE batch_id = ANY(%s)",
                     (Jsonb({"removed": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}),
                      ids))
    log.info("removed %d footprints of batches %s", removed, ids)
    return removed


def _survey_date(value: str | dt.date | None) -> dt.date | None:
    return None if value is None else as_date(value, "--date", ConfigError)


def _with_date_override(mapping: Mapping[str, Any] | None,
                        date: dt.date | None) -> dict[str, Any] | None:
    """An explicit date wins: no column is read as the image date."""
    if date is None:
        return dict(mapping) if mapping else None
    out = dict(mapping or {})
    out["columns"] = {**dict(out.get("columns") or {}), "image_date": ""}
    return out


def _chunks(path: str | Path, layer: str | None, crs: Any, encoding: str | None,
            swap_xy: bool, report: ImportReport, chunk: int) -> Iterator[tuple[int, Any]]:
    """``(offset, GeoDataFrame)`` pieces of the layer, at most ``chunk`` features each."""
    from gis.importing.layers import read_layer
    from gis.vector_io import count_features

    total = count_features(path, layer)
    if total is None or total <= chunk:
        gdf = read_layer(path, layer=layer, crs=crs, encoding=encoding, swap_xy=swap_xy,
                         report=report)
        report.n_read = len(gdf)
        yield 0, gdf
        return
    for offset in range(0, total, chunk):
        gdf = read_layer(path, layer=layer, crs=crs, encoding=encoding, swap_xy=swap_xy,
                         report=report if offset == 0 else None, skip=offset, limit=chunk)
        report.n_read += len(gdf)
        yield offset, gdf


_OSM_TAG = re.compile(r'"((?:[^"\\]|\\.)*)"=>"((?:[^"\\]|\\.)*)"')
#: OSM tags taken out of GDAL's ``other_tags`` column into columns of their own.
OSM_TAGS = ("height", "building:levels", "start_date", "building:material", "roof:levels")


def expand_osm_tags(frame: pd.DataFrame) -> pd.DataFrame:
    """Columns for the OSM tags GDAL's OSM driver packs into ``other_tags`` (``"k"=>"v",...``).

    Examples
    --------
    >>> f = pd.DataFrame({"other_tags": ['"building:levels"=>"3","height"=>"12 m"', None]})
    >>> expand_osm_tags(f)[["height", "building:levels"]].values.tolist()
    [['12 m', '3'], [None, None]]
    """
    if "other_tags" not in frame.columns:
        return frame
    parsed = [dict(_OSM_TAG.findall(t)) if isinstance(t, str) else {} for t in frame["other_tags"]]
    out = frame.copy()
    for tag in OSM_TAGS:
        if tag not in out.columns and any(tag in p for p in parsed):
            out[tag] = [p.get(tag) for p in parsed]
    return out


def _check_chunk(conn: psycopg.Connection, gdf: gpd.GeoDataFrame, offset: int,
                 report: ImportReport, *, mapping: Mapping[str, Any] | None,
                 date: dt.date | None, source_name: str, method: str, fid_column: str | None,
                 settings: Any, min_area_m2: float, swapped: bool) -> pd.DataFrame | None:
    """Check one chunk; return its rows (all of them, with ``_ok``) in the working CRS."""
    from gis.importing.attributes import parse_attributes
    from gis.importing.headers import field_specs, match_columns, note_plan
    from gis.importing.layers import extra_attributes, to_working_crs

    n = len(gdf)
    if n == 0:
        return None
    rows = np.arange(offset + 1, offset + n + 1)
    gdf = expand_osm_tags(gdf)
    names = [c for c in gdf.columns if c != gdf.geometry.name]
    specs = field_specs(FOOTPRINT_FIELDS, mapping, kind="footprints")
    plan = match_columns([names], specs, mapping, source=report.source)
    if offset == 0:
        note_plan(plan, report)
    fields = {m.field: (names[m.index], m.factor) for m in plan.columns if m.field}
    attrs = parse_attributes(gdf, fields, rows, report, FIELD_KINDS, severity="warning")
    _plausible(attrs, rows, report)
    geoms, srid, new_srid, ok = to_working_crs(conn, gdf, rows, report, settings=settings,
                                               min_area_m2=min_area_m2, swapped=swapped)
    if new_srid and srid:
        from gis.db.srid import set_working_srid

        set_working_srid(conn, srid)
    used = {v[0] for v in fields.values()} | {fid_column, "other_tags"}
    if fid_column is not None and fid_column not in gdf.columns:
        from gis.errors import MappingError

        raise MappingError(f"{report.source}: no column {fid_column!r} for the feature id; "
                           f"columns: {', '.join(names)}")
    frame = pd.DataFrame({
        "geom": geoms,
        "image_id": attrs["image_id"],
        "image_date": [date] * n if date else attrs["image_date"],
        "source": attrs["source"].where(attrs["source"].notna(), source_name)
        if "source" in fields else source_name,
        "method": attrs["method"].where(attrs["method"].notna(), method)
        if "method" in fields else method,
        "ground_res_m": attrs["ground_res_m"],
        "confidence": attrs["confidence"],
        "height_m": attrs["height_m"],
        "storeys": _whole(attrs["storeys"]),
        "attrs": extra_attributes(gdf, [c for c in names if c not in used]),
        "source_fid": gdf[fid_column].to_numpy() if fid_column else rows,
    })
    frame["_ok"] = ok
    frame["_row"] = rows
    frame["_srid"] = srid
    return frame


def _whole(values: pd.Series) -> pd.arrays.IntegerArray:
    """Counts as nullable integers, rounded half up (2.5 storeys -> 3)."""
    numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    missing = ~np.isfinite(numbers)
    return pd.arrays.IntegerArray(np.floor(np.where(missing, 0, numbers) + 0.5).astype(np.int64),
                                  missing)


def _plausible(attrs: pd.DataFrame, rows: np.ndarray, report: ImportReport) -> None:
    """Heights and storeys no building has are dropped with a warning; fractional storeys rounded."""
    for field, limit, unit in (("height_m", MAX_HEIGHT_M, "m"), ("storeys", MAX_STOREYS, ""),
                               ("confidence", 1.0, "")):
        values = pd.to_numeric(attrs[field], errors="coerce").to_numpy(dtype=float)
        bad = np.isfinite(values) & ((values < 0) | (values > limit))
        for r, v in zip(rows[bad], values[bad], strict=True):
            report.add(int(r), "absurd_value", "warning",
                       f"{field} {v:g}{unit} is outside 0-{limit:g}; left empty", field, v)
        if bad.any():
            attrs.loc[bad, field] = None
        if field == "storeys":
            frac = np.isfinite(values) & ~bad & (values != np.round(values))
            for r, v in zip(rows[frac], values[frac], strict=True):
                report.add(int(r), "rounded", "warning",
                           f"{v:g} storeys rounded to {int(np.floor(v + 0.5))}", field, v)


class _Writer:
    """Opens the batch on the first good chunk and COPYs each chunk's good rows."""

    def __init__(self, conn: Any, *, kind: str, path: str | Path, layer: str | None,
                 report: ImportReport, ident: Any, options: dict[str, Any],
                 info: FootprintBatch):
        self.conn, self.kind, self.path, self.layer = conn, kind, path, layer
        self.report, self.ident, self.options, self.info = report, ident, options, info
        self.batch_id: int | None = None
        self.srid: int | None = None
        self.constants: dict[str, Any] = {}
        self.n = 0

    def _open(self, srid: int) -> int:
        from gis.db.batches import start_batch

        if self.batch_id is None:
            self.srid = srid
            self.batch_id = start_batch(
                self.conn, self.kind, str(self.path), source_sha256=self.ident.file_hash,
                identity=self.ident.identity, layer=self.layer,
                params={k: v for k, v in self.options.items() if v is not None},
                srid=srid or None)
            opened = dataclasses.replace(self.info, batch_id=self.batch_id, srid=srid or 0)
            self.constants = open_survey(self.conn, opened) or {}
        return self.batch_id

    def write(self, frame: pd.DataFrame, partial: bool) -> None:
        from gis.db.copy import copy_frame

        srid = int(frame["_srid"].iloc[0])
        keep = frame["_ok"].to_numpy() & ~np.isin(frame["_row"].to_numpy(),
                                                  list(self.report.rejected_rows))
        if not keep.any() or (self.report.errors and not partial):
            # Errors without --accept-partial: nothing will be written; keep checking only.
            if srid:
                self._open(srid)
            return
        load = frame[keep].drop(columns=["_ok", "_row", "_srid"]).reset_index(drop=True)
        load["batch_id"] = self._open(srid)
        for column, value in self.constants.items():
            load[column] = value
        self.n += copy_frame(self.conn, "footprint", load,
                             [*FOOTPRINT_COLUMNS, *self.constants], srid=srid)

    def finish(self) -> int:
        if self.batch_id is None:
            self._open(self.srid or 0)
        assert self.batch_id is not None
        return self.batch_id

