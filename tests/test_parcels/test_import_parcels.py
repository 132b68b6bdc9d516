"""Parcel imports through the real `mujun` entry point against a real PostGIS."""

from __future__ import annotations

import json

import geopandas as gpd
import pyogrio
import shapely

from parcels.codes import make_parcel_code
from tests.cli_runner import fetch
from tests.cli_runner import run_mujun as run

LON0, LAT0 = 120.60, 31.30  # Suzhou: CGCS2000 zone CM 120°E = EPSG:4549
DEG = 1 / 111_000  # about a metre of latitude in degrees
DEGX = DEG / 0.8545  # about a metre of longitude at 31.3°N


def square(i, size_m=50.0, dx=0.0):
    x = LON0 + (i * 60 + dx) * DEGX
    return shapely.box(x, LAT0, x + size_m * DEGX, LAT0 + size_m * DEG)


def parcels_frame(n=4):
    codes = [make_parcel_code("320509", 1, 9, i + 1) for i in range(n)]
    return gpd.GeoDataFrame({
        "宗地代码": codes,
        "证载面积": [2500.0] * n,
        "土地用途": ["0601"] * n,
        "乡镇": ["黄桥镇"] * n,
        "供地日期": ["2019-05-01"] * n,
        "容积率": [1.2] * n,
        "备注": ["东区"] * n,
    }, geometry=[square(i) for i in range(n)], crs=4490)


def write_gbk_shapefile(gdf, path):
    pyogrio.write_dataframe(gdf, path, encoding="GBK")
    path.with_suffix(".cpg").unlink()
    return path


def test_gbk_shapefile_without_cpg_with_warnings(tmp_path, db_conn, db_dsn, monkeypatch, capsys):
    gdf = parcels_frame(5)
    x = LON0 + 240 * DEGX
    gdf.loc[4, "geometry"] = shapely.from_wkt(  # a bow-tie: invalid, repaired
        f"POLYGON (({x} {LAT0}, {x + 50 * DEGX} {LAT0 + 50 * DEG}, {x + 50 * DEGX} {LAT0}, "
        f"{x} {LAT0 + 50 * DEG}, {x} {LAT0}))")
    gdf.loc[4, "证载面积"] = 1250.0  # a bow-tie of two triangles
    gdf.loc[1, "geometry"] = square(1, dx=-20)  # overlaps parcel 0 by ~10 m x 50 m
    gdf.loc[2, "宗地代码"] = "LOCAL-3"          # not GB/T 37346
    gdf.loc[3, "证载面积"] = 3000.0             # certificate 3000 vs measured ~2500
    src = write_gbk_shapefile(gdf, tmp_path / "zongdi.shp")
    code, out, err = run(["import", "parcels", str(src), "--json"], monkeypatch, db_dsn, capsys)
    assert code == 0, err
    summary = json.loads(out)
    assert summary["srid"] == 4549 and summary["n_loaded"] == 5
    checks = summary["by_check"]
    assert checks["repaired"] == 1 and checks["overlap"] == 1
    assert checks["code_format"] == 1 and checks["area_difference"] == 1
    overlap = next(i for i in summary["issues"] if i["check"] == "overlap")
    assert 450 < float(overlap["value"]) < 550
    rows = fetch(db_conn, "SELECT parcel_code, town, land_use_code, supply_date::text, planned_far,"
                          " ST_SRID(geom), attrs->>'备注', round(area_m2) FROM parcel "
                          "ORDER BY source_fid")
    assert [r[1] for r in rows] == ["黄桥镇"] * 5
    assert rows[0][2:7] == ("0601", "2019-05-01", 1.2, 4549, "东区")
    assert 2300 < rows[0][7] < 2700
    assert fetch(db_conn, "SELECT value FROM mujun_setting WHERE key='working_srid'") == [("4549",)]
    # the same file again: nothing changes
    before = fetch(db_conn, "SELECT * FROM parcel ORDER BY parcel_id")
    code, out, err = run(["import", "parcels", str(src)], monkeypatch, db_dsn, capsys)
    assert code == 0 and "导入过" in out
    assert fetch(db_conn, "SELECT * FROM parcel ORDER BY parcel_id") == before
    assert len(fetch(db_conn, "SELECT * FROM import_batch")) == 1


