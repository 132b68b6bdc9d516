"""Layer exports re-read and compared with the database, for every format."""

from __future__ import annotations

import sqlite3
import xml.etree.ElementTree as ET

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest

from gis.layer_writer import FORMATS, shapefile_field_names
from maps.export.layers import export_layer
from maps.fields import FIELDS
from tests.cli_runner import run_mujun
from tests.zh_text import english_words

ZH_TO_NAME = {f.zh: f.name for f in FIELDS.values()}


def db_parcels(conn, run_id):
    rows = conn.execute(
        "SELECT o.parcel_code, o.area_m2, e.name FROM occupancy o "
        "LEFT JOIN (SELECT DISTINCT ON (parcel_code) parcel_code, credit_code FROM land_right "
        "WHERE right_type = 'owner' ORDER BY parcel_code, share DESC NULLS LAST, credit_code) h "
        "USING (parcel_code) LEFT JOIN enterprise e USING (credit_code) "
        "WHERE o.run_id = %s", (run_id,)).fetchall()
    return pd.DataFrame(rows, columns=["parcel_code", "area_m2", "name"]).set_index("parcel_code")


def read_back(path, fmt):
    """The exported file as a frame with the original column names."""
    if fmt == ".shp":
        aliases = pd.read_csv(path.with_suffix(".aliases.csv"), encoding="utf-8-sig")
        frame = gpd.read_file(path)
        return frame.rename(columns=dict(zip(aliases.field, aliases.column, strict=True)))
    if fmt == ".xlsx":
        return pd.read_excel(path, dtype={"宗地代码": str}).rename(columns=ZH_TO_NAME)
    if fmt == ".csv":
        from gis.vector_io import read_vector

        return read_vector(path)
    if fmt == ".kml":   # LIBKML turns the "name" field into each placemark's <name>
        return pyogrio.read_dataframe(path, layer="parcels").rename(columns={"Name": "name"})
    return pyogrio.read_dataframe(path, layer="parcels")


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_every_format_reads_back_as_in_the_database(city_db, tmp_path, fmt):
    conn, _, run_id = city_db
    expected = db_parcels(conn, run_id)
    out = tmp_path / f"parcels{fmt}"
    info = export_layer(conn, "parcels", out)
    assert info["rows"] == len(expected)
    back = read_back(out, fmt)
    assert len(back) == len(expected)
    codes = back["parcel_code"].astype(str)
    assert set(codes) == set(expected.index)
    back = back.set_index(codes)
    names = back["name"].where(back["name"].notna(), None).reindex(expected.index)
    want = expected["name"]
    assert (names.fillna("") == want.fillna("")).all()
    assert any("公司" in n for n in want.dropna())                  # Chinese round-trips
    if "area_m2" in back.columns:
        np.testing.assert_allclose(back["area_m2"].reindex(expected.index).astype(float),
                                   expected["area_m2"], rtol=1e-6)
    if fmt not in (".xlsx",):
        geoms = gpd.GeoSeries(back.geometry.reindex(expected.index), crs=back.crs)
        area = geoms.to_crs(4549).area if geoms.crs.to_epsg() != 4549 else geoms.area
        np.testing.assert_allclose(area, expected["area_m2"], rtol=2e-3)
    if fmt in (".geojson", ".kml"):
        assert back.crs.to_epsg() == 4326


def test_geopackage_style_parses_as_qml_and_names_the_fields(city_db, tmp_path):
    conn, _, _ = city_db
    out = tmp_path / "towns.gpkg"
    export_layer(conn, "towns", out)
    export_layer(conn, "enterprises", tmp_path / "ent.gpkg")
    for path, layer in ((out, "towns"), (tmp_path / "ent.gpkg", "enterprises")):
        with sqlite3.connect(path) as db:
            rows = db.execute("SELECT f_table_name, f_geometry_column, styleQML, useAsDefault "
                              "FROM layer_styles").fetchall()
            kinds = dict(db.execute("SELECT table_name, data_type FROM gpkg_contents"))
        assert kinds == {layer: "features", "layer_styles": "attributes"}
        assert len(rows) == 1 and rows[0][0] == layer and rows[0][3] == 1
        root = ET.fromstring(rows[0][2].split("\n", 1)[1])
        fields = set(pyogrio.read_info(path, layer=layer)["fields"])
        aliased = {a.get("field") for a in root.iter("alias")}
        assert aliased == fields
        renderer = root.find("renderer-v2")
        assert renderer.get("attr") in fields
        assert rows[0][1] == pyogrio.read_info(path, layer=layer)["geometry_name"]
    from maps.styles import style_for

    root = ET.fromstring(sqlite3.connect(tmp_path / "ent.gpkg").execute(
        "SELECT styleQML FROM layer_styles").fetchone()[0].split("\n", 1)[1])
    colours = {c.get("value"): s for c, s in zip(root.iter("category"), root.iter("symbol"),
                                                  strict=False)}
    a = colours["A"].find(".//Option[@name='color']").get("value")
    hexa = style_for("classes").colour_for("A").lstrip("#")
    assert a.split(",")[:3] == [str(int(hexa[i:i + 2], 16)) for i in (0, 2, 4)]


