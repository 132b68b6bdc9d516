"""The scoring kernel on synthetic frames: quotas, ties, T, veto, benchmark methods, properties."""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gis.crs import SQM_PER_MU
from scoring.errors import ScoreRunError
from scoring.kernel import score_year
from scoring.ruleset import load_ruleset, parse_ruleset

FIELDS = ("tax_wan", "revenue_wan", "value_added_wan", "energy_tce", "electricity_kwh",
          "rd_wan", "employees", "emissions_t")


def frame(n, *, tax=None, land_mu=10.0, size="large", town="东镇", seed=0, **cols):
    rng = np.random.default_rng(seed)
    f = pd.DataFrame({
        "credit_code": [f"91330000TEST{i:05d}X" for i in range(n)],
        "size_class": size, "town": town, "district": None, "industry_division": "34",
        "is_utility": False, "status": "active",
        "established_date": pd.Timestamp("2010-01-01"), "supply_date": pd.Timestamp("2008-01-01"),
        "land_m2": np.asarray(land_mu, dtype=float) * SQM_PER_MU * np.ones(n), "floor_m2": 5000.0,
    })
    for fld in FIELDS:
        f[fld] = rng.uniform(10, 1000, n)
        f["prev_" + fld] = rng.uniform(10, 1000, n)
    if tax is not None:
        f["tax_wan"] = np.asarray(tax, dtype=float)
    for k, v in cols.items():
        f[k] = v
    return f


def ruleset(classes: str = "method: quota\nquotas: {A: 0.2, B: 0.4, C: 0.35, D: 0.05}",
            item: str = "{weight: 100, benchmark: 10}", extra: str = ""):
    template = textwrap.dedent("""\
        name: t
        indicators:
          tax_per_mu: {formula: tax_wan / land_mu, unit: 万元/mu}
        populations:
          large:
            size_class: [large]
            items:
              tax_per_mu: ITEM
          small:
            size_class: [small, unknown]
            min_land_mu: 3
            items:
              tax_per_mu: {weight: 100, benchmark: 5}
        classes:
          CLASSES
        """)
    return parse_ruleset(template.replace("ITEM", item)
                         .replace("CLASSES", classes.replace("\n", "\n  ")) + extra)


def counts(result):
    return result.frame["class"].value_counts().to_dict()


def test_quotas_are_met_exactly_with_ties_broken_by_the_stated_rule():
    tax = [100.0] * 12 + [50.0] * 8           # 12 firms tie at the top, 8 at the bottom
    r = score_year(ruleset(), frame(20, tax=tax), 2022)
    assert counts(r) == {"A": 4, "B": 8, "C": 7, "D": 1}
    f = r.frame.assign(tax=tax)
    # within a tie, the smaller credit code comes first (tie_break default: credit_code)
    top = f[f["tax"] == 100.0].sort_values("credit_code")
    assert top["class"].tolist() == ["A"] * 4 + ["B"] * 8
    assert top["rank_county"].tolist() == list(range(1, 13))
    # ties: shared -> equal totals share the better class, quota exceeded on purpose
    shared = ruleset("method: quota\nquotas: {A: 0.2, B: 0.4, C: 0.35, D: 0.05}\n"
                     "ties: shared")
    r2 = score_year(shared, frame(20, tax=tax), 2022)
    assert counts(r2) == {"A": 12, "C": 8}


@pytest.mark.parametrize("n", [1, 2, 3, 7, 19, 20, 101])
def test_quota_boundaries_round_half_up_on_cumulative_shares(n):
    r = score_year(ruleset(), frame(n, tax=np.arange(n, 0, -1.0)), 2022)
    c = counts(r)
    a = int(np.floor(n * 0.2 + 0.5))
    b = int(np.floor(n * 0.6 + 0.5)) - a
    d = n - int(np.floor(n * 0.95 + 0.5))
    assert (c.get("A", 0), c.get("B", 0), c.get("D", 0)) == (a, b, d)
    assert sum(c.values()) == n


