"""The land-status rules: per-parcel facts in, candidates with their evidence out (kernel).

Pure computation over :class:`scoring.candidates.facts.Facts` (no connection). Every
kind is a list of **checks** — ``{rule, value, threshold, passed}`` — evaluated per
parcel by one function; a kind fires when all its checks pass. The same checks are the
candidate's evidence when it fires and the closing reason when a candidate's
conditions no longer hold, so what is shown to officials is exactly what was tested.
A vectorized pre-selection keeps the per-parcel work to the parcels that can fire.

Kinds (DOMAIN.md §3; thresholds in the rule set, :mod:`.rules_config`):

``idle_not_started`` 未动工
    supplied; one full year after the agreed start date has passed (:mod:`.dates`,
    Civil Code counting: 29 February counts to 28 February); the parcel rests on a
    survey taken after that year; not started: no building of its own (occupancy's
    building count: a neighbour's building reaching over the boundary is not one), or
    built coverage and area below the thresholds; no exemption in force.
``idle_stalled`` 动工后中止
    supplied, one full year after the agreed start, started, developed (built) share
    under 1/3, and no built-area growth since a survey at least a year earlier; no
    exemption.
``unfinished`` 未竣工
    the agreed completion date has passed (on the as-of date and before the survey),
    started, still developed under 1/3 (and not stalled).
``inefficient`` 低效
    the agreed completion date has passed; built; at least ``min_reasons`` of: coverage
    below the control minimum, FAR below the
    2008 minimum of the holder's industry, every holder's tax per mu below a fraction
    of the benchmark, every holder in class D.
``built_unused`` 建而未用
    buildings stand and no linked enterprise is active (none linked, or each is
    deregistered/stopped/relocated or reports near-zero tax and electricity).
``approved_unsupplied`` 批而未供
    an approval older than the grace period whose area is not covered by supplied
    parcels (see :func:`approved_unsupplied`).

The idle kinds exclude ``unfinished`` and ``inefficient`` on the same parcel, and
``unfinished`` excludes ``inefficient`` (a parcel is handled under one of them).
Misregistered buildings never make a parcel built: the facts come from the occupancy
kernel, whose sliver rule does not count a neighbour's building shifted over the
boundary.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from gis.crs import SQM_PER_MU
from scoring.candidates.dates import has_passed, period_end, years_between

if TYPE_CHECKING:
    from scoring.candidates.facts import Facts

#: Candidate kinds, in the order they are evaluated.
KINDS = ("idle_not_started", "idle_stalled", "unfinished", "inefficient", "built_unused",
         "approved_unsupplied")
#: Chinese names for reports and sheets.
KIND_LABELS = {
    "idle_not_started": "闲置土地(未动工)", "idle_stalled": "闲置土地(动工后中止)",
    "unfinished": "未竣工", "inefficient": "低效用地", "built_unused": "建而未用",
    "approved_unsupplied": "批而未供",
}
IDLE_KINDS = ("idle_not_started", "idle_stalled")

CANDIDATE_COLUMNS = ("parcel_code", "kind", "town", "district", "area_m2", "reclaimable_m2",
                     "certainty", "priority", "rules", "evidence")


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
    classes = row.get("owner_classes") or []
    if cfg["class_d"] and classes:
        out.append(check("class_d", ",".join(classes), "D", all(c == "D" for c in classes)))
    return out


def checks_inefficient(row: dict, rules: dict, ctx: dict) -> list[dict]:
    cfg = rules["inefficient"]
    reasons = inefficient_reasons(row, rules, ctx)
    n = sum(r["passed"] for r in reasons)
    return [*_finish_checks(row, ctx, required=False),
            check("built", row["built_m2"], 0, _num(row["built_m2"]) > 0),
            *[dict(r, reason=True) for r in reasons],
            check("reasons", n, cfg["min_reasons"], n >= cfg["min_reasons"])]


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


def preselect(facts: Facts, rules: dict,
              change: pd.DataFrame | None = None) -> dict[str, np.ndarray]:
    """Per kind, the parcels that can fire it (a superset: the checks decide)."""
    p = facts.parcels
    cov = pd.to_numeric(p["coverage"], errors="coerce").to_numpy(dtype=float)
    built = pd.to_numeric(p["built_m2"], errors="coerce").to_numpy(dtype=float)
    far = pd.to_numeric(p["far"], errors="coerce").to_numpy(dtype=float)
    n_buildings = pd.to_numeric(p["n_buildings"], errors="coerce").fillna(0).to_numpy()
    ns = rules["idle_not_started"]
    not_started = (n_buildings == 0) | ((cov < ns["max_coverage"]) & (built < ns["max_built_m2"]))
    has_start = (p["agreed_start_date"].notna() & p["supply_date"].notna()).to_numpy()
    has_finish = p["agreed_finish_date"].notna().to_numpy()
    surveyed = p["survey_date"].notna().to_numpy()
    masks = {
        "idle_not_started": has_start & surveyed & not_started,
        "idle_stalled": has_start & surveyed & ~not_started & ~(
            cov >= rules["idle_stalled"]["developed_share_below"]) & (
            p["parcel_code"].isin(change["parcel_code"]).to_numpy()
            if change is not None and len(change) else False),
        "unfinished": has_finish & surveyed & ~not_started & ~(
            cov >= rules["unfinished"]["developed_share_below"]),
    }
    ineff = rules["inefficient"]
    far_min = p["far_min"].to_numpy(dtype=float)
    has_d = np.array(["D" in c for c in p["owner_classes"]], dtype=bool)
    weak = (cov < ineff["coverage_min"]) | (far < far_min) | has_d
    frac = ineff["tax_per_mu_fraction"]
    weak |= np.array([bool(t) and max(t) < frac for t in p["owner_tax_ratio"]], dtype=bool)
    masks["inefficient"] = weak & (built > 0) & surveyed
    masks["built_unused"] = (built >= rules["built_unused"]["min_built_m2"]) & (
        p["n_active"].to_numpy() == 0)
    return {k: np.asarray(m, dtype=bool) for k, m in masks.items() if rules[k]["enabled"]}


def _recency(row: dict, rules: dict, as_of: dt.date) -> float:
    cfg = rules["certainty"]
    survey = _date(row.get("survey_date"))
    if survey is None:
        return cfg["survey_age_floor"]
    age = years_between(survey, as_of)
    if age <= cfg["survey_age_full_years"]:
        return 1.0
    return max(cfg["survey_age_floor"],
               1.0 - cfg["survey_age_loss_per_year"] * (age - cfg["survey_age_full_years"]))


def certainty(kind: str, row: dict, checks: list[dict], rules: dict, ctx: dict) -> float:
    """How sure the finding is (0-1): by kind and evidence, times the survey's recency."""
    if kind == "idle_not_started":
        share = _num(row["coverage"]) / max(rules["idle_not_started"]["max_coverage"], 1e-9)
        base = 0.95 * (1.0 - 0.5 * min(max(share, 0.0), 1.0))
    elif kind == "idle_stalled":
        base = 0.85
    elif kind == "unfinished":
        base = 0.8
    elif kind == "inefficient":
        base = min(0.9, 0.4 + 0.15 * sum(c["passed"] for c in checks if c.get("reason")))
    else:
        statuses = [e["status"] for e in ctx["enterprises"].get(row["parcel_code"], [])
                    if e["status"]]
        if not statuses:
            base = 0.6
        elif all(s == "deregistered" for s in statuses):
            base = 0.85
        elif all(s in ("deregistered", "stopped", "relocated") for s in statuses):
            base = 0.75
        else:
            base = 0.65
    return round(base * _recency(row, rules, ctx["as_of"]), 4)


