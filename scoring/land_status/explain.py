"""A candidate's evidence as an official reads it: labelled lines with units and thresholds.

One pure function, :func:`explain`, used by the review app's detail panel, the one-page
sheet and ``mujun candidates show``: each rule tested becomes a line saying what was
measured against what, in the bureau's words (``容积率 0.42 < 控制指标 1.00（2008 版，
行业 3911）``; ``约定竣工 2013-01-05，已超 11.5 年``), the evidence becomes labelled
facts (dates as dates, areas in 平方米 and 亩, shares in %), the holders a small table
and the history a table of who decided what. Every label comes from the land-status
vocabulary (:mod:`scoring.land_status.vocabulary`); values the viewer may not see
(redacted as ``—``) stay dashes.

Examples
--------
>>> c = {"kind": "unfinished", "evidence": {"as_of": "2024-07-05", "area_m2": 2000.0,
...      "dates": {"agreed_finish": "2013-01-05"}},
...      "rules": [{"rule": "after_agreed_completion", "value": "2024-07-05",
...                 "threshold": "2013-01-05", "passed": True}]}
>>> e = explain(c)
>>> e.checks[0].label, e.checks[0].text
('超过约定竣工日期', '约定竣工 2013-01-05，已超 11.5 年')
>>> [(f.label, f.text) for f in e.facts][:3]
[('认定类型与原因', '未竣工'), ('判定日期', '2024-07-05'), ('宗地面积', '2,000.0 平方米（3.00 亩）')]
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from gis.crs import SQM_PER_MU
from scoring.land_status.vocabulary import (
    ACTIONS,
    EVIDENCE,
    HOLDER_ROLES,
    HOLDER_STATUSES,
    KINDS,
    REASONS,
    RULES,
    STATUSES,
)

#: The shown value of a figure the viewer may not see.
HIDDEN = "—"


@dataclass(frozen=True)
class Line:
    """One labelled line: a rule tested (``passed`` set) or an evidence fact.

    ``kind`` is the code of the kind a rule was tested for (empty for facts).
    """

    key: str
    label: str
    text: str
    passed: bool | None = None
    reason: bool = False
    kind: str = ""


@dataclass(frozen=True)
class Table:
    """A small table: header labels and rows of text."""

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Explanation:
    """What :func:`explain` returns (``as_dict`` for JSON, ``text`` for a terminal)."""

    title: str
    checks: tuple[Line, ...]
    facts: tuple[Line, ...]
    enterprises: Table
    history: Table = field(default_factory=lambda: Table((), ()))

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def text(self, lang: str = "zh") -> list[str]:
        """Plain lines for a terminal."""
        yes, no = _p("yes", lang), _p("no", lang)
        colon, left, right = (": ", " (", ")") if lang == "en" else ("：", "（", "）")
        out = [self.title]
        out += [f"  {'✓' if c.passed else '✗'} {c.label}{colon}{c.text}"
                f"{left}{yes if c.passed else no}{right}" for c in self.checks]
        out.append(_p("facts", lang))
        out += [f"  {f.label}{colon}{f.text}" for f in self.facts]
        for name, table in ((_p("holders", lang), self.enterprises),
                            (_p("history", lang), self.history)):
            if table.rows:
                out.append(name)
                out.append("  " + " | ".join(table.header))
                out += ["  " + " | ".join(r) for r in table.rows]
        return out


_PHRASES: dict[str, tuple[str, str]] = {
    "title": ("判定为「{kind}」所检验的规则", "Rules tested for “{kind}”"),
    "title_many": ("判定为「{kind}」（另有：{others}）所检验的规则",
                   "Rules tested for “{kind}” (also: {others})"),
    "kinds_reasons": ("认定类型与原因", "Kinds and reasons"),
    "sep": ("、", ", "), "kind_sep": ("；", "; "), "reason_sep": ("：", ": "),
    "far_agreed": ("容积率 {v} {op} 约定容积率 {a} 的 {f}（{t}）",
                   "FAR {v} {op} {f} of the agreed FAR {a} ({t})"),
    "decisive": ("，其中「{v}」单独即可认定", "; “{v}” decides on its own"),
    "facts": ("证据", "Evidence"), "holders": ("权利人", "Holders"),
    "history": ("处理记录", "History"), "yes": ("满足", "met"), "no": ("不满足", "not met"),
    "m2": ("平方米", "m²"), "mu": ("亩", "mu"), "years": ("年", "years"),
    "buildings": ("栋", "buildings"),
    "over": ("已超 {y} 年", "{y} years past"),
    "supplied": ("供地日期 {v}（判定日 {t}）", "supplied {v} (as of {t})"),
    "not_supplied": ("未供地", "not supplied"),
    "year_after_start": ("约定动工满一年之日 {t}，{over}", "one year after the agreed start: {t}, {over}"),
    "no_start": ("无约定动工日期", "no agreed start date"),
    "no_exemption": ("无豁免", "no exemption"), "exempted": ("豁免：{v}", "exempted: {v}"),
    "survey_after": ("影像日期 {v} {op} {t}", "survey {v} {op} {t}"),
    "no_survey": ("宗地无有日期的影像", "no dated survey"),
    "later": ("晚于", "after"), "not_later": ("不晚于", "not after"),
    "covered": ("影像完整覆盖宗地", "the survey covers the whole parcel"),
    "not_covered": ("影像只覆盖宗地一部分或未覆盖", "the survey covers part of the parcel or none"),
    "not_started": ("自有建筑 {n} 栋，建筑占地 {v} {op} 阈值 {t}",
                    "{n} buildings of its own, built {v} {op} threshold {t}"),
    "share": ("建筑系数 {v} {op} {t}", "coverage {v} {op} {t}"),
    "earlier": ("前期影像 {v}（至少早 {t} 年）", "earlier survey {v} (at least {t} years before)"),
    "no_earlier": ("无早于 {t} 年以上的前期影像", "no survey {t} years or more before"),
    "growth": ("期间新增建筑 {v} {op} {t}", "growth {v} {op} {t}"),
    "finish": ("约定竣工 {t}，{over}", "agreed completion {t}, {over}"),
    "finish_ahead": ("约定竣工 {t}，尚未到期", "agreed completion {t}, not yet due"),
    "no_finish": ("无约定竣工日期", "no agreed completion date"),
    "built": ("建筑占地 {v}", "built {v}"),
    "coverage": ("建筑系数 {v} {op} 控制指标 {t}", "coverage {v} {op} control minimum {t}"),
    "far": ("容积率 {v} {op} 控制指标 {t}（2008 版{industry}）",
            "FAR {v} {op} minimum {t} (2008 edition{industry})"),
    "industry": ("，行业 {c}", ", industry {c}"),
    "tax": ("亩均税收为基准的 {v} {op} {t}", "tax per mu at {v} of the benchmark {op} {t}"),
    "class_d": ("评价等级 {v}", "classes {v}"),
    "reasons": ("低效原因 {v} 条，至少需 {t} 条", "{v} reasons, at least {t} needed"),
    "stand": ("建筑占地 {v} {op} {t}", "built {v} {op} {t}"),
    "active": ("关联企业中正常经营 {v} 家", "{v} active among the linked enterprises"),
    "linked": ("关联企业 {v} 家", "{v} enterprises linked"),
    "grace": ("批准满期之日 {t}，{over}", "grace period ended {t}, {over}"),
    "unsupplied": ("未供面积 {v} {op} {t}", "unsupplied {v} {op} {t}"),
    "excluded": ("已按「{v}」处理", "handled as “{v}”"),
    "survey_ref": ("{d}（影像编号 {i}）", "{d} (survey {i})"),
    "late_start": ("{v} 的影像{op}（合同约定 {t} 前开工）",
                   "the survey of {v} shows the parcel {op} (contract: start by {t})"),
    "still_empty": ("仍未动工", "not started"), "was_started": ("已动工", "started"),
    "late_completion": ("已开发（建筑系数）{v} {op} {t}", "developed (coverage) {v} {op} {t}"),
    "far_contract": ("容积率 {v} {op} 合同约定 {t}", "FAR {v} {op} the contract's {t}"),
    "coverage_contract": ("建筑系数 {v} {op} 合同约定 {t}",
                          "coverage {v} {op} the contract's {t}"),
    "tax_contract": ("亩均税收 {v} 万元/亩 {op} 合同承诺 {t} 万元/亩",
                     "tax per mu {v} 万元/mu {op} the commitment {t} 万元/mu"),
    "clause": ("（{c}）", " ({c})"),
    "none": ("无", "none"),
    "hidden": ("—（企业经济数据，本角色不可查看）", "— (enterprise figures, not shown to your role)"),
}


def _p(key: str, lang: str, **kw: Any) -> str:
    zh, en = _PHRASES[key]
    return (en if lang == "en" else zh).format(**kw)


def _date(v: Any) -> dt.date | None:
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    if isinstance(v, str) and len(v) >= 10:
        from gis.importing.values import parse_date

        return parse_date(v[:10])[0]
    return None


def fmt_date(v: Any) -> str:
    """A date as ``YYYY-MM-DD`` (``-`` when missing)."""
    d = _date(v)
    return d.isoformat() if d else ("-" if v in (None, "") else str(v))


def _number(v: Any) -> float | None:
    if isinstance(v, bool) or v is None:
        return None
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return None if x != x else x


def fmt_num(v: Any, digits: int = 2) -> str:
    """A number with thousands separators; text (e.g. a hidden figure) as it is."""
    x = _number(v)
    if x is None:
        return "-" if v is None else str(v)
    return f"{x:,.{digits}f}"


def fmt_m2(v: Any, lang: str = "zh", *, mu: bool = False) -> str:
    """Square metres (and mu): ``2,000.0 平方米（3.00 亩）``."""
    x = _number(v)
    if x is None:
        return fmt_num(v)
    text = f"{x:,.1f} {_p('m2', lang)}"
    return text + (f"（{x / SQM_PER_MU:,.2f} {_p('mu', lang)}）" if mu else "")


def fmt_share(v: Any) -> str:
    """A share 0-1 as a percentage."""
    x = _number(v)
    return fmt_num(v) if x is None else f"{100 * x:.1f}%"


def _years(since: Any, until: Any) -> str:
    a, b = _date(since), _date(until)
    return "-" if a is None or b is None else f"{(b - a).days / 365.25:.1f}"


def _op(passed: bool, below: bool, strict: bool = True) -> str:
    """The comparison a passed or failed check states (``below``: passing means smaller)."""
    if below:
        return ("<" if strict else "≤") if passed else ("≥" if strict else ">")
    return ("≥" if strict else ">") if passed else ("<" if strict else "≤")


def _rule_text(c: dict, ev: dict, lang: str) -> str:
    rule, v, t, ok = c.get("rule"), c.get("value"), c.get("threshold"), bool(c.get("passed"))
    if HIDDEN in (v, t):
        return _p("hidden", lang)
    as_of = ev.get("as_of")
    m2 = lambda x: fmt_m2(x, lang)  # noqa: E731
    texts: dict[str, Callable[[], str]] = {
        "supplied": lambda: (_p("supplied", lang, v=fmt_date(v), t=fmt_date(t)) if v
                             else _p("not_supplied", lang)),
        "one_year_after_agreed_start": lambda: (
            _p("year_after_start", lang, t=fmt_date(t),
               over=_p("over", lang, y=_years(t, v))) if t else _p("no_start", lang)),
        "not_exempted": lambda: (_p("no_exemption", lang) if ok
                                 else _p("exempted", lang, v=v)),
        "survey_after_the_year": lambda: _survey_after(v, t, ok, lang),
        "survey_after_completion": lambda: _survey_after(v, t, ok, lang),
        "survey_covers_parcel": lambda: _p("covered" if ok else "not_covered", lang),
        "not_started": lambda: _p("not_started", lang, n=fmt_num(ev.get("n_buildings"), 0),
                                  v=m2(v), op=_op(ok, True), t=m2(t)),
        "started": lambda: _p("not_started", lang, n=fmt_num(ev.get("n_buildings"), 0),
                              v=m2(v), op=_op(not ok, True), t=m2(t)),
        "developed_share_below": lambda: _p("share", lang, v=fmt_share(v), op=_op(ok, True),
                                            t=fmt_share(t)),
        "earlier_survey": lambda: (_p("earlier", lang, v=fmt_date(v), t=fmt_num(t, 0)) if ok
                                   else _p("no_earlier", lang, t=fmt_num(t, 0))),
        "no_growth_m2": lambda: _p("growth", lang, v=m2(v), op=_op(ok, True, False), t=m2(t)),
        "after_agreed_completion": lambda: (
            _p("no_finish", lang) if t is None else
            _p("finish", lang, t=fmt_date(t), over=_p("over", lang, y=_years(t, v or as_of)))
            if ok else _p("finish_ahead", lang, t=fmt_date(t))),
        "built": lambda: _p("built", lang, v=m2(v)),
        "coverage_below_control": lambda: _p("coverage", lang, v=fmt_share(v),
                                             op=_op(ok, True), t=fmt_share(t)),
        "far_below_industry_minimum": lambda: _p(
            "far", lang, v=fmt_num(v), op=_op(ok, True), t=fmt_num(t),
            industry=_industries(ev, lang)),
        "tax_per_mu_below": lambda: _p("tax", lang, v=fmt_share(v), op=_op(ok, True),
                                       t=fmt_share(t)),
        "tax_per_mu_below_floor": lambda: _p("tax", lang, v=fmt_share(v), op=_op(ok, True),
                                             t=fmt_share(t)),
        "class_d": lambda: _p("class_d", lang, v=v if v is not None else "-"),
        "far_below_agreed": lambda: _p("far_agreed", lang, v=fmt_num(v), op=_op(ok, True),
                                       a=fmt_num(c.get("agreed")), t=fmt_num(t),
                                       f=fmt_share(c.get("fraction"))),
        "reasons": lambda: _p("reasons", lang, v=fmt_num(v, 0), t=fmt_num(t, 0)) + (
            _p("decisive", lang, v=_p("sep", lang).join(
                RULES.label(d, lang) for d in c["decisive"])) if c.get("decisive") else ""),
        "buildings_stand": lambda: _p("stand", lang, v=m2(v), op=_op(ok, False), t=m2(t)),
        "no_active_enterprise": lambda: _p("active", lang, v=fmt_num(v, 0)),
        "no_enterprise_linked": lambda: _p("linked", lang, v=fmt_num(v, 0)),
        "grace_years_passed": lambda: _p("grace", lang, t=fmt_date(t),
                                         over=_p("over", lang, y=_years(t, v))),
        "unsupplied_m2": lambda: _p("unsupplied", lang, v=m2(v), op=_op(ok, False), t=m2(t)),
        "excluded_by": lambda: _p("excluded", lang, v=KINDS.label(v, lang)),
        # the contract checks of standard land (scoring.land_status.supply.check)
        "late_start": lambda: _p("late_start", lang, v=fmt_date(v), t=fmt_date(t),
                                 op=_p("still_empty" if ok else "was_started", lang)),
        "late_completion": lambda: _p("late_completion", lang, v=fmt_share(v),
                                      op=_op(ok, True), t=fmt_share(t)) + _clause(c, lang),
        "far_below_contract": lambda: _p("far_contract", lang, v=fmt_num(v), op=_op(ok, True),
                                         t=fmt_num(t)),
        "coverage_below_contract": lambda: _p("coverage_contract", lang, v=fmt_share(v),
                                              op=_op(ok, True), t=fmt_share(t)),
        "tax_below_contract": lambda: _p("tax_contract", lang, v=fmt_num(v), op=_op(ok, True),
                                         t=fmt_num(t)) + _clause(c, lang),
    }
    make = texts.get(str(rule))
    if make is None:
        return f"{fmt_num(v)} / {fmt_num(t)}"
    return make()


def _clause(c: dict, lang: str) -> str:
    """The contract clause a contract check tested, in brackets (empty when none)."""
    return _p("clause", lang, c=c["clause"]) if c.get("clause") and lang != "en" else ""


def _survey_after(v: Any, t: Any, ok: bool, lang: str) -> str:
    if v is None:
        return _p("no_survey", lang)
    return _p("survey_after", lang, v=fmt_date(v), t=fmt_date(t),
              op=_p("later" if ok else "not_later", lang))


def _industries(ev: dict, lang: str) -> str:
    codes = sorted({str(e["industry_code"]) for e in ev.get("enterprises") or []
                    if isinstance(e, dict) and e.get("industry_code")})
    return _p("industry", lang, c="、".join(codes)) if codes else ""


def _survey(v: Any, lang: str) -> str:
    if not isinstance(v, dict):
        return fmt_date(v)
    return (_p("survey_ref", lang, d=fmt_date(v.get("date")), i=v.get("id"))
            if v.get("id") is not None else fmt_date(v.get("date")))


def _fact(key: str, value: Any, lang: str) -> str:
    term = EVIDENCE.get(key)
    unit = term.unit if term else None
    if key in ("survey", "previous_survey"):
        return _survey(value, lang)
    if key == "area_m2":
        return fmt_m2(value, lang, mu=True)
    if unit == "平方米":
        return fmt_m2(value, lang)
    if unit == "%":
        return fmt_share(value)
    if key in ("as_of", "supply", "agreed_start", "agreed_finish", "approved_date",
               "certificate_supply", "certificate_start", "certificate_finish"):
        return fmt_date(value)
    if key in ("far", "far_min", "committed_far"):
        return fmt_num(value)
    if key in ("committed_tax_per_mu", "investment_wan") and unit:
        return f"{fmt_num(value)} {unit}"
    if unit in ("栋", "年"):
        word = _p("buildings" if unit == "栋" else "years", lang)
        return f"{fmt_num(value, 0 if unit == '栋' else 2)} {word}"
    if key == "exemptions":
        return "；".join(f"{e.get('reason', '')}" + (f"（{e['document']}）" if e.get("document")
                                                    else "")
                        for e in value if isinstance(e, dict)) or _p("none", lang)
    if isinstance(value, list):
        return "、".join(str(v) for v in value) or _p("none", lang)
    if isinstance(value, dict):
        order = {code: i for i, code in enumerate(EVIDENCE.codes())}
        return "；".join(f"{EVIDENCE.label(k, lang)} {_fact(k, v, lang)}"
                        for k, v in sorted(value.items(),
                                           key=lambda kv: order.get(kv[0], len(order))))
    return "-" if value is None else str(value)


#: Evidence keys not shown as facts (shown elsewhere, or repeated).
_NOT_FACTS = ("enterprises", "area_mu")


def facts(evidence: dict, lang: str = "zh") -> list[Line]:
    """The evidence as labelled lines, in the vocabulary's order (unknown keys last)."""
    flat: dict[str, Any] = {}
    for key, value in (evidence or {}).items():
        if key in ("dates", "change") and isinstance(value, dict):
            flat.update(value)
        elif key not in _NOT_FACTS:
            flat[key] = value
    order = {code: i for i, code in enumerate(EVIDENCE.codes())}
    keys = sorted(flat, key=lambda k: (order.get(k, len(order)), k))
    return [Line(k, EVIDENCE.label(k, lang), _fact(k, flat[k], lang)) for k in keys
            if flat[k] not in (None, [], {})]


