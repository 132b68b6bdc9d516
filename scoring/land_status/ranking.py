"""How sure, how old, how much and how urgent a finding is (kernel).

:func:`certainty` (0-1, by kind and evidence, times the survey's recency),
:func:`years_idle`, :func:`reclaimable` (m²) and :func:`priority` (0-100); see
docs/land_status.md for the formulas.
"""

from __future__ import annotations

import datetime as dt

from gis.crs import SQM_PER_MU
from scoring.land_status.checks import _date, _num
from scoring.land_status.dates import period_end, years_between


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
