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

import numpy as np
import pandas as pd

from parcels.errors import MappingError
from parcels.importing.common import ImportResult, close_batch, file_sha256, settle
from parcels.importing.enterprise_checks import NUMERIC_FIELDS, check_enterprises
from parcels.importing.headers import HeaderPlan, load_field_specs, match_columns
from parcels.importing.report import ImportReport
from parcels.importing.sheets import read_grid
from parcels.importing.store import upsert_frame

if TYPE_CHECKING:
    import psycopg

    from gis.progress import Progress

log = logging.getLogger(__name__)

ENTERPRISE_COLUMNS = ("credit_code", "checksum_ok", "name", "industry_code", "industry_version",
                      "size_class", "town", "batch_id")
YEAR_COLUMNS = ("credit_code", "year", *NUMERIC_FIELDS, "attrs", "batch_id")


def load_mapping(path: str | Path | None) -> dict[str, Any]:
    """Read a mapping YAML file (``{}`` when no path)."""
    if path is None:
        return {}
    import yaml

    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise MappingError(f"{path}: cannot read the mapping file: {exc}") from exc
    if not isinstance(data, dict):
        raise MappingError(f"{path}: a mapping file is a YAML mapping (sheet, columns, units)")
    unknown = set(data) - {"sheet", "header_rows", "first_row", "columns", "units"}
    if unknown:
        raise MappingError(f"{path}: unknown keys {sorted(unknown)}; use sheet, header_rows, "
                           "first_row, columns, units")
    return data


def table_records(grid: list[list[Any]], plan: HeaderPlan) -> tuple[pd.DataFrame, np.ndarray]:
    """Data rows of a grid as a frame of raw cells keyed by field, and their row numbers.

    Blank rows are skipped; row numbers are 1-based like a spreadsheet's.
    """
    by_field = plan.by_field
    data: dict[str, list[Any]] = {f: [] for f in by_field}
    extra_cols = [c for c in plan.columns if c.field is None and c.header]
    data.update({f"_extra:{c.header}": [] for c in extra_cols})
    rows = []
    for r in range(plan.data_start, len(grid)):
        row = grid[r]
        if all(v is None or str(v).strip() == "" for v in row):
            continue
        rows.append(r + 1)
        for f, m in by_field.items():
            data[f].append(row[m.index] if m.index < len(row) else None)
        for c in extra_cols:
            data[f"_extra:{c.header}"].append(row[c.index] if c.index < len(row) else None)
    return pd.DataFrame(data), np.asarray(rows, dtype=int)


def import_enterprises(conn: psycopg.Connection, path: str | Path, *, year: int,
                       mapping: Mapping[str, Any] | None = None, sheet: str | int | None = None,
                       encoding: str | None = None, dry_run: bool = False,
                       accept_partial: bool = False, rejects: str | Path | None = None,
                       overwrite: bool = False, progress: Progress | None = None) -> ImportResult:
    """Check an enterprise table and upsert it for ``year`` in one transaction.

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
    from gis.db.batches import find_batch_by_sha, start_batch

    mapping = dict(mapping or {})
    tick = progress or (lambda n: None)
    if not 1990 <= int(year) <= 2100:
        raise MappingError(f"--year {year} is outside 1990-2100")
    source = str(path)
    report = ImportReport(source=source, unit="row")
    sha = file_sha256(path)
    existing = find_batch_by_sha(conn, "enterprises", sha)
    if existing is not None:
        params = conn.execute("SELECT params->>'year' FROM import_batch WHERE batch_id = %s",
                              (existing,)).fetchone()
        if params is None or params[0] is None or int(params[0]) == int(year):
            conn.rollback()
            return ImportResult("enterprises", source, report, batch_id=existing,
                                already_imported=True, dry_run=dry_run)
    grid, sheet_name = read_grid(path, sheet=sheet if sheet is not None else mapping.get("sheet"),
                                 encoding=encoding)
    specs = load_field_specs("enterprises", mapping)
    plan = match_columns(grid, specs, mapping, source=source)
    if plan.missing_required:
        raise MappingError(
            f"{source}: no column for {', '.join(plan.missing_required)} among the headers "
            f"{[c.header for c in plan.columns if c.header]}; name them in a mapping file "
            "(columns: {credit_code: ..., name: ...})")
    for note in plan.notes:
        report.add(None, "header", "info", note)
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
    from parcels.importing.layers import jsonable

    attrs = [{k[len("_extra:"):]: jsonable(v) for k, v in rec.items() if jsonable(v) is not None}
             for rec in raw[extras].to_dict("records")] if extras else [{} for _ in rows]
    typed["attrs"] = attrs
    load = typed[keep].reset_index(drop=True)
    load["year"] = int(year)
    load["industry_version"] = "2017"
    load["employees"] = pd.array(load["employees"].tolist(), dtype="Int64") \
        if len(load) else load["employees"]
    try:
        batch_id = start_batch(conn, "enterprises", source, source_sha256=sha, layer=sheet_name,
                               params={"year": int(year), "mapping": mapping,
                                       "accept_partial": accept_partial,
                                       "units": {m.field: m.unit for m in plan.columns
                                                 if m.field and m.unit}})
        load["batch_id"] = batch_id
        ent = load.drop_duplicates("credit_code")
        ins_e, upd_e = upsert_frame(conn, "enterprise", ent, ["credit_code"], ENTERPRISE_COLUMNS,
                                    keep_when_null=("industry_code", "size_class", "town"),
                                    not_compared=("batch_id",))
        ins_y, upd_y = upsert_frame(conn, "enterprise_year", load, ["credit_code", "year"],
                                    YEAR_COLUMNS, not_compared=("batch_id",))
        report.extra["enterprises"] = {"inserted": ins_e, "updated": upd_e}
        report.extra["units"] = {m.field: m.unit for m in plan.columns if m.field and m.unit}
        close_batch(conn, batch_id, report, n_loaded=len(load), inserted=ins_y, updated=upd_y,
                    dry_run=dry_run)
    except BaseException:
        conn.rollback()
        raise
    return ImportResult("enterprises", source, report, batch_id=None if dry_run else batch_id,
                        dry_run=dry_run, rejects_path=rejects_path,
                        extra={"year": int(year), "sheet": sheet_name,
                               "units": report.extra.get("units", {}),
                               "industry_check": "GB/T 4754-2017 at division level"})
