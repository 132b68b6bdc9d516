"""Imports never lose or invent data: partial deliveries, re-imports, truncated files, wrong zones.

Every case is a real file in the format it arrives in, imported through the real
`mujun` entry point into a real PostGIS.
"""

from __future__ import annotations

import csv
import json

import geopandas as gpd
import openpyxl
import pytest
import shapely

from parcels.codes import make_credit_code, make_parcel_code
from tests.cli_runner import fetch
from tests.cli_runner import run_mujun as run

LON0, LAT0 = 120.60, 31.30  # CGCS2000 3-degree zone CM 120°E: EPSG:4549 (4528 with prefix)
DEG = 1 / 111_000
DEGX = DEG / 0.8545
CODES = [make_credit_code("9", "1", "320509", f"MC{i:04d}XY") for i in range(1, 5)]
PARCELS = [make_parcel_code("320509", 1, 7, i) for i in range(1, 7)]


def square(i, size_m=50.0):
    x = LON0 + i * 60 * DEGX
    return shapely.box(x, LAT0, x + size_m * DEGX, LAT0 + size_m * DEG)


def parcels(n=3, **columns):
    data = {"宗地代码": PARCELS[:n], **{k: v[:n] for k, v in columns.items()}}
    return gpd.GeoDataFrame(data, geometry=[square(i) for i in range(n)], crs=4490)


# ----------------------------------------------------------------- partial deliveries


def test_geometry_only_reimport_keeps_attributes(tmp_path, db_conn, db_dsn, monkeypatch, capsys):
    full = parcels(3, 证载面积=[2500.0, 2600.0, 2700.0], 土地用途=["0601"] * 3,
                   供地日期=["2019-05-01"] * 3, 乡镇=["黄桥镇"] * 3, 容积率=[1.2] * 3,
                   园区=["高新区", "高新区", None])
    full.to_file(tmp_path / "full.gpkg")
    code, _, err = run(["import", "parcels", str(tmp_path / "full.gpkg")], monkeypatch, db_dsn,
                       capsys)
    assert code == 0, err
    before = fetch(db_conn, "SELECT parcel_code, cert_area_m2, land_use_code, supply_date, town, "
                            "planned_far, park FROM parcel ORDER BY parcel_code")
    assert [r[6] for r in before] == ["高新区", "高新区", None]
    # the surveying department re-delivers the outlines only, one of them moved by 10 m
    geo = parcels(3)
    geo.loc[0, "geometry"] = shapely.affinity.translate(square(0), 10 * DEGX, 0)
    geo.to_file(tmp_path / "geo.gpkg")
    code, out, err = run(["import", "parcels", str(tmp_path / "geo.gpkg"), "--json"],
                         monkeypatch, db_dsn, capsys)
    assert code == 0, err
    assert json.loads(out)["n_updated"] == 1
    assert fetch(db_conn, "SELECT parcel_code, cert_area_m2, land_use_code, supply_date, town, "
                          "planned_far, park FROM parcel ORDER BY parcel_code") == before
    # a delivery with an empty 乡镇 cell keeps the stored town, unless --clear-blanks
    blank = parcels(1, 乡镇=[None])
    blank.to_file(tmp_path / "blank.gpkg")
    code, _, err = run(["import", "parcels", str(tmp_path / "blank.gpkg")], monkeypatch, db_dsn,
                       capsys)
    assert code == 0, err
    assert fetch(db_conn, "SELECT town FROM parcel WHERE parcel_code = %s", (PARCELS[0],)) == \
        [("黄桥镇",)]
    code, _, err = run(["import", "parcels", str(tmp_path / "blank.gpkg"), "--clear-blanks"],
                       monkeypatch, db_dsn, capsys)
    assert code == 0, err
    assert fetch(db_conn, "SELECT town, cert_area_m2 FROM parcel WHERE parcel_code = %s",
                 (PARCELS[0],)) == [(None, 2500.0)]