def test_quotas_within_town_and_cutoffs():
    tax = np.r_[np.arange(10, 0, -1.0) * 10, np.arange(10, 0, -1.0)]
    f = frame(20, tax=tax, town=["东镇"] * 10 + ["西镇"] * 10)
    by_town = ruleset("method: quota\nwithin: town\nquotas: {A: 0.2, B: 0.4, C: 0.3, D: 0.1}")
    r = score_year(by_town, f, 2022)
    for town in ("东镇", "西镇"):
        sel = r.frame[f["town"] == town]
        assert sel["class"].value_counts().to_dict() == {"A": 2, "B": 4, "C": 3, "D": 1}
        assert sorted(sel["rank_town"]) == list(range(1, 11))
    cut = ruleset("method: cutoff\ncutoffs: {A: 90, B: 60, C: 30}")
    r = score_year(cut, frame(4, tax=[95.0, 90.0, 59.9, 10.0]), 2022)   # benchmark 10 -> total = tax
    assert r.frame["class"].tolist() == ["A", "A", "C", "D"]


def test_class_t_rules_and_veto():
    rs = load_ruleset("jiangsu-huaian-2024")
    f = frame(8, tax=[500.0] * 8)
    f.loc[0, "industry_division"] = "44"
    f.loc[1, "is_utility"] = True
    f.loc[2, "established_date"] = pd.Timestamp("2021-09-01")      # 1.3 years at end of 2022
    f.loc[3, "supply_date"] = pd.Timestamp("2020-06-01")           # 2.6 < 3 years
    f.loc[4, "status"] = "relocated"
    adj = pd.DataFrame({"credit_code": [f.loc[5, "credit_code"], f.loc[6, "credit_code"],
                                        f.loc[7, "credit_code"]],
                        "kind": ["veto", "bonus", "exempt"], "points": [0.0, 3.0, 0.0],
                        "reason": ["安全事故", "高新技术企业", "搬迁"]})
    r = score_year(rs, f, 2022, adj).frame
    assert r["class"].tolist()[:5] == ["T"] * 5
    assert "division 44" in r.loc[0, "t_reason"] and "producing < 2" in r.loc[2, "t_reason"]
    assert "construction period" in r.loc[3, "t_reason"] and r.loc[4, "t_reason"] == "relocated"
    assert r.loc[5, "class"] == "D" and "安全事故" in r.loc[5, "class_rule"]
    assert r.loc[7, "class"] == "T" and "搬迁" in r.loc[7, "t_reason"]
    # the only ranked firm: boundaries round(1 × 0.2) = 0 for A, round(1 × 0.6) = 1 for B
    assert r.loc[6, "bonus"] == 3.0 and r.loc[6, "class"] == "B"
    assert r.loc[6, "total"] == pytest.approx(
        score_year(rs, f, 2022, adj[adj["kind"] != "bonus"]).frame.loc[6, "total"] + 3.0)
    assert r.loc[:4, "total"].isna().all()
    # a young firm without a registration date is not deferred by age
    f.loc[2, "established_date"] = pd.NaT
    assert score_year(rs, f, 2022, adj).frame.loc[2, "class"] != "T"


def test_benchmark_methods_direction_limits_and_missing():
    f = frame(4, tax=[10.0, 20.0, 40.0, np.nan])
    mm = ruleset(item="{weight: 50, benchmark: {method: min_max, floor: 20}}")
    s = score_year(mm, f, 2022).items[("large", "tax_per_mu")]["score"]
    # 50 × (20 + 80 × (x − 1)/(4 − 1)) / 100 on tax/mu 1, 2, 4; missing -> 0
    assert s == pytest.approx([10.0, 50 * (20 + 80 / 3) / 100, 50.0, 0.0])
    best = ruleset(item="{weight: 10, benchmark: best}")
    assert score_year(best, f, 2022).frame["total"].tolist()[:3] == pytest.approx([2.5, 5, 10])
    avg = ruleset(item="{weight: 10, benchmark: {method: population_average, k: 2}, "
                       "missing: {penalty: -3}}")
    r = score_year(avg, f, 2022)
    mean = (1 + 2 + 4) / 3
    assert r.benchmarks[("large", "tax_per_mu")]["value"] == pytest.approx(2 * mean)
    assert r.frame["total"].tolist() == pytest.approx([1 / (2 * mean) * 10, 2 / (2 * mean) * 10,
                                                       4 / (2 * mean) * 10, -3.0])
    low = ruleset(item="{weight: 10, benchmark: 2, direction: lower, cap: {points: 12}}")
    # lower is better: (2 − x/b) × w/2, zero at twice the benchmark; capped at 12 points
    assert score_year(low, f, 2022).frame["total"].tolist()[:3] == pytest.approx([7.5, 5, 0])
    capped = ruleset(item="{weight: 10, benchmark: 1, cap: {times_weight: 1.5}, floor: 12}")
    got = score_year(capped, f, 2022).items[("large", "tax_per_mu")]
    assert got["score"][:3] == pytest.approx([12.0, 15.0, 15.0])
    assert list(got["rule"][:3]) == ["floor", "cap", "cap"]


