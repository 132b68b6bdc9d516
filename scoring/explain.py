"""``score explain``: why an enterprise got its class, from what the run stored.

Everything comes from the stored row (indicator values, item scores with benchmark,
weight and rule, the rules that fired) plus the enterprise's parcels and rights for the
occupancy year, so an explanation always matches the run, even after the rule set or
the data changed.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from scoring.errors import ScoreRunError

if TYPE_CHECKING:
    import psycopg


def explain(conn: psycopg.Connection, credit_code: str, *, year: int | None = None,
            run_id: int | None = None) -> dict[str, Any]:
    """The stored score of one enterprise with its items, rules and land.

    Raises
    ------
    ScoreRunError
        No score run, or the enterprise is not in it.
    """
    from parcels.codes import normalize_credit_code
    from scoring.store import resolve_score_run, run_params

    code = normalize_credit_code(credit_code)
    run_id = resolve_score_run(conn, run_id, year)
    cur = conn.execute(
        "SELECT credit_code, year, ruleset, population, name, town, district, industry_division,"
        " land_m2, total, class, rank_county, rank_town, rank_industry, indicators, items,"
        " rules_fired, occupancy_run, prev_run, prev_total, prev_class"
        " FROM enterprise_score WHERE run_id = %s AND credit_code = %s", (run_id, code))
    names = [d.name for d in cur.description]
    row = cur.fetchone()
    if row is None:
        raise ScoreRunError(f"企业 {code} 不在第 {run_id} 次评价中（当年没有企业数据，"
                            "占地测算中也没有用地？）")
    rec = dict(zip(names, row, strict=True))
    rec["credit_code"] = rec["credit_code"].strip()
    rec["run_id"] = run_id
    occ = rec["occupancy_run"]
    occ_params = run_params(conn, occ)["params"] if occ else {}
    occ_year = occ_params.get("year", rec["year"])
    land = conn.execute(
        "SELECT r.parcel_code, r.right_type, r.share, r.leased_land_m2, r.leased_floor_m2,"
        " p.area_m2, p.cert_area_m2, p.town, p.supply_date"
        " FROM land_right r LEFT JOIN parcel p USING (parcel_code)"
        " WHERE r.credit_code = %s"
        " AND (r.start_date IS NULL OR r.start_date <= make_date(%s, 12, 31))"
        " AND (r.end_date IS NULL OR r.end_date >= make_date(%s, 1, 1))"
        " ORDER BY r.parcel_code", (code, occ_year, occ_year)).fetchall()
    el = conn.execute("SELECT land_m2, built_m2, floor_area_m2, n_parcels, role, merged_into"
                      " FROM enterprise_land WHERE run_id = %s AND credit_code = %s"
                      " AND year = %s", (occ, code, occ_year)).fetchone() if occ else None
    rec["land"] = {
        "occupancy_run": occ, "year": occ_year,
        "tenant_rule": occ_params.get("tenant_rule"), "area_basis": occ_params.get("area_basis"),
        "allocated": None if el is None else {
            "land_m2": el[0], "built_m2": el[1], "floor_area_m2": el[2], "n_parcels": el[3],
            "role": el[4], "merged_into": el[5].strip() if el[5] else None},
        "parcels": [{"parcel_code": r[0], "right_type": r[1], "share": r[2],
                     "leased_land_m2": r[3], "leased_floor_m2": r[4], "area_m2": r[5],
                     "cert_area_m2": r[6], "town": r[7],
                     "supply_date": r[8].isoformat() if r[8] else None} for r in land],
    }
    rec["change"] = None if rec["prev_total"] is None or rec["total"] is None \
        else rec["total"] - rec["prev_total"]
    from scoring.overrides import override_history

    history = override_history(conn, code, rec["year"])
    rec["initial_class"] = rec["class"]
    rec["override"] = history[-1] if history else None
    rec["override_history"] = history
    rec["adjusted_class"] = history[-1]["class"] if history else None
    rec["final_class"] = rec["adjusted_class"] or rec["class"]
    rec["protection"] = next((r["detail"] for r in rec["rules_fired"] or []
                              if r.get("rule") == "protection"), None)
    return rec


def _f(v: Any, digits: int = 4) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:,.{digits}f}"
    return str(v)


def _population_label(rec: dict[str, Any]) -> str:
    """The population's label as the run recorded it (``name (label)``), else its name."""
    detail = next((str(r["detail"]) for r in rec["rules_fired"] or []
                   if r.get("rule") == "population"), "")
    name = rec["population"]
    if detail.startswith(f"{name} (") and detail.endswith(")"):
        return detail[len(name) + 2:-1]
    return name