def years_idle(kind: str, row: dict, rules: dict, ctx: dict) -> float:
    """Years the land has been in this state by the as-of date (0 when unknown)."""
    as_of = ctx["as_of"]
    since = None
    if kind == "idle_not_started":
        start = _date(row["agreed_start_date"])
        since = period_end(start, rules["idle_not_started"]["grace_years"]) if start else None
    elif kind == "idle_stalled":
        change = ctx["change"].get(row["parcel_code"])
        since = _date(change["prev_survey_date"]) if change else None
    elif kind == "unfinished":
        since = _date(row["agreed_finish_date"])
    return round(max(0.0, years_between(since, as_of)), 3) if since else 0.0


def reclaimable(kind: str, row: dict, rules: dict) -> float:
    """Estimate of the land that could be reclaimed or revitalized (m²).

    Idle-not-started and built-unused: the whole parcel. Stalled, unfinished and
    inefficient: the parcel minus the land its buildings need at the control minimum
    coverage (built / coverage_min), at least 0.
    """
    area = _num(row["area_m2"])
    if kind in ("idle_not_started", "built_unused"):
        return area
    need = _num(row["built_m2"]) / max(rules["inefficient"]["coverage_min"], 1e-9)
    return max(0.0, area - need)


def priority(kind: str, row: dict, years: float, cert: float, rules: dict, ctx: dict) -> float:
    """Priority 0-100 from weighted scores of area, years idle, location and class."""
    cfg = rules["priority"]
    w = cfg["weights"]
    classes = row.get("owner_classes") or []
    worst = max((cfg["class_scores"].get(c, cfg["class_scores"].get("none", 0.5))
                 for c in classes), default=cfg["class_scores"].get("none", 0.5))
    scores = {
        "area": min(1.0, _num(row["area_m2"]) / SQM_PER_MU / cfg["area_mu_full"]),
        "years_idle": min(1.0, years / cfg["years_idle_full"]),
        "location": cfg["locations"].get(row.get("town"), cfg["location_default"]),
        "class": worst,
    }
    total = sum(w.values())
    value = sum(w.get(k, 0) * s for k, s in scores.items()) / total
    return round(100.0 * value * (0.5 + 0.5 * cert), 3)


