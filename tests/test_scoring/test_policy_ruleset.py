"""Policy rule sets: the presets, the template, and errors naming the file, line and key."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest

from gis.yaml_schema import describe
from scoring.errors import PolicyError
from scoring.policy.ruleset import SCHEMA, load_policy, open_points, parse_policy, preset_names

REPO = Path(__file__).resolve().parents[2]

BASE = """\
name: t
year: 2018
period: {start: 2018-01, end: 2018-12}
items:
  power:
    kind: electricity
    rates: {D: 0.1}
"""


def test_presets_load_and_say_what_is_left_to_the_county():
    assert preset_names() == ["nanjing-2018", "taicang-2018", "template"]
    tc = load_policy("taicang-2018")
    sewage = next(i for i in tc.items if i.kind == "sewage")
    assert tc.rate(sewage, "D") == Decimal("0.17") and tc.rate(sewage, "C") is None
    assert tc.class_year == "previous"
    gas = next(i for i in tc.items if i.kind == "gas")
    assert tc.rate(gas, "D") is None                     # not confirmed: a parameter, unset
    assert any("gas_surcharge_d" in p for p in open_points(tc))
    nj = load_policy("nanjing-2018", {"power_surcharge_d": 0.12})
    power = next(i for i in nj.items if i.kind == "electricity")
    assert nj.rate(power, "C-") == Decimal("0.06") and nj.rate(power, "D") == Decimal("0.12")
    assert nj.flags["D"] == ("no_land_auction", "awards_withdrawn")
    assert set(nj.flags["A"]) == {"priority_land", "priority_quota"}


def test_no_preset_holds_an_unconfirmed_figure_as_a_value():
    # the only confirmed figures are Taicang's 0.17 and Nanjing's factor 0.5
    numbers = set()
    for name in ("taicang-2018", "nanjing-2018"):
        rs = load_policy(name)
        numbers |= {r for i in rs.items for r in i.rates.values() if not isinstance(r, str)}
        numbers |= {p.value for p in rs.parameters.values() if p.value is not None}
        numbers |= {d.factor for d in rs.derived}
    assert numbers == {Decimal("0.17"), Decimal("0.5")}


@pytest.mark.parametrize("change, line, key, words", [
    ("    rates: {E: 0.1}\n", 7, "items.power.rates.E", "not a class of this rule set"),
    ("    rates: {D: surcharge}\n", 7, "items.power.rates.D", "not a declared parameter"),
    ("    rate: {D: 0.1}\n", 7, "items.power.rate", "did you mean 'rates'"),
    ("    rates: {D: .inf}\n", 7, "items.power.rates.D", "finite"),
    ("    rates: {D: 0.1}\n    source: land_tax\n", 8, "items.power.source",
     "takes its base from accounts or records"),
])
def test_errors_name_the_file_line_and_key(change, line, key, words):
    text = BASE.replace("    rates: {D: 0.1}\n", change)
    with pytest.raises(PolicyError) as err:
        parse_policy(text, source="county.yaml")
    assert (err.value.source, err.value.line, err.value.key) == ("county.yaml", line, key)
    assert words in str(err.value)


def test_cross_key_rules():
    with pytest.raises(PolicyError, match=r"line 3, period.end: ends \(2017-12\) before"):
        parse_policy(BASE.replace("end: 2018-12", "end: 2017-12"), source="c.yaml")
    with pytest.raises(PolicyError, match=r"line 3, period.start: .*not a month"):
        parse_policy(BASE.replace("start: 2018-01", "start: 2018-13"), source="c.yaml")
    land = BASE.replace("kind: electricity\n    rates: {D: 0.1}",
                        "kind: land_tax\n    rates: {A: -1.5}")
    with pytest.raises(PolicyError, match=r"line 7, items.power.rates.A: a land-tax rate"):
        parse_policy(land, source="c.yaml")
    derived = BASE + "derived_classes:\n  C-: {within: E, rate_of: D, factor: 0.5}\n"
    with pytest.raises(PolicyError, match=r"line 9, derived_classes.C-.within"):
        parse_policy(derived, source="c.yaml")
    flags = BASE + "flags:\n  D: [no_land_auctions]\n"
    with pytest.raises(PolicyError, match=r"line 9, flags.D: item 1 'no_land_auctions'"):
        parse_policy(flags, source="c.yaml")
    with pytest.raises(PolicyError, match=r"--param x: the rule set declares no such"):
        parse_policy(BASE, source="c.yaml", params={"x": 1.0})


def test_dates_in_yaml_are_months():
    rs = parse_policy(BASE.replace("{start: 2018-01, end: 2018-12}",
                                   "{start: 2018-07-01, end: 2018-12-31}"), source="c.yaml")
    assert rs.period.months == 6


def test_cli_check_and_rulesets(tmp_path):
    from tests.cli_runner import mujun_process

    bad = tmp_path / "county.yaml"
    bad.write_text(BASE.replace("{D: 0.1}", "{E: 0.1}"), encoding="utf-8")
    r = mujun_process("policy", "check", str(bad))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "county.yaml, line 7, items.power.rates.E" in r.stderr
    r = mujun_process("policy", "check", "taicang-2018")
    assert r.returncode == 0 and "差别化污水处理费" in r.stdout and "D 0.17" in r.stdout
    r = mujun_process("policy", "rulesets")
    assert r.returncode == 0 and "nanjing-2018" in r.stdout and "待县级设定" in r.stdout


def test_the_reference_documents_every_declared_key():
    doc = (REPO / "docs" / "policy.md").read_text(encoding="utf-8")
    keys = set(re.findall(r"`([a-z_.*]+)`", doc))
    for key, _default, _help in describe(SCHEMA):
        assert key in keys or any(k.startswith(key + ".") or k.startswith(key + ",")
                                  for k in keys) or key in doc, key
    for field in ("kind", "rates", "source", "period", "collector", "refundable", "borne_by",
                  "note"):
        assert f"`items.*.{field}`" in doc


def test_year_shift_and_period_option():
    from scoring.errors import PolicyRunError
    from scoring.policy.apply import parse_period, shift_years

    text = BASE.replace("    rates: {D: 0.1}\n", "    rates: {D: 0.1}\n    period: {start: "
                        "2018-07, end: 2018-12}\n") + "phase_in: {small: 2018-10}\n"
    rs = shift_years(parse_policy(text, source="c.yaml"), 2)
    assert (rs.year, rs.period.text(), rs.items[0].period.text()) == \
        (2020, "2020-01:2020-12", "2020-07:2020-12")
    assert rs.phase_in["small"] == parse_period("2020-10:2020-10").start
    assert parse_period("2018-07-01:2018-12-31").months == 6
    for bad in ("2018-07", "2018-13:2018-12", "2018-12:2018-07"):
        with pytest.raises(PolicyRunError, match="--period"):
            parse_period(bad)