@pytest.mark.parametrize("encoding", ["utf-8", "gbk"])
def test_shapefile_names_fit_and_chinese_round_trips(city_db, tmp_path, encoding):
    conn, _, run_id = city_db
    out = tmp_path / f"p_{encoding}.shp"
    info = export_layer(conn, "parcels", out, encoding=encoding)
    assert out.with_suffix(".cpg").read_text().strip().upper() == (
        "UTF-8" if encoding == "utf-8" else "GBK")
    fields = pyogrio.read_info(out, encoding=encoding)["fields"]
    assert all(len(f.encode(encoding)) <= 10 for f in fields)
    assert "parcel_code" in info["renamed"]
    back = read_back(out, ".shp")           # GDAL reads the .cpg
    expected = db_parcels(conn, run_id)
    names = back.set_index("parcel_code")["name"].reindex(expected.index)
    assert (names.fillna("") == expected["name"].fillna("")).all()
    assert out.with_suffix(".qml").exists()
    # Chinese field names count their encoded bytes
    frame = gpd.GeoDataFrame({"建筑系数比例": [0.5], "企业名称": ["甲公司"]},
                             geometry=gpd.points_from_xy([0], [0]), crs=4326)
    from gis.layer_writer import write_layer

    path = tmp_path / f"zh_{encoding}.shp"
    write_layer(frame, path, layer="zh", encoding=encoding)
    names_written = pyogrio.read_info(path, encoding=encoding)["fields"]
    assert all(len(n.encode(encoding)) <= 10 for n in names_written)
    assert list(gpd.read_file(path).iloc[0][:-1]) == [0.5, "甲公司"]


def test_shapefile_field_names_property():
    from hypothesis import given
    from hypothesis import strategies as st

    @given(st.lists(st.text(alphabet="abc_建筑系数企业名称", min_size=1, max_size=14),
                    min_size=1, max_size=12, unique=True),
           st.sampled_from(["utf-8", "gbk"]))
    def check(names, encoding):
        out = shapefile_field_names(names, encoding)
        assert list(out) == names
        assert all(len(v.encode(encoding)) <= 10 for v in out.values())
        assert len({v.lower() for v in out.values()}) == len(names)

    check()


def test_desensitize_masks_names_codes_and_drops_figures(city_db, tmp_path):
    conn, _, _ = city_db
    out = tmp_path / "ent.csv"
    info = export_layer(conn, "enterprises", out, desensitize=True)
    table = pd.read_csv(out, encoding="utf-8-sig", dtype=str)
    assert {"tax_wan", "revenue_wan", "tax_per_mu"} & set(table.columns) == set()
    assert {"tax_wan", "tax_per_mu"} <= set(info["desensitized"]["dropped"])
    assert table["credit_code"].str.fullmatch(r"[0-9A-Z]{8}\*{10}").all()
    assert table["name"].str.fullmatch(r".\*+").all()
    real = {r[0] for r in conn.execute("SELECT name FROM enterprise")}
    assert not set(table["name"]) & real


def test_crs_option_and_errors(city_db, tmp_path):
    conn, _, _ = city_db
    out = tmp_path / "p4490.gpkg"
    export_layer(conn, "parcels", out, crs=4490)
    assert pyogrio.read_info(out, layer="parcels")["crs"] == "EPSG:4490"
    from gis.errors import ConfigError, DriverError, OutputExistsError

    with pytest.raises(OutputExistsError):
        export_layer(conn, "parcels", out)
    with pytest.raises(DriverError, match=r"\.gpkg"):
        export_layer(conn, "parcels", tmp_path / "p.txt")
    with pytest.raises(ConfigError, match="WGS84"):
        export_layer(conn, "parcels", tmp_path / "p.geojson", crs=4490)
    with pytest.raises(ConfigError, match="未知图层"):
        export_layer(conn, "nope", tmp_path / "p.gpkg")
    with pytest.raises(ConfigError, match="no geometry"):
        export_layer(conn, "enterprise_land", tmp_path / "land.gpkg")


