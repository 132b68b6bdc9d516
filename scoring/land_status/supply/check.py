"""Contract performance (履约): each survey and score run checks the contracts.

The kernel, :func:`contract_checks` (pure), takes one row per contract with the facts
of its parcel — the occupancy on the latest survey as of the date (the land-status
facts, :func:`scoring.land_status.facts.read_facts`) and the holder's tax per mu in the
score run — and gives per contract the checks of its clauses
(``{rule, kind, value, threshold, passed, clause}``; ``passed`` means the clause is
breached, as a land-status check passes when its kind fires):

``late_start`` 未按约定开工
    the contract's start date has passed and a survey taken after it shows the parcel
    not started, by the idle rule's thresholds (no building of its own, or coverage
    and built area below ``idle_not_started.max_coverage`` / ``max_built_m2``);
``late_completion`` 未按约定竣工
    the completion date has passed and a survey after it shows the developed share
    (coverage) still below ``unfinished.developed_share_below`` (one third);
``far_below_contract`` / ``coverage_below_contract``
    after the completion date, on a survey after it, FAR or coverage below the
    contract's minimum;
``tax_below_contract``
    after the full-production date (达产), the holder's tax per mu in the score run
    below the commitment.

A clause is only checked when the evidence for it exists (a survey after the date, a
score run with the holder): a missing survey is never a breach. The tool,
:func:`check_contracts`, stores a ``supply_check`` run and hands the breaches to the
land-status writer (:func:`scoring.land_status.external.sync_external`) as candidates
of kind ``contract_breach``.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    import psycopg

    from gis.settings import Settings

log = logging.getLogger(__name__)

RUN_KIND = "supply_check"
KIND = "contract_breach"
#: The clause checks, in the order they are shown.
RULES = ("late_start", "late_completion", "far_below_contract", "coverage_below_contract",
         "tax_below_contract")

_CONTRACTS_SQL = """
SELECT p.plot_id, p.code AS plot, p.town AS plot_town, p.district AS plot_district,
       c.contract_no, c.holder, c.credit_code, c.parcel_code, c.start_by, c.complete_by,
       c.produce_by, c.far_min, c.coverage_min, c.tax_per_mu_wan, c.investment_wan
FROM supply_contract c JOIN supply_plot p ON p.plot_id = c.plot_id
WHERE p.status <> 'performed'
  -- a plot sent back before 出让 has no contract in force (its record stays)
  AND p.status NOT IN ('reserve', 'preparation', 'assessment', 'indicators', 'announced')
