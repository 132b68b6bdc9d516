"""The ranked candidate list (``mujun candidates report``) as tables.

:func:`report_rows`: open candidates ranked by priority, with the rules that fired and
the holders; :func:`exemption_rows`: exemptions in force; :func:`notes_rows`: the run,
the rules file and how the list is ranked. The workbook is written by the one layer
writer of the maps package (its ``candidates`` layer, reached through ``mujun export``),
which this package does not import: Chinese headers come from its field table.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from gis.crs import SQM_PER_MU
from scoring.candidates.lifecycle import STATUS_LABELS
from scoring.candidates.rules import KIND_LABELS

if TYPE_CHECKING:
    import psycopg

#: The columns of :func:`report_rows`, in sheet order.
COLUMNS = ("rank", "candidate_id", "parcel_code", "kind", "kind_name", "status", "status_name",
           "town", "district", "area_m2", "area_mu", "reclaimable_m2", "reclaimable_mu",
           "certainty", "priority", "years_idle", "survey_date", "coverage", "far", "holders",
           "class", "rules", "updated_at")

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
    """The ranked rows (:data:`COLUMNS`) from ``list_candidates(evidence=True)``.

    ``kind`` and ``status`` stay codes (the map style keys on them); ``kind_name`` and
    ``status_name`` are the bureau's words.
    """
    rows = []
    for rank, r in enumerate(frame.to_dict("records"), 1):
        ev = r.get("evidence") or {}
        holders = "、".join(f"{e.get('name') or e['credit_code']}({e.get('status') or '未登记'})"
                           for e in ev.get("enterprises", []))
        rows.append({
            "rank": rank, "candidate_id": r["candidate_id"], "parcel_code": r["parcel_code"],
            "kind": r["kind"], "kind_name": KIND_LABELS.get(r["kind"], r["kind"]),
            "status": r["status"], "status_name": STATUS_LABELS.get(r["status"], r["status"]),
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
    return pd.DataFrame(rows, columns=list(COLUMNS))


def _div(v: Any) -> float | None:
    return None if v is None or pd.isna(v) else float(v) / SQM_PER_MU


def _round(v: Any, digits: int) -> float | None:
    return None if v is None or pd.isna(v) else round(float(v), digits)


def exemption_rows(conn: psycopg.Connection) -> pd.DataFrame:
    """The exemptions in force, with Chinese column names (the report's 豁免 sheet)."""
    from scoring.candidates.exemptions import list_exemptions

    exemptions = list_exemptions(conn)
    return pd.DataFrame(
        ([r.exemption_id, r.parcel_code, r.town, r.reason,
          "、".join(KIND_LABELS.get(k, k) for k in r.kinds), r.comment, r.document,
          str(r.valid_until) if r.valid_until else None, r.created_by,
          str(r.created_at)[:19]] for r in exemptions.itertuples(index=False)),
        columns=["编号", "宗地代码", "镇(街道)", "豁免原因", "适用类型", "说明", "文件", "有效至",
                 "登记人", "登记时间"])


def notes_rows(conn: psycopg.Connection, rows: int) -> pd.DataFrame:
    """The report's 说明 sheet: the run, its date and rules file, how the list is ranked."""
    from scoring.candidates.store import latest_run

    run = latest_run(conn)
    notes = [("规则运行", run["run_id"] if run else "-"),
             ("判定日期", (run or {}).get("params", {}).get("as_of", "-")),
             ("规则文件", (run or {}).get("summary", {}).get("rules", "-")),
             ("候选数量", rows),
             ("排序", "按优先级从高到低；优先级 = 面积、闲置年限、区位、评价类别加权，乘以确定性系数"),
             ("依据", "闲置土地处置办法(国土资源部令第53号)；工业项目建设用地控制指标(2008)；"
                      "城镇低效用地再开发指导意见(2016)")]
    return pd.DataFrame([(a, str(b)) for a, b in notes], columns=["项目", "内容"])