_CUTOFFS = re.compile(r"cut-offs A ≥ (\S+), B ≥ (\S+), C ≥ (\S+), else D")
_QUOTA = re.compile(r"quota \((?P<shares>[^)]*)\) within (?P<within>\w+), ties (?P<ties>\w+)"
                    r"(?:: position (?P<pos>\d+) of (?P<size>\d+))?")
#: as runs stored it before the tie rule moved ahead of the position
_QUOTA_EARLIER = re.compile(r"quota \((?P<shares>[^)]*)\) within (?P<within>\w+)"
                            r": position (?P<pos>\d+) of (?P<size>\d+), ties (?P<ties>\w+)")


def class_rule_zh(detail: str) -> str:
    """The class rule a run stored (:func:`scoring.kernel.class_rule_text`, with the firm's
    position) in the vocabulary's words; any other text (a rule set's own) as it is.

    Examples
    --------
    >>> class_rule_zh("quota (A 20 %, B 40 %, C 30 %, D 10 %) within county, ties ordered: "
    ...               "position 250 of 295")
    '按比例定档（A 20 %、B 40 %、C 30 %、D 10 %），全县排序，同分按排序规则排定先后：第 250 名，共 295 家'
    >>> class_rule_zh("quota (A 30 %, B 70 %) within town: position 4 of 9, ties shared")
    '按比例定档（A 30 %、B 70 %），各镇街排序，同分同档：第 4 名，共 9 家'
    >>> class_rule_zh("cut-offs A ≥ 85, B ≥ 70, C ≥ 60, else D")
    '按分数线定档：A ≥ 85 分，B ≥ 70 分，C ≥ 60 分，其余 D'
    """
    from scoring.vocabulary import CLASS_TIES, CLASS_WITHIN

    m = _CUTOFFS.fullmatch(detail)
    if m:
        a, b, c = m.groups()
        return f"按分数线定档：A ≥ {a} 分，B ≥ {b} 分，C ≥ {c} 分，其余 D"
    m = _QUOTA.fullmatch(detail) or _QUOTA_EARLIER.fullmatch(detail)
    if not m:
        return detail
    text = (f"按比例定档（{m['shares'].replace(', ', '、')}），{CLASS_WITHIN.label(m['within'])}排序，"
            f"{CLASS_TIES.label(m['ties'])}")
    return text + (f"：第 {m['pos']} 名，共 {m['size']} 家" if m["pos"] else "")