ORDER BY p.plot_id
"""


def _f(v: Any) -> float | None:
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return None if x != x else x


def _d(v: Any) -> dt.date | None:
    if v is None or v is pd.NaT or (isinstance(v, float) and v != v):
        return None
    return v.date() if isinstance(v, (pd.Timestamp, dt.datetime)) else v


def contract_checks(rows: pd.DataFrame, as_of: dt.date, rules: dict) -> list[list[dict]]:
    """The clause checks of every contract row (pure).

    Parameters
    ----------
    rows : DataFrame
        One row per contract: ``start_by``, ``complete_by``, ``produce_by``, ``far_min``,
        ``coverage_min``, ``tax_per_mu_wan`` (the commitments) and the parcel's facts
        ``survey_date``, ``n_buildings``, ``built_m2``, ``coverage``, ``far`` and the
        holder's ``tax_per_mu`` (NaN/None when unknown).
    as_of : date
    rules : dict
        The land-status rules (idle and unfinished thresholds).

    Returns
    -------
    list of lists of check dicts (``passed``: the clause is breached)

    Examples
    --------
    >>> from scoring.land_status.rules_config import load_rules
    >>> row = {"start_by": dt.date(2024, 6, 1), "complete_by": dt.date(2026, 6, 1),
    ...        "produce_by": None, "far_min": 1.2, "coverage_min": 0.4, "tax_per_mu_wan": 30,
    ...        "survey_date": dt.date(2024, 9, 1), "n_buildings": 0, "built_m2": 0.0,
    ...        "coverage": 0.0, "far": 0.0, "tax_per_mu": None}
    >>> [(c["rule"], c["passed"]) for c in contract_checks(pd.DataFrame([row]),
    ...                                                    dt.date(2024, 10, 1), load_rules())[0]]
    [('late_start', True)]
    """
    ns, un = rules["idle_not_started"], rules["unfinished"]
    n = len(rows)
    day = np.datetime64(as_of, "D")

    def dates(col: str) -> np.ndarray:
        if col not in rows:
            return np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
        return pd.to_datetime(rows[col], errors="coerce").to_numpy(dtype="datetime64[D]")

    def numbers(col: str) -> np.ndarray:
        if col not in rows:
            return np.full(n, np.nan)
        return pd.to_numeric(rows[col], errors="coerce").to_numpy(dtype=float)

    survey, start, finish, produce = (dates(c) for c in ("survey_date", "start_by",
                                                         "complete_by", "produce_by"))
    cov, built, far, n_build = (numbers(c) for c in ("coverage", "built_m2", "far",
                                                     "n_buildings"))
    far_min, cov_min, tax, promised = (numbers(c) for c in ("far_min", "coverage_min",
                                                            "tax_per_mu", "tax_per_mu_wan"))
    # comparisons with NaT / NaN are false: no date or figure, no check
    with np.errstate(invalid="ignore"):
        start_due = (day > start) & (survey > start)
        not_started = (np.nan_to_num(n_build) == 0) | (
            (np.nan_to_num(cov) < ns["max_coverage"]) & (np.nan_to_num(built) < ns["max_built_m2"]))
        finish_due = (day > finish) & (survey > finish)
        late = cov < un["developed_share_below"]
        far_due = finish_due & ~np.isnan(far_min) & ~np.isnan(far)
        cov_due = finish_due & ~np.isnan(cov_min) & ~np.isnan(cov)
        tax_due = (day > produce) & ~np.isnan(tax) & ~np.isnan(promised)
    # the loop reads Python values (numpy scalars are slow one by one), texts made at once
    due = np.flatnonzero(start_due | finish_due | tax_due)
    pick = lambda a: a[due].tolist()  # noqa: E731
    text = lambda a: np.datetime_as_string(a[due]).tolist()  # noqa: E731
    cols = zip(due.tolist(), pick(start_due), pick(finish_due), pick(tax_due), pick(far_due),
               pick(cov_due), pick(not_started), pick(late), text(survey), text(start),
               text(finish), text(produce), pick(cov), pick(far), pick(far_min),
               pick(cov_min), pick(tax), pick(promised), strict=True)
    developed = un["developed_share_below"]

    def check(rule: str, value: Any, threshold: Any, passed: Any, clause: str) -> dict:
        return {"rule": rule, "kind": KIND, "value": value, "threshold": threshold,
                "passed": bool(passed), "reason": True, "clause": clause}

    out: list[list[dict]] = [[] for _ in range(n)]
    for (i, s_due, f_due, t_due, fa_due, co_due, empty, short, sv, st, fi, pr, c, fa, fmin,
         cmin, tx, prom) in cols:
        checks = out[i]
        if s_due:
            checks.append(check("late_start", sv, st, empty, f"合同约定 {st} 前开工"))
        if f_due:
            checks.append(check("late_completion", None if c != c else c, developed, short,
                                f"合同约定 {fi} 前竣工"))
            if fa_due:
                checks.append(check("far_below_contract", fa, fmin, fa < fmin,
                                    f"合同约定容积率不低于 {fmin:.2f}"))
            if co_due:
                checks.append(check("coverage_below_contract", c, cmin, c < cmin,
                                    f"合同约定建筑系数不低于 {100 * cmin:.0f}%"))
        if t_due:
            checks.append(check("tax_below_contract", tx, prom, tx < prom,
                                f"合同承诺达产（{pr}）后亩均税收不低于 {prom:g} 万元/亩"))
    return out


def breach_priority(clauses_broken: int) -> float:
    """A breach's priority on the candidates' 0–100 scale: 60, and 10 more for each
    further clause broken (a breach is a legal ground in itself).

    >>> breach_priority(1), breach_priority(5)
    (60.0, 100.0)
    """
    return float(min(100, 50 + 10 * clauses_broken))


@dataclass
class CheckRun:
    """What :func:`check_contracts` returns."""

    run_id: int
    breaches: pd.DataFrame
    summary: dict[str, Any] = field(default_factory=dict)


def _clause_evidence(r: dict, as_of: dt.date) -> dict[str, Any]:
    iso = lambda v: _d(v).isoformat() if _d(v) else None  # noqa: E731
    ev = {"as_of": as_of.isoformat(), "plot": r["plot"], "contract_no": r.get("contract_no"),
          "holder": r.get("holder"), "start_by": iso(r["start_by"]),
          "complete_by": iso(r["complete_by"]), "produce_by": iso(r.get("produce_by")),
          "committed_far": _f(r.get("far_min")), "committed_coverage": _f(r.get("coverage_min")),
          "committed_tax_per_mu": _f(r.get("tax_per_mu_wan")),
          "investment_wan": _f(r.get("investment_wan")),
          "survey": ({"id": int(r["survey_id"]), "date": iso(r["survey_date"])}
                     if _f(r.get("survey_id")) is not None else None)}
    return {k: v for k, v in ev.items() if v is not None}


def _holder_tax(facts_links: pd.DataFrame, contracts: pd.DataFrame) -> list[float]:
    """The contract holder's tax per mu (by credit code, else the parcel's owners' highest)."""
    if len(facts_links) == 0 or "tax_per_mu" not in facts_links:
        return [np.nan] * len(contracts)
    lk = facts_links.assign(tax=pd.to_numeric(facts_links["tax_per_mu"], errors="coerce"))
    by_code = lk.groupby("credit_code")["tax"].max().to_dict()
    owners = lk[lk["right_type"] == "owner"].groupby("parcel_code")["tax"].max().to_dict()
    out = []
    for credit, parcel in zip(contracts["credit_code"], contracts["parcel_code"], strict=True):
        code = str(credit).strip() if isinstance(credit, str) else None
        out.append(by_code.get(code, np.nan) if code else owners.get(parcel, np.nan))
    return out


