"""The policy kernel, pure: exact amounts against a Decimal recomputation, classes, months."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import hypothesis.strategies as st
import numpy as np
import pandas as pd
from hypothesis import given, settings

from scoring.policy.kernel import apply_policy, round_div
from scoring.policy.model import Period, month_index
from scoring.policy.ruleset import parse_policy

RULES = """
name: t
year: 2020
period: {start: 2020-01, end: 2020-12}
derived_classes:
  C-: {within: C, rate_of: D, factor: 0.5, lowest_share: 0.5}
exempt: {classes: [T], industries: ['44']}
phase_in: {small: 2020-10}
items:
  power: {kind: electricity, rates: {D: %(rate)s, A: -0.013}}
  tax: {kind: land_tax, rates: {D: 0.3, A: -1.0}}
  energy: {kind: energy_quota, source: records, rates: {D: -0.2}}
flags:
  D: [no_land_auction]
"""


def _ents(classes, totals=None, sizes=None, industries=None, adjusted=None):
    n = len(classes)
    return pd.DataFrame({
        "credit_code": [f"C{i:03d}" for i in range(n)], "name": "n", "town": "t",
        "district": None, "industry_division": industries or ["33"] * n,
        "size_class": sizes or ["large"] * n, "population": "large",
        "total": totals or list(range(n)), "score_class": classes,
        "adjusted_class": adjusted or [None] * n})


def _empty_records():
    return pd.DataFrame({"credit_code": [], "year": [], "electricity_kwh": [],
                         "energy_tce": [], "emissions_t": []})


def _half_up(d: Decimal) -> int:
    return int(d.quantize(Decimal(1), ROUND_HALF_UP))


def test_round_div_is_half_away_from_zero():
    nums = np.array([25, -25, 24, -24, 26, 0, 10**30 + 5], dtype=object)
    assert list(round_div(nums, 10)) == [3, -3, 2, -2, 3, 0, 10**29 + 1]


@settings(max_examples=60, deadline=None)
@given(rate=st.decimals(min_value=Decimal("0.001"), max_value=Decimal("9.999"), places=3),
       months=st.lists(st.tuples(st.integers(1, 12), st.integers(0, 10**12)), min_size=1,
                       max_size=12, unique_by=lambda t: t[0]),
       annual=st.integers(0, 10**13), start=st.integers(1, 12), length=st.integers(1, 24),
       due=st.integers(1, 10**12))
def test_amounts_equal_a_decimal_recomputation(rate, months, annual, start, length, due):
    rs = parse_policy(RULES % {"rate": rate}, source="t")
    first = month_index(2020, start)
    period = Period(first, first + length - 1)
    q = pd.DataFrame(
        [("C000", "electricity", "M", 2020, m, v) for m, v in months]
        + [("C000", "electricity", "M", 2020, 0, annual),
           ("C000", "electricity", "Y", 2021, 0, annual)],
        columns=["credit_code", "kind", "account_no", "year", "month", "quantity_milli"])
    tax = pd.DataFrame({"credit_code": ["C000"], "due_e4": [due]})
    res = apply_policy(rs, _ents(["D"]), q, tax, _empty_records(), period=period)
    lines = res.lines.set_index("item")
    # by hand: monthly rows of 2020 in force; the annual 2020 row is ignored (monthly rows
    # exist for that account-year), the 2021 one counts its months in force / 12
    want_q = sum((Decimal(v) for m, v in months if period.start <= month_index(2020, m)
                  <= period.end), Decimal(0))
    in_2021 = max(0, min(period.end, month_index(2021, 12)) - max(period.start,
                                                                   month_index(2021, 1)) + 1)
    # an account-year with only an annual quantity counts months/12 of it (whole thousandths)
    want_q += _half_up(Decimal(annual) * in_2021 / 12)
    assert lines.at["power", "base_milli"] == want_q
    assert lines.at["power", "amount_fen"] == _half_up(want_q / 1000 * rate * 100)
    m = period.months
    assert lines.at["tax", "amount_fen"] == _half_up(Decimal(due) / 10000 * Decimal("0.3")
                                                     * m / 12 * 100)
    assert lines.at["power", "months"] == m


def test_classes_in_force_derived_adjusted_exempt_and_flags():
    rs = parse_policy(RULES % {"rate": "0.2"}, source="t")
    ents = _ents(["C", "C", "C", "C", "D", "T", "D", "A"], totals=[5, 1, 3, 2, 0, None, 0, 9],
                 industries=["33"] * 6 + ["44", "33"],
                 adjusted=[None, None, None, None, None, None, None, "D"])
    q = pd.DataFrame({"credit_code": [f"C{i:03d}" for i in range(8)], "kind": "electricity",
                      "account_no": [f"A{i}" for i in range(8)], "year": 2020, "month": 0,
                      "quantity_milli": 1_000_000})
    res = apply_policy(rs, ents, q, pd.DataFrame({"credit_code": [], "due_e4": []}),
                       _empty_records())
    e = res.enterprises.set_index("credit_code")
    # lowest half of C by total (1 and 2 of 5, 1, 3, 2): C001 and C003 are C-
    assert e["class"].tolist() == ["C", "C-", "C", "C-", "D", "T", "D", "D"]
    assert e.loc["C007", "adjusted"] and not e.loc["C000", "adjusted"]
    assert e.loc["C005", "exempt_reason"] == "exempt_class"
    assert e.loc["C006", "exempt_reason"] == "exempt_industry"
    assert e.loc["C004", "flags"] == ("no_land_auction",) and e.loc["C006", "flags"] == ()
    power = res.lines[res.lines["item"] == "power"].set_index("credit_code")
    assert power["amount_fen"].to_dict() == {"C001": 10000, "C003": 10000, "C004": 20000,
                                             "C007": 20000}
    # land tax and energy apply to D but nobody has a base: lines without amounts, warnings
    tax = res.lines[res.lines["item"] == "tax"]
    assert tax["amount_fen"].isna().all() and sorted(tax["credit_code"]) == [
        "C001", "C003", "C004", "C007"]
    assert {"item": "tax", "code": "no_land_tax_base"} in e.loc["C004", "warnings"]
    assert {"item": "energy", "code": "no_last_year_use"} in e.loc["C004", "warnings"]


def test_phase_in_and_unset_parameters():
    text = (RULES % {"rate": "gas_d"}) + "parameters:\n  gas_d: {unit: 元/千瓦时}\n"
    rs = parse_policy(text, source="t")
    ents = _ents(["D", "D"], sizes=["large", "small"])
    tax = pd.DataFrame({"credit_code": ["C000", "C001"], "due_e4": [120_000, 120_000]})
    res = apply_policy(rs, ents, pd.DataFrame(columns=["credit_code", "kind", "account_no",
                                                       "year", "month", "quantity_milli"]),
                       tax, _empty_records())
    assert not (res.lines["item"] == "power").any()      # the parameter is not set
    assert res.notes == [{"code": "parameter_unset", "item": "power", "classes": ["D"],
                          "parameters": ["gas_d"]}]
    t = res.lines[res.lines["item"] == "tax"].set_index("credit_code")
    # 12.00 元 a year × 0.3: 12 months for 规上, October-December for 规下
    assert t["months"].to_dict() == {"C000": 12, "C001": 3}
    assert t["amount_fen"].to_dict() == {"C000": 360, "C001": 90}
