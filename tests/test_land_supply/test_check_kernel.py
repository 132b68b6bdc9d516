"""The contract checks (pure): each clause against known answers, and never without evidence."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from scoring.land_status.rules_config import load_rules
from scoring.land_status.supply.check import contract_checks

RULES = load_rules()
D = dt.date.fromisoformat


def _row(**over):
    row = {"start_by": D("2024-06-01"), "complete_by": D("2026-06-01"),
           "produce_by": D("2027-06-01"), "far_min": 1.2, "coverage_min": 0.4,
           "tax_per_mu_wan": 30.0, "survey_date": D("2026-09-01"), "n_buildings": 4,
           "built_m2": 5000.0, "coverage": 0.5, "far": 1.5, "tax_per_mu": 35.0}
    row.update(over)
    return row


def _fired(as_of="2027-09-01", **over):
    checks = contract_checks(pd.DataFrame([_row(**over)]), D(as_of), RULES)[0]
    return {c["rule"]: c["passed"] for c in checks}


def test_a_kept_contract_passes_every_clause():
    assert _fired() == {"late_start": False, "late_completion": False,
                        "far_below_contract": False, "coverage_below_contract": False,
                        "tax_below_contract": False}


def test_each_clause_known_answers():
    assert _fired(n_buildings=0, built_m2=0.0, coverage=0.0, far=0.0)["late_start"]
    assert _fired(coverage=0.2, far=1.5)["late_completion"]
    assert _fired(far=1.0)["far_below_contract"]
    assert _fired(coverage=0.35)["coverage_below_contract"]
    assert _fired(tax_per_mu=20.0)["tax_below_contract"]
    # a gate house below the idle rule's thresholds (5 %, 50 m²) is not a start
    assert _fired(n_buildings=1, built_m2=40.0, coverage=0.004)["late_start"]
    assert not _fired(n_buildings=1, built_m2=400.0, coverage=0.04)["late_start"]


def test_clauses_wait_for_their_dates_and_evidence():
    # before completion only the start is checked
    assert set(_fired(as_of="2025-01-01", survey_date=D("2024-09-01"))) == {"late_start"}
    # no score figure: no tax clause; before full production neither
    assert "tax_below_contract" not in _fired(tax_per_mu=None)
    assert "tax_below_contract" not in _fired(as_of="2027-05-01")


@given(st.integers(min_value=-800, max_value=800), st.integers(min_value=0, max_value=1500))
def test_no_clause_is_judged_on_a_survey_before_its_date(survey_shift, as_of_shift):
    survey = D("2024-06-01") + dt.timedelta(days=survey_shift)
    as_of = max(survey, D("2024-06-01")) + dt.timedelta(days=as_of_shift)
    checks = contract_checks(pd.DataFrame([_row(survey_date=survey, n_buildings=0,
                                                coverage=0.0, built_m2=0.0, far=0.0,
                                                tax_per_mu=None)]), as_of, RULES)[0]
    for c in checks:
        date = {"late_start": "2024-06-01"}.get(c["rule"], "2026-06-01")
        assert survey > D(date) and as_of > D(date)
        assert c["kind"] == "contract_breach" and c["clause"]