def test_errors_all_or_nothing_then_partial(tmp_path, db_conn, db_dsn, monkeypatch, capsys):
    gdf = parcels_frame(4)
    gdf.loc[2, "宗地代码"] = gdf.loc[0, "宗地代码"]  # duplicate code -> feature 3
    gdf.loc[3, "geometry"] = shapely.box(LON0, LAT0 + 0.01, LON0 + 1e-7, LAT0 + 0.01 + 1e-7)
    share = tmp_path / "share"  # another department's folder: rejects never go there
    share.mkdir()
    src = share / "p.gpkg"
    gdf.to_file(src)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    code, _, err = run(["import", "parcels", str(src)], monkeypatch, db_dsn, capsys)
    assert code == 3
    assert "第 3 个要素" in err and "repeats feature 1" in err
    assert "第 4 个要素" in err and "m²" in err
    assert fetch(db_conn, "SELECT count(*) FROM parcel") == [(0,)]
    assert fetch(db_conn, "SELECT count(*) FROM import_batch") == [(0,)]
    assert fetch(db_conn, "SELECT count(*) FROM mujun_setting") == [(0,)]
    code, _, err = run(["import", "parcels", str(src), "--dry-run", "--accept-partial"],
                         monkeypatch, db_dsn, capsys)
    assert code == 0, err
    assert fetch(db_conn, "SELECT count(*) FROM parcel") == [(0,)]
    assert not (work / "p.rejects.csv").exists()
    code, out, err = run(["import", "parcels", str(src), "--accept-partial"],
                         monkeypatch, db_dsn, capsys)
    assert code == 0, err
    assert fetch(db_conn, "SELECT count(*) FROM parcel") == [(2,)]
    assert f"被拒绝的记录已写入 {work / 'p.rejects.csv'}" in out
    assert sorted(p.name for p in share.iterdir()) == ["p.gpkg"]
    rejects = (work / "p.rejects.csv").read_text(encoding="utf-8-sig").splitlines()
    assert rejects[0].startswith("要素序号,")
    assert {line.split(",")[0] for line in rejects[1:]} == {"3", "4"}
    # writing the rejects file again needs --overwrite
    gdf.loc[0, "乡镇"] = "新镇"
    gdf.to_file(tmp_path / "p2.gpkg")
    code, _, err = run(["import", "parcels", str(tmp_path / "p2.gpkg"), "--accept-partial",
                        "--rejects", str(work / "p.rejects.csv")], monkeypatch, db_dsn, capsys)
    assert code == 4 and "输出已存在" in err
    assert fetch(db_conn, "SELECT count(*) FROM import_batch") == [(1,)]


def test_no_crs_wrong_crs_and_swapped_axes(tmp_path, db_conn, db_dsn, monkeypatch, capsys):
    gdf = parcels_frame(2)
    nocrs = tmp_path / "nocrs.shp"
    write_gbk_shapefile(gdf.set_crs(None, allow_override=True), nocrs)
    code, _, err = run(["import", "parcels", str(nocrs)], monkeypatch, db_dsn, capsys)
    assert code == 3 and "--crs" in err
    swapped = tmp_path / "swapped.geojson"
    gpd.GeoDataFrame(gdf.drop(columns="geometry"), crs=4490, geometry=shapely.transform(
        gdf.geometry.values, lambda xy: xy[:, ::-1])).to_file(swapped)
    code, _, err = run(["import", "parcels", str(swapped)], monkeypatch, db_dsn, capsys)
    assert code == 3 and "swapped" in err and "--swap-xy" in err
    assert fetch(db_conn, "SELECT count(*) FROM parcel") == [(0,)]
    projected_as_degrees = tmp_path / "wrongcrs.shp"
    write_gbk_shapefile(gdf.to_crs(4549).set_crs(4490, allow_override=True),
                        projected_as_degrees)
    code, _, err = run(["import", "parcels", str(projected_as_degrees)], monkeypatch, db_dsn, capsys)
    assert code == 3 and "not degrees" in err
    code, out, err = run(["import", "parcels", str(swapped), "--swap-xy", "--json"],
                         monkeypatch, db_dsn, capsys)
    assert code == 0, err
    assert json.loads(out)["srid"] == 4549
    code, out, err = run(["import", "parcels", str(nocrs), "--crs", "4490", "--json"],
                         monkeypatch, db_dsn, capsys)
    assert code == 0, err
    summary = json.loads(out)  # same parcels (GeoJSON rounded the coordinates: updated)
    assert summary["n_inserted"] == 0 and summary["n_loaded"] == 2


def test_topojson(tmp_path, db_conn, db_dsn, monkeypatch, capsys):
    x0, y0, s, h = LON0, LAT0, 50 * DEGX, 50 * DEG
    topo = {
        "type": "Topology",
        "objects": {"zongdi": {"type": "GeometryCollection", "geometries": [
            {"type": "Polygon", "arcs": [[0]], "properties": {"ZDDM": "320509001009GB00001",
                                                              "TDYT": "601"}},
            {"type": "Polygon", "arcs": [[1]], "properties": {"ZDDM": "320509001009GB00002",
                                                              "TDYT": "0602"}},
        ]}},
        "arcs": [
            [[x0, y0], [x0 + s, y0], [x0 + s, y0 + h], [x0, y0 + h], [x0, y0]],
            [[x0 + 2 * s, y0], [x0 + 3 * s, y0], [x0 + 3 * s, y0 + h], [x0 + 2 * s, y0 + h],
             [x0 + 2 * s, y0]],
        ],
    }
    src = tmp_path / "zongdi.topojson"
    src.write_text(json.dumps(topo))
    code, _, err = run(["import", "parcels", str(src)], monkeypatch, db_dsn, capsys)
    assert code == 3 and "--crs" in err  # TopoJSON declares no CRS
    code, _out, err = run(["import", "parcels", str(src), "--crs", "4326"], monkeypatch, db_dsn,
                         capsys)
    assert code == 0, err
    rows = fetch(db_conn, "SELECT parcel_code, land_use_code, round(area_m2) FROM parcel "
                          "ORDER BY parcel_code")
    assert [r[:2] for r in rows] == [("320509001009GB00001", "0601"),
                                     ("320509001009GB00002", "0602")]
    assert all(2300 < r[2] < 2700 for r in rows)


