"""The one layer writer (gis.layer_writer): formulas stay text, folders and layers survive."""

from __future__ import annotations

import os

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely

from gis.atomic import FOLDER_MARK, atomic_output
from gis.errors import OutputError, OutputExistsError
from gis.layer_writer import FieldInfo, write_layer

HOSTILE = ["=HYPERLINK(\"http://x\",\"点我\")", "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1",
           "=1+1"]


def table() -> pd.DataFrame:
    return pd.DataFrame({"name": [*HOSTILE, "甲公司", "-", None],
                         "tax_wan": [1.5, -5, 0, 3, 4, 5, 6, 7, -8.25, None]})


def test_xlsx_text_is_never_a_formula_and_numbers_stay_numbers(tmp_path):
    import openpyxl

    out = tmp_path / "t.xlsx"
    write_layer(table(), out, layer="t",
                fields={"name": FieldInfo("name", "企业名称", "name")})
    ws = openpyxl.load_workbook(out).worksheets[0]
    rows = list(ws.iter_rows())
    assert [c.value for c in rows[0]] == ["企业名称", "tax_wan"]
    names = [r[0] for r in rows[1:]]
    for cell, want in zip(names, [*HOSTILE, "甲公司", "-"], strict=False):
        assert cell.data_type == "s", (cell.value, cell.data_type)
        # a CR comes back as written when openpyxl writes through lxml (python-docx brings
        # it), as LF through the standard library's XML writer
        assert cell.value in (want, want.replace("\r", "\n"))
    assert all(r[0].value is None for r in rows[1 + 9:])    # the empty row stays empty
    taxes = [r[1] for r in rows[1:10]]
    assert all(c.data_type == "n" for c in taxes)
    assert [c.value for c in taxes] == [1.5, -5, 0, 3, 4, 5, 6, 7, -8.25]


def test_xlsx_without_cached_formulas_reads_back_as_text(tmp_path):
    """Loaded the way LibreOffice/Excel would compute: no cell holds a formula at all."""
    import openpyxl

    out = tmp_path / "t.xlsx"
    write_layer(table(), out, layer="t", sheets={"附表": pd.DataFrame({"说明": ["=2*3"]})})
    wb = openpyxl.load_workbook(out)
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            assert all(c.data_type != "f" for c in row), ws.title


def test_csv_prefixes_formula_text_and_keeps_numbers(tmp_path):
    out = tmp_path / "t.csv"
    write_layer(table(), out, layer="t")
    back = pd.read_csv(out, encoding="utf-8-sig", keep_default_na=False)
    assert back["name"].tolist()[:len(HOSTILE)] == ["'" + v for v in HOSTILE]
    assert back["name"].tolist()[len(HOSTILE):] == ["甲公司", "-", ""]
    assert pd.to_numeric(back["tax_wan"]).tolist()[:-1] == [1.5, -5, 0, 3, 4, 5, 6, 7, -8.25]


def test_csv_of_a_layer_keeps_the_wkt_column(tmp_path):
    frame = gpd.GeoDataFrame({"name": ["=1+1"]}, geometry=[shapely.box(0, 0, 1, 1)], crs=4549)
    out = tmp_path / "l.csv"
    write_layer(frame, out, layer="l")
    back = pd.read_csv(out, encoding="utf-8-sig")
    assert back["wkt"][0].startswith("POLYGON") and back["name"][0] == "'=1+1"


def _precious(folder):
    folder.mkdir()
    (folder / "thesis.docx").write_text("years of work")
    return folder


@pytest.mark.parametrize("suffix", [".xlsx", ".csv", ".gpkg", ".shp", ".geojson"])
def test_overwrite_never_removes_a_folder_in_the_way(tmp_path, suffix):
    folder = _precious(tmp_path / f"out{suffix}")
    frame = gpd.GeoDataFrame({"a": [1]}, geometry=[shapely.box(0, 0, 1, 1)], crs=4549)
    with pytest.raises(OutputError, match="folder"):
        write_layer(frame, folder, layer="out", overwrite=True)
    assert (folder / "thesis.docx").read_text() == "years of work"


def test_overwrite_never_removes_a_folder_that_is_not_a_filegdb(tmp_path):
    folder = _precious(tmp_path / "data.gdb")
    frame = gpd.GeoDataFrame({"a": [1]}, geometry=[shapely.box(0, 0, 1, 1)], crs=4549)
    with pytest.raises(OutputError, match="not a FileGDB"):
        write_layer(frame, folder, layer="parcels", overwrite=True)
    assert (folder / "thesis.docx").read_text() == "years of work"


