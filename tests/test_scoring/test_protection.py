"""The protection period (保护期): firms scored and listed, but neither classed nor ranked."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scoring.errors import RuleSetError
from scoring.kernel import score_year
from scoring.records import build_rows
from tests.test_scoring.test_kernel import frame, ruleset

QUOTAS = "method: quota\nquotas: {A: 0.2, B: 0.4, C: 0.3, D: 0.1}"


def test_young_firms_are_listed_with_a_total_but_no_class_or_rank():
    rs = ruleset(QUOTAS, extra="protection:\n  years_after_start: 2\n")
    established = [pd.Timestamp("2010-01-01")] * 10 + [pd.Timestamp("2023-03-01")] * 2
    f = frame(12, tax=np.arange(1, 13) * 10.0, established_date=established)
    out = score_year(rs, f, 2024).frame
    young = out.iloc[10:]
    assert young["class"].isna().all() and young["total"].notna().all()
    assert young["rank_county"].isna().all()
    assert young["protection"].str.contains("established 2023-03-01").all()
    # the quotas are met among the ten others: 2 A, 4 B, 3 C, 1 D
    assert out.iloc[:10]["class"].value_counts().to_dict() == {"B": 4, "C": 3, "A": 2, "D": 1}
    assert sorted(out.iloc[:10]["rank_county"].tolist()) == list(range(1, 11))
    # the best total belongs to a protected firm, yet A goes to the best of the others
    assert out["total"].idxmax() == 11 and out.loc[9, "class"] == "A"


def test_first_year_above_scale_needs_the_previous_run():
    rs = ruleset(QUOTAS, extra="protection:\n  first_year_above_scale: true\n")
    f = frame(6, tax=[10.0, 20, 30, 40, 50, 60])
    f["prev_large"] = pd.Series([True, True, True, False, None, True], dtype=object)
    out = score_year(rs, f, 2024).frame
    assert out["protection"].ne("").tolist() == [False, False, False, True, False, False]
    assert pd.isna(out.loc[3, "class"]) and "first year above scale" in out.loc[3, "protection"]
    # without the previous run's answer nobody is protected
    assert (score_year(rs, f.drop(columns="prev_large"), 2024).frame["protection"] == "").all()


def test_a_veto_wins_over_protection_and_the_stored_rows_say_why():
    rs = ruleset(QUOTAS, extra="protection:\n  years_after_start: 5\n")
    f = frame(4, tax=[10.0, 20, 30, 40],
              established_date=[pd.Timestamp("2022-01-01")] * 2 + [pd.Timestamp("2000-01-01")] * 2)
    adj = pd.DataFrame({"credit_code": [f["credit_code"][0]], "kind": ["veto"], "points": [0.0],
                        "reason": ["安全事故"]})
    result = score_year(rs, f, 2024, adj)
    assert result.frame.loc[0, "class"] == "D" and result.frame.loc[0, "protection"] == ""
    assert pd.isna(result.frame.loc[1, "class"])
    inputs = f.assign(name="x", role="owner", parcel_codes="p")
    rows = build_rows(rs, inputs, result, year=2024, occupancy_run=1, occupancy_params={},
                      prev=None, prev_run=None)
    import json
    fired = json.loads(rows.loc[1, "rules_fired"])
    assert {"rule": "protection", "detail": result.frame.loc[1, "protection"]} in fired
    assert any(r["rule"] == "class" and r["detail"].startswith("protection period")
               for r in fired)


def test_the_option_is_validated():
    with pytest.raises(RuleSetError, match=r"protection\.years_after_start: must be at most 20"):
        ruleset(QUOTAS, extra="protection:\n  years_after_start: 99\n")
    with pytest.raises(RuleSetError, match="did you mean 'first_year_above_scale'"):
        ruleset(QUOTAS, extra="protection:\n  first_year_above_scal: true\n")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.booleans(), min_size=1, max_size=40), st.integers(0, 10_000))
def test_property_protected_firms_never_change_the_others_classes(protected, seed):
    """Classing the others with the protected firms present equals classing them alone."""
    rs = ruleset(QUOTAS, extra="protection:\n  years_after_start: 3\n")
    n = len(protected)
    est = [pd.Timestamp("2023-06-01") if p else pd.Timestamp("2001-01-01") for p in protected]
    f = frame(n, seed=seed, established_date=est)
    full = score_year(rs, f, 2024).frame
    keep = ~np.asarray(protected)
    alone = score_year(rs, f[keep].reset_index(drop=True), 2024).frame
    assert full.loc[keep, "class"].tolist() == alone["class"].tolist()
    assert full.loc[~keep, "class"].isna().all()


@pytest.mark.postgis
def test_protected_firms_through_score_explain_and_export(tmp_path, db_conn, db_dsn,
                                                          monkeypatch, capsys):
    import json

    import openpyxl

    from tests.cli_runner import fetch
    from tests.test_scoring.county import Firm, load_county, make_firms, mujun

    def rec(tax):
        return {"tax_wan": tax, "revenue_wan": 10 * tax, "electricity_kwh": 1e5}
    fs = make_firms([Firm(f"企业{i}", True, 10.0, {2022: rec(10 * i)},
                          established="2022-03-01" if i == 10 else "2005-01-01")
                     for i in range(1, 11)])
    occ = load_county(tmp_path, fs, monkeypatch, db_dsn, capsys, occupancy_year=2022)
    rules = tmp_path / "county.yaml"
    rules.write_text("name: county\nindicators:\n  tax_per_mu: {formula: tax_wan / land_mu, "
                     "unit: 万元/mu}\npopulations:\n  large:\n    size_class: [large]\n"
                     "    items:\n      tax_per_mu: {weight: 100, benchmark: 10}\n"
                     f"classes:\n  {QUOTAS.replace(chr(10), chr(10) + '  ')}\n"
                     "protection:\n  years_after_start: 1\n", encoding="utf-8")
    s = json.loads(mujun(["score", "--ruleset", rules, "--year", "2022", "--occupancy-run",
                          occ, "--json"], monkeypatch, db_dsn, capsys))
    assert s["protection"] == 1
    young = fs[9].code                                   # the best tax per mu of all
    row = fetch(db_conn, "SELECT class, total, rank_county FROM enterprise_score"
                         " WHERE run_id = %s AND credit_code = %s", (s["run_id"], young))[0]
    assert row[0] is None and row[1] > 0 and row[2] is None
    assert fetch(db_conn, "SELECT count(*) FROM enterprise_score WHERE run_id = %s"
                          " AND class = 'A'", (s["run_id"],))[0][0] == 2
    text = mujun(["score", "explain", young], monkeypatch, db_dsn, capsys)
    assert "档次 -（保护期）" in text and "成立于 2022-03-01，至 2022 年末不满 1 年" in text
    xlsx = tmp_path / "scores.xlsx"
    mujun(["score", "export", "-o", xlsx], monkeypatch, db_dsn, capsys)
    ws = openpyxl.load_workbook(xlsx).active
    header = [c.value for c in ws[1]]
    got = {r[header.index("统一社会信用代码")]: r for r in ws.iter_rows(min_row=2, values_only=True)}
    assert "成立于 2022-03-01" in got[young][header.index("保护期（列示不评级）")]
    assert got[young][header.index("最终等级")] in (None, "")
