"""The policy ledger (台账): each line of a policy run, planned against what was done.

A line starts *notified* (告知: the firm and the collecting body were told). The collecting
bodies report, per quarter, what they actually collected, refunded or granted; ``mujun
policy record FILE`` stores those reports in the append-only ``policy_record`` table
(through the shared import pipeline: identity, lock, dry run, report, rejects), and a
line's status is its latest report's: collected (已征收) → refunded (已返还, only for a
refundable surcharge, never more than was collected), or granted (已兑现: a relief or a
quota).
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from gis.importing.values import column_cells, is_blank, parse_text
from scoring.policy.terms import codes, label, vocabularies

if TYPE_CHECKING:
    import psycopg

    from gis.importing.common import ImportResult
    from gis.importing.report import ImportReport

STATUS_WORDS = {"collected": "collected", "已征收": "collected", "征收": "collected",
                "已收取": "collected", "refunded": "refunded", "已返还": "refunded",
                "返还": "refunded", "已退还": "refunded", "granted": "granted",
                "已兑现": "granted", "兑现": "granted", "已减免": "granted",
                "已下达": "granted"}
_DIGITS = {"一": "1", "二": "2", "三": "3", "四": "4"}
_QUARTER = re.compile(r"^\s*(\d{4})\s*(?:年)?\s*[-_ ]?\s*(?:q|第)?\s*([1-4一二三四])\s*(?:季度|季)?\s*$",
                      re.IGNORECASE)


def parse_quarter(value: Any) -> str | None:
    """``YYYYQn`` from 2018Q3, 2018-Q3, 2018年第3季度, 2018年三季度; else ``None``.

    >>> parse_quarter("2018年第三季度"), parse_quarter("2018q4"), parse_quarter("2018-13")
    ('2018Q3', '2018Q4', None)
    """
    m = _QUARTER.match(str(value))
    if not m:
        return None
    return f"{m.group(1)}Q{_DIGITS.get(m.group(2), m.group(2))}"


def parse_yuan(value: Any) -> tuple[int | None, str | None]:
    """An amount in 元 as whole fen, exact; more than two decimals is an error.

    >>> parse_yuan("1,700.00"), parse_yuan(300.15), parse_yuan("1.234")[1]
    ((170000, None), (30015, None), 'amount 1.234 has more than two decimals (fen)')
    """
    if is_blank(value):
        return None, None
    text = str(value).replace(",", "").replace("，", "").replace("元", "").strip() \
        if isinstance(value, str) else repr(float(value))
    try:
        d = Decimal(text)
    except InvalidOperation:
        return None, f"amount {value!r} is not a number"
    if not d.is_finite():
        return None, f"amount {value!r} is not a number"
    fen = d * 100
    if fen != fen.to_integral_value():
        return None, f"amount {value} has more than two decimals (fen)"
    return int(fen), None


def read_ledger(conn: psycopg.Connection, run_id: int, *, enterprise: str | None = None,
                item: str | None = None) -> pd.DataFrame:
    """The lines of a policy run with their status and the amounts reported so far."""
    from gis.db.copy import read_frame

    frame = read_frame(conn, """
        SELECT trim(l.credit_code) AS credit_code, e.name, l.town, l.item, l.kind, l.class,
               l.base, l.base_unit, l.rate, l.months, l.amount_fen::text AS amount_fen,
               l.quota, l.collector,
               l.refundable,
               coalesce((SELECT r.status FROM policy_record r WHERE r.run_id = l.run_id
                           AND r.credit_code = l.credit_code AND r.item = l.item
                         ORDER BY r.record_id DESC LIMIT 1), 'notified') AS status,
               coalesce(sum(r.amount_fen) FILTER (WHERE r.status = 'collected'), 0)::text
                   AS collected_fen,
               coalesce(sum(r.amount_fen) FILTER (WHERE r.status = 'refunded'), 0)::text
                   AS refunded_fen,
               coalesce(sum(r.amount_fen) FILTER (WHERE r.status = 'granted'), 0)::text
                   AS granted_fen,
               sum(r.quota) FILTER (WHERE r.status = 'granted') AS granted_quota
        FROM policy_line l
        JOIN policy_enterprise e USING (run_id, credit_code)
        LEFT JOIN policy_record r ON r.run_id = l.run_id AND r.credit_code = l.credit_code
                                 AND r.item = l.item
        WHERE l.run_id = %(run)s
          AND (%(code)s::text IS NULL OR l.credit_code = %(code)s)
          AND (%(item)s::text IS NULL OR l.item = %(item)s)
        GROUP BY l.run_id, l.credit_code, e.name, l.town, l.item, l.kind, l.class, l.base,
                 l.base_unit, l.rate, l.months, l.amount_fen, l.quota, l.collector,
                 l.refundable
        ORDER BY l.item, l.credit_code""",
        {"run": run_id, "code": enterprise, "item": item})
    for col in ("amount_fen", "collected_fen", "refunded_fen", "granted_fen"):
        frame[col] = pd.Series([None if v is None else int(v) for v in frame[col]],
                               index=frame.index, dtype=object)
    return frame


def _check_records(raw: pd.DataFrame, rows: np.ndarray, lines: pd.DataFrame,
                   done: dict[tuple[str, str], dict[str, int]],
                   report: ImportReport) -> tuple[pd.DataFrame, np.ndarray]:
    """Type and check record rows against the run's lines (pure)."""
    from parcels.codes import normalize_credit_code

    n = len(raw)

    cells: dict[str, list[Any]] = {}

    def col(name: str) -> list[Any]:
        # each column is listed once (gis.importing.values.column_cells), never per row
        if name not in cells:
            cells[name] = column_cells(raw, name, n)
        return cells[name]

    by_key = {(c, i): r for c, i, r in zip(lines["credit_code"], lines["item"],
                                           lines.to_dict("records"), strict=True)}
    labels = {label("policy.item", k): k for k in codes("policy.item")}
    totals = {k: dict(v) for k, v in done.items()}
    out: dict[str, list[Any]] = {k: [] for k in ("credit_code", "item", "quarter", "status",
                                                 "amount_fen", "quota", "note")}
    for i, r in enumerate(rows):
        r = int(r)
        cell = col("credit_code")[i]
        code = None if is_blank(cell) else normalize_credit_code(cell)
        item = parse_text(col("item")[i])
        if item in labels and code is not None:        # the item's Chinese name
            named = [k[1] for k, v in by_key.items() if k[0] == code
                     and v["kind"] == labels[item]]
            item = named[0] if len(named) == 1 else item
        line = by_key.get((code, item))
        if line is None:
            report.add(r, "unknown_line", "error", f"enterprise {code} has no line {item!r} "
                       "in this policy run (`mujun policy ledger` lists them)", "item", item)
        quarter = parse_quarter(col("quarter")[i])
        if quarter is None:
            report.add(r, "bad_value", "error", f"quarter {col('quarter')[i]!r}: write "
                       "2018Q3 or 2018年第3季度", "quarter", col("quarter")[i])
        word = parse_text(col("status")[i])
        status = STATUS_WORDS.get(str(word).strip().lower()) if word else None
        if status is None:
            report.add(r, "bad_value", "error", f"status {word!r}: write 已征收, 已返还 or "
                       "已兑现", "status", word)
        fen, problem = parse_yuan(col("amount_yuan")[i])
        if problem:
            report.add(r, "bad_value", "error", problem, "amount_yuan", col("amount_yuan")[i])
        quota_cell = col("quota")[i]
        quota = None
        if not is_blank(quota_cell):
            try:
                quota = Decimal(str(quota_cell).replace(",", "")).quantize(Decimal("0.001"))
            except InvalidOperation:
                report.add(r, "bad_value", "error", f"quota {quota_cell!r} is not a number",
                           "quota", quota_cell)
        if line is not None and status is not None:
            is_quota = line["kind"].endswith("_quota")
            planned = line["amount_fen"]
            if is_quota and status != "granted":
                report.add(r, "bad_status", "error", "a quota is granted (已兑现), not "
                           f"{label('policy.status', status)}", "status", word)
            elif is_quota and quota is None:
                report.add(r, "missing_field", "error", "a quota line needs 指标数量", "quota")
            elif not is_quota and fen is None:
                report.add(r, "missing_field", "error", "金额 (元) is empty", "amount_yuan")
            elif not is_quota and status == "collected" and not (planned or 0) > 0:
                report.add(r, "bad_status", "error", "only a surcharge is collected; this line "
                           "is a relief (record it as 已兑现)", "status", word)
            elif not is_quota and status == "granted" and not (planned or 0) < 0:
                report.add(r, "bad_status", "error", "only a relief is granted; this line is "
                           "a surcharge (record it as 已征收)", "status", word)
            elif status == "refunded":
                t = totals.setdefault((code, item), {"collected": 0, "refunded": 0})
                if not line["refundable"]:
                    report.add(r, "bad_status", "error", f"item {item} is not refundable in "
                               "the rule set (refundable: true)", "status", word)
                elif t["refunded"] + (fen or 0) > t["collected"]:
                    report.add(r, "refund_exceeds", "error",
                               f"refunds would reach {(t['refunded'] + (fen or 0)) / 100:.2f} "
                               f"元, more than the {t['collected'] / 100:.2f} 元 collected",
                               "amount_yuan", fen)
                else:
                    t["refunded"] += fen or 0
            elif status == "collected":
                t = totals.setdefault((code, item), {"collected": 0, "refunded": 0})
                t["collected"] += fen or 0
        out["credit_code"].append(code)
        out["item"].append(item)
        out["quarter"].append(quarter)
        out["status"].append(status)
        out["amount_fen"].append(fen)
        out["quota"].append(quota)
        out["note"].append(parse_text(col("note")[i]))
    typed = pd.DataFrame({k: pd.Series(v, dtype=object) for k, v in out.items()})
    keep = ~np.isin(rows, list(report.rejected_rows))
    return typed, keep


