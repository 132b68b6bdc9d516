"""Hostile rule sets and adjustment lists (issue 19, findings 4, 23 and 24).

Formulas of absurd size, depth or exponent are refused with the rule-set line instead of
a traceback (`score check` through the installed console script, `score` in process);
bonus and penalty points must be finite and within the rule set's ``max_points``, and a
bad row names its file and row, stores no run.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring.adjustments import read_adjustments
from scoring.errors import AdjustmentError, FormulaError
from scoring.formula import LIMITS, FormulaProblem, compile_formula
from scoring.ruleset import parse_ruleset
from tests.cli_runner import fetch, mujun_process
from tests.cli_runner import run_mujun as run
from tests.test_scoring.county import Firm, load_county, make_firms, mujun

HOSTILE = {
    "huge exponent": "tax_wan ** 99999999999",
    "100,000 signs": "-" * 100_000 + "tax_wan",
    "20,000 terms": " + ".join(["tax_wan"] * 20_000),
    "150 nested calls": "abs(" * 150 + "tax_wan" + ")" * 150,
    "many terms, short text": "+".join(["1"] * 450),
}


def _ruleset(formula: str) -> str:
    return ("name: hostile\n"
            "indicators:\n"
            f"  tax_per_mu: {{formula: '{formula}', unit: 万元/mu}}\n"
            "populations:\n"
            "  large:\n"
            "    items:\n"
            "      tax_per_mu: {weight: 100, benchmark: 20}\n"
            "classes: {method: quota, quotas: {A: 0.2, B: 0.4, C: 0.3, D: 0.1}}\n")


@pytest.mark.parametrize("formula", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_formulas_are_refused_with_the_rule_set_line(formula):
    with pytest.raises(FormulaProblem):
        compile_formula(formula)
    with pytest.raises(FormulaError) as info:
        parse_ruleset(_ruleset(formula), source="county.yaml")
    assert info.value.line == 3 and info.value.key == "indicators.tax_per_mu.formula"
    assert len(str(info.value)) < 400                      # the formula is shortened


def test_formulas_within_the_limits_still_work():
    f = compile_formula("-(-(tax_wan ** 2)) / land_mu ** 2 + "
                        + " + ".join(["tax_wan ** 2 / land_mu ** 2"] * 30))
    assert f.unit.describe() == "money^2/area^2"
    assert compile_formula("tax_wan ** -1").unit.describe() == "1/money"
    with pytest.raises(FormulaProblem, match="from -6 to 6"):
        compile_formula(f"tax_wan ** {LIMITS['exponent'] + 1}")


@settings(max_examples=60, deadline=None)
@given(st.integers(-10 ** 12, 10 ** 12), st.integers(0, 300))
def test_property_any_exponent_or_nesting_gives_a_formula_or_a_clear_problem(n, depth):
    for text in (f"tax_wan ** {n}", "-" * depth + "(" * depth + "tax_wan" + ")" * depth):
        try:
            f = compile_formula(text)
        except FormulaProblem:
            continue
        out = f.evaluate({"tax_wan": np.array([2.0, 0.0, np.nan])})
        assert out.shape == (3,) and not np.isinf(out).any()


@pytest.mark.parametrize("name", ["huge exponent", "100,000 signs", "20,000 terms"])
def test_score_check_through_the_console_script_names_the_line(tmp_path, name):
    path = tmp_path / "county.yaml"
    path.write_text(_ruleset(HOSTILE[name]), encoding="utf-8")
    proc = mujun_process("score", "check", str(path), timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and f"{path}, line 3, indicators.tax_per_mu.formula" in lines[0]


# ------------------------------------------------------------------ adjustment points
def _list(path, points: str, kind: str = "加分", code: str = "91331003HY0001XY00"):
    path.write_text(f"统一社会信用代码,类型,分值,原因\n{code},{kind},{points},测试\n",
                    encoding="utf-8")
    return path


@pytest.mark.parametrize("points", ["1e30", "inf", "-inf", "nan", "Infinity", "25"])
def test_points_must_be_finite_and_within_max_points(tmp_path, points):
    with pytest.raises(AdjustmentError, match=r"bonus\.csv, 第 2 行: 加分"):
        read_adjustments([_list(tmp_path / "bonus.csv", points)], max_points=20.0)


def test_max_points_comes_from_the_rule_set(tmp_path):
    text = _ruleset("tax_wan / land_mu")
    assert parse_ruleset(text).adjustments.max_points == 20.0          # the default
    rs = parse_ruleset(text + "adjustments: {max_points: 30}\n")
    assert rs.adjustments.max_points == 30.0
    ok = read_adjustments([_list(tmp_path / "a.csv", "25", "扣分")], max_points=30.0)
    assert ok["points"].tolist() == [25.0]
    with pytest.raises(Exception, match=r"line 9, adjustments\.max_points: must be at most 100"):
        parse_ruleset(text + "adjustments: {max_points: 1.0e+30}\n", source="county.yaml")


@pytest.fixture
def small_county(tmp_path, db_dsn, monkeypatch, capsys):
    def rec(tax):
        return {"tax_wan": tax, "revenue_wan": 10 * tax, "electricity_kwh": 1e5}
    fs = make_firms([Firm(k, True, mu, {2021: rec(t), 2022: rec(t * 1.1)})
                     for k, mu, t in (("甲", 10, 100), ("乙", 20, 80), ("丙", 5, 50),
                                      ("丁", 8, 90), ("戊", 6, 10))])
    occ = load_county(tmp_path, fs, monkeypatch, db_dsn, capsys, occupancy_year=2022)
    return fs, occ


@pytest.mark.postgis
@pytest.mark.parametrize("points", ["1e30", "inf"])
def test_score_refuses_an_absurd_bonus_and_stores_nothing(small_county, tmp_path, db_conn,
                                                          db_dsn, monkeypatch, capsys, points):
    fs, occ = small_county
    adj = _list(tmp_path / "加减分.csv", points, code=fs[0].code)
    code, _out, err = run(["score", "--ruleset", "jiangsu-huaian-2024", "--year", "2022",
                           "--occupancy-run", str(occ), "--adjustments", str(adj)],
                          monkeypatch, db_dsn, capsys)
    assert code == 3, err
    assert "加减分.csv, 第 2 行: 加分" in err and "json" not in err and "Traceback" not in err
    assert fetch(db_conn, "SELECT count(*) FROM run WHERE kind = 'score'")[0][0] == 0
    # within the bound it scores, and the bonus is in the stored total
    adj = _list(tmp_path / "加减分.csv", "3", code=fs[0].code)
    out = mujun(["score", "--ruleset", "jiangsu-huaian-2024", "--year", "2022",
                 "--occupancy-run", occ, "--adjustments", adj, "--json"],
                monkeypatch, db_dsn, capsys)
    run_id = json.loads(out)["run_id"]
    rules = fetch(db_conn, "SELECT rules_fired FROM enterprise_score WHERE run_id = %s AND"
                           " credit_code = %s", (run_id, fs[0].code))[0][0]
    assert any(r["rule"] == "adjustment" and "bonus 3" in r["detail"] for r in rules)


def test_overflowing_scores_are_missing_and_the_summary_is_valid_json():
    """Finding 24's cause: an infinite total reached the run summary, stored as JSON."""
    from scoring.kernel import score_year
    from scoring.records import build_rows
    from scoring.run import summarize
    from tests.test_scoring.test_kernel import frame, ruleset

    rs = ruleset(item="{weight: 100, benchmark: 0.001}")
    f = frame(4, tax=[1.5e308, 10.0, 20.0, 30.0], land_mu=1.0)
    result = score_year(rs, f, 2024)
    assert np.isfinite(result.frame["total"]).all()
    assert result.items[("large", "tax_per_mu")]["rule"][0] == "missing:zero"
    rows = build_rows(rs, f.assign(name="x", role="owner", parcel_codes="p"), result,
                      year=2024, occupancy_run=1, occupancy_params={}, prev=None,
                      prev_run=None)
    import pandas as pd
    summary = summarize(rows, pd.DataFrame({"kind": []}), rs, result)
    json.dumps(summary, allow_nan=False)                   # raises on inf or nan
    for text in rows["items"]:
        json.loads(text)