def _layer(value):
    return gpd.GeoDataFrame({"a": [value]}, geometry=[shapely.box(0, 0, 1, 1)], crs=4549)


@pytest.mark.parametrize("suffix", [".gdb", ".gpkg"])
def test_replacing_a_layer_keeps_the_other_layers(tmp_path, suffix):
    from gis.layer_writer import writer

    if suffix == ".gdb" and not writer._gdb_writable():
        pytest.fail("this GDAL cannot write FileGDB (GDAL >= 3.6 needed)")
    out = tmp_path / f"county{suffix}"
    write_layer(_layer(1), out, layer="parcels")
    write_layer(_layer(2), out, layer="towns")          # a new layer needs no --overwrite
    with pytest.raises(OutputExistsError, match="--overwrite"):
        write_layer(_layer(3), out, layer="parcels")
    write_layer(_layer(3), out, layer="parcels", overwrite=True)
    assert sorted(name for name, _ in pyogrio.list_layers(out)) == ["parcels", "towns"]
    assert pyogrio.read_dataframe(out, layer="parcels")["a"].tolist() == [3]
    assert pyogrio.read_dataframe(out, layer="towns")["a"].tolist() == [2]
    if suffix == ".gdb":
        assert not (out / FOLDER_MARK).exists()      # nothing foreign inside a FileGDB


def test_atomic_output_replaces_only_its_own_folders(tmp_path):
    own = tmp_path / "page_files"
    with atomic_output(own) as tmp:
        tmp.mkdir()
        (tmp / "a.js").write_text("1")
    assert (own / FOLDER_MARK).is_file()
    with atomic_output(own, overwrite=True) as tmp:
        tmp.mkdir()
        (tmp / "b.js").write_text("2")
    assert sorted(os.listdir(own)) == sorted([FOLDER_MARK, "b.js"])
    foreign = _precious(tmp_path / "mine_files")
    with pytest.raises(OutputError, match="did not write"), \
            atomic_output(foreign, overwrite=True) as tmp:
        tmp.mkdir()
    assert (foreign / "thesis.docx").exists()


def test_exists_message_names_the_option_not_a_python_keyword(tmp_path):
    out = tmp_path / "a.csv"
    write_layer(table(), out, layer="t")
    with pytest.raises(OutputExistsError) as err:
        write_layer(table(), out, layer="t")
    assert "--overwrite" in str(err.value) and "=True" not in str(err.value)


def test_no_user_message_names_a_python_keyword_argument():
    """Finding 27: 'pass --overwrite (overwrite=True)' is gone from every package."""
    import pathlib
    import re

    root = pathlib.Path(__file__).resolve().parents[2]
    pattern = re.compile(r"\((overwrite|force|dry_run)=(True|False)\)")
    hits = [f"{p.relative_to(root)}:{n}" for pkg in ("gis", "parcels", "remote_sensing",
                                                       "scoring", "maps", "sample")
            for p in (root / pkg).rglob("*.py")
            for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
            if pattern.search(line) and ('"' in line or "'" in line)]
    assert hits == []


def test_keep_text_turns_formula_cells_of_a_built_workbook_into_text(tmp_path):
    import openpyxl

    from gis.layer_writer.cells import keep_text

    wb = openpyxl.Workbook()
    wb.active.append(["=1+1", 5, "甲", "=A1"])
    keep_text(wb.active[1])
    wb.save(tmp_path / "q.xlsx")
    row = openpyxl.load_workbook(tmp_path / "q.xlsx").active[1]
    assert [c.data_type for c in row] == ["s", "n", "s", "s"]
    assert [c.value for c in row] == ["=1+1", 5, "甲", "=A1"]


def test_a_file_that_is_no_geopackage_is_replaced_only_with_overwrite(tmp_path):
    out = tmp_path / "old.gpkg"
    out.write_text("not a GeoPackage")
    with pytest.raises(OutputExistsError, match="--overwrite"):
        write_layer(_layer(1), out, layer="parcels")
    assert out.read_text() == "not a GeoPackage"
    write_layer(_layer(1), out, layer="parcels", overwrite=True)
    assert [name for name, _ in pyogrio.list_layers(out)] == ["parcels"]
