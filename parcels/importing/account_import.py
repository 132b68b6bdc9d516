"""Import utility accounts (户号) with their monthly or annual quantities.

Tool module, on the pattern of :mod:`parcels.importing.enterprise_import`: headers are
recognised (``parcels/data/policy_headers.yaml``), units read from the headers (万千瓦时,
万立方米 ...) and converted to kWh or m³, every row checked, and the rows upserted in one
transaction: ``utility_account`` by (kind, account, user), ``account_quantity`` by
(kind, account, year, month). Empty cells write nothing, so a file of the second half-year
keeps the first half's months.

One account may serve a landlord and its tenants: one row per (account, user) with the
user's share of the account's quantity (分摊比例) and who is billed (缴费方: 本企业 /
房东; the landlord's credit code in 缴费单位信用代码). Accounts whose user is not a known
enterprise load as *unmatched*; ``mujun verify export`` sends them to the townships.

Quantities are exact decimals (thousandths of a kWh or m³): the policy amounts are
computed to the fen from them.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
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
from parcels.importing.kinds import register_import_kinds

if TYPE_CHECKING:
    import psycopg

    from gis.progress import Progress

log = logging.getLogger(__name__)

ACCOUNT_KINDS = ("electricity", "water", "sewage", "gas")
MONTHS = tuple(f"month_{m:02d}" for m in range(1, 13))
_SELF = {"本企业", "自缴", "自己", "本单位", "使用方", "承租方", "租户", "self", "tenant"}
_LANDLORD = {"房东", "出租方", "业主", "户主", "产权方", "landlord", "owner"}


def field_kind(kind: str) -> str:
    """The header table of an account kind (quantities in kWh or m³)."""
    return "accounts_kwh" if kind == "electricity" else "accounts_m3"


def exact_quantity(value: Any, factor: float) -> tuple[Decimal | None, str | None]:
    """A cell as an exact quantity in the schema unit (thousandths), or the problem.

    >>> exact_quantity("1,234.5", 1.0), exact_quantity(1.5, 10000.0)
    ((Decimal('1234.500'), None), (Decimal('15000.000'), None))
    >>> exact_quantity(-1, 1.0)[1]
    'negative quantity -1'
    """
    number, problem = parse_number(value)
    if problem or number is None:
        return None, problem
    try:
        text = str(value).replace(",", "").replace("，", "").strip() \
            if isinstance(value, str) else repr(float(value))
        q = Decimal(text) * Decimal(repr(float(factor)))
    except (InvalidOperation, ValueError):
        q = Decimal(repr(float(number))) * Decimal(repr(float(factor)))
    if q < 0:
        return None, f"negative quantity {value}"
    if q >= Decimal("1e15"):
        return None, f"quantity {value} is implausibly large"
    return q.quantize(Decimal("0.001")), None


def parse_payer(value: Any) -> tuple[str | None, str | None]:
    """Who is billed: ``self`` (default) or ``landlord``.

    >>> parse_payer("房东"), parse_payer(None), parse_payer("?")[0]
    (('landlord', None), ('self', None), None)
    """
    if is_blank(value):
        return "self", None
    text = str(value).strip().lower()
    if text in _SELF:
        return "self", None
    if text in _LANDLORD:
        return "landlord", None
    return None, f"unknown payer {value!r} (use 本企业 or 房东)"


def check_accounts(raw: pd.DataFrame, factors: dict[str, float], rows: np.ndarray,
                   report: ImportReport) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """Type and check account rows (pure).

    Returns
    -------
    accounts : DataFrame (account_no, credit_code, holder_name, share, payer, payer_code)
    quantities : DataFrame (row position, month 0-12, quantity) of the non-empty cells
    keep : bool array of rows without errors
    """
    n = len(raw)

    cells: dict[str, list[Any]] = {}

    def col(name: str) -> list[Any]:
        # each column is listed once (gis.importing.values.column_cells), never per row
        if name not in cells:
            cells[name] = column_cells(raw, name, n)
        return cells[name]

    acc: dict[str, list[Any]] = {k: [] for k in ("account_no", "credit_code", "holder_name",
                                                 "share", "payer", "payer_code")}
    qty: list[tuple[int, int, Decimal]] = []
    for i, r in enumerate(rows):
        r = int(r)
        account = parse_text(col("account_no")[i])
        if account is None:
            report.add(r, "missing_field", "error", "户号 (account number) is empty",
                       "account_no")
        elif len(account) > 64:
            report.add(r, "bad_value", "error", "户号 is longer than 64 characters",
                       "account_no", account[:20])
        acc["account_no"].append(account)
        codes = []
        for f in ("credit_code", "payer_code"):
            cell = col(f)[i]
            code = None if is_blank(cell) else normalize_credit_code(cell)
            if code is not None and check_credit_code(code) == "malformed":
                report.add(r, "credit_code_malformed", "error",
                           f"credit code {code!r} is malformed", f, cell)
                code = None
            codes.append(code)
        acc["credit_code"].append(codes[0] or "")
        acc["payer_code"].append(codes[1])
        acc["holder_name"].append(parse_text(col("holder_name")[i]))
        share, problem = parse_number(col("share")[i])
        if problem:
            report.add(r, "bad_value", "error", problem, "share", col("share")[i])
        if share is not None and 1 < share <= 100:
            share = share / 100.0
        if share is not None and not 0 < share <= 1:
            report.add(r, "absurd_value", "error", f"share {share:g} is not in (0, 1]",
                       "share", share)
            share = None
        acc["share"].append(Decimal(repr(share)).quantize(Decimal("0.000001"))
                            if share is not None else Decimal(1))
        payer, problem = parse_payer(col("payer")[i])
        if problem:
            report.add(r, "bad_value", "error", problem, "payer", col("payer")[i])
        if payer == "landlord" and codes[1] is None:
            report.add(r, "missing_field", "error", "缴费方 is 房东 but 缴费单位信用代码 (the "
                       "landlord's credit code) is empty", "payer_code")
        acc["payer"].append(payer)
        for month, f in enumerate(("annual", *MONTHS)):
            cell = col(f)[i]
            if is_blank(cell):
                continue
            q, problem = exact_quantity(cell, factors.get(f, 1.0))
            if problem:
                report.add(r, "bad_value", "error", problem, f, cell)
            else:
                qty.append((i, month, q))
    accounts = pd.DataFrame(acc)
    keep = ~np.isin(rows, list(report.rejected_rows))
    seen: dict[tuple, int] = {}
    for i, key in enumerate(zip(accounts["account_no"], accounts["credit_code"], strict=True)):
        if not keep[i]:
            continue
        if key in seen:
            report.add(int(rows[i]), "duplicate_row", "error",
                       f"repeats account {key[0]} of the same user in row {seen[key]}",
                       "account_no", key[0])
            keep[i] = False
        else:
            seen[key] = int(rows[i])
    sums = accounts[keep].groupby("account_no")["share"].sum()
    for account, total in sums[sums > 1].items():
        bad = rows[keep & (accounts["account_no"] == account).to_numpy()]
        report.add(int(bad[-1]), "share_sum", "error",
                   f"the shares of account {account} add up to {total} (> 1)", "share", total)
    quantities = pd.DataFrame(qty, columns=["pos", "month", "quantity"])
    # the users of one account repeat its quantities: they must agree
    given: dict[tuple[str, int], tuple[Decimal, int]] = {}
    for p, month, q in qty:
        if not keep[p]:
            continue
        key = (accounts["account_no"].iat[p], month)
        if key in given and given[key][0] != q:
            report.add(int(rows[p]), "quantity_conflict", "error",
                       f"account {key[0]} has {q} for {'the year' if not month else f'month {month}'}"
                       f" here but {given[key][0]} in row {given[key][1]}; one account, one "
                       "quantity (the shares divide it)", "annual" if not month else
                       MONTHS[month - 1], q)
        given.setdefault(key, (q, int(rows[p])))
    keep &= ~np.isin(rows, list(report.rejected_rows))
    return accounts, quantities, keep


def import_accounts(conn: psycopg.Connection, path: str | Path, *, kind: str, year: int,
                    mapping: Mapping[str, Any] | None = None, sheet: str | int | None = None,
                    encoding: str | None = None, dry_run: bool = False,
                    accept_partial: bool = False, rejects: str | Path | None = None,
                    overwrite: bool = False, progress: Progress | None = None) -> ImportResult:
    """Check a utility-account table and upsert it for ``kind`` and ``year``.

    Parameters
    ----------
    kind : {"electricity", "water", "sewage", "gas"}
    year : int
        The year of the quantities.

    Other parameters as for :func:`parcels.importing.enterprise_import.import_enterprises`.

    Raises
    ------
    ImportRejected
        Any row has an error (and not ``accept_partial``): nothing was written.
    MappingError
        No account column, an unknown kind or year.
    """
    register_import_kinds()
    from gis.db.batches import start_batch

    if kind not in ACCOUNT_KINDS:
        raise MappingError(f"--kind {kind!r} is not one of {', '.join(ACCOUNT_KINDS)}")
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
        options = {"kind": kind, "year": int(year), "sheet": sheet_name or None,
                   "encoding": encoding, "mapping": mapping or None}
        ident = earlier_import(conn, "accounts", path, options)
        if ident.earlier is not None:
            return already_imported(conn, "accounts", source, report, ident.earlier,
                                    dry_run=dry_run)
        plan = match_columns(grid, load_field_specs(field_kind(kind), mapping), mapping,
                             source=source)
        if plan.missing_required:
            raise MappingError(f"{source}: no column for {', '.join(plan.missing_required)} "
                               "(户号); name it with --map account_no=COLUMN")
        fields = {m.field for m in plan.columns if m.field}
        if not fields & {"annual", *MONTHS}:
            raise MappingError(f"{source}: no quantity column (年用量, 用电量, 1月 ... 12月); "
                               "name one with --map annual=COLUMN")
        note_plan(plan, report)
        raw, rows = table_records(grid, plan)
        report.n_read = len(rows)
        if not len(rows):
            from gis.errors import EmptyInputError

            raise EmptyInputError("the table has headers but no data rows", source=source)
        factors = {m.field: m.factor for m in plan.columns if m.field}
        accounts, quantities, keep = check_accounts(raw, factors, rows, report)
        tick(len(rows))
        known = {c.strip(): t for c, t in conn.execute(
            "SELECT credit_code, town FROM enterprise WHERE credit_code = ANY(%s)",
            (sorted({c for c in accounts["credit_code"] if c}),)).fetchall()}
        accounts["matched"] = [bool(c) and c in known for c in accounts["credit_code"]]
        accounts["town"] = [known.get(c) for c in accounts["credit_code"]]
        for i in np.flatnonzero(keep & ~accounts["matched"].to_numpy()):
            code = accounts["credit_code"].iat[i]
            report.add(int(rows[i]), "account_unmatched", "warning",
                       f"account {accounts['account_no'].iat[i]}: "
                       + (f"credit code {code} is not a known enterprise" if code else
                          "no credit code") + "; it joins the verification queue "
                       "(mujun verify export)", "credit_code", code or None)
        rejects_path = settle(report, accept_partial=accept_partial, source=source,
                              rejects=None if dry_run else rejects, overwrite=overwrite)
        batch_id = start_batch(conn, "accounts", str(path), source_sha256=ident.file_hash,
                               identity=ident.identity, layer=sheet_name,
                               params={"kind": kind, "year": int(year), "mapping": mapping})
        load = accounts[keep].reset_index(drop=True)
        load["kind"] = kind
        load["batch_id"] = batch_id
        carried = set(raw.columns)
        cols = ["kind", "account_no", "credit_code", "matched", "town", "batch_id",
                *[c for c in ("holder_name", "share", "payer", "payer_code") if c in carried]]
        ins_a, upd_a = upsert_frame(conn, "utility_account", load,
                                    ["kind", "account_no", "credit_code"], cols,
                                    keep_when_null=cols)
        q = quantities[keep[quantities["pos"].to_numpy()]] if len(quantities) else quantities
        qload = pd.DataFrame({
            "kind": kind, "account_no": accounts["account_no"].to_numpy()[
                q["pos"].to_numpy(dtype=int)] if len(q) else [],
            "year": int(year), "month": q["month"].to_numpy(dtype=int) if len(q) else [],
            "quantity": q["quantity"].to_numpy() if len(q) else [], "batch_id": batch_id})
        # the users of one account give the same quantities (checked): store them once
        qload = qload.drop_duplicates(["account_no", "month"])
        ins_q, upd_q = upsert_frame(conn, "account_quantity", qload,
                                    ["kind", "account_no", "year", "month"],
                                    ["kind", "account_no", "year", "month", "quantity",
                                     "batch_id"])
        report.extra["accounts"] = {"inserted": ins_a, "updated": upd_a,
                                    "unmatched": int((~load["matched"]).sum())}
        report.extra["quantities"] = {"inserted": ins_q, "updated": upd_q}
        close_batch(conn, batch_id, report, n_loaded=len(load), inserted=ins_a + ins_q,
                    updated=upd_a + upd_q, dry_run=dry_run)
    except BaseException:
        rollback_quietly(conn)
        raise
    return ImportResult("accounts", source, report, batch_id=None if dry_run else batch_id,
                        dry_run=dry_run, rejects_path=rejects_path,
                        extra={"kind": kind, "year": int(year), "sheet": sheet_name})
