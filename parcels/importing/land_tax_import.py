"""Import the tax bureau's land-use tax base (城镇土地使用税计税依据) for one year.

Tool module, on the pattern of :mod:`parcels.importing.enterprise_import`. One row per
taxpayer and land grade: credit code, taxable area (m², converted from 亩 or 公顷 when the
header says so), land grade, unit tax (元/m² a year). Upserted by (credit code, year,
grade) in one transaction; empty cells keep stored values. Tax due = area × unit tax.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
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
from gis.importing.headers import load_field_specs, match_columns, note_plan
from gis.importing.report import ImportReport
from gis.importing.sheets import read_grid, table_records
from gis.importing.store import upsert_frame
from gis.importing.values import column_cells, is_blank, parse_number, parse_text
from parcels.codes import check_credit_code, normalize_credit_code
from parcels.importing.account_import import exact_quantity
from parcels.importing.kinds import register_import_kinds

if TYPE_CHECKING:
    import psycopg

    from gis.progress import Progress

log = logging.getLogger(__name__)

#: Unit tax bounds of the national regulation (元/m² a year, large cities 1.5-30; ×2 for
#: the surcharges some provinces allow): outside, a unit is likely wrong.
MAX_UNIT_TAX = 60


def check_land_tax(raw: pd.DataFrame, factors: dict[str, float], rows: np.ndarray,
                   report: ImportReport) -> tuple[pd.DataFrame, np.ndarray]:
    """Type and check land-tax rows (pure); returns the typed rows and the rows to keep."""
    n = len(raw)

    cells: dict[str, list[Any]] = {}

    def col(name: str) -> list[Any]:
        # each column is listed once (gis.importing.values.column_cells), never per row
        if name not in cells:
            cells[name] = column_cells(raw, name, n)
        return cells[name]

    out: dict[str, list[Any]] = {k: [] for k in ("credit_code", "name", "taxable_area_m2",
                                                 "land_grade", "unit_tax")}
    for i, r in enumerate(rows):
        r = int(r)
        cell = col("credit_code")[i]
        code = None if is_blank(cell) else normalize_credit_code(cell)
        if code is None:
            report.add(r, "missing_field", "error", "统一社会信用代码 (credit code) is empty",
                       "credit_code")
        elif check_credit_code(code) == "malformed":
            report.add(r, "credit_code_malformed", "error", f"credit code {code!r} is malformed",
                       "credit_code", cell)
        out["credit_code"].append(code)
        out["name"].append(parse_text(col("name")[i]))
        area, problem = exact_quantity(col("taxable_area_m2")[i],
                                       factors.get("taxable_area_m2", 1.0))
        if problem or area is None:
            report.add(r, "bad_value" if problem else "missing_field", "error",
                       problem or "应税面积 (taxable area) is empty", "taxable_area_m2",
                       col("taxable_area_m2")[i])
        elif area == 0 or area > Decimal("1e8"):
            report.add(r, "absurd_value", "error", f"taxable area {area} m² is implausible",
                       "taxable_area_m2", area)
            area = None
        out["taxable_area_m2"].append(None if area is None else area.quantize(Decimal("0.01")))
        grade = parse_text(col("land_grade")[i])
        out["land_grade"].append(grade or "")
        tax, problem = parse_number(col("unit_tax")[i])
        if problem or tax is None:
            report.add(r, "bad_value" if problem else "missing_field", "error",
                       problem or "单位税额 (unit tax, 元/m²) is empty", "unit_tax",
                       col("unit_tax")[i])
            tax = None
        elif not 0 <= tax <= MAX_UNIT_TAX:
            report.add(r, "absurd_value", "error", f"unit tax {tax:g} 元/m² is outside 0-"
                       f"{MAX_UNIT_TAX}; is it a yearly tax per m²?", "unit_tax", tax)
            tax = None
        out["unit_tax"].append(None if tax is None
                               else Decimal(repr(float(tax))).quantize(Decimal("0.01")))
    typed = pd.DataFrame(out)
    keep = ~np.isin(rows, list(report.rejected_rows))
    seen: dict[tuple, int] = {}
    for i, key in enumerate(zip(typed["credit_code"], typed["land_grade"], strict=True)):
        if keep[i] and key in seen:
            report.add(int(rows[i]), "duplicate_row", "error",
                       f"repeats taxpayer {key[0]} grade {key[1] or '-'} of row {seen[key]}",
                       "credit_code", key[0])
            keep[i] = False
        elif keep[i]:
            seen[key] = int(rows[i])
    return typed, keep


def import_land_tax(conn: psycopg.Connection, path: str | Path, *, year: int,
                    mapping: Mapping[str, Any] | None = None, sheet: str | int | None = None,
                    encoding: str | None = None, dry_run: bool = False,
                    accept_partial: bool = False, rejects: str | Path | None = None,
                    overwrite: bool = False, progress: Progress | None = None) -> ImportResult:
    """Check a land-use tax base table and upsert it for ``year`` (one transaction).

    Parameters as for :func:`parcels.importing.enterprise_import.import_enterprises`.
    """
    register_import_kinds()
    from gis.db.batches import start_batch

    if not 1990 <= int(year) <= 2100:
        raise MappingError(f"--year {year} is outside 1990-2100")
    mapping = dict(mapping or {})
    tick = progress or (lambda n: None)
    source = str(path)
    report = ImportReport(source=source, unit="row")
    rejects_path = None
    try:
        grid, sheet_name = read_grid(path, sheet=sheet if sheet is not None
                                     else mapping.get("sheet"), encoding=encoding)
        options = {"year": int(year), "sheet": sheet_name or None, "encoding": encoding,
                   "mapping": mapping or None}
        ident = earlier_import(conn, "land_tax", path, options)
        if ident.earlier is not None:
            return already_imported(conn, "land_tax", source, report, ident.earlier,
                                    dry_run=dry_run)
        plan = match_columns(grid, load_field_specs("land_tax", mapping), mapping,
                             source=source)
        if plan.missing_required:
            raise MappingError(f"{source}: no column for {', '.join(plan.missing_required)}; "
                               "name them with --map FIELD=COLUMN")
        note_plan(plan, report)
        raw, rows = table_records(grid, plan)
        report.n_read = len(rows)
        if not len(rows):
            from gis.errors import EmptyInputError

            raise EmptyInputError("the table has headers but no data rows", source=source)
        factors = {m.field: m.factor for m in plan.columns if m.field}
        typed, keep = check_land_tax(raw, factors, rows, report)
        tick(len(rows))
        load = typed[keep].reset_index(drop=True)
        scope = {c.strip(): (t, d) for c, t, d in conn.execute(
            "SELECT e.credit_code, e.town, (SELECT s.district FROM enterprise_score s WHERE"
            " s.credit_code = e.credit_code ORDER BY s.run_id DESC LIMIT 1)"
            " FROM enterprise e WHERE e.credit_code = ANY(%s)",
            (list(load["credit_code"]),)).fetchall()}
        for i in np.flatnonzero(keep):
            code = typed["credit_code"].iat[i]
            if code not in scope:
                report.add(int(rows[i]), "unknown_enterprise", "warning",
                           f"taxpayer {code} is not a known enterprise (loaded; it counts "
                           "once the enterprise is imported)", "credit_code", code)
        rejects_path = settle(report, accept_partial=accept_partial, source=source,
                              rejects=None if dry_run else rejects, overwrite=overwrite)
        batch_id = start_batch(conn, "land_tax", str(path), source_sha256=ident.file_hash,
                               identity=ident.identity, layer=sheet_name,
                               params={"year": int(year), "mapping": mapping})
        load["year"] = int(year)
        load["town"] = [scope.get(c, (None, None))[0] for c in load["credit_code"]]
        load["district"] = [scope.get(c, (None, None))[1] for c in load["credit_code"]]
        load["batch_id"] = batch_id
        cols = ["credit_code", "year", "land_grade", "taxable_area_m2", "unit_tax", "town",
                "district", "batch_id"]
        ins, upd = upsert_frame(conn, "land_tax_base", load,
                                ["credit_code", "year", "land_grade"], cols, keep_when_null=cols)
        close_batch(conn, batch_id, report, n_loaded=len(load), inserted=ins, updated=upd,
                    dry_run=dry_run)
    except BaseException:
        rollback_quietly(conn)
        raise
    return ImportResult("land_tax", source, report, batch_id=None if dry_run else batch_id,
                        dry_run=dry_run, rejects_path=rejects_path, extra={"year": int(year)})