#: The scoring kernel's reasons (not evaluated, class T, protection), in the vocabulary's
#: words; a reason it does not know (an adjustment file's own) is shown as it is.
_REASONS = (
    (re.compile(r"^utility: industry division (\w+)$"), r"公用事业（行业大类 \1）"),
    (re.compile(r"^utility \(enterprise flag\)$"), "公用事业企业"),
    (re.compile(r"^relocated$"), "搬迁企业"),
    (re.compile(r"^established (\S+), producing < (\S+) years$"), r"成立于 \1，投产不满 \2 年"),
    (re.compile(r"^land supplied (\S+), in its (\S+)-year construction period$"),
     r"供地于 \1，处于 \2 年建设期内"),
    (re.compile(r"^established (\S+), less than (\S+) years before the end of (\d+)$"),
     r"成立于 \1，至 \3 年末不满 \2 年"),
    (re.compile(r"^first year above scale.*$"), "首次进入规模以上（首年）"),
    (re.compile(r"^no occupied land in the occupancy run$"), "占地测算中无占用土地"),
    (re.compile(r"^no annual records for the year$"), "当年无年度数据"),
    (re.compile(r"^size class in no population$"), "企业规模不属于任何评价类别"),
    (re.compile(r"^(.+): below (\S+) mu and (\S+) m² floor area$"),
     r"\1：用地不足 \2 亩且建筑面积不足 \3 平方米"),
    (re.compile(r"^(.+): below (\S+) mu$"), r"\1：用地不足 \2 亩"),
    # an adjustment file's lines (kernel.adjustment_effects): the kind, points and its reason
    (re.compile(r"^bonus (\S+)(?:: (.*))?$", re.S), lambda m: f"加分 {m[1]} 分" + (f"：{m[2]}" if m[2] else "")),
    (re.compile(r"^penalty (\S+)(?:: (.*))?$", re.S), lambda m: f"减分 {m[1]} 分" + (f"：{m[2]}" if m[2] else "")),
    (re.compile(r"^veto(?:: (.*))?$", re.S), lambda m: "一票否决" + (f"：{m[1]}" if m[1] else "")),
    (re.compile(r"^exempt(?:: (.*))?$", re.S), lambda m: "不参评" + (f"：{m[1]}" if m[1] else "")),
    (re.compile(r"^listed: (.*)$", re.S), lambda m: "调整名单列明：" + _one_reason(m[1])),
)


def reason_text(text: str) -> str:
    """A kernel reason in Chinese (each of several joined by ``"; "``); any other text as it is.

    Examples
    --------
    >>> reason_text("relocated")
    '搬迁企业'
    >>> reason_text("规上工业: below 5 mu")
    '规上工业：用地不足 5 亩'
    >>> reason_text("bonus 5: 省级专精特新; penalty 2")
    '加分 5 分：省级专精特新; 减分 2 分'
    >>> reason_text("列入搬迁计划")
    '列入搬迁计划'
    """
    return "; ".join(_one_reason(part) for part in text.split("; "))


def _one_reason(text: str) -> str:
    for pattern, words in _REASONS:
        if pattern.match(text):
            return pattern.sub(words, text)
    return text


