"""Dirty copies of the sample city: real formats, real encodings, every planted defect present."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from openpyxl import load_workbook

from parcels.codes import check_credit_code, normalize_credit_code, parse_parcel_code
from sample import generate_city
from sample.dirty import PARCEL_FIELDS


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    return generate_city("small", 5, tmp_path_factory.mktemp("dirty") / "small-5", imagery=False)


@pytest.fixture(scope="module")
def manifest(city):
    return json.loads((city.root / "dirty" / "MANIFEST.json").read_text(encoding="utf-8"))


def _defects(manifest, file):
    return {d["kind"]: d for d in manifest["defects"] if d["file"] == file}


def test_shapefile_is_gbk_without_cpg_in_zone_prefixed_crs(city, manifest):
    shp = city.root / "dirty" / "parcels.shp"
    assert shp.is_file() and not shp.with_suffix(".cpg").exists()
    dbf = shp.with_suffix(".dbf").read_bytes()
    assert dbf[29] == 0  # no language-driver hint either: the encoding must be detected
    names = dbf[32 : 32 + 32 * len(PARCEL_FIELDS)]
    assert "宗地代码".encode("gbk") in names  # field names are GBK bytes
    for name in PARCEL_FIELDS.values():
        assert len(name.encode("gbk")) <= 10
    info = pyogrio.read_info(shp, encoding="GBK")
    assert list(info["fields"]) == list(PARCEL_FIELDS.values())
    frame = pyogrio.read_dataframe(shp, encoding="GBK")
    assert frame.crs.to_epsg() == 4528
    x = shapely.get_coordinates(frame.geometry.dropna().values)[:, 0]
    assert (x > 40_000_000).all()  # zone-prefixed eastings
    assert len(frame) == manifest["files"]["parcels.shp"]["features"] == city.counts["parcels"] + 1
    assert frame["镇"].str.endswith("镇").all()
    assert frame["供地日期"].str.match(r"^\d{4}/\d{2}/\d{2}$").all()


def test_shapefile_defects_are_where_the_manifest_says(city, manifest):
    frame = pyogrio.read_dataframe(city.root / "dirty" / "parcels.shp", encoding="GBK")
    geoms = frame.geometry.values
    found = _defects(manifest, "parcels.shp")
    assert set(found) == {
        "self_intersection",
        "duplicate_code",
        "overlap",
        "code_format",
        "empty_geometry",
        "degenerate",
    }
    assert not shapely.is_valid(geoms[found["self_intersection"]["feature"]])
    dup = found["duplicate_code"]["feature"]
    assert (frame["宗地代码"] == frame["宗地代码"][dup]).sum() == 2
    assert parse_parcel_code(frame["宗地代码"][found["code_format"]["feature"]]) is None
    assert geoms[found["empty_geometry"]["feature"]] is None
    assert shapely.area(geoms[found["degenerate"]["feature"]]) == 0
    grown = geoms[found["overlap"]["feature"]]
    others = np.delete(geoms, found["overlap"]["feature"])
    others = others[~shapely.is_missing(others)]
    assert shapely.area(shapely.intersection(grown, others)).sum() > 10
    # everything else is valid and keeps its clean code
    bad = {d["feature"] for d in found.values()}
    good = [i for i in range(len(frame)) if i not in bad]
    assert shapely.is_valid(geoms[good]).all()


def test_workbook_header_block_and_code_defects(city, manifest):
    path = city.root / "dirty" / "enterprises.xlsx"
    wb = load_workbook(path)
    ws = wb[manifest["files"]["enterprises.xlsx"]["sheet"]]
    merged = {str(r) for r in ws.merged_cells.ranges}
    assert {"A1:N1", "B2:B3", "G2:K2", "L2:N2"} <= merged
    assert ws["B2"].value == "统一社会信用代码" and ws["G3"].value == "税收(万元)"
    assert ws["M3"].value == "用电量(万千瓦时)" and ws["F2"].value == "规模以上"
    headers = [ws.cell(2, k).value or ws.cell(3, k).value for k in range(1, ws.max_column + 1)]
    table = pd.DataFrame(list(ws.iter_rows(min_row=4, values_only=True)), columns=headers)
    found = [d for d in manifest["defects"] if d["file"] == "enterprises.xlsx"]
    kinds = {d["kind"] for d in found}
    assert {
        "malformed_code",
        "checksum",
        "normalisable_code",
        "duplicate_row",
        "negative_value",
        "absurd_value",
        "missing_required",
    } <= kinds
    for d in found:
        value = ws.cell(row=d["row"], column=2).value
        assert value == d["key"]
        status = check_credit_code(normalize_credit_code(value))
        expected = {"malformed_code": "malformed", "checksum": "checksum"}.get(d["kind"], "ok")
        assert status == expected, d
    planted_rows = {d["row"] for d in found}
    codes = table["统一社会信用代码"]
    clean = [check_credit_code(c) for i, c in enumerate(codes) if i + 4 not in planted_rows]
    assert set(clean) == {"ok"}
    neg = next(d for d in found if d["kind"] == "negative_value")
    assert table.loc[neg["row"] - 4, "用电量(万千瓦时)"] < 0
    dup = next(d for d in found if d["kind"] == "duplicate_row")
    row = table.iloc[dup["row"] - 4, 1:]
    prev = table.iloc[dup["row"] - 5, 1:]
    assert row.equals(prev)


def test_first_year_csv_is_gbk_with_yuan(city):
    path = city.root / "dirty" / "enterprises_2023.csv"
    with pytest.raises(UnicodeDecodeError):
        path.read_text(encoding="utf-8")
    table = pd.read_csv(path, encoding="gbk", dtype={"统一社会信用代码": str})
    clean = pd.read_csv(city.paths["enterprise_years"], dtype={"credit_code": str})
    first = clean[clean["year"] == 2023].set_index("credit_code")
    merged = table.set_index("统一社会信用代码").join(first)
    assert np.allclose(merged["实缴税金(元)"], merged["tax_wan"] * 10000, atol=1)
    assert np.allclose(merged["用电量(千瓦时)"], merged["electricity_kwh"])


def test_land_rights_csv_defects(city, manifest):
    path = city.root / "dirty" / "land_rights.csv"
    table = pd.read_csv(path, encoding="gbk", dtype=str)
    assert list(table.columns) == [
        "宗地代码",
        "统一社会信用代码",
        "权利类型",
        "份额",
        "租赁土地面积",
        "租赁建筑面积",
        "起始日期",
        "终止日期",
    ]
    assert set(table["权利类型"]) == {"所有", "租赁"}
    found = _defects(manifest, "land_rights.csv")
    assert set(found) == {
        "unknown_parcel",
        "unknown_enterprise",
        "share_sum",
        "end_before_start",
        "malformed_code",
    }
    parcels = set(pyogrio.read_dataframe(city.paths["parcels"], read_geometry=False)["parcel_code"])
    enterprises = set(pd.read_csv(city.paths["enterprises"], dtype=str)["credit_code"])
    row = table.iloc[found["unknown_parcel"]["record"]]
    assert row["宗地代码"] not in parcels
    row = table.iloc[found["unknown_enterprise"]["record"]]
    assert (
        check_credit_code(row["统一社会信用代码"]) == "ok"
        and row["统一社会信用代码"] not in enterprises
    )
    row = table.iloc[found["end_before_start"]["record"]]
    assert row["终止日期"] < row["起始日期"]
    assert (
        check_credit_code(table.iloc[found["malformed_code"]["record"]]["统一社会信用代码"])
        == "malformed"
    )
    code = table.iloc[found["share_sum"]["record"]]["宗地代码"]
    owners = table[(table["宗地代码"] == code) & (table["权利类型"] == "所有")]
    assert owners["份额"].astype(float).sum() == pytest.approx(1.2)
    assert found["malformed_code"]["row"] == found["malformed_code"]["record"] + 2