def test_previous_average_needs_last_years_data():
    rs = load_ruleset("jiangsu-huaian-2024")
    f = frame(10)
    r = score_year(rs, f, 2022)
    prev_tax_mu = (f["prev_tax_wan"] / 10.0).mean()
    assert r.benchmarks[("large", "tax_per_mu")]["value"] == pytest.approx(2 * prev_tax_mu)
    f[[c for c in f if c.startswith("prev_")]] = np.nan
    with pytest.raises(ScoreRunError, match="previous year"):
        score_year(rs, f, 2022)


def test_population_thresholds():
    rs = load_ruleset("jiangsu-huaian-2024")
    f = frame(4, size="small", land_mu=[2.0, 3.0, 2.0, 0.0], floor_m2=[1000, 0, 3500, 9000])
    r = score_year(rs, f, 2022).frame
    assert r["population"].tolist() == [None, "small", "small", None]
    assert "below 3 mu and 3000 m² floor area" in r.loc[0, "not_evaluated"]
    assert r.loc[3, "not_evaluated"] == "no occupied land in the occupancy run"


# ----------------------------------------------------------------- properties
HUANGYAN = load_ruleset("zhejiang-huangyan-2022")

firm_data = st.lists(
    st.tuples(st.floats(0, 5000), st.floats(0.5, 80), st.sampled_from(["large", "small"]),
              st.floats(1e3, 1e7), st.sampled_from(["东镇", "西镇"])),
    min_size=1, max_size=40)


def _frame_from(data):
    f = frame(len(data), tax=[d[0] for d in data], land_mu=[d[1] for d in data],
              size=[d[2] for d in data], town=[d[4] for d in data])
    f["electricity_kwh"] = [d[3] for d in data]
    return f


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(firm_data, st.integers(0, 39), st.floats(0.01, 5000))
def test_more_tax_never_lowers_a_score_under_fixed_benchmarks(data, who, extra):
    f = _frame_from(data)
    i = who % len(f)
    before = score_year(HUANGYAN, f, 2022).frame.loc[i, "total"]
    f.loc[i, "tax_wan"] += extra
    after = score_year(HUANGYAN, f, 2022).frame.loc[i, "total"]
    if np.isnan(before):
        assert np.isnan(after)
    else:
        assert after >= before - 1e-9


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(firm_data, st.randoms(use_true_random=False))
def test_class_counts_add_up_and_order_does_not_matter(data, rnd):
    f = _frame_from(data)
    r = score_year(HUANGYAN, f, 2022).frame
    in_pop = r["population"].notna()
    assert r.loc[in_pop, "class"].notna().all() and r.loc[~in_pop, "class"].isna().all()
    for pop in ("large", "small"):
        sel = r[r["population"] == pop]
        assert sum(sel["class"].value_counts()) == len(sel)
    perm = list(range(len(f)))
    rnd.shuffle(perm)
    r2 = score_year(HUANGYAN, f.iloc[perm], 2022).frame.set_index("credit_code")
    r1 = r.set_index("credit_code").loc[r2.index]
    assert np.allclose(r1["total"].astype(float), r2["total"].astype(float), equal_nan=True)
    assert (r1["class"].fillna("-") == r2["class"].fillna("-")).all()
    assert (r1["rank_county"].fillna(0) == r2["rank_county"].fillna(0)).all()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(firm_data)
def test_min_max_items_stay_between_floor_and_weight(data):
    rs = load_ruleset("anhui-jingde-2022")
    f = _frame_from(data)
    r = score_year(rs, f, 2022)
    for p in rs.populations:
        sel = (r.frame["population"] == p.name).to_numpy() & (r.frame["class"] != "T").to_numpy()
        for it in p.items:
            s = r.items[(p.name, it.name)]["score"][sel]
            rule = r.items[(p.name, it.name)]["rule"][sel]
            valued = rule == "value"
            assert (s[valued] >= it.weight * 0.2 - 1e-9).all()
            assert (s[valued] <= it.weight + 1e-9).all()
            assert (s[~valued] == 0).all()                     # missing: zero