def record_file(conn: psycopg.Connection, path: str | Path, *, run_id: int | None = None,
                sheet: str | int | None = None, encoding: str | None = None,
                dry_run: bool = False, accept_partial: bool = False,
                rejects: str | Path | None = None, overwrite: bool = False,
                progress: Any = None) -> ImportResult:
    """Store the collected, refunded and granted amounts of a file against a policy run.

    Columns (Chinese headers recognised): 统一社会信用代码, 项目 (the item's name in the
    rule set or its Chinese name), 季度 (2018Q3), 状态 (已征收 / 已返还 / 已兑现), 金额
    (元, to the fen) or 指标数量 (quotas), 备注. All or nothing (``accept_partial``: the
    good rows), recorded as an import batch of kind ``policy_records``.
    """
    from gis.db.batches import start_batch
    from gis.errors import EmptyInputError, MappingError
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
    from parcels.importing.kinds import register_import_kinds
    from scoring.policy.store import resolve_policy_run

    register_import_kinds()
    source = str(path)
    vocabularies()          # the checks below are named in this floor's terms
    report = ImportReport(source=source, unit="row")
    rejects_path = None
    try:
        run = resolve_policy_run(conn, run_id)
        grid, sheet_name = read_grid(path, sheet=sheet, encoding=encoding)
        ident = earlier_import(conn, "policy_records", path,
                               {"run_id": run, "sheet": sheet_name or None,
                                "encoding": encoding})
        if ident.earlier is not None:
            return already_imported(conn, "policy_records", source, report, ident.earlier,
                                    dry_run=dry_run)
        plan = match_columns(grid, load_field_specs("policy_records"), {}, source=source)
        if plan.missing_required:
            raise MappingError(f"{source}：缺少列 {'、'.join(plan.missing_required)}"
                               "（需要 统一社会信用代码、项目、季度、状态）")
        note_plan(plan, report)
        raw, rows = table_records(grid, plan)
        report.n_read = len(rows)
        if not len(rows):
            raise EmptyInputError("表格只有表头，没有数据行", source=source)
        lines = read_ledger(conn, run)
        done = {(c, i): {"collected": int(col), "refunded": int(ref)} for c, i, col, ref in
                zip(lines["credit_code"], lines["item"], lines["collected_fen"],
                    lines["refunded_fen"], strict=True)}
        typed, keep = _check_records(raw, rows, lines, done, report)
        rejects_path = settle(report, accept_partial=accept_partial, source=source,
                              rejects=None if dry_run else rejects, overwrite=overwrite)
        batch_id = start_batch(conn, "policy_records", source, source_sha256=ident.file_hash,
                               identity=ident.identity, layer=sheet_name,
                               params={"run_id": run})
        load = typed[keep]
        scope = {c: t for c, t in zip(lines["credit_code"], lines["town"], strict=True)}
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO policy_record (run_id, credit_code, item, quarter, status,"
                " amount_fen, quota, note, batch_id, town, district)"
                " SELECT %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, district FROM policy_line"
                " WHERE run_id = %s AND credit_code = %s AND item = %s",
                [(run, r.credit_code, r.item, r.quarter, r.status,
                  r.amount_fen, r.quota, r.note, batch_id, scope.get(r.credit_code),
                  run, r.credit_code, r.item) for r in load.itertuples(index=False)])
        close_batch(conn, batch_id, report, n_loaded=len(load), inserted=len(load),
                    dry_run=dry_run)
    except BaseException:
        rollback_quietly(conn)
        raise
    return ImportResult("policy_records", source, report,
                        batch_id=None if dry_run else batch_id, dry_run=dry_run,
                        rejects_path=rejects_path, extra={"policy_run": run})
