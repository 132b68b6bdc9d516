"""The panels of the enterprise file as tables (title, header, rows), shared by the PDF
sheet (:mod:`.sheet`) and the review app's enterprise page (pure)."""

from __future__ import annotations

from typing import Any

from maps.enterprise_file.panels import TITLES
from maps.enterprise_file.text import figure, num


def header_facts(h: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, value) pairs of the header panel."""
    return [("统一社会信用代码", h["credit_code"]), ("状态", h["status_label"]),
            ("镇街", h["town"] or "-"), ("园区", h["park"] or "-"),
            ("行业", f"{h['industry_division'] or '-'} {h['industry_name'] or ''}"),
            ("规模与标记", "、".join([h["size"], *(h.get("tags") or [])]))]


def panel_tables(rec: dict[str, Any], *, figures: bool = True
                 ) -> list[tuple[str, list[str], list[tuple], tuple]]:
    """(title, header, rows, column widths in mm) of each table panel of ``rec`` (pure; the
    header and the images are drawn apart). Without ``figures`` the class history has no
    total and no ranks (the review app's roles without 'figures')."""
    out = []
    if "history" in rec and figures:
        out.append((TITLES["history"], ["年度", "运行", "评价办法", "总分", "评价档次", "调档",
                                        "调档理由", "全县/镇街/行业排名"],
                    [(r["year"], r["run_id"], r["ruleset"] or "-", num(r["total"], 2),
                      r["initial_class"] or "未评价", r["adjusted_class"] or "-",
                      r["adjustment_reason"] or "-",
                      f"{r['rank_county'] or '-'}/{r['rank_town'] or '-'}/"
                      f"{r['rank_industry'] or '-'}") for r in rec["history"]],
                    (12, 12, 34, 16, 16, 12, 52, 32)))
    elif "history" in rec:
        out.append((TITLES["history"], ["年度", "运行", "评价办法", "评价档次", "调档", "调档理由"],
                    [(r["year"], r["run_id"], r["ruleset"] or "-", r["initial_class"] or "未评价",
                      r["adjusted_class"] or "-", r["adjustment_reason"] or "-")
                     for r in rec["history"]], (16, 16, 44, 24, 20, 66)))
    if "per_mu" in rec:
        rows = []
        for r in rec["per_mu"]:
            for v in (x for x in r.values() if isinstance(x, dict)):
                rows.append((r["year"], num(r["land_mu"], 2), v["label"], num(v["value"], 2),
                             num(v["industry_average"], 2), num(v["town_average"], 2),
                             "-" if v["change"] is None else f"{v['change']:+.2f}"))
        out.append((TITLES["per_mu"] + "（万元/亩）", ["年度", "用地（亩）", "指标", "本企业",
                                                   "行业平均", "镇街平均", "较上年"],
                    rows, (14, 22, 50, 24, 26, 26, 24)))
    if "land" in rec:
        out.append((TITLES["land"] + "（平方米）", ["方式", "宗地代码", "承租方", "证载面积",
                                                 "实测面积", "建筑占地", "建筑系数", "容积率"],
                    [(r["right"], r["parcel_code"], r["tenant"] or "-", num(r["cert_area_m2"]),
                      num(r["measured_m2"]), num(r["built_m2"]), num(r["coverage"], 2),
                      num(r["far"], 2)) for r in rec["land"]],
                    (14, 44, 36, 20, 20, 20, 16, 16)))
    if "figures" in rec:
        out.append((TITLES["figures"], ["年度", "部门", "指标", "数值", "单位", "来源", "导入日期"],
                    [(r["year"], r["department_label"], r["label"], figure(r),
                      r["unit"], r["source_name"], (r["imported_at"] or "")[:10] or "-")
                     for r in rec["figures"]],
                    (12, 24, 30, 28, 18, 50, 24)))
    if "warnings" in rec:
        out.append((TITLES["warnings"], ["状态", "内容", "发现时间"],
                    [(w["status_label"], w["problem"] or w["kind"], (w["created_at"] or "")[:10])
                     for w in rec["warnings"]], (20, 136, 30)))
    if "candidates" in rec:
        out.append((TITLES["candidates"], ["编号", "宗地代码", "类型", "状态", "可盘活（平方米）"],
                    [(c["candidate_id"], c["parcel_code"], c["kind_label"], c["status_label"],
                      num(c["reclaimable_m2"])) for c in rec["candidates"]],
                    (16, 50, 50, 36, 34)))
    if "policies" in rec:
        rows = []
        for run in rec["policies"]:
            flags = "、".join(run["flag_labels"]) or "-"
            for line in run["lines"] or [None]:
                rows.append((run["run_id"], run["class"] or "-", flags,
                             line["kind_label"] if line else "-",
                             "-" if line is None else (
                                 f"{num(line['amount_yuan'], 2)} 元"
                                 if line["amount_yuan"] is not None
                                 else f"{num(line['quota'], 2)} {line['base_unit']}"),
                             line["status_label"] if line else "-"))
        out.append((TITLES["policies"], ["政策运行", "执行档次", "措施", "项目", "金额或指标", "台账状态"],
                    rows, (18, 18, 50, 44, 32, 24)))
    if "appeals" in rec:
        out.append((TITLES["appeals"], ["编号", "年度", "类型", "申诉内容", "状态", "决定"],
                    [(a["appeal_id"], a["year"], a["kind_label"],
                      (f"{a['field_label']} {num(a['claimed_value'], 2)}；" if a["field"] else
                       f"调为 {a['requested_class']} 类；") + a["claim"],
                      a["status_label"], a["decision"] or "-") for a in rec["appeals"]],
                    (14, 12, 20, 80, 22, 38)))
    return out