def test_tax_only_then_electricity_only_delivery(tmp_path, db_conn, db_dsn, monkeypatch, capsys):
    tax = tmp_path / "税务局.csv"
    tax.write_text("统一社会信用代码,企业名称,实缴税金(万元)\n"
                   f"{CODES[0]},甲公司,120\n{CODES[1]},乙公司,80\n", encoding="gbk")
    power = tmp_path / "供电公司.xlsx"
    wb = openpyxl.Workbook()
    wb.active.append(["统一社会信用代码", "企业名称", "用电量(万千瓦时)"])
    wb.active.append([CODES[0], "甲公司", 50])
    wb.active.append([CODES[1], "乙公司", 7.5])
    wb.save(power)
    for src in (tax, power):
        code, _, err = run(["import", "enterprises", str(src), "--year", "2024"], monkeypatch,
                           db_dsn, capsys)
        assert code == 0, err
    assert fetch(db_conn, "SELECT credit_code, tax_wan, electricity_kwh FROM enterprise_year "
                          "WHERE year = 2024 ORDER BY credit_code") == \
        [(CODES[0], 120.0, 500000.0), (CODES[1], 80.0, 75000.0)]


# ----------------------------------------------------------------- identity of an import


def test_second_layer_and_sheet_are_new_imports(tmp_path, db_conn, db_dsn, monkeypatch, capsys):
    src = tmp_path / "two_towns.gpkg"
    a, b = parcels(2), parcels(4).iloc[2:]
    a.to_file(src, layer="town_a")
    b.to_file(src, layer="town_b", mode="a")
    for layer in ("town_a", "town_b"):
        code, out, err = run(["import", "parcels", str(src), "--layer", layer], monkeypatch,
                             db_dsn, capsys)
        assert code == 0 and "导入过" not in out, err
    assert fetch(db_conn, "SELECT count(*) FROM parcel") == [(4,)]
    code, out, _ = run(["import", "parcels", str(src), "--layer", "town_b"], monkeypatch, db_dsn,
                       capsys)
    assert code == 0 and "导入过" in out
    code, _, err = run(["import", "parcels", str(src), "--layer", "town_c"], monkeypatch, db_dsn,
                       capsys)
    assert code == 3 and "no layer 'town_c'" in err and "town_a" in err
    book = tmp_path / "two_years.xlsx"
    wb = openpyxl.Workbook()
    wb.active.append(["统一社会信用代码", "企业名称", "税收(万元)"])
    wb.active.append([CODES[0], "甲公司", 1])
    ws = wb.create_sheet("第二批")
    ws.append(["统一社会信用代码", "企业名称", "税收(万元)"])
    ws.append([CODES[2], "丙公司", 3])
    wb.save(book)
    for sheet in ("0", "1"):
        code, out, err = run(["import", "enterprises", str(book), "--year", "2023", "--sheet",
                              sheet], monkeypatch, db_dsn, capsys)
        assert code == 0 and "导入过" not in out, err
    assert fetch(db_conn, "SELECT count(*) FROM enterprise_year") == [(2,)]
    code, _, err = run(["import", "enterprises", str(book), "--year", "2023", "--sheet", "5"],
                       monkeypatch, db_dsn, capsys)
    assert code == 3 and "no sheet number 5" in err


def test_two_identical_imports_started_together_load_once(tmp_path, db_conn, db_dsn):
    gdf = gpd.GeoDataFrame(geometry=[square(i, 20) for i in range(300)], crs=4490)
    src = tmp_path / "buildings.gpkg"
    gdf.to_file(src)
    from tests.cli_runner import mujun_popen

    procs = [mujun_popen("import", "footprints", str(src), "--date", "2024-01-01", "--json",
                         dsn=db_dsn) for _ in range(2)]
    results = [p.communicate(timeout=300) for p in procs]
    assert all(p.returncode == 0 for p in procs), [r[1] for r in results]
    outs = [json.loads(r[0]) for r in results]
    assert sorted(o["already_imported"] for o in outs) == [False, True]
    assert outs[0]["batch_id"] == outs[1]["batch_id"]
    assert fetch(db_conn, "SELECT count(*), count(DISTINCT batch_id) FROM footprint") == [(300, 1)]


# ----------------------------------------------------------------- broken and misplaced files


def test_truncated_dbf_is_refused(tmp_path, db_conn, db_dsn, monkeypatch, capsys):
    src = tmp_path / "zongdi.shp"
    parcels(6).to_file(src, encoding="UTF-8")
    dbf = src.with_suffix(".dbf")
    data = dbf.read_bytes()
    dbf.write_bytes(data[: int(len(data) * 0.6)])
    code, _, err = run(["import", "parcels", str(src)], monkeypatch, db_dsn, capsys)
    assert code == 3
    assert "zongdi.shp" in err and "truncated" in err and "announces 6 records" in err
    assert "Traceback" not in err
    assert fetch(db_conn, "SELECT count(*) FROM parcel") == [(0,)]


