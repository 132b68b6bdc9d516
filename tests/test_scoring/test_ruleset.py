"""Rule sets: presets load, formulas are safe and carry units, every kind of mistake is named."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest

from scoring.errors import FormulaError, RuleSetError
from scoring.formula import FormulaProblem, compile_formula
from scoring.ruleset import load_ruleset, parse_ruleset, preset_names
from scoring.units import conversion, parse_unit

GOOD = textwrap.dedent("""\
    name: test
    indicators:
      tax_per_mu: {formula: tax_wan / land_mu, unit: 万元/mu}
      tax_per_kwh: {formula: tax_wan / electricity_kwh, unit: 元/kWh}
    populations:
      large:
        size_class: [large]
        items:
          tax_per_mu: {weight: 60, benchmark: 20}
          tax_per_kwh: {weight: 40, benchmark: {method: fixed, value: 0.3, unit: 元/kWh}}
    classes:
      method: quota
      quotas: {A: 0.2, B: 0.4, C: 0.3, D: 0.1}
    """)


def test_presets_load_and_the_template_is_valid():
    names = preset_names()
    assert {"zhejiang-huangyan-2022", "jiangsu-huaian-2024", "anhui-jingde-2022",
            "template"} <= set(names)
    for name in names:
        rs = load_ruleset(name)
        for p in rs.populations:
            assert sum(it.weight for it in p.items) == pytest.approx(100)
    hy = load_ruleset("zhejiang-huangyan-2022").population("large")
    assert [(it.name, it.weight, it.benchmark.value) for it in hy.items] == [
        ("tax_per_mu", 30, 24.097), ("va_per_mu", 20, 136.16), ("va_per_energy", 20, 2.694),
        ("va_per_emissions", 10, 4929.81), ("labour_productivity", 10, 18.14),
        ("rd_intensity", 10, 0.0302)]
    assert hy.items[3].missing == "population_average"


def test_units_convert_exactly_and_refuse_other_dimensions():
    assert conversion(parse_unit("万元/kWh"), parse_unit("元/kWh")) == 10000.0
    assert conversion(parse_unit("元/kWh"), parse_unit("万元/万kWh")) == 1.0
    assert conversion(parse_unit("万元/亩"), parse_unit("元/m2")) == pytest.approx(15.0)
    assert conversion(parse_unit("%"), parse_unit("ratio")) == 0.01
    with pytest.raises(ValueError, match="cannot be converted"):
        conversion(parse_unit("万元/mu"), parse_unit("万元/tce"))
    rs = parse_ruleset(GOOD)
    kwh = rs.population("large").items[1]
    assert kwh.indicator.conversion == 10000.0          # 万元/kWh -> 元/kWh
    values = kwh.indicator.evaluate({"tax_wan": np.array([30.0]),
                                     "electricity_kwh": np.array([1e6])})
    assert values[0] == pytest.approx(0.3)


@pytest.mark.parametrize("text", [
    "__import__('os').system('true')", "tax_wan.real", "(lambda: 1)()", "tax_wan if 1 else 2",
    "open('x')", "tax_wan[0]", "tax_wan ** land_mu", "'text'", "tax_wan > 1", "[tax_wan]",
])
def test_formulas_outside_the_language_are_refused(text):
    with pytest.raises(FormulaProblem):
        compile_formula(text)


def test_formula_units_growth_and_missing_values():
    f = compile_formula("growth(tax_wan)")
    out = f.evaluate({"tax_wan": np.array([110.0, 5.0, 1.0]),
                      "prev_tax_wan": np.array([100.0, 0.0, np.nan])})
    assert out[0] == pytest.approx(0.1) and np.isnan(out[1]) and np.isnan(out[2])
    assert compile_formula("(tax_wan + rd_wan) / land_m2").unit.describe() == "money/area"
    with pytest.raises(FormulaProblem, match="adds or subtracts money and area"):
        compile_formula("tax_wan + land_mu")
    with pytest.raises(FormulaProblem, match="unknown name 'taxes'"):
        compile_formula("taxes / land_mu")


def _bad(replace_from: str, replace_to: str) -> str:
    assert replace_from in GOOD, replace_from
    return GOOD.replace(replace_from, replace_to)


BAD_CASES = [
    # (what, text, error class, line, text expected in the message)
    ("YAML syntax", _bad("large:\n", "large:\n   - x\n  :"), RuleSetError, None, "not valid YAML"),
    ("duplicate key", _bad("  tax_per_kwh: {formula", "  tax_per_mu: {formula"), RuleSetError,
     4, "duplicate key 'tax_per_mu'"),
    ("unknown key", _bad("size_class: [large]", "size_clas: [large]"), RuleSetError, 7,
     "did you mean 'size_class'"),
    ("missing key", _bad("classes:\n  method: quota\n", "classes:\n  ruling: quota\n"),
     RuleSetError, 12, "unknown key 'ruling'"),
    ("no method", _bad("  method: quota\n", ""), RuleSetError, 12, "missing required key"),
    ("unknown variable", _bad("tax_wan / land_mu", "tax / land_mu"), FormulaError, 3,
     "unknown name 'tax'"),
    ("unknown function", _bad("tax_wan / land_mu", "log(tax_wan)"), FormulaError, 3,
     "unknown function 'log'"),
    ("unit mismatch", _bad("unit: 万元/mu}", "unit: 万元/tce}"), RuleSetError, 3,
     "gives money/area but the stated unit"),
    ("unknown unit", _bad("unit: 万元/mu}", "unit: 万元/acre}"), RuleSetError, 3,
     "unknown unit 'acre'"),
    ("benchmark unit", _bad("unit: 元/kWh}}", "unit: 元/mu}}"), RuleSetError, 10,
     "does not fit indicator tax_per_kwh"),
    ("benchmark method", _bad("benchmark: 20}", "benchmark: average}"), RuleSetError, 9,
     "'average' is not a benchmark"),
    ("weight text", _bad("weight: 60", "weight: sixty"), RuleSetError, 9, "must be a number"),
    ("no indicator", _bad("tax_per_mu: {weight", "tax_per_m2: {weight"), RuleSetError, 9,
     "no indicator 'tax_per_m2'"),
    ("quotas sum", _bad("D: 0.1}", "D: 0.2}"), RuleSetError, 13, "add up to 1.1"),
    ("quota over 1", _bad("A: 0.2,", "A: 20,"), RuleSetError, 13, "at most 1"),
    ("direction", _bad("benchmark: 20}", "benchmark: 20, direction: up}"), RuleSetError, 9,
     "'up' is not one of: higher, lower"),
    ("missing rule", _bad("benchmark: 20}", "benchmark: 20, missing: average}"), RuleSetError,
     9, "not a missing-data rule"),
    ("cap form", _bad("benchmark: 20}", "benchmark: 20, cap: {times: 2}}"), RuleSetError, 9,
     "unknown key 'times'"),
    ("size class twice", GOOD.replace(
        "classes:\n", "  small:\n    size_class: [large]\n    items:\n"
        "      tax_per_mu: {weight: 100, benchmark: 5}\nclasses:\n", 1), RuleSetError, 12,
     "already in population 'large'"),
    ("size class value", _bad("size_class: [large]", "size_class: [big]"), RuleSetError, 7,
     "'big' is not one of"),
    ("cutoffs order", _bad("  method: quota\n  quotas: {A: 0.2, B: 0.4, C: 0.3, D: 0.1}",
                           "  method: cutoff\n  cutoffs: {A: 60, B: 70, C: 50}"),
     RuleSetError, 13, "fall from A to C"),
    ("tie break", _bad("  method: quota\n", "  method: quota\n  tie_break: [revenue]\n"),
     RuleSetError, 13, "neither credit_code nor an indicator"),
    ("t division", GOOD + "class_t:\n  industry_divisions: [441]\n", RuleSetError, 15,
     "not two digits"),
    ("adjustment file", GOOD + "adjustments:\n  files: [bonus.txt]\n", RuleSetError, 15,
     "must be .csv, .xlsx or .xls"),
    ("not a mapping", "- name\n- test\n", RuleSetError, None, "must be a mapping with name"),
]


@pytest.mark.parametrize(("what", "text", "cls", "line", "needle"), BAD_CASES,
                         ids=[c[0] for c in BAD_CASES])
def test_bad_rule_sets_name_line_key_and_problem(what, text, cls, line, needle):
    with pytest.raises(cls) as info:
        parse_ruleset(text, source="county.yaml")
    msg = str(info.value)
    assert msg.startswith("county.yaml"), msg
    assert needle in msg, msg
    if line is not None:
        assert info.value.line == line, msg
        assert f"line {line}" in msg


def test_the_error_names_the_dotted_key(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(_bad("weight: 60", "weight: -1"), encoding="utf-8")
    with pytest.raises(RuleSetError) as info:
        load_ruleset(path)
    assert info.value.key == "populations.large.items.tax_per_mu.weight"
    assert str(info.value) == (f"{path}, line 9, populations.large.items.tax_per_mu.weight: "
                               "must be at least 0, not -1")
    with pytest.raises(RuleSetError, match="no bundled rule set 'nowhere-2020'"):
        load_ruleset("nowhere-2020")


def test_the_reference_table_documents_every_declared_key():
    """docs/scoring.md's rule-set table names each top-level key of the declared schema,
    and the protection and adjustment keys."""
    from pathlib import Path

    from gis.yaml_schema import describe
    from scoring.ruleset_schema import SCHEMA

    doc = (Path(__file__).resolve().parents[2] / "docs" / "scoring.md").read_text("utf-8")
    keys = [k for k, _default, _help in describe(SCHEMA)]
    for key in SCHEMA.fields:
        assert f"`{key}`" in doc, key
    for key in ("adjustments.max_points", "protection.years_after_start",
                "protection.first_year_above_scale"):
        assert key in keys and f"`{key.split('.')[1]}`" in doc, key
