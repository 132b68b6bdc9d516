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
from gis.importing.report import ImportReport
from gis.importing.sheets import read_grid, table_records
from gis.importing.store import upsert_frame
from gis.importing.values import is_blank, parse_date, parse_number, parse_text
from parcels.codes import check_credit_code, normalize_credit_code
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

    Returns
    -------
    typed : DataFrame with the ``land_right`` columns (no ``attrs``/``batch_id``).
    keep : bool array of rows without errors (exact repeats dropped).
    """
    out: dict[str, list[Any]] = {c: [] for c in COLUMNS[:-2]}
    n = len(raw)

    def col(name: str) -> list[Any]:
        return raw[name].tolist() if name in raw else [None] * n

    for i, r in enumerate(rows):
        r = int(r)
        parcel = parse_text(col("parcel_code")[i])
        if parcel is None:
            report.add(r, "missing_field", "error", "宗地代码 (parcel code) is empty", "parcel_code")
        out["parcel_code"].append(parcel.upper() if parcel else None)
        cell = col("credit_code")[i]
        code = None if is_blank(cell) else normalize_credit_code(cell)
        if code is None:
            report.add(r, "missing_field", "error", "统一社会信用代码 (credit code) is empty",
                       "credit_code")
        elif check_credit_code(code) == "malformed":
            report.add(r, "credit_code_malformed", "error", f"credit code {code!r} is malformed",
                       "credit_code", cell)
        elif check_credit_code(code) == "checksum":
            report.add(r, "credit_code_checksum", "warning",
                       f"credit code {code} fails the GB 32100 check character", "credit_code",
                       code)
        out["credit_code"].append(code)
        rtype, problem = parse_right_type(col("right_type")[i])
        if problem:
            report.add(r, "bad_value", "error", problem, "right_type", col("right_type")[i])
        out["right_type"].append(rtype)
        share, problem = parse_number(col("share")[i])
        if problem:
            report.add(r, "bad_value", "error", problem, "share", col("share")[i])
        if share is not None and 1 < share <= 100:
            share = share / 100.0  # given in per cent
        if share is not None and not 0 < share <= 1:
            report.add(r, "absurd_value", "error", f"share {share:g} is not in (0, 1]", "share",
                       share)
            share = None
        out["share"].append(share)
        for f in ("leased_land_m2", "leased_floor_m2"):
            v, problem = parse_number(col(f)[i])
            if problem:
                report.add(r, "bad_value", "error", problem, f, col(f)[i])
            elif v is not None:
                v *= factors.get(f, 1.0)
                if v < 0 or v > 1e7:
                    report.add(r, "absurd_value", "error", f"{f} = {v:g} m² is implausible", f, v)
                    v = None
            out[f].append(v)
        dates = []
        for f in ("start_date", "end_date"):
            d, problem = parse_date(col(f)[i])
            if problem:
                report.add(r, "bad_value", "error", problem, f, col(f)[i])
            out[f].append(d)
            dates.append(d)
        if dates[0] and dates[1] and dates[1] < dates[0]:
            report.add(r, "date_order", "error", f"lease ends ({dates[1]}) before it starts "
                       f"({dates[0]})", "end_date", dates[1])
    typed = pd.DataFrame(out)
    keep = ~np.isin(rows, list(report.rejected_rows))
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
    owners = typed[keep & (typed["right_type"] == "owner").to_numpy()]
    sums = owners.groupby("parcel_code")["share"].sum(min_count=1)
    for parcel, total in sums[sums > 1 + 1e-9].items():
        bad_rows = rows[keep & (typed["parcel_code"] == parcel).to_numpy()]
        report.add(int(bad_rows[-1]), "share_sum", "error",
                   f"owner shares of parcel {parcel} add up to {total:g} (> 1)", "share", total)
    keep &= ~np.isin(rows, list(report.rejected_rows))
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
        from gis.importing.layers import jsonable

        typed["attrs"] = [{k.removeprefix("_extra:"): jsonable(v) for k, v in rec.items()
                           if jsonable(v) is not None} for rec in raw[extras].to_dict("records")] \
            if extras else [{} for _ in range(len(raw))]
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
        keys = list(zip(without["parcel_code"], without["credit_code"], without["right_type"],
                        strict=True))
        existing = {
            (p, c.strip(), t): (s, lf, ff, e)
            for p, c, t, s, lf, ff, e in conn.execute(
                "SELECT parcel_code, credit_code, right_type, share, leased_land_m2, "
                "leased_floor_m2, end_date FROM land_right WHERE start_date IS NULL").fetchall()
        }
        fresh, changed = [], []
        for i, key in enumerate(keys):
            rec = without.iloc[i]
            vals = tuple(None if pd.isna(rec[f]) else rec[f] for f in
                         ("share", "leased_land_m2", "leased_floor_m2", "end_date"))
            if key not in existing:
                fresh.append(i)
            elif existing[key] != vals:
                changed.append(i)
        if changed:
            ch = without.iloc[changed]
            for rec in ch.itertuples(index=False):
                conn.execute(
                    "DELETE FROM land_right WHERE parcel_code = %s AND credit_code = %s AND "
                    "right_type = %s AND start_date IS NULL",
                    (rec.parcel_code, rec.credit_code, rec.right_type))
        new = without.iloc[sorted(fresh + changed)]
        if len(new):
            from gis.db.copy import copy_frame

            copy_frame(conn, "land_right", new, list(COLUMNS))
        ins += len(fresh)
        upd += len(changed)
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