#: Columns of the holders' table, in order (shown when some holder has a value).
ENTERPRISE_COLUMNS = ("name", "credit_code", "role", "status", "industry_code", "class",
                      "tax_wan", "electricity_kwh", "tax_per_mu", "benchmark")


def enterprise_table(enterprises: list[dict], lang: str = "zh") -> Table:
    """The holders as a table: headers with units, statuses and rights in words."""
    rows = [e for e in enterprises or [] if isinstance(e, dict)]
    cols = [c for c in ENTERPRISE_COLUMNS if any(r.get(c) is not None for r in rows)]
    header = []
    for c in cols:
        term = EVIDENCE.get(c)
        unit = term.unit if term else None
        header.append(EVIDENCE.label(c, lang) + (f"（{unit}）" if unit else ""))

    def cell(c: str, v: Any) -> str:
        if v is None:
            return "-"
        if c == "role":
            return HOLDER_ROLES.label(v, lang)
        if c == "status":
            return HOLDER_STATUSES.label(v, lang)
        if c in ("tax_wan", "tax_per_mu", "benchmark"):
            return fmt_num(v)
        if c == "electricity_kwh":
            return fmt_num(v, 0)
        return str(v)

    return Table(tuple(header), tuple(tuple(cell(c, r.get(c)) for c in cols) for r in rows))


