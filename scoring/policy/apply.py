"""``policy apply`` as a tool: classes and inputs from PostGIS, the kernel, a stored run.

:func:`run_policy` reads the classes of a score run (the adjusted class where an official
changed it), the utility quantities, the land-use tax base and the annual records, runs
:func:`scoring.policy.kernel.apply_policy`, stores the run (``policy_enterprise``,
``policy_line``) and commits — or stores nothing.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scoring.errors import PolicyRunError
from scoring.policy.kernel import PolicyResult, apply_policy
from scoring.policy.model import Period, PolicyRuleSet
from scoring.policy.ruleset import load_policy, parse_month
from scoring.policy.store import RUN_KIND, save_policy, yuan

if TYPE_CHECKING:
    import psycopg

log = logging.getLogger(__name__)


@dataclass
class PolicyRun:
    """A stored policy run: its id, the kernel's result and the summary."""

    run_id: int
    result: PolicyResult
    summary: dict[str, Any]


def parse_period(text: str) -> Period:
    """``START:END`` (months ``YYYY-MM``, or dates) as a :class:`Period`.

    >>> parse_period("2018-07:2018-12").months
    6
    """
    parts = str(text).split(":")
    months = [parse_month(p) for p in parts] if len(parts) == 2 else [None]
    if None in months:
        raise PolicyRunError(f"--period {text!r}: write START:END as months, e.g. "
                             "2018-07:2018-12")
    if months[1] < months[0]:
        raise PolicyRunError(f"--period {text!r} ends before it starts")
    return Period(months[0], months[1])


def shift_years(rs: PolicyRuleSet, years: int) -> PolicyRuleSet:
    """The rule set moved ``years`` later (its period, item periods and phase-in months)."""
    if not years:
        return rs
    m = 12 * years

    def move(p: Period | None) -> Period | None:
        return None if p is None else Period(p.start + m, p.end + m)

    items = tuple(dataclasses.replace(i, period=move(i.period)) for i in rs.items)
    return dataclasses.replace(rs, year=rs.year + years, period=move(rs.period), items=items,
                               phase_in={k: v + m for k, v in rs.phase_in.items()})


def summarize(rs: PolicyRuleSet, result: PolicyResult) -> dict[str, Any]:
    """Counts and totals per item and class, warnings per kind (JSON-ready)."""
    lines = result.lines
    items = []
    for item in rs.items:
        sel = lines[lines["item"] == item.name]
        per_class = {}
        for klass, grp in sel.groupby("class", sort=True):
            amounts = [int(a) for a in grp["amount_fen"] if a is not None]
            quotas = [int(q) for q in grp["quota_milli"] if q is not None]
            per_class[str(klass)] = {"enterprises": len(grp),
                                     "amount_yuan": yuan(sum(amounts)) if amounts else None,
                                     "quota": str(sum(quotas) / 1000) if quotas else None}
        items.append({"item": item.name, "kind": item.kind, "collector": item.collector,
                      "refundable": item.refundable, "classes": per_class})
    warn = Counter(w["code"] for ws in result.enterprises["warnings"] for w in ws)
    ents = result.enterprises
    return {"ruleset": rs.name, "enterprises": len(ents),
            "classes": {str(k): int(v) for k, v in ents["class"].value_counts().items()},
            "adjusted": int(ents["adjusted"].sum()),
            "exempt": int(ents["exempt_reason"].notna().sum()),
            "items": items, "warnings": dict(warn), "notes": result.notes}


def result_records(result: PolicyResult) -> dict[str, list[dict[str, Any]]]:
    """The enterprises and lines of a result as JSON-ready records (amounts in 元, exact)."""
    from scoring.policy.store import scaled

    ents = [{"credit_code": r["credit_code"], "name": r["name"], "town": r["town"],
             "score_class": r["score_class"], "class": r["class"], "adjusted": bool(r["adjusted"]),
             "exempt_reason": r["exempt_reason"], "flags": list(r["flags"]),
             "warnings": r["warnings"]}
            for r in result.enterprises.to_dict("records")]
    lines = [{"credit_code": r["credit_code"], "item": r["item"], "kind": r["kind"],
              "class": r["class"], "base": None if r["base_milli"] is None
              else str(scaled(r["base_milli"], 3)), "base_unit": r["base_unit"],
              "base_source": r["base_source"], "rate": str(scaled(r["rate_nano"], 9)),
              "months": int(r["months"]),
              "amount_yuan": None if r["amount_fen"] is None else yuan(r["amount_fen"]),
              "quota": None if r["quota_milli"] is None else str(scaled(r["quota_milli"], 3)),
              "collector": r["collector"], "refundable": bool(r["refundable"])}
             for r in result.lines.to_dict("records")]
    return {"per_enterprise": ents, "lines": lines}


def run_policy(conn: psycopg.Connection, ruleset: str | Path, *, score_run: int | None = None,
               year: int | None = None, period: Period | None = None,
               params: dict[str, float] | None = None) -> PolicyRun:
    """Apply a policy rule set to the classes of a score run; store the run; commit.

    Parameters
    ----------
    ruleset : str or Path
        A bundled preset or a YAML file.
    score_run : int, optional
        The score run whose classes apply (default: the latest of the data year: the year
        before the policy year when ``class_year: previous``).
    year : int, optional
        The policy year (default: the rule set's); the rule set's months move with it.
    period : Period, optional
        Months in force for every item, over the rule set's.
    params : dict, optional
        County parameters (``--param NAME=VALUE``).

    Raises
    ------
    PolicyError
        The rule set is invalid.
    ScoreRunError, PolicyRunError
        No score run of the data year, or no enterprise in it.
    """
    from gis.db.runs import finish_run, start_run
    from scoring.policy.inputs import read_enterprises, read_inputs
    from scoring.store import resolve_score_run, run_params

    rs = load_policy(ruleset, params)
    if year is not None:
        rs = shift_years(rs, int(year) - rs.year)
    data_year = rs.year - 1 if rs.class_year == "previous" else rs.year
    try:
        srun = resolve_score_run(conn, score_run, None if score_run is not None else data_year)
        scored_year = run_params(conn, srun)["params"].get("year")
        if score_run is not None and scored_year not in (None, data_year):
            log.warning("score run %d scored %s; the rule set asks for the classes of %d",
                        srun, scored_year, data_year)
        ents = read_enterprises(conn, srun)
        if not len(ents):
            raise PolicyRunError(f"第 {srun} 次评价没有企业")
        quantities, land_tax, records = read_inputs(conn, rs, period)
        started = time.perf_counter()
        result = apply_policy(rs, ents, quantities, land_tax, records, period=period)
        seconds = time.perf_counter() - started
        run_id = start_run(conn, RUN_KIND, {
            "ruleset": rs.name, "ruleset_sha256": rs.sha256, "ruleset_path": rs.path,
            "year": rs.year, "score_run": srun, "class_year": data_year,
            "period": period.text() if period else rs.period.text(),
            "parameters": {k: (None if p.value is None else str(p.value))
                           for k, p in rs.parameters.items()}})
        save_policy(conn, run_id, result)
        summary = summarize(rs, result)
        summary.update(year=rs.year, score_run=srun, class_year=data_year,
                       kernel_seconds=round(seconds, 3))
        finish_run(conn, run_id, "done", summary)
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    log.info("policy run %d: %d enterprises, %d lines under %s in %.2f s", run_id, len(ents),
             len(result.lines), rs.name, seconds)
    return PolicyRun(run_id, result, summary)
