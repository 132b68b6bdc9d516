"""The one rule-file helper: every field kind, the line and dotted key of every mistake."""

from __future__ import annotations

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from gis.errors import MappingError, RuleFileError
from gis.importing.mapping_file import load_mapping
from gis.yaml_schema import (
    Check,
    Const,
    Flag,
    Number,
    OneOf,
    Record,
    Table,
    Text,
    TextList,
    describe,
    validate,
)

RATES = Record({
    "name": Text(help="short id"),
    "year": Number(minimum=1990, maximum=2100, integer=True),
    "rates": Table(Number(minimum=0), key=Text(choices=("A", "B", "C", "D")), min_items=1),
    "items": Table(Record({
        "unit": Text(choices=("元/kWh", "元/m3")),
        "classes": TextList(choices=("A", "B", "C", "D")),
        "share": OneOf(Number(minimum=0, maximum=1),
                       Record({"of": Text(), "times": Number()}, required=("of",)),
                       what="a share or {of, times}"),
        "enabled": Flag(default=True)}, required=("unit",))),
    "flags": OneOf(Const(False), Record({"auction_ban": Flag()}), what="false or a mapping"),
    "weights": Check(Table(Number(minimum=0)),
                     lambda w: None if sum(w.values()) > 0 else "some weight must be above 0"),
}, required=("name", "rates"), shape="name and rates")

GOOD = """\
name: 示例
year: 2024
rates: {A: 0, D: 0.3}
items:
  electricity:
    unit: 元/kWh
    classes: [C, D]
    share: 0.5
  water:
    unit: 元/m3
    classes: D
    share: {of: tariff, times: 2}
flags: false
weights: {a: 1}
"""


def test_a_good_file_converts_and_keeps_lines():
    doc = validate(RATES, GOOD, source="policy.yaml")
    assert doc["name"] == "示例" and doc["year"] == 2024 and doc["rates"] == {"A": 0.0, "D": 0.3}
    water = doc["items"]["water"]
    assert water["classes"] == ("D",) and water["share"]["times"] == 2.0 and water["enabled"]
    assert doc["flags"] is False
    assert doc.line_of("items") == 4 and doc["items"].line_of("water") == 9
    assert water.line_of("share") == 12


BAD = [
    ("year: 2024", "year: 2024.5", 2, "year", "must be a whole number"),
    ("year: 2024", "year: true", 2, "year", "must be a number, not true/false"),
    ("rates: {A: 0, D: 0.3}", "rates: {A: 0, E: 0.3}", 3, "rates.E", "'E' is not one of"),
    ("rates: {A: 0, D: 0.3}", "rates: {A: 0, D: -1}", 3, "rates.D", "must be at least 0"),
    ("rates: {A: 0, D: 0.3}", "rates: {}", 3, "rates", "needs at least 1 entry"),
    ("    unit: 元/kWh", "    units: 元/kWh", 6, "items.electricity.units",
     "did you mean 'unit'"),
    ("    classes: D", "    classes: [D, X]", 11, "items.water.classes", "item 2 'X'"),
    ("    share: 0.5", "    share: 1.5", 8, "items.electricity.share", "at most 1"),
    ("    share: 0.5", "    share: [1]", 8, "items.electricity.share", "a share or {of, times}"),
    ("{of: tariff, times: 2}", "{times: 2}", 12, "items.water.share.of",
     "missing required key 'of'"),
    ("flags: false", "flags: true", 13, "flags", "false or a mapping"),
    ("weights: {a: 1}", "weights: {a: 0}", 14, "weights", "some weight must be above 0"),
    ("year: 2024", "year: 2024\nyear: 2025", None, None, "duplicate key 'year'"),
    ("name: 示例", "name: [1", None, None, "not valid YAML"),
]


@pytest.mark.parametrize(("old", "new", "line", "key", "needle"), BAD,
                         ids=[b[4] for b in BAD])
def test_each_mistake_names_file_line_and_key(old, new, line, key, needle):
    assert old in GOOD
    with pytest.raises(RuleFileError) as info:
        validate(RATES, GOOD.replace(old, new, 1), source="policy.yaml")
    msg = str(info.value)
    assert msg.startswith("policy.yaml") and needle in msg, msg
    if line is not None:
        assert info.value.line == line and info.value.key == key, msg


def test_a_file_that_is_not_a_mapping_says_what_it_should_hold():
    with pytest.raises(RuleFileError, match="must be a mapping with name and rates, not a list"):
        validate(RATES, "- a\n", source="p.yaml")


@given(st.floats(allow_nan=True, allow_infinity=True), st.floats(-10, 10), st.floats(0, 10))
def test_property_numbers_are_finite_and_within_bounds(value, lo, width):
    field = Record({"x": Number(minimum=lo, maximum=lo + width)})
    try:
        out = validate(field, yaml.safe_dump({"x": value}), source="f.yaml")["x"]
    except RuleFileError as exc:
        assert exc.line == 1 and exc.key == "x"
        assert not (lo <= value <= lo + width)
    else:
        assert lo <= out <= lo + width


def test_describe_lists_every_key_for_the_docs():
    keys = [k for k, _d, _h in describe(RATES)]
    assert keys[:3] == ["name", "year", "rates"] and ("name", "", "short id") in describe(RATES)


def test_the_import_mapping_file_uses_the_helper(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text("sheet: 2024年\nheader_rows: 2\ncolumns:\n  tax_wan: [税收, 实缴税金]\n"
                    "  industry_code:\nunits: {tax_wan: 万元}\n", encoding="utf-8")
    m = load_mapping(path)
    assert m["columns"] == {"tax_wan": ("税收", "实缴税金"), "industry_code": ""}
    assert m["header_rows"] == 2 and m["units"] == {"tax_wan": "万元"}
    path.write_text("sheet: 2024年\nheader_row: 2\n", encoding="utf-8")
    with pytest.raises(MappingError, match=r"m\.yaml, line 2, header_row: unknown key "
                                           r"'header_row'; did you mean 'header_rows'"):
        load_mapping(path)
    path.write_text("header_rows: 0\n", encoding="utf-8")
    with pytest.raises(MappingError, match=r"line 1, header_rows: must be at least 1"):
        load_mapping(path)


def test_huge_whole_numbers_and_shared_defaults():
    field = Record({"x": Number(), "t": Table(Number())})
    with pytest.raises(RuleFileError, match="line 1, x: must be a finite number"):
        validate(field, "x: 1" + "0" * 400 + "\n", source="f.yaml")
    a = validate(field, "x: 1\n", source="f.yaml")
    a["t"]["k"] = 1.0
    assert validate(field, "x: 1\n", source="f.yaml")["t"] == {}
