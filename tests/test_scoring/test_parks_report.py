"""`report parks`: a hand-built county with two parks, footprints and known indicators."""

from __future__ import annotations

import json

import geopandas as gpd
import openpyxl
import pytest
import shapely

from tests.cli_runner import run_mujun as run
from tests.test_scoring.county import MU, X0, Y0, Firm, load_county, make_firms, mujun

pytestmark = pytest.mark.postgis


def _rec(tax):
    return {"tax_wan": tax, "revenue_wan": 10 * tax, "electricity_kwh": 1e5}


def test_parks_known_answer(tmp_path, db_conn, db_dsn, monkeypatch, capsys):
    fs = make_firms([Firm("甲", True, 10.0, {2022: _rec(30)}, town="东城", park="东园"),
                     Firm("乙", True, 5.0, {2022: _rec(10)}, town="东城", park="东园"),
                     Firm("丙", True, 15.0, {2022: _rec(50)}, town="西城", park="西园"),
                     Firm("丁", True, 5.0, {2022: _rec(100)}, town="西城")])    # no park
    load_county(tmp_path, fs, monkeypatch, db_dsn, capsys, occupancy_year=2022)
    # 甲: 50 m × 40 m, 2 storeys; 乙: 50 m × 20 m, 1 storey (parcels 100 m wide, 150 m apart)
    fp = gpd.GeoDataFrame({"层数": [2, 1]}, geometry=[
        shapely.box(X0 + 10, Y0 + 10, X0 + 60, Y0 + 50),
        shapely.box(X0 + 160, Y0 + 5, X0 + 210, Y0 + 25)], crs=4549)
    fp.to_file(tmp_path / "footprints.gpkg")
    mujun(["import", "footprints", tmp_path / "footprints.gpkg", "--date", "2022-06-01"],
          monkeypatch, db_dsn, capsys)
    occ = json.loads(mujun(["occupancy", "--year", 2022, "--json"], monkeypatch, db_dsn,
                           capsys))["run_id"]
    db_conn.execute("UPDATE parcel SET land_use_code = CASE WHEN parcel_code = %s"
                    " THEN '0701' ELSE '0601' END", (fs[1].parcel,))
    db_conn.commit()

    got = json.loads(mujun(["report", "parks", "--year", 2022, "--json"], monkeypatch, db_dsn,
                           capsys))
    assert got["occupancy_run"] == occ
    parks = {r["park"]: r for r in got["parks"]}
    assert list(parks) == ["东园", "西园"]                       # 丁 has no park
    east, west = parks["东园"], parks["西园"]
    assert east["parcels"] == 2 and east["land_ha"] == pytest.approx(15 * MU / 1e4, abs=1e-4)
    assert east["industrial_land_mu"] == pytest.approx(10, abs=1e-3)
    assert east["built_rate"] == pytest.approx(3000 / (15 * MU), abs=1e-4)
    assert east["far"] == pytest.approx(5000 / (15 * MU), abs=1e-4)
    assert east["industrial_far"] == pytest.approx(4000 / (10 * MU), abs=1e-4)
    assert (east["industrial_firms"], east["tax_wan"]) == (1, 30)  # 乙 is on residential land
    assert east["tax_per_ha"] == pytest.approx(30 / (10 * MU / 1e4), abs=1e-3)
    assert (west["built_rate"], west["far"]) == (0, 0)
    assert west["tax_per_ha"] == pytest.approx(50 / (15 * MU / 1e4), abs=1e-3)
    assert set(got["not_available"]) == {"land_development_rate", "land_supply_rate",
                                         "fixed_asset_investment_per_ha"}

    text = mujun(["report", "parks", "--year", 2022], monkeypatch, db_dsn, capsys)
    assert "东园" in text and "无法计算" in text and "土地开发率" in text
    out = tmp_path / "园区.xlsx"
    mujun(["report", "parks", "--year", 2022, "-o", out], monkeypatch, db_dsn, capsys)
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames[:2] == ["开发区土地集约利用", "无法计算的指标"]
    assert "工业用地地均税收（万元/公顷）" in [c.value for c in wb.worksheets[0][1]]
    code, _o, err = run(["report", "parks", "--year", "2021"], monkeypatch, db_dsn, capsys)
    assert code == 3 and "没有2021年的占地测算结果" in err
