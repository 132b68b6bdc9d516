"""Land-right and footprint imports through the real `mujun` entry point."""

from __future__ import annotations

import json

import geopandas as gpd
import shapely

from parcels.codes import make_credit_code, make_parcel_code
from tests.cli_runner import fetch
from tests.cli_runner import run_mujun as run

CODES = [make_credit_code("9", "1", "320509", f"MB{i:04d}XY") for i in range(1, 5)]
PARCELS = [make_parcel_code("320509", 1, 9, i) for i in range(1, 5)]


def test_land_rights_owner_and_tenant(tmp_path, db_conn, db_dsn, monkeypatch, capsys):
    src = tmp_path / "quanli.csv"
    src.write_text(
        "宗地代码,统一社会信用代码,权利类型,份额,租赁土地面积(亩),租赁建筑面积,起始日期,终止日期\n"
        f"{PARCELS[0]},{CODES[0]},所有,60%,,,,\n"
        f"{PARCELS[0]},{CODES[1]},所有,0.4,,,,\n"
        f"{PARCELS[0]},{CODES[2]},租赁,,3,1200,2021-01-01,2025-12-31\n", encoding="gbk")
    code, out, err = run(["import", "land-rights", str(src), "--json"], monkeypatch, db_dsn,
                         capsys)
    assert code == 0, err
    summary = json.loads(out)
    assert summary["n_inserted"] == 3
    assert summary["by_check"]["unknown_parcel"] == 3  # no parcels loaded yet: warnings only
    rows = fetch(db_conn, "SELECT credit_code, right_type, share, round(leased_land_m2), "
                          "leased_floor_m2, end_date::text FROM land_right ORDER BY credit_code")
    assert rows[0][:3] == (CODES[0], "owner", 0.6)
    assert rows[2][1:] == ("tenant", None, 2000.0, 1200.0, "2025-12-31")
    code, out, err = run(["import", "land-rights", str(src)], monkeypatch, db_dsn, capsys)
    assert "导入过" in out
    bad = tmp_path / "bad.csv"
    bad.write_text("宗地代码,统一社会信用代码,权利类型,份额\n"
                   f"{PARCELS[1]},{CODES[0]},所有,0.7\n{PARCELS[1]},{CODES[1]},所有,0.7\n"
                   f"{PARCELS[2]},{CODES[1]},借用,\n", encoding="utf-8")
    code, _, err = run(["import", "land-rights", str(bad)], monkeypatch, db_dsn, capsys)
    assert code == 3 and "add up to 1.4" in err and "第 4 行" in err
    assert fetch(db_conn, "SELECT count(*) FROM land_right") == [(3,)]


def test_footprints_with_date_and_source(tmp_path, db_conn, db_dsn, monkeypatch, capsys):
    lon, lat = 120.6, 31.3
    geoms = [shapely.box(lon + i * 1e-3, lat, lon + i * 1e-3 + 3e-4, lat + 3e-4) for i in range(3)]
    geoms.append(shapely.Point(lon, lat).buffer(0))  # empty: rejected
    gdf = gpd.GeoDataFrame({"层数": [1, 2, 3, 1], "备注": ["a", "b", "c", "d"]}, geometry=geoms,
                           crs=4326)
    src = tmp_path / "fp.gpkg"
    gdf.to_file(src)
    code, _, err = run(["import", "footprints", str(src), "--date", "2023-04-05"],
                       monkeypatch, db_dsn, capsys)
    assert code == 3 and "第 4 个要素" in err
    monkeypatch.chdir(tmp_path)  # rejects go to the working directory
    code, out, err = run(["import", "footprints", str(src), "--date", "2023-04-05", "--source",
                          "测绘院", "--accept-partial", "--json"], monkeypatch, db_dsn, capsys)
    assert code == 0, err
    assert json.loads(out)["srid"] == 4549
    rows = fetch(db_conn, "SELECT image_date::text, source, method, storeys, ST_SRID(geom), "
                          "attrs->>'备注' FROM footprint ORDER BY source_fid")
    assert rows == [("2023-04-05", "测绘院", "survey", s, 4549, n)
                    for s, n in ((1, "a"), (2, "b"), (3, "c"))]
