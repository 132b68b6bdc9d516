"""The enterprise file for a terminal, in Chinese (the panels present in the file only)."""

from __future__ import annotations

from typing import Any

from maps.enterprise_file.imagery import WHICH
from maps.enterprise_file.panels import TITLES


def num(v: Any, digits: int = 1) -> str:
    """A number with thousands separators, ``-`` for none.

    Examples
    --------
    >>> num(12345.678), num(None), num(0.5, 2)
    ('12,345.7', '-', '0.50')
    """
    return "-" if v is None else f"{v:,.{digits}f}"


def figure(row: dict[str, Any]) -> str:
    """A figure of the 部门数据 panel as printed (persons as whole numbers).

    Examples
    --------
    >>> figure({"field": "employees", "value": 9.0}), figure({"field": "tax_wan", "value": 41.7})
    ('9', '41.70')
    """
    return num(row["value"], 0 if row["field"] == "employees" else 2)


def _header(h: dict[str, Any]) -> list[str]:
    tags = [h["size"], *(h.get("tags") or [])]
    return [f"{h['name']}（{h['credit_code']}）",
            f"  状态 {h['status_label']}，镇街 {h['town'] or '-'}，园区 {h['park'] or '-'}，"
            f"行业 {h['industry_division'] or '-'} {h['industry_name'] or ''}，{'、'.join(tags)}"]


def _history(rows: list[dict]) -> list[str]:
    out = ["历年评价（每年最新一次评价运行）："] + ([] if rows else ["  无（尚未评价）"])
    for r in rows:
        adj = (f"，调档为 {r['adjusted_class']}（{r['adjustment_reason']}，{r['adjusted_by']}）"
               if r["adjusted_class"] else "")
        tags = f"；{'、'.join(r['tag_labels'])}" if r.get("tag_labels") else ""
        out.append(f"  {r['year']}年 运行 {r['run_id']}（{r['ruleset']}）：总分 "
                   f"{num(r['total'], 2)}，评价档次 {r['initial_class'] or '未评价'}{adj}；"
                   f"排名 全县 {r['rank_county'] or '-'}、镇街 {r['rank_town'] or '-'}、行业 "
                   f"{r['rank_industry'] or '-'}{tags}")
    return out


def _per_mu(rows: list[dict]) -> list[str]:
    out = ["亩均效益（本企业 / 行业平均 / 镇街平均，较上年变化）："] + ([] if rows else ["  无"])
    for r in rows:
        parts = [f"{v['label']} {num(v['value'], 2)} / {num(v['industry_average'], 2)} / "
                 f"{num(v['town_average'], 2)}"
                 + (f"（{v['change']:+.2f}）" if v["change"] is not None else "")
                 for v in r.values() if isinstance(v, dict)]
        out.append(f"  {r['year']}年（用地 {num(r['land_mu'], 2)} 亩）：" + "；".join(parts))
    return out


def _land(rows: list[dict]) -> list[str]:
    out = ["土地（证载面积 / 实测面积，平方米；建筑占地、建筑系数、容积率为最近一次用地核算）："]
    for r in rows:
        who = f" 承租方 {r['tenant']}" if r["tenant"] else ""
        out.append(f"  {r['right']} {r['parcel_code']}{who}：{num(r['cert_area_m2'])} / "
                   f"{num(r['measured_m2'])}，建筑占地 {num(r['built_m2'])}，建筑系数 "
                   f"{num(r['coverage'], 2)}，容积率 {num(r['far'], 2)}")
    return out + ([] if rows else ["  无"])


def _imagery(rows: list[dict]) -> list[str]:
    out = ["影像（覆盖宗地的第一次和最近一次调查；图见 mujun enterprise sheet）："]
    for r in rows:
        names = [f"{WHICH[s['which']].removesuffix('调查')} {s['date']}"
                 + (f"（{s['source']}）" if s["source"] else "") for s in r["surveys"]]
        out.append(f"  {r['parcel_code']}：" + ("；".join(names) if names else "无覆盖该宗地的调查")
                   + (f"，共 {r['n_surveys']} 次调查" if r["n_surveys"] > 2 else ""))
    return out + ([] if rows else ["  无"])


def _figures(rows: list[dict]) -> list[str]:
    out = ["部门数据（按部门与导入批次；日期为导入日期）："] + ([] if rows else ["  无"])
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault((r["year"], r["department_label"], r["batch_id"], r["source_name"],
                           r["imported_at"]), []).append(r)
    for (year, dept, batch, name, at), items in groups.items():
        when = (at or "")[:10] or "日期未知"
        figs = "，".join(f"{r['label']} {figure(r)} {r['unit']}" for r in items)
        out.append(f"  {year}年 {dept} {name}（批次 {batch if batch is not None else '-'}，"
                   f"{when}）：{figs}")
    return out


def _warnings(rows: list[dict]) -> list[str]:
    return [f"数据核查提示 {len(rows)} 条："] + [
        f"  [{w['status_label']}] {w['problem'] or w['kind']}" for w in rows]


def _candidates(rows: list[dict]) -> list[str]:
    return [f"宗地上的土地状态线索 {len(rows)} 条："] + [
        f"  {c['parcel_code']} {c['kind_label']}（{c['status_label']}）"
        + (f"，{c['decided_by']} 于 {c['decided_at'][:10]} 决定" if c.get("decided_by") else "")
        for c in rows]


def _policies(runs: list[dict]) -> list[str]:
    out = [f"差别化政策（政策运行 {len(runs)} 次）："]
    for run in runs:
        flags = "、".join(run["flag_labels"]) or "无"
        out.append(f"  运行 {run['run_id']}（{run['ruleset']}，{run['period'] or '-'}）：执行档次 "
                   f"{run['class'] or '-'}{'（调档）' if run['adjusted'] else ''}，措施 {flags}")
        for line in run["lines"]:
            amount = (f"{num(line['amount_yuan'], 2)} 元" if line["amount_yuan"] is not None
                      else f"{num(line['quota'], 2)} {line['base_unit']}")
            out.append(f"    {line['kind_label']}：{amount}（{line['status_label']}，"
                       f"{line['collector'] or '-'}）")
    return out


def _appeals(rows: list[dict]) -> list[str]:
    out = [f"申诉 {len(rows)} 件："]
    for a in rows:
        what = (f"{a['field_label']} 申报为 {num(a['claimed_value'], 2)}" if a["kind"] == "data"
                else f"申请调为 {a['requested_class']} 类")
        out.append(f"  {a['appeal_id']} {a['year']}年 {a['kind_label']}：{what}；{a['claim']}"
                   f"（{a['status_label']}{'：' + a['decision'] if a['decision'] else ''}）")
    return out


_WRITERS = {"history": _history, "per_mu": _per_mu, "land": _land, "imagery": _imagery,
            "figures": _figures, "warnings": _warnings, "candidates": _candidates,
            "policies": _policies, "appeals": _appeals}


def file_text(rec: dict[str, Any]) -> str:
    """The file for a terminal, in Chinese: the header, then each chosen panel."""
    lines = _header(rec["header"])
    for name in rec.get("panels", TITLES)[1:]:
        if name in rec:
            lines += ["", *_WRITERS[name](rec[name])]
    return "\n".join(lines)
