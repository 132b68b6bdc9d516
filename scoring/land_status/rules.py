"""The land-status rules: per-parcel facts in, candidates with their evidence out (kernel).

Pure computation over :class:`scoring.land_status.facts.Facts` (no connection). Every
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
    the agreed completion date has passed; built; at least ``min_reasons`` (2) distinct
    reasons, or one ``decisive`` one (class D, tax per mu below the floor), among:
    coverage below the control minimum, FAR below the 2008 minimum of the holder's
    industry, FAR below half the agreed FAR (用而未尽), every holder's tax per mu below a
    fraction of the benchmark, every holder in class D.
``built_unused`` 建而未用
    buildings stand and no linked enterprise is active (none linked, or each is
    deregistered/stopped/relocated or reports near-zero tax and electricity).
``approved_unsupplied`` 批而未供
    an approval older than the grace period whose area is not covered by supplied
    parcels (see :func:`approved_unsupplied`).

The idle kinds exclude ``unfinished`` and ``inefficient`` on the same parcel, and
``unfinished`` excludes ``inefficient`` (a parcel is handled under one of them).
A parcel gives **one** candidate carrying every kind that fired (:func:`.checks.merge_kinds`),
its primary kind the first by the rules file's ``candidates.precedence``.
Misregistered buildings never make a parcel built: the facts come from the occupancy
kernel, whose sliver rule does not count a neighbour's building shifted over the
boundary.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from scoring.land_status.checks import (  # noqa: F401  (the kernel's public names)
    CHECKS,
    IDLE_KINDS,
    _date,
    _num,
    _val,
    check,
    evaluate_parcel,
    failing,
    fired,
    merge_kinds,
)
from scoring.land_status.dates import period_end, years_between
from scoring.land_status.evidence import enterprise_evidence, evidence
from scoring.land_status.ranking import certainty, priority, reclaimable, years_idle
from scoring.land_status.vocabulary import KINDS as _KIND_TERMS

if TYPE_CHECKING:
    from scoring.land_status.facts import Facts

#: Candidate kinds, in the order they are evaluated (the ``land_status.kind`` vocabulary).
KINDS = _KIND_TERMS.codes()

CANDIDATE_COLUMNS = ("parcel_code", "kind", "kinds", "reasons", "town", "district", "area_m2",
                     "reclaimable_m2", "certainty", "priority", "rules", "evidence")


def _candidate(row: dict, hits: dict[str, list[dict]], precedence: list[str], rules: dict,
               ctx: dict) -> dict:
    """The one candidate of a parcel from the kinds that fired on it.

    The primary kind (first by ``precedence``) gives the certainty, priority and
    reclaimable area; the evidence is every kind's, the primary's on top.
    """
    merged = merge_kinds(hits, precedence)
    kind = merged["kind"]
    years = years_idle(kind, row, rules, ctx)
    cert = certainty(kind, row, hits[kind], rules, ctx)
    ev: dict = {}
    for k in reversed(merged["kinds"]):
        ev.update(evidence(k, row, ctx, years_idle(k, row, rules, ctx)))
    return {
        "parcel_code": row["parcel_code"], "kind": kind, "kinds": merged["kinds"],
        "reasons": merged["reasons"], "town": row.get("town"),
        "district": row.get("district"), "area_m2": _num(row["area_m2"]),
        "reclaimable_m2": round(reclaimable(kind, row, rules), 3), "certainty": cert,
        "priority": priority(kind, row, years, cert, rules, ctx),
        "rules": merged["rules"], "evidence": ev}


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
    agreed = pd.to_numeric(p["planned_far"], errors="coerce").to_numpy(dtype=float)
    weak = (cov < ineff["coverage_min"]) | (far < far_min) | has_d | (
        far < ineff["far_agreed_fraction"] * agreed)
    frac = max(ineff["tax_per_mu_fraction"], ineff["tax_per_mu_floor_fraction"])
    weak |= np.array([bool(t) and max(t) < frac for t in p["owner_tax_ratio"]], dtype=bool)
    masks["inefficient"] = weak & (built > 0) & surveyed
    masks["built_unused"] = (built >= rules["built_unused"]["min_built_m2"]) & (
        p["n_active"].to_numpy() == 0)
    return {k: np.asarray(m, dtype=bool) for k, m in masks.items() if rules[k]["enabled"]}


def evaluate(facts: Facts, rules: dict, change: pd.DataFrame | None = None,
             also: dict[str, set[str]] | None = None,
             ) -> tuple[pd.DataFrame, dict[tuple[str, str], str]]:
    """Candidates of every parcel kind, and why the kinds of ``also`` parcels do not fire.

    Parameters
    ----------
    facts : Facts
    rules : dict
        From :func:`scoring.land_status.rules_config.load_rules`.
    change : DataFrame, optional
        :func:`scoring.land_status.facts.stalled_change` rows.
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
    precedence = rules["candidates"]["precedence"]
    for row, kinds in zip(rows, row_kinds, strict=True):
        hits: dict[str, list[dict]] = {}
        for kind, checks in evaluate_parcel(row, rules, ctx, kinds).items():
            if fired(checks):
                hits[kind] = checks
            else:
                not_firing[(row["parcel_code"], kind)] = failing(checks)
        if hits:
            out.append(_candidate(row, hits, precedence, rules, ctx))
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
            "kinds": ["approved_unsupplied"], "reasons": ["approved_unsupplied"],
            "town": r.get("town"), "district": None, "area_m2": _num(r["area_m2"]),
            "reclaimable_m2": _num(r["unsupplied_m2"]), "certainty": cert,
            "priority": priority("approved_unsupplied", row, years, cert, rules, {}),
            "rules": [dict(c, kind="approved_unsupplied") for c in checks],
            "evidence": {"as_of": _val(as_of), "approval": r["approval_code"],
                         "approved_date": _val(approved), "area_m2": _val(r["area_m2"]),
                         "unsupplied_m2": _val(r["unsupplied_m2"]), "years_idle": years}})
    return pd.DataFrame(out, columns=list(CANDIDATE_COLUMNS))
