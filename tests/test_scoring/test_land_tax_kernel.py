"""The land-tax kernel's invariants on random firms (hypothesis), no database."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring.land_tax import STATUSES, land_tax_table, town_totals

area = st.floats(0, 1e5, allow_nan=False)


@st.composite
def county(draw):
    n = draw(st.integers(1, 12))
    codes = [f"c{i:02d}" for i in range(n)]
    occupied = draw(st.lists(st.one_of(st.none(), area), min_size=n, max_size=n))
    land = pd.DataFrame({"credit_code": [c for c, a in zip(codes, occupied, strict=True) if a is not None],
                         "occupied_m2": [a for a in occupied if a is not None]})
    rows = []
    for c in codes:
        for grade in draw(st.sets(st.sampled_from(["一级", "二级", ""]), max_size=2)):
            rows.append((c, grade, draw(st.floats(1, 1e5)), draw(st.floats(0, 30))))
    base = pd.DataFrame(rows, columns=["credit_code", "land_grade", "taxable_area_m2",
                                       "unit_tax"])
    firms = pd.DataFrame({"credit_code": codes, "name": codes,
                          "town": draw(st.lists(st.sampled_from(["东城", "西城"]),
                                                min_size=n, max_size=n))})
    return land, base, firms


@settings(max_examples=60, deadline=None)
@given(county())
def test_findings_and_totals_agree(c):
    land, base, firms = c
    t = land_tax_table(land, base, firms)
    assert set(t["credit_code"]) == set(land["credit_code"]) | set(base["credit_code"])
    assert set(t["status"]) <= set(STATUSES)
    d = t["occupied_m2"] - t["taxed_m2"]
    slack = 0.01 * np.maximum(t["occupied_m2"], t["taxed_m2"]) + 0.02
    st_ = t["status"]
    registered = t["credit_code"].isin(base["credit_code"])
    occupied = t["credit_code"].map(land.groupby("credit_code")["occupied_m2"].sum()).fillna(0)
    assert (st_.eq("unregistered") == (~registered & (occupied > 0))).all()
    assert (d[st_ == "untaxed_land"] > 0).all() and (d[st_ == "over_taxed"] < 0).all()
    assert (d[st_ == "matched"].abs() <= slack[st_ == "matched"]).all()
    priced = t["unit_rate"].notna()
    p = t[priced]                   # figures are rounded: areas to 0.01, rates to 0.0001
    gap = (p["tax_difference_yuan"] - p["area_difference_m2"] * p["unit_rate"]).abs()
    assert (gap <= 0.01 + 1e-4 * p["area_difference_m2"].abs() + 0.01 * p["unit_rate"]).all()
    own = t["rate_source"] == "own"
    assert (own == registered).all()
    towns = town_totals(t)
    total = towns.iloc[-1]
    assert total["town"] == "合计" and total["firms"] == len(t)
    assert total[list(STATUSES)].sum() == len(t)
    assert total["taxed_m2"] == pytest.approx(base["taxable_area_m2"].sum(), rel=1e-6, abs=0.1)
    body = towns.iloc[:-1]
    for col in ("occupied_m2", "tax_missing_yuan", "tax_excess_yuan"):
        assert body[col].sum() == pytest.approx(total[col], rel=1e-6, abs=0.1)
    assert (towns["tax_missing_yuan"] >= -1e-9).all() and (towns["tax_excess_yuan"] >= -1e-9).all()
