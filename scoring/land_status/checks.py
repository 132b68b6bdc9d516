"""The checks of each kind for one parcel (kernel): ``{rule, value, threshold, passed}``.

A kind fires when all its required checks pass (:func:`fired`); inefficiency reasons
are counted, not required. :func:`evaluate_parcel` applies the kinds' exclusions (the
idle kinds exclude ``unfinished`` and ``inefficient``, ``unfinished`` excludes
``inefficient``). The rule names are the codes of the ``land_status.rule`` vocabulary
(:mod:`scoring.land_status.vocabulary`), which says them in words.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np
import pandas as pd

from scoring.land_status.dates import has_passed, period_end

IDLE_KINDS = ("idle_not_started", "idle_stalled")


def _val(v: Any) -> Any:
    """JSON-friendly value: dates as ISO text, numpy scalars as Python, NaN as None."""
    kind = type(v)
    if kind is str or kind is int or kind is bool:
        return v
    if kind is float:
        return None if v != v else round(v, 6)
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, (dt.date, pd.Timestamp)):
        return v.isoformat()[:10]
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return None if math.isnan(v) else round(float(v), 6)
    return v


def _date(v: Any) -> dt.date | None:
    if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NaT:
        return None
    if isinstance(v, pd.Timestamp):
        return v.date()
    return v


def _num(v: Any) -> float:
    return float("nan") if v is None or v is pd.NA else float(v)


def check(rule: str, value: Any, threshold: Any, passed: bool, note: str | None = None) -> dict:
    """One tested condition, as stored in a candidate's ``rules``."""
    out = {"rule": rule, "value": _val(value), "threshold": _val(threshold),
           "passed": bool(passed)}
    if note:
        out["note"] = note
    return out



def _exempt(row: dict, kind: str) -> dict | None:
    for e in row.get("exemptions") or []:
        if kind in e["kinds"]:
            return e
    return None


def _common_idle(row: dict, kind: str, cfg: dict, as_of: dt.date) -> list[dict]:
    supply = _date(row["supply_date"])
    start = _date(row["agreed_start_date"])
    end = period_end(start, cfg["grace_years"]) if start else None
    exemption = _exempt(row, kind)
    return [
        check("supplied", supply, as_of, supply is not None and supply <= as_of),
        check("one_year_after_agreed_start", as_of, end,
              has_passed(start, cfg["grace_years"], as_of),
              None if start else "no agreed start date"),
        check("not_exempted", exemption["reason"] if exemption else None, None,
              exemption is None),
    ]


def _survey_after(row: dict, after: dt.date | None, rule: str) -> dict:
    survey = _date(row["survey_date"])
    ok = survey is not None and after is not None and survey > after
    note = None if survey is not None else "the parcel rests on no dated survey"
    return check(rule, survey, after, ok, note)


def _covered(row: dict) -> dict:
    """The survey covers the whole parcel: only then can it show that nothing was built."""
    full = row.get("survey_full")
    ok = bool(full) if full is not None and full is not pd.NA else False
    return check("survey_covers_parcel", ok, True, ok,
                 None if ok else "the survey covers only part of the parcel, or none")


def _not_started(row: dict, rules: dict, want: bool) -> dict:
    """Development not started: no building of its own, or built area and coverage below
    the thresholds. A building counts for the parcel holding at least ``min_overlap_ratio``
    of it (occupancy's building count), so a neighbour's overhang never starts a parcel.
    ``want`` False gives the ``started`` check (the negation)."""
    cfg = rules["idle_not_started"]
    n = int(_num(row.get("n_buildings")) or 0) if row.get("n_buildings") is not None else 0
    built, cov = _num(row["built_m2"]), _num(row["coverage"])
    not_started = n == 0 or (cov < cfg["max_coverage"] and built < cfg["max_built_m2"])
    note = (f"{n} building(s) of its own, built {built:.1f} m², coverage {cov:.4f}; "
            f"thresholds {cfg['max_built_m2']} m², {cfg['max_coverage']}")
    return check("not_started" if want else "started", built, cfg["max_built_m2"],
                 not_started if want else not not_started, note)


def checks_idle_not_started(row: dict, rules: dict, ctx: dict) -> list[dict]:
    cfg = rules["idle_not_started"]
    as_of = ctx["as_of"]
    start = _date(row["agreed_start_date"])
    end = period_end(start, cfg["grace_years"]) if start else None
    return [*_common_idle(row, "idle_not_started", cfg, as_of),
            _survey_after(row, end, "survey_after_the_year"), _covered(row),
            _not_started(row, rules, True)]