def zone_file(path, *, prefix: bool):
    """Parcels near Suzhou in CGCS2000 zone 40 (CM 120°E), with or without the zone prefix."""
    gdf = parcels(3).to_crs(4549)
    if prefix:
        gdf["geometry"] = gdf.geometry.translate(xoff=40_000_000)
    gdf.set_crs(4528 if prefix else 4549, allow_override=True).to_file(path)
    return path


def test_wrong_zone_is_refused_with_the_likely_crs(tmp_path, db_conn, db_dsn, monkeypatch,
                                                   capsys):
    src = zone_file(tmp_path / "no_prefix.gpkg", prefix=False)
    for kind in ("parcels", "footprints"):
        code, _, err = run(["import", kind, str(src), "--crs", "4528", "--date", "2024-01-01"]
                           if kind == "footprints" else ["import", kind, str(src), "--crs", "4528"],
                           monkeypatch, db_dsn, capsys)
        assert code == 3, err
        assert "3 of 3 features lie outside" in err and "--crs 4549" in err, err
    prefixed = zone_file(tmp_path / "prefix.gpkg", prefix=True)
    code, _, err = run(["import", "parcels", str(prefixed), "--crs", "4549"], monkeypatch, db_dsn,
                       capsys)
    assert code == 3 and "start with 40" in err and "--crs 4528" in err
    assert fetch(db_conn, "SELECT count(*) FROM import_batch") == [(0,)]
    assert fetch(db_conn, "SELECT count(*) FROM mujun_setting") == [(0,)]
    # with the right CRS both load, at the same place
    code, _, err = run(["import", "parcels", str(prefixed)], monkeypatch, db_dsn, capsys)
    assert code == 0, err
    area = fetch(db_conn, "SELECT round(sum(area_m2)) FROM parcel")[0][0]
    assert area == pytest.approx(3 * 2500, rel=0.01)


def test_swap_xy_on_good_data_never_fixes_the_working_crs(tmp_path, db_conn, db_dsn,
                                                          monkeypatch, capsys):
    src = zone_file(tmp_path / "good.gpkg", prefix=False)
    code, _, err = run(["import", "parcels", str(src), "--swap-xy"], monkeypatch, db_dsn, capsys)
    assert code == 3 and "drop --swap-xy" in err, err
    assert fetch(db_conn, "SELECT count(*) FROM mujun_setting") == [(0,)]
    lonlat = tmp_path / "lonlat.gpkg"
    parcels(3).to_file(lonlat)
    code, _, err = run(["import", "parcels", str(lonlat), "--swap-xy"], monkeypatch, db_dsn,
                       capsys)
    assert code == 3 and "drop --swap-xy" in err, err
    assert fetch(db_conn, "SELECT count(*) FROM mujun_setting") == [(0,)]
    code, _, err = run(["import", "parcels", str(src)], monkeypatch, db_dsn, capsys)
    assert code == 0, err
    assert fetch(db_conn, "SELECT value FROM mujun_setting") == [("4549",)]


def test_absurd_coordinates_never_overwrite_a_parcel(tmp_path, db_conn, db_dsn, monkeypatch,
                                                     capsys):
    parcels(3).to_file(tmp_path / "ok.gpkg")
    code, _, err = run(["import", "parcels", str(tmp_path / "ok.gpkg")], monkeypatch, db_dsn,
                       capsys)
    assert code == 0, err
    before = fetch(db_conn, "SELECT parcel_code, ST_AsText(geom) FROM parcel ORDER BY 1")
    bad = parcels(3).to_crs(4549)
    bad.loc[1, "geometry"] = shapely.box(1e30, 1e30, 1e30 + 50, 1e30 + 50)
    bad.to_file(tmp_path / "bad.gpkg")
    code, _, err = run(["import", "parcels", str(tmp_path / "bad.gpkg")], monkeypatch, db_dsn,
                       capsys)
    assert code == 3 and "第 2 个要素" in err and "outside the area" in err
    code, _, err = run(["import", "parcels", str(tmp_path / "bad.gpkg"), "--accept-partial",
                        "--rejects", str(tmp_path / "r.csv")], monkeypatch, db_dsn, capsys)
    assert code == 0, err
    after = fetch(db_conn, "SELECT parcel_code, ST_AsText(geom) FROM parcel ORDER BY 1")
    assert after[1] == before[1]


# ----------------------------------------------------------------- options that must count


