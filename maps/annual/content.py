"""The annual report as blocks, in Chinese: what both renderers print.

:func:`report_blocks` turns the figures (:class:`maps.annual.gather.AnnualData`) and the
images (:mod:`maps.annual.charts`) into a list of ``(kind, value)`` blocks:

* ``("title", text)``, ``("subtitle", text)``, ``("heading", text)``, ``("para", text)``,
  ``("note", text)`` (a part without data, or a remark);
* ``("table", (header, rows))``: header a tuple of strings, rows tuples of strings;
* ``("image", (png bytes, caption))``.

Every label comes from a vocabulary (this package's :mod:`maps.annual.terms`, the
scoring core's fields and classes, the land-status kinds, the policy terms); numbers
are formatted here once, so the PDF and the Word document say the same.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from maps.annual.figures import TOTALS
from maps.annual.terms import COLUMNS, FIGURES, SECTIONS, SOURCES

if TYPE_CHECKING:
    from maps.annual.gather import AnnualData

Block = tuple[str, Any]
#: Columns of the town and park rankings in the report (headers from scoring.field).
RANK_COLUMNS = ("rank", "group", "evaluated", "land_holders", "firm_coverage",
                "land_coverage", "tax_per_mu", "value_added_per_mu", "share_A", "share_D")
PARK_LAND_COLUMNS = ("park", "industrial_land_ha", "built_rate", "far", "industrial_far",
                     "tax_per_ha")
LAND_TAX_COLUMNS = ("town", "firms", "unregistered", "untaxed_land", "over_taxed",
                    "untaxed_m2", "tax_missing_yuan", "tax_excess_yuan")
#: Identifiers printed as they are (no thousands separator).
_PLAIN = {"rank", "year", "score_run"}
_COUNTS = {"enterprises", "evaluated", "firms", "candidates", "approved", "land_holders",
           "last_firms", "firms_change", "unregistered",
           "untaxed_land", "over_taxed", "matched"}
_SIGNED = {"firms_change"}
_SHARES = {"share", "firm_coverage", "land_coverage", "built_rate", "share_A", "share_B",
           "share_C", "share_D", "share_T"}


def number(value: Any, column: str = "") -> str:
    """A figure as printed: counts with thousands separators, shares in %, else 2 decimals.

    >>> number(1234, "firms"), number(0.1234, "share"), number(2.0, "tax_per_mu"), number(None)
    ('1,234', '12.3%', '2.00', '-')
    >>> number(2024, "year")
    '2024'
    """
    if value is None or (isinstance(value, float) and value != value) or value is pd.NA:
        return "-"
    if column in _PLAIN:
        return str(int(value))
    if column in _COUNTS:
        return f"{int(value):,}"
    if column in _SHARES:
        return f"{float(value):.1%}"
    if isinstance(value, str):
        return value
    return f"{float(value):,.2f}"


def _signed(value: Any, column: str) -> str:
    text = number(value, column)
    return f"+{text}" if text != "-" and not text.startswith("-") and float(value) > 0 else text


def _cell(value: Any, column: str) -> str:
    if isinstance(value, str):
        return value
    return _signed(value, column) if column in _SIGNED else number(value, column)


def _table(frame: pd.DataFrame, columns: tuple[str, ...], labels) -> Block:
    header = tuple(labels(c) for c in columns)
    rows = [tuple(_cell(r[c], c) for c in columns) for r in frame.to_dict("records")]
    return ("table", (header, rows))


def _no_data(text: str) -> Block:
    return ("note", f"本部分无数据：{text}")


def _run_words(run: dict[str, Any]) -> str:
    return f"评价运行 {run['run_id']}（{run.get('title') or run['params'].get('ruleset')}）"


def summary_blocks(d: AnnualData) -> list[Block]:
    t = d.totals
    out: list[Block] = [("heading", SECTIONS.label("summary")), ("para", (
        f"{d.year}年度共有{t['evaluated']:,}家企业参加亩均效益综合评价（{_run_words(d.score_run)}，"
        f"运行中企业{t['enterprises']:,}家）。参评企业用地{number(t['land_mu'])}亩，税收"
        f"{number(t['tax_wan'])}万元，营业收入（产值）{number(t['revenue_wan'])}万元，工业增加值"
        f"{number(t['value_added_wan'])}万元；亩均税收{number(t['tax_per_mu'])}万元/亩，"
        f"亩均营业收入{number(t['revenue_per_mu'])}万元/亩，亩均增加值"
        f"{number(t['value_added_per_mu'])}万元/亩（亩均值为参评企业合计：合计 ÷ 用地合计）。"))]
    last = d.previous_totals
    header = (COLUMNS.label("item"), f"{d.year}年") + (
        (f"{d.year - 1}年", COLUMNS.label("change")) if last else ())
    rows = []
    for key in TOTALS:
        row = (FIGURES.label(key), number(t[key], key))
        if last:
            change = (None if t[key] is None or last[key] is None else t[key] - last[key])
            row += (number(last[key], key), _signed(change, key))
        rows.append(row)
    out.append(("table", (header, rows)))
    if not last:
        out.append(("note", d.notes.get("previous", "无上年评价运行")))
    return out


def class_blocks(d: AnnualData, images: dict[str, bytes]) -> list[Block]:
    from scoring.vocabulary import CLASSES, SHIFTS

    c = d.classes.assign(**{"class": d.classes["class"].map(CLASSES.label)})
    cols = ("class", "firms", "share", "land_mu", "tax_wan") + (
        ("last_firms", "firms_change") if d.previous_run else ())
    out: list[Block] = [("heading", SECTIONS.label("classes")), _table(c, cols, COLUMNS.label)]
    if d.shifts:
        p = d.previous_run
        out.append(("para", f"与上年（{_run_words(p)}，{p['params'].get('year')}年）相比："
                    + "，".join(f"{SHIFTS.label(k)}{v:,}家" for k, v in d.shifts.items()) + "。"
                    "档次均为最终档次（含调档）。"))
    else:
        out.append(_no_data(d.notes.get("previous", "无上年评价运行")))
    if "classes" in images:
        out.append(("image", (images["classes"], "图1 各档次企业数")))
    return out


def trend_blocks(d: AnnualData, images: dict[str, bytes]) -> list[Block]:
    out: list[Block] = [("heading", SECTIONS.label("trends"))]
    labels = {"year": COLUMNS.label("year"), "score_run": COLUMNS.label("score_run")}
    out.append(_table(d.trend, tuple(d.trend.columns),
                      lambda col: labels.get(col) or FIGURES.label(col)))
    if "trends" in d.notes:
        out.append(("note", d.notes["trends"]))
    if "trend" in images:
        out.append(("image", (images["trend"], "图2 亩均效益历年变化")))
    return out


def ranking_blocks(d: AnnualData, images: dict[str, bytes]) -> list[Block]:
    from scoring.parks import NOT_AVAILABLE
    from scoring.vocabulary import FIELDS, PARK_FIELDS

    def rank_label(col: str) -> str:
        return {"group": FIELDS.label("town")}.get(col) or FIELDS.label(col)

    out: list[Block] = [("heading", SECTIONS.label("towns")),
                        ("para", "排名按亩均税收（参评企业税收合计 ÷ 用地合计）；企业覆盖率 = 参评企业 ÷ "
                                 "持有工业用地的企业，用地覆盖率 = 参评企业持有的工业用地 ÷ 全部工业用地"
                                 "（覆盖率低的镇街排名可能偏高）。"),
                        _table(d.towns, RANK_COLUMNS, rank_label)]
    if "towns" in images:
        out.append(("image", (images["towns"], "图3 各镇街亩均税收")))
    out.append(("heading", SECTIONS.label("parks")))
    if d.parks is not None:
        out.append(_table(d.parks, RANK_COLUMNS,
                          lambda col: {"group": FIELDS.label("park")}.get(col)
                          or FIELDS.label(col)))
    else:
        out.append(_no_data(d.notes["parks"]))
    if d.park_land is not None:
        out.append(("para", "园区土地集约利用（开发区土地集约利用评价指标中数据库能计算的部分）："))
        out.append(_table(d.park_land, PARK_LAND_COLUMNS, PARK_FIELDS.label))
        out.append(("note", "无法计算的指标：" + "；".join(
            f"{PARK_FIELDS.label(k)}（{v}）" for k, v in NOT_AVAILABLE.items())))
    elif "park_land" in d.notes:
        out.append(_no_data(d.notes["park_land"]))
    return out


def land_status_blocks(d: AnnualData) -> list[Block]:
    from scoring.land_status.vocabulary import KINDS, STATUSES

    out: list[Block] = [("heading", SECTIONS.label("land_status"))]
    if d.candidates is None:
        return [*out, _no_data(d.notes["land_status"])]
    run = d.candidates_run
    total = d.candidates.iloc[-1]
    out.append(("para", f"土地状况识别运行 {run['run_id']}（判定日期 "
                        f"{run['params'].get('as_of', '-')}）发现或复核候选宗地"
                        f"{int(total['candidates']):,}宗、{number(total['area_mu'])}亩，其中可盘活"
                        f"{number(total['reclaimable_mu'])}亩；已{STATUSES.label('approved')}"
                        f"{int(total['approved']):,}宗、{number(total['approved_mu'])}亩。"))
    c = d.candidates.assign(kind=[(COLUMNS.label(k) if k == "total" else KINDS.label(k))
                                  for k in d.candidates["kind"]])
    out.append(_table(c, tuple(c.columns), COLUMNS.label))
    return out


def policy_blocks(d: AnnualData) -> list[Block]:
    from scoring.policy.terms import label

    out: list[Block] = [("heading", SECTIONS.label("policy"))]
    if d.policy is None:
        return [*out, _no_data(d.notes["policy"])]
    run = d.policy_run
    out.append(("para", f"政策运行 {run['run_id']}（{run['params'].get('ruleset')}，"
                        f"{run['params'].get('year')}年，依据评价运行 "
                        f"{run['params'].get('score_run')} 的分类结果）。金额单位万元。"))
    cols = ("group", "firms", "surcharge_wan", "relief_wan", "collected_wan", "granted_wan")
    rows = [(label("policy.class_group", r["group"]), f"{r['enterprises']:,}",
             *(number(float(r[c])) for c in cols[2:])) for r in d.policy]
    out.append(("table", (tuple(COLUMNS.label(c) for c in cols), rows)))
    return out


def land_tax_blocks(d: AnnualData) -> list[Block]:
    from scoring.vocabulary import LAND_TAX_FIELDS

    out: list[Block] = [("heading", SECTIONS.label("land_tax"))]
    if d.land_tax is None:
        return [*out, _no_data(d.notes["land_tax"])]
    total = d.land_tax.iloc[-1]
    out.append(("para", f"以占地测算运行 {d.land_tax_info['occupancy_run']} 的实测占地核对{d.year}年"
                        f"城镇土地使用税计税面积：共核查{int(total['firms']):,}家，用地未登记纳税"
                        f"{int(total['unregistered']):,}家，占地大于计税面积"
                        f"{int(total['untaxed_land']):,}家，计税面积大于占地"
                        f"{int(total['over_taxed']):,}家；未计税占地"
                        f"{number(total['untaxed_m2'])}平方米，估算少征税额"
                        f"{number(total['tax_missing_yuan'])}元/年，多征税额"
                        f"{number(total['tax_excess_yuan'])}元/年。"))
    out.append(_table(d.land_tax, LAND_TAX_COLUMNS, LAND_TAX_FIELDS.label))
    return out


def source_blocks(d: AnnualData) -> list[Block]:
    rows = []
    s = d.score_run
    rows.append((SOURCES.label("score_run"), str(s["run_id"]),
                 f"评价办法 {s['title']}（{s['params'].get('ruleset')}），{d.year}年，"
                 f"完成于 {s['finished']}"))
    if d.previous_run:
        p = d.previous_run
        rows.append((SOURCES.label("previous_run"), str(p["run_id"]),
                     f"评价办法 {p['title']}（{p['params'].get('ruleset')}），"
                     f"{p['params'].get('year')}年，"
                     f"完成于 {p['finished']}"))
    else:
        rows.append((SOURCES.label("previous_run"), "无", d.notes.get("previous", "")))
    rows.append((SOURCES.label("trend_runs"), "、".join(str(r) for r in d.trend["score_run"]),
                 "、".join(f"{y}年" for y in d.trend["year"])))
    occ = d.occupancy_runs
    if "score" in occ:
        rows.append((SOURCES.label("occupancy_score"), str(occ["score"]), "评价运行所用的实测占地"))
    if "parks" in occ or "land_tax" in occ:
        run = occ.get("parks", occ.get("land_tax"))
        rows.append((SOURCES.label("occupancy_year"), str(run), f"有{d.year}年数据的最新一次"))
    if d.candidates_run:
        c = d.candidates_run
        rows.append((SOURCES.label("candidates_run"), str(c["run_id"]),
                     f"判定日期 {c['params'].get('as_of')}，完成于 {c['finished']}"))
    else:
        rows.append((SOURCES.label("candidates_run"), "无", d.notes.get("land_status", "")))
    if d.policy_run:
        p = d.policy_run
        rows.append((SOURCES.label("policy_run"), str(p["run_id"]),
                     f"政策规则 {p['params'].get('ruleset')}，完成于 {p['finished']}"))
    else:
        rows.append((SOURCES.label("policy_run"), "无", d.notes.get("policy", "")))
    if d.land_tax_info:
        batches = d.land_tax_info.get("batches") or []
        rows.append((SOURCES.label("land_tax_base"), "、".join(map(str, batches)) or "-",
                     f"{d.year}年导入批次（mujun import land-tax）"))
    else:
        rows.append((SOURCES.label("land_tax_base"), "无", d.notes.get("land_tax", "")))
    return [("heading", SECTIONS.label("sources")),
            ("para", "本报告的每个数字都来自下列已保存的运行或导入批次，可用 mujun score export "
                     "--run、mujun report land-tax 等命令复核。"),
            ("table", (tuple(COLUMNS.label(c) for c in ("source", "run", "detail")), rows))]


def report_blocks(d: AnnualData, images: dict[str, bytes], *, issuer: str = "") -> list[Block]:
    """The whole report (see the module docstring); ``images`` keyed ``classes``,
    ``trend``, ``towns``, ``map`` (a missing key leaves the image out)."""
    blocks: list[Block] = [("title", f"{d.year}年度工业企业亩均效益综合评价报告")]
    if issuer:
        blocks.append(("subtitle", issuer))
    blocks += summary_blocks(d)
    blocks += class_blocks(d, images)
    blocks += trend_blocks(d, images)
    blocks += ranking_blocks(d, images)
    blocks += land_status_blocks(d)
    blocks += policy_blocks(d)
    blocks += land_tax_blocks(d)
    blocks.append(("heading", SECTIONS.label("map")))
    if "map" in images:
        blocks.append(("image", (images["map"], f"图4 {d.year}年亩均效益评价等级分布"
                                               f"（{_run_words(d.score_run)}）")))
    else:
        blocks.append(_no_data("地图未生成"))
    blocks += source_blocks(d)
    return blocks
