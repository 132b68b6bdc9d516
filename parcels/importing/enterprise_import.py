"""Import enterprise annual records (XLSX, XLS, CSV) into ``enterprise`` and ``enterprise_year``.

Tool module. Headers are recognised from the shipped synonyms (and a mapping
file), units read from the headers and converted to the schema's units, every
row checked (:mod:`parcels.importing.enterprise_checks`), and rows upserted by
credit code (``enterprise``) and by (credit code, year) (``enterprise_year``)
in one transaction. Row numbers in messages are the spreadsheet's own.

Mapping file (YAML), all keys optional::

    sheet: 2023年数据          # sheet name or 0-based number
    header_rows: 2             # force the header block height ...
    first_row: 3               # ... and its first row (0-based)
    columns:                   # field: header (or list of headers)
      credit_code: 纳税识别码
      electricity_kwh: [电力消耗]
    units:                     # field: unit, when the header names none or lies
      tax_wan: 元
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from gis.errors import MappingError
from gis.importing.common import (
    ImportResult,
    already_imported,
    close_batch,
    earlier_import,
    rollback_quietly,
    settle,
)
from gis.importing.headers import load_field_specs, match_columns, merge_maps, note_plan
from gis.importing.mapping_file import load_mapping
from gis.importing.report import ImportReport
from gis.importing.sheets import read_grid, table_records
from gis.importing.store import upsert_frame
from parcels.importing.enterprise_checks import NUMERIC_FIELDS, check_enterprises
from parcels.importing.kinds import register_import_kinds

__all__ = ["import_enterprises", "load_mapping", "merge_maps", "table_records"]

if TYPE_CHECKING:
    import psycopg

    from gis.progress import Progress

log = logging.getLogger(__name__)

#: Columns of ``enterprise`` a file may carry (credit code and name it always does).
ENTERPRISE_FIELDS = ("industry_code", "size_class", "town", "status", "established_date",
                     "deregistered_date")
YEAR_COLUMNS = ("credit_code", "year", *NUMERIC_FIELDS, "attrs", "batch_id")
#: Flags of the year a file may carry (``size_class`` also goes to ``enterprise``, which
#: keeps the latest; the year's own makes "first year above designated size").
YEAR_FLAGS = ("size_class", "high_tech")


def import_enterprises(conn: psycopg.Connection, path: str | Path, *, year: int,
                       mapping: Mapping[str, Any] | None = None, sheet: str | int | None = None,
                       encoding: str | None = None, dry_run: bool = False,
                       accept_partial: bool = False, rejects: str | Path | None = None,
                       overwrite: bool = False, clear_blanks: bool = False,
                       progress: Progress | None = None) -> ImportResult:
    """Check an enterprise table and upsert it for ``year`` in one transaction.

    Only the columns the table carries are written, and empty cells keep the
    stored value (unless ``clear_blanks``): a tax-only delivery keeps the
    power company's electricity figures of the same year.

    Parameters
    ----------
    conn : psycopg.Connection
        Committed on success, rolled back on error or for a dry run.
    path : XLSX, XLSM, XLS or CSV (UTF-8 or GBK, detected).
    year : int
        The year the figures are for.
    mapping : mapping, optional
        Parsed mapping file (:func:`load_mapping`).
    sheet : str or int, optional
        Overrides the mapping's ``sheet``.
    dry_run, accept_partial, rejects, overwrite : as for :func:`parcels.importing.parcel_import.import_parcels`.

    Returns
    -------
    ImportResult

    Raises
    ------
    parcels.errors.ImportRejected
        Any row has an error (and not ``accept_partial``): nothing was written.
    parcels.errors.MappingError
        Required columns cannot be found, or a header's unit is of the wrong kind.
    """
    from gis.db.batches import start_batch

    register_import_kinds()
    mapping = dict(mapping or {})
    tick = progress or (lambda n: None)
    if not 1990 <= int(year) <= 2100:
        raise MappingError(f"--year {year} is outside 1990-2100")
    source = str(path)
    report = ImportReport(source=source, unit="row")
    try:
        grid, sheet_name = read_grid(path, sheet=sheet if sheet is not None
                                     else mapping.get("sheet"), encoding=encoding)
        source = f"{path}:{sheet_name}" if sheet_name and sheet is not None else str(path)
        report.source = source
        options = {"year": int(year), "sheet": sheet_name or None, "encoding": encoding,
                   "mapping": mapping or None, "clear_blanks": clear_blanks or None}
        ident = earlier_import(conn, "enterprises", path, options)
        if ident.earlier is not None:
            return already_imported(conn, "enterprises", source, report, ident.earlier,
                                    dry_run=dry_run)
        specs = load_field_specs("enterprises", mapping)
        plan = match_columns(grid, specs, mapping, source=source)
        if plan.missing_required:
            raise MappingError(
                f"{source}: no column for {', '.join(plan.missing_required)} among the headers "
                f"{[c.header for c in plan.columns if c.header]}; name them with --map "
                "FIELD=COLUMN or in a mapping file (columns: {credit_code: ..., name: ...})")
        note_plan(plan, report)
        raw, rows = table_records(grid, plan)
        report.n_read = len(rows)
        if not len(rows):
            from gis.errors import EmptyInputError

            raise EmptyInputError("the table has headers but no data rows", source=source)
        tick(len(rows) // 2)
        factors = {m.field: m.factor for m in plan.columns if m.field}
        typed, keep = check_enterprises(raw, factors, rows, report, year=int(year))
        tick(len(rows) - len(rows) // 2)
        rejects_path = settle(report, accept_partial=accept_partial, source=source,
                              rejects=None if dry_run else rejects, overwrite=overwrite)
        extras = [c for c in raw.columns if c.startswith("_extra:")]
        from gis.importing.layers import extra_attributes

        # unrecognised columns as JSON text, built column by column (not a dict per row)
        typed["attrs"] = extra_attributes(
            raw[extras].rename(columns=lambda c: c.removeprefix("_extra:")),
            [c.removeprefix("_extra:") for c in extras])
        load = typed[keep].reset_index(drop=True)
        load["_row"] = rows[keep]
        load["year"] = int(year)
        load["industry_version"] = "2017"
        load["employees"] = pd.array(load["employees"].tolist(), dtype="Int64") \
            if len(load) else load["employees"]
        units = {m.field: m.unit for m in plan.columns if m.field and m.unit}
        batch_id = start_batch(conn, "enterprises", str(path), source_sha256=ident.file_hash,
                               identity=ident.identity, layer=sheet_name,
                               params={"year": int(year), "mapping": mapping,
                                       "accept_partial": accept_partial, "units": units})
        load["batch_id"] = batch_id
        carried = set(raw.columns)
        keep_null = () if clear_blanks else None
        ent_cols = ["credit_code", "checksum_ok", "name",
                    *[f for f in ENTERPRISE_FIELDS if f in carried],
                    *(["industry_version"] if "industry_code" in carried else []), "batch_id"]
        ent = load.drop_duplicates("credit_code").reset_index(drop=True)
        stored = {code: (name, status, batch) for code, name, status, batch in conn.execute(
            "SELECT trim(credit_code), name, status, batch_id FROM enterprise "
            "WHERE credit_code = ANY(%s)", (list(ent["credit_code"]),)).fetchall()}
        if "status" in carried and ent["status"].isna().any():
            # a blank status keeps the stored one (the column is NOT NULL, so it is filled in
            # here rather than left to the upsert); a new enterprise without one is active
            blank = ent["status"].isna()
            ent.loc[blank, "status"] = [stored[c][1] if c in stored else "active"
                                        for c in ent.loc[blank, "credit_code"]]
        renamed = _note_renames(conn, ent, stored, report, batch_id)
        ent_written: list[tuple] = []
        ins_e, upd_e = upsert_frame(conn, "enterprise", ent, ["credit_code"], ent_cols,
                                    keep_when_null=keep_null if keep_null is not None
                                    else ent_cols, not_compared=("batch_id",),
                                    written=ent_written)
        year_cols = ["credit_code", "year", *[f for f in NUMERIC_FIELDS if f in carried],
                     *[f for f in YEAR_FLAGS if f in carried], "attrs", "batch_id"]
        year_written: list[tuple] = []
        ins_y, _updated = upsert_frame(conn, "enterprise_year", load, ["credit_code", "year"],
                                    year_cols, keep_when_null=keep_null if keep_null is not None
                                    else year_cols, merge_json=("attrs",),
                                    not_compared=("batch_id",), written=year_written)
        # a row is changed when its annual figures or its enterprise (name, status ...) changed
        year_new = {w[1] for w in year_written if w[0]}
        changed = {w[1] for w in year_written if not w[0]} | \
            ({w[1] for w in ent_written if not w[0]} - year_new)
        report.extra["enterprises"] = {"inserted": ins_e, "updated": upd_e,
                                       "renamed": renamed}
        report.extra["units"] = units
        report.extra["columns_written"] = [c for c in (*ent_cols, *year_cols)
                                           if c not in ("credit_code", "batch_id", "year")]
        close_batch(conn, batch_id, report, n_loaded=len(load), inserted=ins_y,
                    updated=len(changed), dry_run=dry_run)
    except BaseException:
        rollback_quietly(conn)
        raise
    return ImportResult("enterprises", source, report, batch_id=None if dry_run else batch_id,
                        dry_run=dry_run, rejects_path=rejects_path,
                        extra={"year": int(year), "sheet": sheet_name, "units": units,
                               "industry_check": "GB/T 4754-2017 at division level"})


def _note_renames(conn: psycopg.Connection, ent: pd.DataFrame,
                  stored: dict[str, tuple[str, str, int | None]], report: ImportReport,
                  batch_id: int) -> int:
    """Report every enterprise whose name the file changes; keep the earlier name.

    The earlier name goes to ``enterprise_name_history`` with the batch that
    brought it and the batch that replaced it, in one statement.

    Returns
    -------
    int
        How many enterprises were renamed.
    """
    row_of = dict(zip(ent["credit_code"], ent["_row"], strict=True))
    old_names, codes, batches = [], [], []
    for code, name in zip(ent["credit_code"], ent["name"], strict=True):
        before = stored.get(code)
        if before is None or name is None or before[0] == name:
            continue
        report.add(int(row_of[code]), "renamed", "info",
                   f"企业名称变更 (renamed): {before[0]} → {name}; the earlier name is kept in "
                   "the name history", "name", name)
        codes.append(code)
        old_names.append(before[0])
        batches.append(before[2])
    if codes:
        conn.execute(
            "INSERT INTO enterprise_name_history (credit_code, name, batch_id, replaced_by_batch_id) "
            "SELECT c, n, b, %s FROM unnest(%s::text[], %s::text[], %s::bigint[]) AS u(c, n, b)",
            (batch_id, codes, old_names, batches))
    return len(codes)

