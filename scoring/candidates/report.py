"""The ranked candidate list as a workbook with Chinese headers (``mujun candidates report``).

Sheets: 候选地块 (open candidates ranked by priority, with the rules that fired and the
holders), 豁免 (exemptions in force), 说明 (the run, the rules file and what the
columns mean). Written atomically; never over an existing file without ``overwrite``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from gis.errors import DataError
from scoring.candidates.lifecycle import STATUS_LABELS
from scoring.candidates.rules import KIND_LABELS, SQM_PER_MU

if TYPE_CHECKING:
    import psycopg

#: Column key -> Chinese header, in sheet order.
HEADERS = {
    "rank": "排名", "candidate_id": "编号", "parcel_code": "宗地代码", "kind": "类型",
    "status": "状态", "town": "镇(街道)", "district": "区县", "area_m2": "面积(平方米)",
    "area_mu": "面积(亩)", "reclaimable_m2": "可盘活面积(平方米)", "reclaimable_mu": "可盘活面积(亩)",
    "certainty": "确定性", "priority": "优先级", "years_idle": "闲置/滞后年限",
    "survey_date": "影像日期", "coverage": "建筑系数", "far": "容积率", "holders": "权利人",
    "class": "评价类别", "rules": "触发规则", "updated_at": "更新时间",
}

#: Rule names in the bureau's words.
RULE_LABELS = {
    "supplied": "已供地", "one_year_after_agreed_start": "超过约定动工日期满一年",
    "not_exempted": "无豁免", "survey_after_the_year": "满一年后的影像",
    "not_started": "未动工(无自有建筑或建设规模低于阈值)",
    "survey_covers_parcel": "影像完整覆盖宗地",
    "started": "已动工", "developed_share_below": "已开发面积不足三分之一",
    "earlier_survey": "一年前的影像", "no_growth_m2": "一年内无新增建设",
    "after_agreed_completion": "超过约定竣工日期", "survey_after_completion": "竣工日期后的影像",
    "built": "有建筑", "coverage_below_control": "建筑系数低于控制指标",
    "far_below_industry_minimum": "容积率低于行业控制值", "tax_per_mu_below": "亩均税收偏低",
    "class_d": "D类企业", "reasons": "低效原因数", "buildings_stand": "建筑物存在",
    "no_active_enterprise": "无正常经营企业", "no_enterprise_linked": "无关联企业",
    "grace_years_passed": "批准后超过期限", "unsupplied_m2": "未供面积", "excluded_by": "被排除",
}


def _rules_text(rules: list[dict]) -> str:
    parts = []
    for r in rules or []:
        if not r.get("passed") or r["rule"] in ("supplied", "not_exempted", "built", "reasons"):
            continue
        label = RULE_LABELS.get(r["rule"], r["rule"])
        value, threshold = r.get("value"), r.get("threshold")
        if isinstance(value, float):
            value = round(value, 3)
        parts.append(f"{label}({value} / {threshold})" if threshold is not None
                     else f"{label}({value})")
    return "；".join(parts)


def report_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """The sheet's rows (keys of :data:`HEADERS`) from ``list_candidates(evidence=True)``."""
    rows = []
    for rank, r in enumerate(frame.to_dict("records"), 1):
        ev = r.get("evidence") or {}
        holders = "、".join(f"{e.get('name') or e['credit_code']}({e.get('status') or '未登记'})"
                           for e in ev.get("enterprises", []))
        rows.append({
            "rank": rank, "candidate_id": r["candidate_id"], "parcel_code": r["parcel_code"],
            "kind": KIND_LABELS.get(r["kind"], r["kind"]),
            "status": STATUS_LABELS.get(r["status"], r["status"]),
            "town": r["town"], "district": r["district"],
            "area_m2": _round(r["area_m2"], 1), "area_mu": _round(_div(r["area_m2"]), 2),
            "reclaimable_m2": _round(r["reclaimable_m2"], 1),
            "reclaimable_mu": _round(_div(r["reclaimable_m2"]), 2),
            "certainty": _round(r["certainty"], 2), "priority": _round(r["priority"], 1),
            "years_idle": ev.get("years_idle"), "survey_date": (ev.get("survey") or {}).get("date"),
            "coverage": _round(ev.get("coverage"), 3), "far": _round(ev.get("far"), 2),
            "holders": holders, "class": ",".join(ev.get("score_class") or []),
            "rules": _rules_text(r.get("rules")),
            "updated_at": str(r["updated_at"])[:19] if r.get("updated_at") is not None else None,
        })
    return pd.DataFrame(rows, columns=list(HEADERS))