def test_mapping_to_a_missing_column_is_an_error(tmp_path, db_conn, db_dsn, monkeypatch, capsys):
    src = tmp_path / "p.gpkg"
    parcels(2, 证载面积=[1.0, 2.0]).to_file(src)
    code, _, err = run(["import", "parcels", str(src), "--map", "cert_area_m2=NOSUCH"],
                       monkeypatch, db_dsn, capsys)
    assert code == 2 and "'NOSUCH'" in err and "宗地代码" in err and "证载面积" in err
    mapping = tmp_path / "m.yaml"
    mapping.write_text("columns:\n  tax_wan: 税收合计\n", encoding="utf-8")
    csv_src = tmp_path / "e.csv"
    csv_src.write_text(f"统一社会信用代码,企业名称,税收\n{CODES[0]},甲,1\n", encoding="utf-8")
    code, _, err = run(["import", "enterprises", str(csv_src), "--year", "2023", "--mapping",
                        str(mapping)], monkeypatch, db_dsn, capsys)
    assert code == 2 and "'税收合计'" in err and "columns:" in err
    assert fetch(db_conn, "SELECT count(*) FROM import_batch") == [(0,)]


def test_id_field_settles_two_code_columns(tmp_path, db_conn, db_dsn, monkeypatch, capsys):
    src = tmp_path / "p.gpkg"
    gdf = parcels(2)
    gdf["ZDDM"] = ["A-1", "A-2"]
    gdf.to_file(src)
    code, _, err = run(["import", "parcels", str(src)], monkeypatch, db_dsn, capsys)
    assert code == 2 and "--id-field" in err.split("mapping file")[0]
    code, _, err = run(["import", "parcels", str(src), "--id-field", "ZDDM"], monkeypatch, db_dsn,
                       capsys)
    assert code == 0, err
    assert fetch(db_conn, "SELECT parcel_code, attrs->>'宗地代码' FROM parcel ORDER BY 1") == \
        [("A-1", PARCELS[0]), ("A-2", PARCELS[1])]


# ----------------------------------------------------------------- absurd values, decided


def test_absurd_values_each_have_a_decision(tmp_path, db_conn, db_dsn, monkeypatch, capsys):
    src = tmp_path / "p.gpkg"
    parcels(2, 证载面积=[1e30, 2500.0]).to_file(src)
    code, _, err = run(["import", "parcels", str(src)], monkeypatch, db_dsn, capsys)
    assert code == 3 and "第 1 个要素" in err and "1e+30" in err and "不可能的值" in err
    table = tmp_path / "e.csv"
    with open(table, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["统一社会信用代码", "企业名称", "税收(万元)", "年平均职工人数"])
        w.writerow([CODES[0], "甲", "nan", "2.5"])
        w.writerow([CODES[1], "乙", "10", "12"])
    code, out, err = run(["import", "enterprises", str(table), "--year", "2023", "--json"],
                         monkeypatch, db_dsn, capsys)
    assert code == 0, err
    summary = json.loads(out)
    assert summary["by_check"]["nan_value"] == 1 and summary["by_check"]["rounded"] == 1
    assert fetch(db_conn, "SELECT credit_code, tax_wan, employees FROM enterprise_year "
                          "ORDER BY 1") == [(CODES[0], None, 3), (CODES[1], 10.0, 12)]


# ----------------------------------------------------------------- readable refusals


def test_refusal_is_summarised_by_kind(tmp_path, db_conn, db_dsn, monkeypatch, capsys):
    codes = [make_parcel_code("320509", 2, 9, i + 1) for i in range(12)]
    values = codes[:10] + [codes[i % 10] for i in range(80)] + [None] * 3 + codes[10:12]
    geoms = [square(i, 40) for i in range(len(values))]
    geoms[-2] = shapely.Polygon()  # empty geometry
    x = LON0 + (len(values) + 1) * 60 * DEGX
    geoms[-1] = shapely.box(x, LAT0, x + 0.5 * DEGX, LAT0 + 0.5 * DEG)  # 0.25 m² sliver
    src = tmp_path / "zongdi.gpkg"
    gpd.GeoDataFrame({"ZDDM": values}, geometry=geoms, crs=4490).to_file(src)
    code, _, err = run(["import", "parcels", str(src)], monkeypatch, db_dsn, capsys)
    assert code == 3
    assert ("85 个要素有错误：宗地代码重复 80 处、宗地代码为空 3 处、几何为空 1 处、"
            "碎片或退化几何 1 处") in err
    assert "例如 第 11 个要素（字段 parcel_code）：parcel code" in err and "repeats feature 1" in err
    assert "另有" in err and len(err.splitlines()) == 1