def checks_idle_stalled(row: dict, rules: dict, ctx: dict) -> list[dict]:
    cfg = rules["idle_stalled"]
    as_of = ctx["as_of"]
    change = ctx["change"].get(row["parcel_code"])
    out = [*_common_idle(row, "idle_stalled", cfg, as_of),
           _not_started(row, rules, False), _covered(row),
           check("developed_share_below", row["coverage"], cfg["developed_share_below"],
                 _num(row["coverage"]) < cfg["developed_share_below"])]
    if change is None:
        out.append(check("earlier_survey", None, cfg["min_survey_gap_years"], False,
                         "no survey at least the gap before the parcel's survey"))
        return out
    growth = change["built_after_m2"] - change["built_before_m2"]
    out.append(check("earlier_survey", change["prev_survey_date"], cfg["min_survey_gap_years"],
                     True))
    out.append(check("no_growth_m2", growth, cfg["max_growth_m2"],
                     growth <= cfg["max_growth_m2"]))
    return out


def _finish_checks(row: dict, ctx: dict, *, required: bool) -> list[dict]:
    finish = _date(row["agreed_finish_date"])
    as_of = ctx["as_of"]
    if finish is None:
        return [check("after_agreed_completion", as_of, None, not required,
                      "no agreed completion date")]
    return [check("after_agreed_completion", as_of, finish, as_of > finish),
            _survey_after(row, finish, "survey_after_completion")]


def checks_unfinished(row: dict, rules: dict, ctx: dict) -> list[dict]:
    cfg = rules["unfinished"]
    return [*_finish_checks(row, ctx, required=True), _covered(row),
            _not_started(row, rules, False),
            check("developed_share_below", row["coverage"], cfg["developed_share_below"],
                  _num(row["coverage"]) < cfg["developed_share_below"])]


def inefficient_reasons(row: dict, rules: dict, ctx: dict) -> list[dict]:
    """The inefficiency tests (each a check; ``passed`` means the reason applies)."""
    cfg = rules["inefficient"]
    out = []
    out.append(check("coverage_below_control", row["coverage"], cfg["coverage_min"],
                     _num(row["coverage"]) < cfg["coverage_min"]))
    far_min = _num(row.get("far_min"))
    if cfg["far_by_industry"] and not math.isnan(far_min):
        out.append(check("far_below_industry_minimum", row["far"], far_min,
                         _num(row["far"]) < far_min))
    ratios = row.get("owner_tax_ratio") or []
    if ratios:
        best = max(ratios)
        out.append(check("tax_per_mu_below", best, cfg["tax_per_mu_fraction"],
                         best < cfg["tax_per_mu_fraction"],
                         "holders' tax per mu as a share of the rule set's benchmark"))
        if cfg["tax_per_mu_floor_fraction"] > 0:
            out.append(check("tax_per_mu_below_floor", best, cfg["tax_per_mu_floor_fraction"],
                             best < cfg["tax_per_mu_floor_fraction"],
                             "holders' tax per mu as a share of the rule set's benchmark"))
    classes = row.get("owner_classes") or []
    if cfg["class_d"] and classes:
        out.append(check("class_d", ",".join(classes), "D", all(c == "D" for c in classes)))
    agreed = _num(row.get("planned_far"))
    if cfg["far_agreed_fraction"] > 0 and agreed > 0:
        # 用而未尽: built, but far below the development agreed in the supply contract
        out.append(dict(check("far_below_agreed", row["far"],
                              round(cfg["far_agreed_fraction"] * agreed, 6),
                              _num(row["far"]) < cfg["far_agreed_fraction"] * agreed),
                        agreed=_val(agreed), fraction=cfg["far_agreed_fraction"]))
    return out


#: What each inefficiency reason measures. Reasons measuring the same thing are not
#: independent: FAR below the industry minimum and FAR far below the agreed FAR (用而未尽)
#: are one measurement against two thresholds, and count once.
REASON_MEASURE = {"coverage_below_control": "coverage", "far_below_industry_minimum": "far",
                  "far_below_agreed": "far", "tax_per_mu_below": "tax",
                  "tax_per_mu_below_floor": "tax", "class_d": "class"}


def reasons_decide(reasons: list[dict], cfg: dict) -> tuple[int, bool]:
    """How many independent reasons apply, and whether they make the parcel inefficient.

    Inefficient needs ``min_reasons`` independent reasons (reasons measuring the same
    thing, :data:`REASON_MEASURE`, count once), or one of the ``decisive`` ones (class D,
    tax per mu below the floor).

    >>> cfg = {"min_reasons": 2, "decisive": ["class_d"]}
    >>> reasons_decide([{"rule": "far_below_industry_minimum", "passed": True}], cfg)
    (1, False)
    >>> reasons_decide([{"rule": "far_below_industry_minimum", "passed": True},
    ...                 {"rule": "far_below_agreed", "passed": True}], cfg)
    (1, False)
    >>> reasons_decide([{"rule": "class_d", "passed": True}], cfg)
    (1, True)
    """
    passed = {r["rule"] for r in reasons if r["passed"]}
    n = len({REASON_MEASURE.get(r, r) for r in passed})
    return n, n >= cfg["min_reasons"] or bool(passed & set(cfg["decisive"]))