def _div(v: Any) -> float | None:
    return None if v is None or pd.isna(v) else float(v) / SQM_PER_MU


def _round(v: Any, digits: int) -> float | None:
    return None if v is None or pd.isna(v) else round(float(v), digits)


def write_report(conn: psycopg.Connection, path: str | Path, *, kind: str | None = None,
                 town: str | None = None, status: str | None = None,
                 overwrite: bool = False) -> dict[str, Any]:
    """Write the ranked open candidates to an ``.xlsx`` workbook.

    Returns
    -------
    dict
        ``path``, ``rows``, ``area_m2``, ``reclaimable_m2``.
    """
    from openpyxl import Workbook

    from gis.atomic import atomic_output
    from scoring.candidates.exemptions import list_exemptions
    from scoring.candidates.store import latest_run, list_candidates

    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        raise DataError(f"{path}: the report is an Excel workbook; name it *.xlsx")
    frame = list_candidates(conn, kind=kind, town=town, status=status, evidence=True)
    rows = report_rows(frame)
    exemptions = list_exemptions(conn)
    run = latest_run(conn)
    wb = Workbook()
    ws = wb.active
    ws.title = "候选地块"
    _table(ws, [HEADERS[k] for k in HEADERS], rows.itertuples(index=False))
    ex = wb.create_sheet("豁免")
    _table(ex, ["编号", "宗地代码", "镇(街道)", "豁免原因", "适用类型", "说明", "文件", "有效至",
                "登记人", "登记时间"],
           ([r.exemption_id, r.parcel_code, r.town, r.reason,
             "、".join(KIND_LABELS.get(k, k) for k in r.kinds), r.comment, r.document,
             str(r.valid_until) if r.valid_until else None, r.created_by,
             str(r.created_at)[:19]] for r in exemptions.itertuples(index=False)))
    info = wb.create_sheet("说明")
    notes = [("规则运行", run["run_id"] if run else "-"),
             ("判定日期", (run or {}).get("params", {}).get("as_of", "-")),
             ("规则文件", (run or {}).get("summary", {}).get("rules", "-")),
             ("候选数量", len(rows)),
             ("排序", "按优先级从高到低；优先级 = 面积、闲置年限、区位、评价类别加权，乘以确定性系数"),
             ("依据", "闲置土地处置办法(国土资源部令第53号)；工业项目建设用地控制指标(2008)；"
                      "城镇低效用地再开发指导意见(2016)")]
    for a, b in notes:
        info.append([a, b])
    info.column_dimensions["A"].width = 14
    info.column_dimensions["B"].width = 90
    with atomic_output(path, overwrite=overwrite) as tmp:
        wb.save(tmp)
    return {"path": str(path), "rows": len(rows),
            "area_m2": float(frame["area_m2"].sum()) if len(frame) else 0.0,
            "reclaimable_m2": float(frame["reclaimable_m2"].sum()) if len(frame) else 0.0}


def _table(ws, header, rows) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    ws.append(header)
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    widths = [max(6, len(str(h)) * 2) for h in header]
    for row in rows:
        values = [None if (v is not None and not isinstance(v, str) and pd.isna(v)) else v
                  for v in row]
        ws.append(values)
        for i, v in enumerate(values):
            widths[i] = min(60, max(widths[i], len(str(v or "")) + 2))
    for i, w in enumerate(widths, 1):
        ws.column_dimensions[get_column_letter(i)].width = w
    ws.freeze_panes = "A2"