def test_filegdb_with_map_options(tmp_path, db_conn, db_dsn, monkeypatch, capsys):
    gdf = parcels_frame(3).to_crs(4549).rename(columns={"宗地代码": "DKBH", "乡镇": "XZMC"})
    src = tmp_path / "zongdi.gdb"
    pyogrio.write_dataframe(gdf, src, layer="zongdi", driver="OpenFileGDB")
    code, _out, err = run(["import", "parcels", str(src), "--layer", "zongdi", "--id-field",
                          "DKBH", "--map", "town=XZMC"], monkeypatch, db_dsn, capsys)
    assert code == 0, err
    rows = fetch(db_conn, "SELECT parcel_code, town FROM parcel ORDER BY parcel_code")
    assert rows == [(c, "黄桥镇") for c in sorted(gdf["DKBH"])]
    code, _, err = run(["import", "parcels", str(src), "--map", "nonsense=XZMC"],
                       monkeypatch, db_dsn, capsys)
    assert code == 2 and "unknown field" in err


def test_round_trip_loses_nothing(tmp_path, db_conn, db_dsn, monkeypatch, capsys):
    from gis.db.copy import read_frame
    from tests.vector_files import write_vector

    gdf = parcels_frame(4)
    gdf["约定开工"] = ["2020/01/01", None, "2020年3月1日", None]
    src = tmp_path / "p.shp"
    write_gbk_shapefile(gdf, src)
    code, _, err = run(["import", "parcels", str(src)], monkeypatch, db_dsn, capsys)
    assert code == 0, err
    assert fetch(db_conn, "SELECT agreed_start_date::text FROM parcel ORDER BY source_fid") == \
        [("2020-01-01",), (None,), ("2020-03-01",), (None,)]
    before = fetch(db_conn, "SELECT * FROM parcel ORDER BY parcel_id")
    db_conn.rollback()
    exported = read_frame(db_conn, "SELECT parcel_code, cert_area_m2, land_use_code, supply_date, "
                                   "agreed_start_date, agreed_finish_date, planned_far, town, "
                                   "district, attrs, geom FROM parcel ORDER BY parcel_id")
    db_conn.rollback()
    extra = gpd.pd.DataFrame(list(exported.pop("attrs")))
    exported = exported.join(extra)
    out_path = write_vector(exported, tmp_path / "export.gpkg")
    code, out, err = run(["import", "parcels", str(out_path), "--json"], monkeypatch, db_dsn,
                         capsys)
    assert code == 0, err
    summary = json.loads(out)
    assert summary["n_unchanged"] == 4 and summary["n_updated"] == 0, summary["issues"]
    assert fetch(db_conn, "SELECT * FROM parcel ORDER BY parcel_id") == before


def test_outside_china_falls_back_to_utm(shared_data, tmp_path, db_conn, db_dsn, monkeypatch,
                                         capsys):
    src = shared_data / "osm-industrial" / "osm_landuse_buildings.gpkg"
    rejects = tmp_path / "osm.rejects.csv"
    code, out, err = run(["import", "parcels", str(src), "--layer", "landuse", "--id-field",
                          "osm_way_id", "--accept-partial", "--rejects", str(rejects), "--json"],
                         monkeypatch, db_dsn, capsys)
    assert code == 0, err
    summary = json.loads(out)
    assert summary["srid"] == 32635
    # polygons cut at the clip edge come back missing/collapsed: rejected with their feature number
    assert summary["by_check"].get("empty_geometry", 0) >= 3
    assert summary["n_rejected"] == len({line.split(",")[0] for line in
                                         rejects.read_text(encoding="utf-8-sig").splitlines()[1:]
                                         if ",错误," in line})
    n = fetch(db_conn, "SELECT count(*), min(ST_SRID(geom)) FROM parcel")[0]
    assert n[0] == summary["n_loaded"] and n[0] > 10 and n[1] == 32635
    assert fetch(db_conn, "SELECT value FROM mujun_setting WHERE key='working_srid'") == [("32635",)]