def history_table(history: list[dict], lang: str = "zh") -> Table:
    """Who did what and when: time, person, action, status change, reason, comment."""
    header = (("时间", "人员", "操作", "状态", "原因", "意见") if lang != "en" else
              ("time", "by", "action", "status", "reason", "comment"))
    rows = []
    for e in history or []:
        change = ""
        if e.get("from_status") or e.get("to_status"):
            change = (f"{STATUSES.label(e.get('from_status'), lang)} → "
                      f"{STATUSES.label(e.get('to_status'), lang)}")
        rows.append((str(e.get("at") or "")[:16].replace("T", " "), str(e.get("actor") or ""),
                     ACTIONS.label(e.get("action"), lang), change,
                     REASONS.label(e.get("reason_code"), lang), str(e.get("comment") or "")))
    return Table(header, tuple(rows))


def kinds_and_reasons(candidate: dict, lang: str = "zh") -> Line:
    """Every kind of the candidate, the primary first, each with the reasons that fired.

    >>> kinds_and_reasons({"kind": "built_unused", "kinds": ["built_unused", "inefficient"],
    ...     "reasons": ["built_unused", "inefficient", "far_below_agreed", "class_d"]}).text
    '建而未用；低效用地：用而未尽（容积率远低于约定）、权利人均为 D 类企业'
    """
    kinds = list(candidate.get("kinds") or [candidate.get("kind")])
    extra = [r for r in (candidate.get("reasons") or []) if r not in kinds]
    # a contract breach's reasons are its clause checks (kind-tagged rules); the rest are
    # the inefficiency reasons
    contract = {c.get("rule") for c in candidate.get("rules") or []
                if isinstance(c, dict) and c.get("kind") == "contract_breach"}
    own = {"inefficient": [r for r in extra if r not in contract],
           "contract_breach": [r for r in extra if r in contract]}
    parts = []
    for k in kinds:
        text = KINDS.label(k, lang)
        if own.get(k):
            text += _p("reason_sep", lang) + _p("sep", lang).join(
                RULES.label(r, lang) for r in own[k])
        parts.append(text)
    return Line("kinds", _p("kinds_reasons", lang), _p("kind_sep", lang).join(parts))


