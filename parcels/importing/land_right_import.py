"""Import ownership and tenancy links into ``land_right``.

Tool module. One row per (parcel, enterprise, right type, start date):

* ownership: ``权利类型`` 所有/owner/使用权人, optional ``份额`` share (0-1 or %);
* tenancy: ``权利类型`` 租赁/承租/tenant, leased land and/or floor area, lease period.

Links to parcels or enterprises not (yet) in the database load anyway and are
listed as warnings: they are what ``mujun verify export`` sends to townships.
Owner shares of one parcel that add up to more than 1 are an error.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
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
from gis.importing.report import ImportReport, Issue
from gis.importing.sheets import read_grid, table_records
from gis.importing.store import upsert_frame
from gis.importing.values import (
    column_cells,
    is_blank,
    parse_date,
    parse_distinct,
    parse_number,
    parse_text,
)
from parcels.codes import check_credit_codes
from parcels.importing.enterprise_checks import read_credit_code
from parcels.importing.kinds import register_import_kinds

if TYPE_CHECKING:
    import psycopg

    from gis.progress import Progress

log = logging.getLogger(__name__)

COLUMNS = ("parcel_code", "credit_code", "right_type", "share", "leased_land_m2",
           "leased_floor_m2", "start_date", "end_date", "attrs", "batch_id")
_OWNER = {"所有", "所有权", "权利人", "使用权", "使用权人", "土地使用权", "owner", "产权", "自有"}
_TENANT = {"租赁", "承租", "承租人", "租用", "tenant", "lease", "租户"}


def parse_right_type(value: Any) -> tuple[str | None, str | None]:
    """Read a right type: owner or tenant (default owner when blank).

    Examples
    --------
    >>> parse_right_type("租赁"), parse_right_type(None), parse_right_type("?")[1] is not None
    (('tenant', None), ('owner', None), True)
    """
    if is_blank(value):
        return "owner", None
    text = str(value).strip().lower()
    if text in _OWNER:
        return "owner", None
    if text in _TENANT:
        return "tenant", None
    return None, f"unknown right type {value!r} (use 所有/租赁 or owner/tenant)"


def check_land_rights(raw: pd.DataFrame, factors: dict[str, float], rows: np.ndarray,
                      report: ImportReport) -> tuple[pd.DataFrame, np.ndarray]:
    """Type and check land-right rows (pure).

    Column by column (each distinct cell parsed once), so the work grows with
    the number of cells only.

    Returns
    -------
    typed : DataFrame with the ``land_right`` columns (no ``attrs``/``batch_id``).
    keep : bool array of rows without errors (exact repeats dropped).
    """
    n = len(raw)
    rows = np.asarray(rows)
    found: list[tuple[int, int, Issue]] = []

    def add(i: int, order: int, check: str, severity: str, message: str,
            field: str | None = None, value: Any = None) -> None:
        found.append((i, order, Issue(int(rows[i]), check, severity, message,  # type: ignore[arg-type]
                                      field, None if value is None else str(value))))

    out: dict[str, Any] = {}
    parcels = parse_distinct(column_cells(raw, "parcel_code", n), parse_text)
    for i in (i for i, p in enumerate(parcels) if p is None):
        add(i, 0, "missing_field", "error", "宗地代码 (parcel code) is empty", "parcel_code")
    out["parcel_code"] = [p.upper() if p else None for p in parcels]
    cells = column_cells(raw, "credit_code", n)
    codes = parse_distinct(cells, read_credit_code)
    out["credit_code"] = codes
    for i, (code, status) in enumerate(zip(codes, check_credit_codes(codes), strict=True)):
        if code is None:
            add(i, 1, "missing_field", "error", "统一社会信用代码 (credit code) is empty",
                "credit_code")
        elif status == "malformed":
            add(i, 1, "credit_code_malformed", "error", f"credit code {code!r} is malformed",
                "credit_code", cells[i])
        elif status == "checksum":
            add(i, 1, "credit_code_checksum", "warning",
                f"credit code {code} fails the GB 32100 check character", "credit_code", code)
    cells = column_cells(raw, "right_type", n)
    parsed = parse_distinct(cells, parse_right_type)
    out["right_type"] = [p[0] for p in parsed]
    for i in (i for i, p in enumerate(parsed) if p[1]):
        add(i, 2, "bad_value", "error", parsed[i][1], "right_type", cells[i])
    cells = column_cells(raw, "share", n)
    shares = []
    for i, (share, problem) in enumerate(parse_distinct(cells, parse_number)):
        if problem:
            add(i, 3, "bad_value", "error", problem, "share", cells[i])
        if share is not None and 1 < share <= 100:
            share = share / 100.0  # given in per cent
        if share is not None and not 0 < share <= 1:
            add(i, 3, "absurd_value", "error", f"share {share:g} is not in (0, 1]", "share", share)
            share = None
        shares.append(share)
    out["share"] = shares
    for order, f in enumerate(("leased_land_m2", "leased_floor_m2"), start=4):
        cells = column_cells(raw, f, n)
        values = []
        for i, (v, problem) in enumerate(parse_distinct(cells, parse_number)):
            if problem:
                add(i, order, "bad_value", "error", problem, f, cells[i])
            elif v is not None:
                v *= factors.get(f, 1.0)
                if v < 0 or v > 1e7:
                    add(i, order, "absurd_value", "error", f"{f} = {v:g} m² is implausible", f, v)
                    v = None
            values.append(v)
        out[f] = values
    for order, f in enumerate(("start_date", "end_date"), start=6):
        cells = column_cells(raw, f, n)
        parsed = parse_distinct(cells, parse_date)
        out[f] = [p[0] for p in parsed]
        for i in (i for i, p in enumerate(parsed) if p[1]):
            add(i, order, "bad_value", "error", parsed[i][1], f, cells[i])
    for i, (start, end) in enumerate(zip(out["start_date"], out["end_date"], strict=True)):
        if start and end and end < start:
            add(i, 8, "date_order", "error", f"lease ends ({end}) before it starts ({start})",
                "end_date", end)
    found.sort(key=lambda t: (t[0], t[1]))
    report.extend(issue for _, _, issue in found)
    typed = pd.DataFrame(out)
    keep = np.ones(n, dtype=bool)
    keep[[i for i, _, issue in found if issue.severity == "error"]] = False
    seen: dict[tuple, int] = {}
    for i, key in enumerate(zip(typed["parcel_code"], typed["credit_code"], typed["right_type"],
                                typed["start_date"], strict=True)):
        if not keep[i]:
            continue
        if key in seen:
            report.add(int(rows[i]), "duplicate_row", "error",
                       f"repeats the link in row {seen[key]} (same parcel, holder, type and "
                       "start date)", "parcel_code", key[0])
            keep[i] = False
        else:
            seen[key] = int(rows[i])
    owner = keep & (typed["right_type"] == "owner").to_numpy()
    sums = typed[owner].groupby("parcel_code")["share"].sum(min_count=1)
    over = sums[sums > 1 + 1e-9]
    if len(over):
        last = pd.Series(rows[owner], index=typed["parcel_code"][owner]).groupby(level=0).last()
        for parcel, total in over.items():
            report.add(int(last[parcel]), "share_sum", "error",
                       f"owner shares of parcel {parcel} add up to {total:g} (> 1)", "share",
                       total)
            keep[np.flatnonzero(rows == last[parcel])] = False
    return typed, keep


def import_land_rights(conn: psycopg.Connection, path: str | Path, *,
                       mapping: Mapping[str, Any] | None = None, sheet: str | int | None = None,
                       encoding: str | None = None, dry_run: bool = False,
                       accept_partial: bool = False, rejects: str | Path | None = None,
                       overwrite: bool = False, progress: Progress | None = None) -> ImportResult:
    """Check a land-right table and upsert it in one transaction.

    See :func:`parcels.importing.enterprise_import.import_enterprises` for the
    shared parameters.
    """
    from gis.db.batches import start_batch

    register_import_kinds()
    mapping = dict(mapping or {})
    tick = progress or (lambda n: None)
    source = str(path)
    report = ImportReport(source=source, unit="row")
    grid, sheet_name = read_grid(path, sheet=sheet if sheet is not None else mapping.get("sheet"),
                                 encoding=encoding)
    options = {"sheet": sheet_name or None, "encoding": encoding, "mapping": mapping or None}
    try:
        ident = earlier_import(conn, "land_rights", path, options)
        if ident.earlier is not None:
            return already_imported(conn, "land_rights", source, report, ident.earlier,
                                    dry_run=dry_run)
        plan = match_columns(grid, load_field_specs("land_rights", mapping), mapping, source=source)
        if plan.missing_required:
            raise MappingError(f"{source}: no column for {', '.join(plan.missing_required)}; name "
                               "them with --map FIELD=COLUMN or in a mapping file")
        note_plan(plan, report)
        raw, rows = table_records(grid, plan)
        report.n_read = len(rows)
        if not len(rows):
            from gis.errors import EmptyInputError

            raise EmptyInputError("the table has headers but no data rows", source=source)
        factors = {m.field: m.factor for m in plan.columns if m.field}
        typed, keep = check_land_rights(raw, factors, rows, report)
        tick(len(rows))
        rejects_path = settle(report, accept_partial=accept_partial, source=source,
                              rejects=None if dry_run else rejects, overwrite=overwrite)
        extras = [c for c in raw.columns if c.startswith("_extra:") or c == "name"]
        from gis.importing.layers import extra_attributes

        # unrecognised columns as JSON text, built column by column (not a dict per row)
        typed["attrs"] = extra_attributes(
            raw[extras].rename(columns=lambda c: c.removeprefix("_extra:")),
            [c.removeprefix("_extra:") for c in extras])
        load = typed[keep].reset_index(drop=True)
        batch_id = start_batch(conn, "land_rights", source, source_sha256=ident.file_hash,
                               identity=ident.identity, layer=sheet_name,
                               params={"mapping": mapping, "accept_partial": accept_partial})
        load["batch_id"] = batch_id
        _warn_unmatched(conn, load, rows[keep], report)
        # start_date may be NULL: the unique constraint then never conflicts, so match NULL
        # start dates explicitly by deleting identical-key rows first is not wanted; instead
        # rows with NULL start dates are compared through the staging upsert below.
        inserted, updated = _upsert(conn, load)
        close_batch(conn, batch_id, report, n_loaded=len(load), inserted=inserted,
                    updated=updated, dry_run=dry_run)
    except BaseException:
        rollback_quietly(conn)
        raise
    return ImportResult("land_rights", source, report, batch_id=None if dry_run else batch_id,
                        dry_run=dry_run, rejects_path=rejects_path)


def _upsert(conn: psycopg.Connection, load: pd.DataFrame) -> tuple[int, int]:
    """Upsert; rows without a start date match stored rows without one (NULLs never conflict)."""
    with_start = load[load["start_date"].notna()]
    without = load[load["start_date"].isna()]
    ins, upd = upsert_frame(conn, "land_right", with_start,
                            ["parcel_code", "credit_code", "right_type", "start_date"], COLUMNS,
                            not_compared=("batch_id",)) if len(with_start) else (0, 0)
    if len(without):
        fields = ("share", "leased_land_m2", "leased_floor_m2", "end_date")
        keys = ["parcel_code", "credit_code", "right_type"]
        stored = pd.DataFrame(conn.execute(
            "SELECT parcel_code, trim(credit_code), right_type, share, leased_land_m2, "
            "leased_floor_m2, end_date FROM land_right WHERE start_date IS NULL "
            "AND parcel_code = ANY(%s)", (list(set(without["parcel_code"])),)).fetchall(),
            columns=[*keys, *fields]).drop_duplicates(keys, keep="last")
        merged = without[keys + list(fields)].reset_index(drop=True).merge(
            stored, on=keys, how="left", suffixes=("", "_stored"), indicator=True)

        def same(a: pd.Series, b: pd.Series) -> np.ndarray:
            both_na = (a.isna() & b.isna()).to_numpy()
            equal = (a.astype(object) == b.astype(object)).to_numpy()
            return both_na | equal

        fresh_mask = (merged["_merge"] == "left_only").to_numpy()
        unchanged = np.logical_and.reduce([same(merged[f], merged[f + "_stored"])
                                           for f in fields])
        changed_mask = ~fresh_mask & ~unchanged
        changed = without[changed_mask]
        if len(changed):
            conn.execute(
                "DELETE FROM land_right l USING unnest(%s::text[], %s::text[], %s::text[]) "
                "AS d(parcel_code, credit_code, right_type) WHERE l.parcel_code = d.parcel_code "
                "AND trim(l.credit_code) = d.credit_code AND l.right_type = d.right_type "
                "AND l.start_date IS NULL",
                (list(changed["parcel_code"]), list(changed["credit_code"]),
                 list(changed["right_type"])))
        new = without[fresh_mask | changed_mask]
        if len(new):
            from gis.db.copy import copy_frame

            copy_frame(conn, "land_right", new, list(COLUMNS))
        ins += int(fresh_mask.sum())
        upd += int(changed_mask.sum())
    return ins, upd


def _warn_unmatched(conn: psycopg.Connection, load: pd.DataFrame, rows: np.ndarray,
                    report: ImportReport) -> None:
    parcels = {r[0] for r in conn.execute(
        "SELECT parcel_code FROM parcel WHERE parcel_code = ANY(%s)",
        (list(set(load["parcel_code"])),)).fetchall()}
    firms = {r[0] for r in conn.execute(
        "SELECT credit_code FROM enterprise WHERE credit_code = ANY(%s)",
        (list(set(load["credit_code"])),)).fetchall()}
    for r, p, c in zip(rows, load["parcel_code"], load["credit_code"], strict=True):
        if p not in parcels:
            report.add(int(r), "unknown_parcel", "warning",
                       f"parcel {p} is not in the database (goes to the verification queue)",
                       "parcel_code", p)
        if c not in firms:
            report.add(int(r), "unknown_enterprise", "warning",
                       f"enterprise {c} is not in the database (goes to the verification queue)",
                       "credit_code", c)