def checks_inefficient(row: dict, rules: dict, ctx: dict) -> list[dict]:
    cfg = rules["inefficient"]
    reasons = inefficient_reasons(row, rules, ctx)
    n, enough = reasons_decide(reasons, cfg)
    decisive = sorted({r["rule"] for r in reasons if r["passed"]} & set(cfg["decisive"]))
    return [*_finish_checks(row, ctx, required=False),
            check("built", row["built_m2"], 0, _num(row["built_m2"]) > 0),
            *[dict(r, reason=True) for r in reasons],
            dict(check("reasons", n, cfg["min_reasons"], enough), decisive=decisive)]


def merge_kinds(fired_checks: dict[str, list[dict]], precedence: list[str]) -> dict:
    """One candidate from the kinds that fired on one parcel.

    Parameters
    ----------
    fired_checks : dict
        kind -> its checks, for the kinds that fired (at least one).
    precedence : list of str
        Kinds, the one handled first first (the rules file's ``candidates.precedence``).

    Returns
    -------
    dict
        ``kind`` (the primary kind: the first by precedence), ``kinds`` (every kind that
        fired, primary first), ``reasons`` (the codes that fired: every kind, then the
        inefficiency reasons that apply) and ``rules`` (every kind's checks, each tagged
        with its ``kind``, the primary's first).

    >>> m = merge_kinds({"inefficient": [{"rule": "class_d", "passed": True, "reason": True}],
    ...                  "built_unused": [{"rule": "buildings_stand", "passed": True}]},
    ...                 ["built_unused", "inefficient"])
    >>> m["kind"], m["kinds"], m["reasons"]
    ('built_unused', ['built_unused', 'inefficient'], ['built_unused', 'inefficient', 'class_d'])
    """
    order = {k: i for i, k in enumerate(precedence)}
    kinds = sorted(fired_checks, key=lambda k: (order.get(k, len(order)), k))
    reasons = list(kinds)
    rules: list[dict] = []
    for kind in kinds:
        for c in fired_checks[kind]:
            rules.append(dict(c, kind=kind))
            if c.get("reason") and c["passed"] and c["rule"] not in reasons:
                reasons.append(c["rule"])
    return {"kind": kinds[0], "kinds": kinds, "reasons": reasons, "rules": rules}


def checks_built_unused(row: dict, rules: dict, ctx: dict) -> list[dict]:
    cfg = rules["built_unused"]
    linked, active = int(row["n_linked"]), int(row["n_active"])
    if linked == 0:
        unused = check("no_enterprise_linked", linked, 0, cfg["no_enterprise"],
                       None if cfg["no_enterprise"] else "no_enterprise is off")
    else:
        unused = check("no_active_enterprise", active, 0, active == 0,
                       f"{linked} linked, {active} active")
    return [check("buildings_stand", row["built_m2"], cfg["min_built_m2"],
                  _num(row["built_m2"]) >= cfg["min_built_m2"]), unused]


CHECKS = {
    "idle_not_started": checks_idle_not_started,
    "idle_stalled": checks_idle_stalled,
    "unfinished": checks_unfinished,
    "inefficient": checks_inefficient,
    "built_unused": checks_built_unused,
}


def fired(checks: list[dict]) -> bool:
    """Whether every required check passed (inefficiency reasons are counted, not required)."""
    return all(c["passed"] for c in checks if not c.get("reason"))


def failing(checks: list[dict]) -> str:
    """The checks that failed, as one line (a closing reason)."""
    parts = []
    for c in checks:
        if c.get("reason") or c["passed"]:
            continue
        text = f"{c['rule']}: {c['value']} vs {c['threshold']}"
        if c.get("note"):
            text += f" ({c['note']})"
        parts.append(text)
    return "; ".join(parts) or "conditions no longer hold"


def evaluate_parcel(row: dict, rules: dict, ctx: dict,
                    kinds: set[str] | None = None) -> dict[str, list[dict]]:
    """Checks of every enabled kind for one parcel, with the kinds' exclusions applied.

    kinds : set of str, optional
        Only these kinds (the others cannot fire: :func:`preselect`); default all.

    Returns
    -------
    dict
        kind -> checks, for every kind evaluated (fired or not); a kind excluded by
        another one gets a single failed ``excluded_by`` check.
    """
    out: dict[str, list[dict]] = {}
    ctx = dict(ctx)
    idle: str | None = None        # the kind that excludes the later ones
    def wanted(kind: str) -> bool:
        return rules[kind]["enabled"] and (kinds is None or kind in kinds)

    for kind in IDLE_KINDS:
        if not wanted(kind):
            continue
        if idle:
            out[kind] = [check("excluded_by", idle, None, False)]
            continue
        out[kind] = CHECKS[kind](row, rules, ctx)
        if fired(out[kind]):
            idle = kind
    for kind in ("unfinished", "inefficient"):
        if not wanted(kind):
            continue
        if idle:
            out[kind] = [check("excluded_by", idle, None, False)]
            continue
        out[kind] = CHECKS[kind](row, rules, ctx)
        if kind == "unfinished" and fired(out[kind]):
            idle = kind          # an unfinished parcel is handled as unfinished only
    if wanted("built_unused"):
        out["built_unused"] = checks_built_unused(row, rules, ctx)
    return out