def explain_text(rec: dict[str, Any]) -> str:
    """A readable explanation of :func:`explain`'s record, in the vocabulary's words."""
    from parcels.vocabulary import RIGHT_ROLES
    from scoring.units import unit_label
    from scoring.vocabulary import (
        AREA_BASES,
        BENCHMARKS,
        CLASSES,
        DIRECTIONS,
        ITEM_RULES,
        RULES,
        TENANT_RULES,
    )
    from scoring.vocabulary import LAND_TAX_ROLE as HOLDING

    def klass(code: str | None, missing: str = "-") -> str:
        return CLASSES.label(code) if code else missing

    def when(at: str) -> str:
        return at[:16].replace("T", " ")

    not_classed = "-（保护期）" if rec.get("protection") else "-（未参评）"
    lines = [f"{rec['credit_code']} {rec['name'] or ''}（{rec['town'] or '-'}，行业大类 "
             f"{rec['industry_division'] or '-'}）",
             f"第 {rec['run_id']} 次评价，规则 {rec['ruleset']}，{rec['year']} 年：档次 "
             f"{klass(rec['class'], not_classed)}，总分 {_f(rec['total'], 3)}"]
    ov = rec.get("override")
    if ov is not None:
        approved = f"，{ov['approved_by']} 批准" if ov["approved_by"] else "，未经他人批准"
        lines.append(f"评价档次 {klass(rec['class'])}，调档后 {klass(ov['class'])}"
                     f"（{ov['decided_by']} 调档{approved}，{when(ov['at'])}，记于第 "
                     f"{ov['run_id']} 次评价）：{ov['reason']}")
        if ov["initial_class"] != rec["class"]:
            lines.append(f"  注意：调档时第 {ov['run_id']} 次评价的档次为 "
                         f"{klass(ov['initial_class'])}，本次评价为 {klass(rec['class'])}："
                         "请核实调档是否仍然成立")
        for old in rec["override_history"][:-1]:
            lines.append(f"  此前：{when(old['at'])} → {klass(old['class'])}，"
                         f"{old['decided_by']}：{old['reason']}")
    if rec.get("protection"):
        lines.append(f"保护期（列示不评价）：{reason_text(str(rec['protection']))}")
    if rec["population"]:
        lines.append(f"评价类别 {_population_label(rec)}；全县排名 {rec['rank_county'] or '-'}，"
                     f"镇街排名 {rec['rank_town'] or '-'}，行业排名 "
                     f"{rec['rank_industry'] or '-'}")
    if rec["prev_run"]:
        lines.append(f"上年（第 {rec['prev_run']} 次评价）：档次 {klass(rec['prev_class'])}，"
                     f"总分 {_f(rec['prev_total'], 3)}；变化 {_f(rec['change'], 3)}")
    if rec["items"]:
        lines.append("")
        lines.append("\t".join(("指标", "数值", "单位", "基准值", "权重", "得分", "计分方式")))
        ordered = sorted(rec["items"].items(), key=lambda kv: (-(kv[1].get("weight") or 0),
                                                              kv[0]))
        for name, it in ordered:
            b = it.get("benchmark", {})
            btxt = _f(b.get("value")) if "value" in b else \
                f"{_f(b.get('min'))}–{_f(b.get('max'))}"
            lines.append("\t".join((
                it.get("label") or name, _f(it.get("value")), unit_label(it.get("unit", "")),
                btxt,
                _f(it.get("weight"), 0), _f(it.get("score"), 3),
                f"{ITEM_RULES.label(str(it.get('rule')))}（{BENCHMARKS.label(it.get('method'))}"
                f"，{DIRECTIONS.label(it.get('direction'))}）")))
    elif rec["indicators"]:
        lines.append("指标：" + "、".join(f"{k} {_f(v)}" for k, v in
                                        rec["indicators"].items()))
    lines.append("")
    lines.append("适用的规则：")
    for r in rec["rules_fired"]:
        if r["rule"] == "land":      # the land section below says it in full
            continue
        name = r.get("item")
        item = f"［{(rec['items'] or {}).get(name, {}).get('label') or name}］" if name else ""
        detail = (_population_label(rec) if r["rule"] == "population"
                  else class_rule_zh(str(r["detail"])) if r["rule"] == "class"
                  else ITEM_RULES.label(str(r["detail"])) if r["rule"] == "item"
                  else reason_text(str(r["detail"])))
        lines.append(f"  {RULES.label(r['rule'])}{item}：{detail}")
    land = rec["land"]
    lines.append("")
    alloc = land["allocated"]
    lines.append(f"用地：占地测算第 {land['occupancy_run']} 次（{land['year']} 年，租赁分摊规则 "
                 f"{TENANT_RULES.label(land['tenant_rule'])}，面积口径 "
                 f"{AREA_BASES.label(land['area_basis'])}）："
                 + ("未分配用地" if alloc is None else
                    f"{_f(alloc['land_m2'], 1)} 平方米，{HOLDING.label(alloc['role'])}，"
                    f"宗地 {alloc['n_parcels']} 宗" + (f"，并入 {alloc['merged_into']}"
                                                    if alloc["merged_into"] else "")))
    for p in land["parcels"]:
        extra = "，".join(x for x in (
            f"份额 {p['share']:g}" if p["share"] else "",
            f"租用土地 {p['leased_land_m2']:,.0f} 平方米" if p["leased_land_m2"] else "",
            f"租用建筑 {p['leased_floor_m2']:,.0f} 平方米" if p["leased_floor_m2"] else "",
            f"供地日期 {p['supply_date']}" if p["supply_date"] else "") if x)
        lines.append(f"  {p['parcel_code']} {RIGHT_ROLES.label(p['right_type'])} 宗地 "
                     f"{_f(p['area_m2'], 1)} 平方米" + (f"；{extra}" if extra else ""))
    return "\n".join(lines)