def evidence(kind: str, row: dict, ctx: dict, years: float) -> dict:
    """What a legal procedure needs to see, for one candidate."""
    change = ctx["change"].get(row["parcel_code"])
    out = {
        "as_of": _val(ctx["as_of"]),
        "survey": {"id": _val(row.get("survey_id")), "date": _val(row.get("survey_date"))},
        "area_m2": _val(row["area_m2"]), "area_mu": _val(_num(row["area_m2"]) / SQM_PER_MU),
        "built_m2": _val(row["built_m2"]), "sliver_m2": _val(row.get("sliver_m2")),
        "coverage": _val(row["coverage"]), "far": _val(row["far"]),
        "far_min": _val(row.get("far_min")), "n_buildings": _val(row.get("n_buildings")),
        "dates": {"supply": _val(row.get("supply_date")),
                  "agreed_start": _val(row.get("agreed_start_date")),
                  "agreed_finish": _val(row.get("agreed_finish_date"))},
        "years_idle": years,
        "enterprises": ctx["enterprises"].get(row["parcel_code"], []),
        "score_class": sorted(set(row.get("owner_classes") or [])) or None,
        "exemptions": row.get("exemptions") or [],
        "occupancy_run": ctx.get("occupancy_run"), "score_run": ctx.get("score_run"),
        "records_year": ctx.get("year"),
    }
    if change is not None:
        out["previous_survey"] = {"id": _val(change["prev_survey_id"]),
                                  "date": _val(change["prev_survey_date"])}
        out["change"] = {k: _val(change[k]) for k in (
            "built_before_m2", "built_after_m2", "new_m2", "demolished_m2", "expanded_m2",
            "n_new", "n_demolished", "n_expanded")}
    return out


def enterprise_evidence(links: pd.DataFrame, codes: set[str]) -> dict[str, list[dict]]:
    """Per parcel, the linked enterprises with their figures (for the evidence)."""
    out: dict[str, list[dict]] = {}
    if len(links) == 0:
        return out
    sub = links[links["parcel_code"].isin(codes)]
    for r in sub.to_dict("records"):
        out.setdefault(r["parcel_code"], []).append({
            "credit_code": r["credit_code"], "name": _val(r.get("name")),
            "role": r["right_type"], "status": _val(r.get("status")),
            "tax_wan": _val(r.get("tax_wan")), "electricity_kwh": _val(r.get("electricity_kwh")),
            "class": _val(r.get("class")), "tax_per_mu": _val(r.get("tax_per_mu")),
            "benchmark": _val(r.get("benchmark"))})
    return out