def test_export_cli(city_db, tmp_path, monkeypatch, capsys):
    _, dsn, _ = city_db
    out = tmp_path / "towns.xlsx"
    code, stdout, err = run_mujun(["export", "towns", "-o", str(out), "--json"],
                                  monkeypatch, dsn, capsys)
    assert code == 0, err
    import json

    info = json.loads(stdout)
    table = pd.read_excel(out)
    assert "镇街" in table.columns and len(table) == info["rows"] == 3
    code, _, err = run_mujun(["export", "towns", "-o", str(out)], monkeypatch, dsn, capsys)
    assert code == 4 and "--overwrite" in err
    code, stdout, _ = run_mujun(["export", "--fields"], monkeypatch, dsn, capsys)
    assert code == 0 and "mask_code" in stdout and "tax_wan" in stdout


def test_export_and_map_speak_chinese(city_db, tmp_path, monkeypatch, capsys):
    """What `mujun export` and `mujun map` print, and their refusals, are Chinese."""
    _, dsn, _ = city_db

    def run(*argv):
        return run_mujun([str(a) for a in argv], monkeypatch, dsn, capsys)

    code, out, err = run("export", "towns", "-o", tmp_path / "towns.csv")
    assert code == 0 and "镇街汇总" in out and english_words(out) == [], err
    code, _, err = run("export", "towns", "-o", tmp_path / "towns.csv")
    assert code == 4 and "输出已存在" in err and english_words(err) == []
    code, _, err = run("export", "towns", "--town", "东镇", "-o", tmp_path / "t2.csv")
    assert code == 2 and "只用于候选地块" in err
    code, out, err = run("map", "towns", "-o", tmp_path / "towns.html")
    assert code == 0 and "已写出" in out and english_words(out, ("MB",)) == [], err
    code, _, err = run("map", "classes", "--run", "999999", "-o", tmp_path / "c.html")
    assert code == 3 and "第 999999 次运行不存在（--run）" in err
    assert english_words(err) == []


def test_filegdb_without_a_writing_driver_says_what_to_do(city_db, tmp_path, monkeypatch):
    from gis.errors import DriverError
    from gis.layer_writer import writer

    conn, _, _ = city_db
    monkeypatch.setattr(writer, "_gdb_writable", lambda: False)   # as on GDAL < 3.6
    with pytest.raises(DriverError, match=r"cannot write FileGDB.*\.gpkg"):
        export_layer(conn, "towns", tmp_path / "towns.gdb")
    assert not (tmp_path / "towns.gdb").exists()


def _precious_folder(path):
    path.mkdir()
    (path / "notes.docx").write_text("a year of field notes")
    return path


@pytest.mark.parametrize("argv", [["score", "export"], ["export", "scores"],
                                  ["occupancy", "export"], ["candidates", "report"]])
def test_overwrite_onto_a_folder_refuses_and_keeps_it(city_db, tmp_path, monkeypatch, capsys,
                                                      argv):
    """Finding 1: `-o x.xlsx --overwrite` onto a folder used to delete it with its files."""
    _, dsn, _ = city_db
    folder = _precious_folder(tmp_path / "x.xlsx")
    code, _, err = run_mujun([*argv, "-o", str(folder), "--overwrite"], monkeypatch, dsn, capsys)
    assert code == 4, err
    assert "folder" in err and "Traceback" not in err
    assert (folder / "notes.docx").read_text() == "a year of field notes"


def test_map_overwrite_keeps_folders_it_did_not_write(city_db, tmp_path, monkeypatch, capsys):
    _, dsn, _ = city_db
    page = _precious_folder(tmp_path / "industry.html")
    code, _, err = run_mujun(["map", "industry", "-o", str(page), "--overwrite"], monkeypatch,
                             dsn, capsys)
    assert code == 4 and (page / "notes.docx").exists(), err
    side = _precious_folder(tmp_path / "towns_files")
    code, _, err = run_mujun(["map", "towns", "-o", str(tmp_path / "towns.html"), "--overwrite"],
                             monkeypatch, dsn, capsys)
    assert code == 4 and "towns_files" in err, err
    assert (side / "notes.docx").exists()


