"""The rules as pure functions: legal dates, the validated rule set, per-parcel checks."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scoring.errors import LandRulesError
from scoring.land_status.dates import has_passed, period_end
from scoring.land_status.facts import far_minimum
from scoring.land_status.rules import evaluate_parcel, fired
from scoring.land_status.rules_config import load_rules

RULES = load_rules()
D = dt.date.fromisoformat


@pytest.mark.parametrize("start,end", [
    ("2023-06-30", "2024-06-30"), ("2020-02-29", "2021-02-28"), ("2019-02-28", "2020-02-28"),
    ("2023-12-31", "2024-12-31"), ("2024-01-31", "2025-01-31")])
def test_period_end_follows_the_civil_code(start, end):
    assert period_end(D(start), 1) == D(end)


def test_a_year_from_29_february_ends_28_february_or_29_in_a_leap_year():
    assert period_end(D("2020-02-29"), 4) == D("2024-02-29")
    assert not has_passed(D("2020-02-29"), 1, D("2021-02-28"))
    assert has_passed(D("2020-02-29"), 1, D("2021-03-01"))


@given(st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2090, 12, 31)),
       st.integers(min_value=0, max_value=800))
def test_never_passed_before_the_anniversary(start, days):
    as_of = start + dt.timedelta(days=days)
    end = period_end(start, 1)
    assert has_passed(start, 1, as_of) == (as_of > end)
    assert 365 <= (end - start).days <= 366


def _row(**over):
    row = {"parcel_code": "P", "town": "T", "district": "D", "supply_date": D("2020-01-01"),
           "agreed_start_date": D("2021-03-01"), "agreed_finish_date": D("2023-03-01"),
           "area_m2": 10000.0, "built_m2": 0.0, "sliver_m2": 0.0, "coverage": 0.0, "far": 0.0,
           "n_buildings": 0, "survey_id": 1, "survey_date": D("2024-05-01"), "survey_full": True, "far_min": float("nan"),
           "n_linked": 1, "n_active": 1, "n_unknown": 0, "owner_classes": [],
           "owner_tax_ratio": [], "exemptions": []}
    row.update(over)
    if "n_buildings" not in over and row["built_m2"] > 0:
        row["n_buildings"] = 1
    return row


def _ctx(as_of, **over):
    ctx = {"as_of": D(as_of), "benchmark": None, "change": {}, "enterprises": {},
           "statuses": {}}
    ctx.update(over)
    return ctx


def _fires(row, as_of, rules=RULES, **ctx):
    return {k for k, checks in evaluate_parcel(row, rules, _ctx(as_of, **ctx)).items()
            if fired(checks)}


def test_idle_exactly_one_year_after_the_agreed_start():
    row = _row(agreed_start_date=D("2023-06-30"), survey_date=D("2024-07-01"))
    assert "idle_not_started" not in _fires(row, "2024-06-30")
    assert "idle_not_started" in _fires(row, "2024-07-01")


def test_leap_day_start():
    row = _row(agreed_start_date=D("2020-02-29"), survey_date=D("2021-03-01"))
    assert "idle_not_started" not in _fires(row, "2021-02-28")
    assert "idle_not_started" in _fires(row, "2021-03-01")


def test_survey_must_be_taken_after_the_year():
    row = _row(agreed_start_date=D("2023-06-30"), survey_date=D("2024-06-30"))
    checks = evaluate_parcel(row, RULES, _ctx("2025-01-01"))["idle_not_started"]
    assert not fired(checks)
    assert [c["rule"] for c in checks if not c["passed"]] == ["survey_after_the_year"]


def test_not_supplied_and_no_start_date_are_never_idle():
    assert "idle_not_started" not in _fires(_row(supply_date=None), "2025-01-01")
    assert "idle_not_started" not in _fires(_row(agreed_start_date=None), "2025-01-01")


def test_exemption_covers_only_its_kinds():
    ex = [{"exemption_id": 1, "reason": "政府原因", "kinds": ["idle_not_started"]}]
    assert "idle_not_started" not in _fires(_row(exemptions=ex), "2025-01-01")
    # a started, stalled parcel is still stalled with that exemption
    change = {"P": {"built_before_m2": 1000.0, "built_after_m2": 1000.0,
                    "prev_survey_date": D("2022-05-01"), "prev_survey_id": 0}}
    row = _row(exemptions=ex, built_m2=1000.0, coverage=0.1)
    assert "idle_stalled" in _fires(row, "2025-01-01", change=change)


def test_stalled_needs_no_growth_between_surveys():
    row = _row(built_m2=1000.0, coverage=0.1)
    grew = {"P": {"built_before_m2": 900.0, "built_after_m2": 1000.0,
                  "prev_survey_date": D("2022-05-01"), "prev_survey_id": 0}}
    same = {"P": dict(grew["P"], built_before_m2=990.0)}
    assert "idle_stalled" not in _fires(row, "2025-01-01", change=grew)
    assert "idle_stalled" in _fires(row, "2025-01-01", change=same)
    # without an earlier survey it is unfinished (completion date passed) instead
    assert _fires(row, "2025-01-01") == {"unfinished"}


def test_nothing_unfinished_or_inefficient_before_the_completion_date():
    row = _row(built_m2=1000.0, coverage=0.1, far=0.1, agreed_finish_date=D("2025-01-01"),
               far_min=1.0, owner_classes=["D"], survey_date=D("2025-01-02"))
    assert _fires(row, "2025-01-01") == set()
    assert _fires(row, "2025-01-02") == {"unfinished"}
    healthy_cover = _row(built_m2=5000.0, coverage=0.5, far=0.5, far_min=1.0,
                         agreed_finish_date=D("2025-01-01"), survey_date=D("2025-01-02"))
    # a survey from before the completion date does not show the finished state
    assert _fires(dict(row, survey_date=D("2025-01-01")), "2025-06-01") == set()
    assert _fires(healthy_cover, "2025-01-01") == set()
    # FAR below the 2008 minimum alone is one reason, not a verdict (two are needed) ...
    assert _fires(healthy_cover, "2025-01-02") == set()
    one = load_rules()
    one["inefficient"]["min_reasons"] = 1
    # ... unless a county's file asks for one, and then only after the completion date
    assert _fires(healthy_cover, "2025-01-01", rules=one) == set()
    assert _fires(healthy_cover, "2025-01-02", rules=one) == {"inefficient"}


def test_inefficient_reasons_and_the_forty_percent_option():
    row = _row(built_m2=3500.0, coverage=0.35, far=1.2, far_min=1.0)
    assert "inefficient" not in _fires(row, "2025-01-01")
    strict = load_rules()
    strict["inefficient"]["coverage_min"] = 0.40
    assert "inefficient" not in _fires(row, "2025-01-01", rules=strict)   # one reason
    strict["inefficient"]["min_reasons"] = 1
    assert "inefficient" in _fires(row, "2025-01-01", rules=strict)
    # Huangyan 2022 large firms: benchmark 24.097 万元/mu; 5 is 0.21 of it, 20 is 0.83
    taxed = _row(built_m2=5000.0, coverage=0.5, far=1.2, owner_tax_ratio=[5.0 / 24.097])
    # 0.21 of the benchmark: below half (a reason), not below the floor 0.2 (decisive)
    assert "inefficient" not in _fires(taxed, "2025-01-01")
    assert "inefficient" in _fires(dict(taxed, far_min=1.5), "2025-01-01")  # + FAR: two
    assert "inefficient" in _fires(dict(taxed, owner_tax_ratio=[4.0 / 24.097]), "2025-01-01")
    taxed = dict(taxed, far_min=1.5)
    assert "inefficient" not in _fires(dict(taxed, owner_tax_ratio=[20.0 / 24.097]),
                                       "2025-01-01")
    # two holders: inefficient only when both are below
    assert "inefficient" not in _fires(dict(taxed, owner_tax_ratio=[0.2, 0.9]), "2025-01-01")
    d_class = _row(built_m2=5000.0, coverage=0.5, far=1.2, owner_classes=["D"])
    assert "inefficient" in _fires(d_class, "2025-01-01")
    assert "inefficient" not in _fires(_row(built_m2=5000.0, coverage=0.5, far=1.2,
                                            owner_classes=["D", "B"]), "2025-01-01")


def test_built_unused_needs_buildings_and_no_active_firm():
    row = _row(built_m2=5000.0, coverage=0.5, far=1.5, n_active=0)
    assert "built_unused" in _fires(row, "2025-01-01")
    assert "built_unused" not in _fires(dict(row, n_active=1), "2025-01-01")
    assert "built_unused" not in _fires(dict(row, built_m2=50.0, coverage=0.005), "2025-01-01")
    no_link = dict(row, n_linked=0)
    assert "built_unused" in _fires(no_link, "2025-01-01")
    off = load_rules()
    off["built_unused"]["no_enterprise"] = False
    assert "built_unused" not in _fires(no_link, "2025-01-01", rules=off)


@given(st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2030, 1, 1)),
       st.integers(0, 2000), st.floats(0, 1), st.integers(-400, 400))
def test_property_nothing_idle_inside_the_development_period(start, days, coverage, survey_shift):
    as_of = start + dt.timedelta(days=days)
    row = _row(agreed_start_date=start, supply_date=start - dt.timedelta(days=100),
               coverage=coverage, built_m2=coverage * 10000,
               survey_date=as_of + dt.timedelta(days=survey_shift))
    found = _fires(row, as_of.isoformat())
    if found & {"idle_not_started", "idle_stalled"}:
        assert as_of > period_end(start, 1)
        assert row["survey_date"] > period_end(start, 1)


@pytest.mark.parametrize("code,version,expected", [
    ("3311", "2017", 0.7),      # 2017 division 33 (metal products) <- 2002 division 34
    ("1310", "2017", 1.0),      # agri-food processing, 2002 division 13
    ("3911", "2017", 0.7),      # computers: 2017 division 39 <- 2002 division 40 (1.0)? see crosswalk
    ("26", "2002", 0.6),
    ("5810", "2017", None),     # publishing: not in the table
    (None, "2017", None),
])
def test_far_minimum_through_the_crosswalk(code, version, expected):
    from parcels.industry import crosswalk_2017_to_2002

    table = RULES["inefficient"]["far_min_2002"]
    got = far_minimum(code, version, table)
    if code == "3911":
        olds = crosswalk_2017_to_2002("39")
        expected = min(table[d] for d in olds if d in table)
    assert got == expected


def test_rules_file_errors_name_the_line_and_key(tmp_path):
    bad = tmp_path / "r.yaml"
    bad.write_text("inefficient:\n  coverage_min: 1.5\n", encoding="utf-8")
    with pytest.raises(LandRulesError, match=r"r.yaml, line 2, inefficient.coverage_min: must "
                                             r"be at most 1"):
        load_rules(bad)
    bad.write_text("idle_not_started:\n  enabled: true\n  grace_yeras: 2\n", encoding="utf-8")
    with pytest.raises(LandRulesError, match=r"line 3, idle_not_started.grace_yeras: unknown "
                                             r"key"):
        load_rules(bad)
    bad.write_text("idel:\n  enabled: true\n", encoding="utf-8")
    with pytest.raises(LandRulesError, match="unknown section"):
        load_rules(bad)
    bad.write_text("inefficient:\n  far_min_2002: {13: 1.0}\n", encoding="utf-8")
    with pytest.raises(LandRulesError, match="two-digit division code in quotes"):
        load_rules(bad)
    bad.write_text("priority:\n  weights: {area: -1}\n", encoding="utf-8")
    with pytest.raises(LandRulesError, match=r"priority\.weights\.area: must be at least 0"):
        load_rules(bad)
    bad.write_text("a: [1\n", encoding="utf-8")
    with pytest.raises(LandRulesError, match="not valid YAML"):
        load_rules(bad)
    with pytest.raises(LandRulesError, match="cannot read"):
        load_rules(tmp_path / "missing.yaml")


def test_rules_file_overrides_only_what_it_names(tmp_path):
    f = tmp_path / "county.yaml"
    f.write_text("version: 1\ninefficient:\n  coverage_min: 0.4\npriority:\n"
                 "  locations: {盛泽镇: 1.0}\n", encoding="utf-8")
    rules = load_rules(f)
    assert rules["inefficient"]["coverage_min"] == 0.4
    assert rules["inefficient"]["far_min_2002"]["25"] == 0.5      # untouched default
    assert rules["priority"]["locations"] == {"盛泽镇": 1.0}
    assert rules["source"] == str(f)


def test_a_neighbours_overhang_does_not_start_a_parcel():
    """Sample city: 95 m² of a neighbour's building (29 % of it) reaches 2-6 m over the
    boundary; it is built area but no building of the parcel's own."""
    overhang = _row(built_m2=95.5, coverage=0.0328, n_buildings=0, survey_date=D("2025-06-30"))
    assert _fires(overhang, "2025-06-30") == {"idle_not_started"}
    own = dict(overhang, n_buildings=1)
    assert _fires(own, "2025-06-30") == {"unfinished"}
    gatehouse = dict(own, built_m2=30.0, coverage=0.003)
    assert _fires(gatehouse, "2025-06-30") == {"idle_not_started"}


def test_no_absence_claim_on_a_parcel_the_survey_covers_only_in_part():
    row = _row(survey_full=False, survey_date=D("2024-05-01"))
    assert "idle_not_started" not in _fires(row, "2025-01-01")
    assert "idle_not_started" in _fires(dict(row, survey_full=True), "2025-01-01")
    started = _row(built_m2=1000.0, coverage=0.1, survey_full=False)
    assert "unfinished" not in _fires(started, "2025-01-01")