def evaluate(facts: Facts, rules: dict, change: pd.DataFrame | None = None,
             also: dict[str, set[str]] | None = None,
             ) -> tuple[pd.DataFrame, dict[tuple[str, str], str]]:
    """Candidates of every parcel kind, and why the kinds of ``also`` parcels do not fire.

    Parameters
    ----------
    facts : Facts
    rules : dict
        From :func:`scoring.candidates.rules_config.load_rules`.
    change : DataFrame, optional
        :func:`scoring.candidates.facts.stalled_change` rows.
    also : dict, optional
        Parcel code -> kinds to evaluate even if not pre-selected (open candidates), so
        their closing reasons are known.

    Returns
    -------
    candidates : DataFrame
        Columns :data:`CANDIDATE_COLUMNS`, ranked by priority (highest first).
    not_firing : dict
        ``(parcel_code, kind) -> reason`` for evaluated kinds that did not fire.
    """
    p = facts.parcels
    masks = preselect(facts, rules, change)
    also = dict(also or {})
    codes_all = p["parcel_code"].to_numpy()
    mask = np.zeros(len(p), dtype=bool)
    for m in masks.values():
        mask |= m
    mask |= p["parcel_code"].isin(also).to_numpy()
    index = np.flatnonzero(mask)
    rows = p.iloc[index].to_dict("records")
    row_kinds = [{k for k, m in masks.items() if m[i]} | set(also.get(codes_all[i], ()))
                 for i in index]
    codes = {r["parcel_code"] for r in rows}
    lk = facts.links
    ctx = {"as_of": facts.as_of, "benchmark": facts.benchmark_tax_per_mu,
           "change": ({r["parcel_code"]: r for r in change.to_dict("records")}
                      if change is not None and len(change) else {}),
           "enterprises": enterprise_evidence(lk, codes),
           "occupancy_run": facts.occupancy_run, "score_run": facts.score_run,
           "year": facts.year}
    out: list[dict] = []
    not_firing: dict[tuple[str, str], str] = {}
    for row, kinds in zip(rows, row_kinds, strict=True):
        for kind, checks in evaluate_parcel(row, rules, ctx, kinds).items():
            if not fired(checks):
                not_firing[(row["parcel_code"], kind)] = failing(checks)
                continue
            years = years_idle(kind, row, rules, ctx)
            cert = certainty(kind, row, checks, rules, ctx)
            out.append({
                "parcel_code": row["parcel_code"], "kind": kind, "town": row.get("town"),
                "district": row.get("district"), "area_m2": _num(row["area_m2"]),
                "reclaimable_m2": round(reclaimable(kind, row, rules), 3),
                "certainty": cert,
                "priority": priority(kind, row, years, cert, rules, ctx),
                "rules": checks, "evidence": evidence(kind, row, ctx, years)})
    frame = pd.DataFrame(out, columns=list(CANDIDATE_COLUMNS))
    if len(frame):
        frame = frame.sort_values(["priority", "parcel_code"], ascending=[False, True],
                                  kind="stable").reset_index(drop=True)
    return frame, not_firing


def approved_unsupplied(approvals: pd.DataFrame, rules: dict, as_of: dt.date) -> pd.DataFrame:
    """批而未供 candidates from approvals with their unsupplied area.

    Parameters
    ----------
    approvals : DataFrame
        ``approval_code, approved_date, town, area_m2, unsupplied_m2``.
    """
    cfg = rules["approved_unsupplied"]
    out = []
    for r in approvals.to_dict("records"):
        approved = _date(r["approved_date"])
        end = period_end(approved, cfg["grace_years"])
        checks = [check("grace_years_passed", as_of, end, as_of > end),
                  check("unsupplied_m2", r["unsupplied_m2"], cfg["min_area_m2"],
                        _num(r["unsupplied_m2"]) >= cfg["min_area_m2"])]
        if not fired(checks):
            continue
        years = round(years_between(end, as_of), 3)
        row = {"area_m2": r["unsupplied_m2"], "town": r.get("town"), "owner_classes": []}
        cert = 0.9
        out.append({
            "parcel_code": r["approval_code"], "kind": "approved_unsupplied",
            "town": r.get("town"), "district": None, "area_m2": _num(r["area_m2"]),
            "reclaimable_m2": _num(r["unsupplied_m2"]), "certainty": cert,
            "priority": priority("approved_unsupplied", row, years, cert, rules, {}),
            "rules": checks,
            "evidence": {"as_of": _val(as_of), "approval": r["approval_code"],
                         "approved_date": _val(approved), "area_m2": _val(r["area_m2"]),
                         "unsupplied_m2": _val(r["unsupplied_m2"]), "years_idle": years}})
    return pd.DataFrame(out, columns=list(CANDIDATE_COLUMNS))