def test_filegdb_overwrite_replaces_one_layer_and_keeps_the_others(city_db, tmp_path,
                                                                   monkeypatch, capsys):
    from gis.layer_writer import writer

    if not writer._gdb_writable():
        pytest.fail("this GDAL cannot write FileGDB (GDAL >= 3.6 needed)")
    _, dsn, _ = city_db
    gdb = tmp_path / "county.gdb"
    for layer in ("towns", "parcels"):
        code, _, err = run_mujun(["export", layer, "-o", str(gdb)], monkeypatch, dsn, capsys)
        assert code == 0, err
    code, _, err = run_mujun(["export", "towns", "-o", str(gdb)], monkeypatch, dsn, capsys)
    assert code == 4 and "--overwrite" in err and "=True" not in err
    code, _, err = run_mujun(["export", "towns", "-o", str(gdb), "--overwrite"], monkeypatch,
                             dsn, capsys)
    assert code == 0, err
    assert sorted(n for n, _ in pyogrio.list_layers(gdb)) == ["parcels", "towns"]
    assert len(pyogrio.read_dataframe(gdb, layer="parcels")) > 0


@pytest.fixture
def hostile_enterprise(city_db):
    """An enterprise with a score whose name is a formula (restored afterwards)."""
    conn, _, _ = city_db
    code, name = conn.execute(
        "SELECT s.credit_code, e.name FROM enterprise_score s JOIN enterprise e"
        " USING (credit_code) WHERE s.run_id = (SELECT max(run_id) FROM enterprise_score)"
        " ORDER BY s.credit_code LIMIT 1").fetchone()
    hostile = '=HYPERLINK("http://evil.example","领取补贴")'
    conn.execute("UPDATE enterprise SET name = %s WHERE credit_code = %s", (hostile, code))
    conn.execute("UPDATE enterprise_score SET name = %s WHERE credit_code = %s", (hostile, code))
    conn.commit()
    try:
        yield hostile
    finally:
        conn.execute("UPDATE enterprise SET name = %s WHERE credit_code = %s", (name, code))
        conn.execute("UPDATE enterprise_score SET name = %s WHERE credit_code = %s",
                     (name, code))
        conn.commit()


@pytest.mark.parametrize("argv", [["score", "export"], ["export", "enterprises"]])
def test_formula_names_stay_text_in_xlsx_and_csv(city_db, hostile_enterprise, tmp_path,
                                                  monkeypatch, capsys, argv):
    """Finding 11: a name starting with '=' was a live formula in XLSX and raw in CSV."""
    import openpyxl

    _, dsn, _ = city_db
    xlsx, csv = tmp_path / "out.xlsx", tmp_path / "out.csv"
    for out in (xlsx, csv):
        code, _, err = run_mujun([*argv, "-o", str(out)], monkeypatch, dsn, capsys)
        assert code == 0, err
    ws = openpyxl.load_workbook(xlsx).worksheets[0]
    cells = [c for row in ws.iter_rows() for c in row]
    hits = [c for c in cells if c.value == hostile_enterprise]
    assert hits and all(c.data_type == "s" for c in hits)
    assert not any(c.data_type == "f" for c in cells)
    assert any(c.data_type == "n" for c in cells)          # figures stay numbers
    table = pd.read_csv(csv, encoding="utf-8-sig", dtype=str)
    assert "'" + hostile_enterprise in set(table["name"])
    assert hostile_enterprise not in set(table["name"])


@pytest.mark.parametrize("argv,out", [(["occupancy", "export"], "occ.csv"),
                                      (["occupancy", "export", "--enterprises"], "land.xlsx"),
                                      (["score", "export"], "scores.gpkg"),
                                      (["candidates", "report"], "candidates.xlsx")])
def test_lower_commands_write_without_the_maps_export_command(city_db, tmp_path, monkeypatch,
                                                              capsys, argv, out):
    """No upward call: these commands used to run `mujun export` looked up by name."""
    from gis.cli.main import PluginGroup

    real = PluginGroup._entry_points
    monkeypatch.setattr(PluginGroup, "_entry_points",
                        lambda self: {k: v for k, v in real(self).items() if k != "export"})
    _, dsn, _ = city_db
    code, _, err = run_mujun([*argv, "-o", str(tmp_path / out)], monkeypatch, dsn, capsys)
    assert code == 0, err
    assert (tmp_path / out).stat().st_size > 0