def explain(candidate: dict, lang: str = "zh") -> Explanation:
    """The candidate's rules, evidence, holders and history, in words (pure).

    Parameters
    ----------
    candidate : dict
        With ``kind``, ``rules`` and ``evidence`` (and optionally ``history``), as
        :func:`scoring.land_status.store.get_candidate` or the review app read it.
    lang : ``"zh"`` (default) or ``"en"``.
    """
    ev = candidate.get("evidence") or {}
    rules = candidate.get("rules") or []
    kind = candidate.get("kind")
    kinds = list(candidate.get("kinds") or [kind])
    many = len(kinds) > 1

    def label(c: dict) -> str:
        text = RULES.label(c.get("rule"), lang)
        return f"「{KINDS.label(c.get('kind') or kind, lang)}」{text}" if many else text

    checks = tuple(Line(str(c.get("rule")), label(c), _rule_text(c, ev, lang),
                        bool(c.get("passed")), bool(c.get("reason")), str(c.get("kind") or kind))
                   for c in rules if isinstance(c, dict))
    title = (_p("title_many", lang, kind=KINDS.label(kinds[0], lang),
                others=_p("sep", lang).join(KINDS.label(k, lang) for k in kinds[1:]))
             if many else _p("title", lang, kind=KINDS.label(kind, lang)))
    return Explanation(
        title=title, checks=checks,
        facts=(kinds_and_reasons(candidate, lang), *facts(ev, lang)),
        enterprises=enterprise_table(ev.get("enterprises") or [], lang),
        history=history_table(candidate.get("history") or [], lang))