def check_contracts(conn: psycopg.Connection, settings: Settings, *,
                    as_of: dt.date | str | None = None, score_run: int | None = None,
                    occupancy_run: int | None = None, rules_path: str | Path | None = None,
                    actor: str = "system") -> CheckRun:
    """Check every contract as of ``as_of`` and record breaches as candidates (commits)."""
    from gis.db.runs import finish_run, start_run
    from gis.importing.values import as_date
    from parcels.occupancy.run import run_occupancy
    from parcels.occupancy.store import resolve_run
    from scoring.land_status.external import sync_external
    from scoring.land_status.facts import read_facts
    from scoring.land_status.rules_config import load_rules
    from scoring.land_status.run import find_occupancy_run

    rules = load_rules(rules_path)
    asked = as_date(as_of, "--as-of date") if as_of is not None else None
    day = asked or dt.date.today()
    cur = conn.execute(_CONTRACTS_SQL)
    contracts = pd.DataFrame(cur.fetchall(), columns=[d.name for d in cur.description])
    conn.rollback()
    if occupancy_run is None and len(contracts):
        occupancy_run = find_occupancy_run(conn, asked)
        conn.rollback()
        if occupancy_run is None:
            occupancy_run = run_occupancy(conn, settings, as_of=asked).run_id
    elif occupancy_run is not None:
        occupancy_run = resolve_run(conn, occupancy_run)
    try:
        run_id = start_run(conn, RUN_KIND, {"as_of": day.isoformat(), "score_run": score_run,
                                            "occupancy_run": occupancy_run})
        if len(contracts):
            facts = read_facts(conn, rules, occupancy_run=occupancy_run, as_of=day,
                               score_run=score_run)
            cols = ["parcel_code", "town", "district", "area_m2", "survey_id", "survey_date",
                    "n_buildings", "built_m2", "coverage", "far"]
            rows = contracts.merge(facts.parcels[cols], on="parcel_code", how="left")
            rows["tax_per_mu"] = _holder_tax(facts.links, rows)
            score_used = facts.score_run
        else:
            rows, score_used = contracts.assign(survey_date=None), score_run
        checks = contract_checks(rows, day, rules) if len(rows) else []
        found = []
        for r, cs in zip(rows.to_dict("records"), checks, strict=True):
            broken = [c for c in cs if c["passed"]]
            if broken:
                found.append({
                    "parcel_code": r["parcel_code"], "town": r.get("town") or r["plot_town"],
                    "district": r.get("district") or r["plot_district"],
                    "area_m2": _f(r.get("area_m2")), "priority": breach_priority(len(broken)),
                    "reasons": [KIND, *[c["rule"] for c in broken]], "rules": cs,
                    "evidence": _clause_evidence(r, day), "plot": r["plot"]})
        breaches = pd.DataFrame(found, columns=["parcel_code", "town", "district", "area_m2",
                                                "priority", "reasons", "rules", "evidence",
                                                "plot"])
        checked = {str(p) for p, cs in zip(rows["parcel_code"], checks, strict=True) if cs}
        counts = sync_external(conn, KIND, breaches, checked=checked,
                               own_reasons=[KIND, *RULES], run_id=run_id, actor=actor,
                               comment=f"supply check run {run_id}: contract breached",
                               gone=f"supply check run {run_id}: the contract is kept again")
        summary = {"as_of": day.isoformat(), "contracts": len(contracts),
                   "checked": len(checked), "breaches": len(breaches),
                   "by_rule": {rule: int(sum(rule in r for r in breaches["reasons"]))
                               for rule in RULES},
                   "occupancy_run": occupancy_run, "score_run": score_used, **counts}
        finish_run(conn, run_id, "done", summary)
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    log.info("supply check run %d: %d breaches", run_id, len(breaches))
    return CheckRun(run_id, breaches, summary)


def after_run(conn: psycopg.Connection, settings: Settings, *, as_of: str,
                         occupancy_run: int | None, score_run: int | None
                         ) -> tuple[dict[str, Any], str]:
    """The contract checks after ``mujun candidates`` (its ``mujun.candidates_checks``
    entry point: the same date, occupancy run and score run) and after ``mujun score``
    (``mujun.score_checks``: today, the new score run and its occupancy run); summary and
    one line (nothing is run or recorded while no contract is)."""
    if conn.execute("SELECT NOT EXISTS (SELECT 1 FROM supply_contract)").fetchone()[0]:
        conn.rollback()
        return {"contracts": 0}, ""
    res = check_contracts(conn, settings, as_of=as_of, occupancy_run=occupancy_run,
                          score_run=score_run)
    s = dict(res.summary, run_id=res.run_id)
    return s, (f"履约核查（批次 {res.run_id}）：合同 {s['contracts']} 份，可核查 {s['checked']} 份，"
               f"违约 {s['breaches']} 份（候选新建 {s['created']}，并入 {s['joined']}，"
               f"移除 {s['left']}，关闭 {s['closed']}）")
