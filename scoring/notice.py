"""The public notice of a score run (公示): classes with their firms, annexes, notice period.

Before a class has consequences it is published, typically for 30 days, with annexes of the
firms not classed: exempt (class T), in a protection period, vetoed — each with its reason.
:func:`notice_content` builds the notice from a stored score run (the adjusted class where
an official recorded one), pure apart from one read. Scoring renders nothing: the PDF and
Word documents are written by :mod:`maps.notice` (``mujun score notice``).
The notice is desensitized: names, credit codes and towns only, no tax or other figures.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from scoring.explain import reason_text

if TYPE_CHECKING:
    import psycopg

CLASS_NAMES = {"A": "A类", "B": "B类", "C": "C类", "D": "D类"}
ANNEXES = (("class_t", "附件1 不参评企业（T类）"), ("protection", "附件2 保护期企业（列示不评价）"),
           ("veto", "附件3 一票否决企业"))


def notice_content(conn: psycopg.Connection, run_id: int, *, days: int = 30,
                   start: dt.date | None = None, issuer: str = "") -> dict[str, Any]:
    """Everything the notice prints (JSON-ready): title, rule set, period, classes, annexes."""
    from scoring.errors import ScoreRunError
    from scoring.overrides import effective_overrides
    from scoring.store import run_params

    if not 1 <= days <= 365:
        raise ScoreRunError(f"--days {days}: a notice period is 1 to 365 days")
    params = run_params(conn, run_id)["params"]
    rows = conn.execute(
        "SELECT trim(credit_code), name, town, class, rules_fired, population"
        " FROM enterprise_score WHERE run_id = %s ORDER BY town NULLS LAST, name",
        (run_id,)).fetchall()
    over = effective_overrides(conn, run_id)
    adjusted = dict(zip(over["credit_code"], over["adjusted_class"], strict=True)) \
        if len(over) else {}
    classes: dict[str, list[dict]] = {k: [] for k in CLASS_NAMES}
    annex: dict[str, list[dict]] = {k: [] for k, _ in ANNEXES}
    for code, name, town, klass, rules, population in rows:
        firm = {"credit_code": code, "name": name, "town": town or ""}
        fired = {r.get("rule"): r.get("detail", "") for r in (rules or [])}
        final = adjusted.get(code, klass)
        if "veto" in fired:
            annex["veto"].append({**firm, "reason": reason_text(str(fired["veto"]))})
        if final == "T":
            annex["class_t"].append({**firm, "reason": reason_text(str(
                fired.get("class_t") or "调档为不参评"))})
        elif "protection" in fired and final not in CLASS_NAMES:
            annex["protection"].append({**firm,
                                        "reason": reason_text(str(fired["protection"]))})
        elif final in CLASS_NAMES and population is not None:
            classes[final].append({**firm, "adjusted": code in adjusted})
    begin = start or dt.date.today()
    end = begin + dt.timedelta(days=days - 1)
    ruleset = params.get("ruleset", "")
    return {"run_id": run_id, "year": params.get("year"), "ruleset": ruleset,
            "title": f"{params.get('year')}年度工业企业亩均效益综合评价分类结果公示",
            "issuer": issuer, "start": begin.isoformat(), "end": end.isoformat(),
            "days": days, "classes": classes, "annexes": annex,
            "method": _method(ruleset)}


def _method(ruleset: str) -> dict[str, Any]:
    """The indicator set and class rule of the run's rule set, named (not its figures)."""
    from scoring.errors import RuleSetError
    from scoring.kernel import class_rule_text
    from scoring.ruleset import load_ruleset

    try:
        rs = load_ruleset(ruleset)
    except RuleSetError:
        return {"title": ruleset, "indicators": [], "class_rule": ""}
    indicators = []
    for p in rs.populations:
        indicators += [it.indicator.label for it in p.items if it.indicator.label
                       not in indicators]
    quota = "、".join(f"{k}类 {v * 100:g}%" for k, v in rs.classes.quotas.items()) \
        if rs.classes.method == "quota" else ""
    return {"title": rs.title, "source": rs.source, "indicators": indicators,
            "class_rule": f"按综合得分排序分档（{quota}）" if quota else class_rule_text(rs)}
