"""Pure import kernels: units, headers, parcel checks, industry codes (no database)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given
from hypothesis import strategies as st

from gis.importing.geometry import repair_geometries, to_multipolygons
from gis.importing.headers import find_header_block, load_field_specs, match_columns
from gis.importing.report import ImportReport, rejects_csv_text
from gis.importing.units import conversion_factor, split_unit
from parcels.importing.kinds import register_import_kinds
from parcels.importing.parcel_checks import (
    check_parcel_codes,
    compare_cert_area,
    find_overlaps,
)
from parcels.industry import (
    check_industry_code,
    crosswalk_2002_to_2017,
    crosswalk_2017_to_2002,
    divisions_2002,
    divisions_2017,
    sections,
)

register_import_kinds()  # what every import entry point of parcels does first
SPECS = load_field_specs("enterprises")


@pytest.mark.parametrize(("header", "field", "factor"), [
    ("税收(万元)", "tax_wan", 1.0),
    ("实缴税金（元）", "tax_wan", 1e-4),
    ("主营业务收入/亿元", "revenue_wan", 1e4),
    ("用电量(万千瓦时)", "electricity_kwh", 1e4),
    ("用电量（度）", "electricity_kwh", 1.0),
    ("综合能耗(吨标准煤)", "energy_tce", 1.0),
    ("综合能耗(千克标煤)", "energy_tce", 1e-3),
    ("主要污染物排放量(千克)", "emissions_t", 1e-3),
    ("年平均职工人数", "employees", 1.0),
])
def test_header_units(header, field, factor):
    plan = match_columns([["统一社会信用代码", "企业名称", header]], SPECS)
    col = plan.columns[2]
    assert (col.field, col.factor) == (field, pytest.approx(factor))
    assert plan.missing_required == []


def test_wrong_unit_kind_is_a_mapping_error():
    from parcels.errors import MappingError

    with pytest.raises(MappingError, match="measures energy"):
        match_columns([["统一社会信用代码", "企业名称", "税收(吨标煤)"]], SPECS)


@given(st.floats(min_value=0, max_value=1e9, allow_nan=False))
def test_unit_round_trip(value):
    """元 -> 万元 -> 元 and 万千瓦时 -> kWh scale exactly as the factors say."""
    f_yuan, _, _ = conversion_factor("元", "money", "万元")
    f_wkwh, _, _ = conversion_factor("万千瓦时", "electricity", "千瓦时")
    assert value * f_yuan * 1e4 == pytest.approx(value)
    assert value * f_wkwh == pytest.approx(value * 10000)


def test_header_block_with_title_group_and_unit_rows():
    grid = [
        ["2024年亩均数据"] * 5,
        ["序号", "统一社会信用代码", "企业名称", "经济指标", "经济指标"],
        ["序号", "统一社会信用代码", "企业名称", "税收", "用电量"],
        ["序号", "统一社会信用代码", "企业名称", "万元", "万千瓦时"],
        [1, "91320509MA1X2Y3Q7N", "甲", 3.5, 1.2],
    ]
    assert find_header_block(grid, SPECS) == (1, 3)
    plan = match_columns(grid, SPECS)
    assert plan.data_start == 4
    assert [(c.field, c.factor) for c in plan.columns[3:]] == [("tax_wan", 1.0),
                                                              ("electricity_kwh", 1e4)]


def test_split_unit_leaves_non_units():
    assert split_unit("宗地代码(19位)") == ("宗地代码(19位)", None)


def test_repair_and_multipolygons():
    report = ImportReport(unit="feature")
    geoms = np.array([
        shapely.box(0, 0, 1, 1),
        shapely.from_wkt("POLYGON ((0 0, 2 2, 2 0, 0 2, 0 0))"),
        None,
        shapely.from_wkt("POLYGON EMPTY"),
        shapely.LineString([(0, 0), (1, 1)]),
        shapely.from_wkt("POLYGON Z ((0 0 1, 1 0 1, 1 1 1, 0 0 1))"),
    ], dtype=object)
    out = repair_geometries(geoms, np.arange(1, 7), report)
    assert [g.geom_type if g is not None else None for g in out] == \
        ["MultiPolygon", "MultiPolygon", None, None, None, "MultiPolygon"]
    assert out[1].area == pytest.approx(2.0) and not shapely.has_z(out[5])
    assert report.rejected_rows == {3, 4, 5}
    assert to_multipolygons(np.array([None]))[0] is None


def test_overlaps_known_areas_and_containment():
    geoms = np.array([shapely.box(0, 0, 10, 10), shapely.box(5, 0, 15, 10),
                      shapely.box(1, 1, 2, 2), shapely.box(20, 0, 30, 10),
                      shapely.box(30, 0, 40, 10)], dtype=object)
    got = find_overlaps(geoms).sort_values(["i", "j"]).to_dict("records")
    assert got == [{"i": 0, "j": 1, "area_m2": 50.0}, {"i": 0, "j": 2, "area_m2": 1.0}]
    assert find_overlaps(geoms, min_area_m2=2).shape[0] == 1


@given(st.lists(st.tuples(st.integers(0, 50), st.integers(0, 50), st.integers(1, 20)),
                min_size=1, max_size=12))
def test_overlaps_match_brute_force(squares):
    geoms = np.array([shapely.box(x, y, x + s, y + s) for x, y, s in squares], dtype=object)
    got = {(r.i, r.j): r.area_m2 for r in find_overlaps(geoms, min_area_m2=1e-9).itertuples()}
    want = {}
    for i in range(len(geoms)):
        for j in range(i + 1, len(geoms)):
            a = geoms[i].intersection(geoms[j]).area
            if a > 1e-9:
                want[(i, j)] = a
    assert got.keys() == want.keys()
    assert all(got[k] == pytest.approx(want[k]) for k in want)


def test_codes_and_area_difference():
    report = ImportReport(unit="feature")
    codes = pd.Series(["320509001009GB00001", "X-1", "320509001009GB00001", None])
    ok = check_parcel_codes(codes, np.array([1, 2, 3, 4]), report)
    assert ok.tolist() == [True, True, False, False]
    assert {i.check for i in report.issues} == {"code_format", "duplicate_code", "missing_code"}
    frame = compare_cert_area(np.array([100.0, 100.0]), np.array([100.0, 120.0]), np.array([1, 2]),
                              pd.Series(["a", "b"]), report, tolerance=0.05)
    assert frame["diff_m2"].tolist() == [0.0, -20.0]
    text = rejects_csv_text(report)
    assert text.splitlines()[0] == "要素序号,级别,检查项,字段,值,原因"
    assert "错误,宗地代码重复,parcel_code" in text
    assert "repeats feature 1" in text


def test_industry_tables():
    assert len(divisions_2017()) == 97 and len(divisions_2002()) == 95
    assert len(sections()) == 20 and len(sections("2002")) == 20
    assert all(c in divisions_2017() for c in map(str, range(13, 44)))  # C: 13-43
    assert "38" not in divisions_2002()
    assert crosswalk_2017_to_2002("38", main_only=True) == {"39"}
    assert crosswalk_2002_to_2017("37", main_only=True) == {"36", "37"}
    every_2002 = {r for d in divisions_2017() for r in crosswalk_2017_to_2002(d)}
    assert every_2002 == set(divisions_2002())
    assert check_industry_code("c3311") == ("3311", "ok")
    assert check_industry_code("C") == ("C", "section")
    assert check_industry_code("98") == ("98", "unknown")
    assert check_industry_code("33a") == ("33A", "malformed")
