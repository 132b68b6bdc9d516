"""gis.vector_io and gis.encodings: real files in real formats, written into tmp_path."""

from __future__ import annotations

import json
import logging
import os
import zipfile

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

from gis.encodings import codec_for_cpg, detect_dbf_encoding, detect_text_encoding
from gis.errors import CRSError, DataError, DriverError, EmptyInputError, OutputExistsError
from gis.layer_writer.shapefile import shapefile_field_names
from gis.vector_io import SUPPORTED_FORMATS, list_layers, read_vector
from tests.vector_files import WRITABLE, write_vector

TOWNS = ["黄桥镇", "吴江区松陵镇", "平望镇", "Lili"]


@pytest.fixture
def towns():
    """Four parcels in CGCS2000 zone CM 120°E (Suzhou), with a leading-zero code column."""
    x0, y0 = 557_000.0, 3_464_000.0
    geoms = [shapely.box(x0 + i * 120.5, y0, x0 + i * 120.5 + 100.25, y0 + 80.125) for i in range(4)]
    geoms[3] = shapely.MultiPolygon([geoms[3], shapely.box(x0, y0 - 300, x0 + 50, y0 - 250)])
    return gpd.GeoDataFrame(
        {
            "town": TOWNS,
            "landuse": ["0601", "0602", "0604", "0601"],
            "floors": [1, 3, 12, 4],
            "far": [0.85, 1.2, 2.75, 1.0],
        },
        geometry=geoms,
        crs=4549,
    )


def files(directory):
    return sorted(os.listdir(directory))


def assert_same_features(got, expected, *, tolerance=1e-6):
    assert len(got) == len(expected)
    for column in ("town", "landuse", "floors", "far"):
        assert got[column].tolist() == expected[column].tolist(), column
    got = got.to_crs(expected.crs)
    for a, b in zip(got.geometry, expected.geometry, strict=True):
        assert a.normalize().equals_exact(b.normalize(), tolerance) or (
            a.symmetric_difference(b).area < tolerance * a.length
        )


# ----------------------------------------------------------------- round trips


@pytest.mark.parametrize("suffix", [".gpkg", ".shp", ".geojson", ".fgb", ".csv"])
def test_write_read_round_trip(tmp_path, towns, suffix):
    path = write_vector(towns, tmp_path / f"towns{suffix}")
    got = read_vector(path)
    if suffix == ".fgb":  # the spatial index stores features in Hilbert-curve order
        got = got.set_index(got["town"].map(TOWNS.index)).sort_index()
    if suffix == ".geojson":
        assert got.crs.to_epsg() == 4326  # RFC 7946
        assert_same_features(got, towns, tolerance=0.05)  # 7 decimals of a degree ≈ 1 cm
    else:
        assert got.crs.equals(towns.crs)
        assert_same_features(got, towns)
    assert got["landuse"].tolist() == ["0601", "0602", "0604", "0601"]  # codes stay text
    assert got.index.tolist() == [0, 1, 2, 3]
    assert not [n for n in files(tmp_path) if ".tmp-" in n]


def test_supported_formats_registry_drives_the_readers(tmp_path, towns):
    assert sorted(WRITABLE) == [".csv", ".fgb", ".geojson", ".gpkg", ".shp"]
    assert set(WRITABLE) <= set(SUPPORTED_FORMATS)  # whatever the tests write, mujun reads
    for fmt in SUPPORTED_FORMATS.values():
        assert fmt.driver == "CSV" or fmt.driver in pyogrio.list_drivers()


def test_geojson_is_rfc7946(tmp_path, towns):
    path = write_vector(towns, tmp_path / "towns.geojson")
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert "crs" not in doc  # RFC 7946 drops the crs member: WGS84 lon/lat implied
    lon, lat = doc["features"][0]["geometry"]["coordinates"][0][0]
    assert 120.5 < lon < 120.7 and 31.2 < lat < 31.4
    assert doc["features"][0]["properties"]["town"] == "黄桥镇"  # UTF-8, not escaped mojibake
    ring = doc["features"][0]["geometry"]["coordinates"][0]
    assert shapely.LinearRing(ring).is_ccw  # exterior rings counter-clockwise (RFC 7946 §3.1.6)


def test_flatgeobuf_has_a_spatial_index(tmp_path, towns):
    path = write_vector(towns, tmp_path / "towns.fgb")
    assert pyogrio.read_info(path)["capabilities"]["fast_spatial_filter"]
    inside = pyogrio.read_dataframe(path, bbox=(557_000, 3_464_000, 557_050, 3_464_050))
    assert inside["town"].tolist() == ["黄桥镇"]


def test_csv_is_utf8_with_bom_wkt_and_prj(tmp_path, towns):
    path = write_vector(towns, tmp_path / "towns.csv")
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # Excel reads Chinese correctly
    header = raw[3:].decode("utf-8").splitlines()[0]
    assert header.split(",")[0] == "wkt"
    assert (tmp_path / "towns.prj").exists()


def test_driver_argument_overrides_the_suffix(tmp_path, towns):
    path = write_vector(towns, tmp_path / "towns.bin", driver="FlatGeobuf")
    assert pyogrio.read_info(path)["driver"] == "FlatGeobuf"
    with pytest.raises(DriverError, match="GeoPackage"):
        write_vector(towns, tmp_path / "x.gpkg", driver="MapInfo File")


# ----------------------------------------------------------------- Shapefile text encodings


def _gbk_shapefile(tmp_path, towns, ldid=0):
    path = tmp_path / "parcels_gbk.shp"
    pyogrio.write_dataframe(towns, path, encoding="GBK")
    (tmp_path / "parcels_gbk.cpg").unlink()
    dbf = tmp_path / "parcels_gbk.dbf"
    data = bytearray(dbf.read_bytes())
    data[29] = ldid
    dbf.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize("ldid", [0x00, 0x4D], ids=["no-ldid", "ldid-936"])
def test_gbk_shapefile_without_cpg(tmp_path, towns, ldid):
    path = _gbk_shapefile(tmp_path, towns, ldid)
    assert "黄桥镇".encode("gbk") in (tmp_path / "parcels_gbk.dbf").read_bytes()
    naive = pyogrio.read_dataframe(path)  # what GDAL alone makes of it
    if ldid == 0:
        assert naive["town"].tolist() != TOWNS
    got = read_vector(path)
    assert got["town"].tolist() == TOWNS
    assert got.crs.to_epsg() == 4549


def test_gbk_shapefile_with_cpg_936_is_honoured(tmp_path, towns):
    path = _gbk_shapefile(tmp_path, towns)
    (tmp_path / "parcels_gbk.cpg").write_text("936")
    assert read_vector(path)["town"].tolist() == TOWNS


def test_cpg_contradicted_by_the_bytes_is_overridden_with_a_warning(tmp_path, towns, caplog):
    path = _gbk_shapefile(tmp_path, towns)
    (tmp_path / "parcels_gbk.cpg").write_text("UTF-8")
    with caplog.at_level(logging.WARNING, logger="gis.encodings"):
        got = read_vector(path)
    assert got["town"].tolist() == TOWNS
    assert ".cpg says UTF-8" in caplog.text


def test_explicit_encoding_wins(tmp_path, towns):
    path = _gbk_shapefile(tmp_path, towns)
    assert read_vector(path, encoding="GBK")["town"].tolist() == TOWNS


def test_written_shapefile_is_utf8_with_cpg(tmp_path, towns):
    path = write_vector(towns, tmp_path / "towns.shp")
    assert (tmp_path / "towns.cpg").read_text().strip().upper() == "UTF-8"
    assert "黄桥镇".encode() in (tmp_path / "towns.dbf").read_bytes()
    assert read_vector(path)["town"].tolist() == TOWNS


def test_utf8_shapefile_without_cpg_is_detected(tmp_path, towns):
    path = write_vector(towns, tmp_path / "towns.shp")
    (tmp_path / "towns.cpg").unlink()
    assert read_vector(path)["town"].tolist() == TOWNS


def test_zipped_gbk_shapefile(tmp_path, towns):
    path = _gbk_shapefile(tmp_path, towns, 0x4D)
    archive = tmp_path / "delivery.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for name in files(tmp_path):
            if name.startswith("parcels_gbk."):
                zf.write(tmp_path / name, name)
    got = read_vector(archive)
    assert got["town"].tolist() == TOWNS
    assert got.crs.to_epsg() == 4549
    assert path.exists()


def test_dbf_detection_tolerates_a_character_cut_at_the_field_width():
    value = "苏州市吴江区".encode("gbk")[:-1]  # half of the last character
    header = bytearray(32)
    header[0] = 3
    field = bytearray(32)
    field[:4] = b"NAME"
    field[11] = ord("C")
    field[16] = len(value)
    header_len = 32 + 32 + 1
    record = b" " + value
    header[4:12] = (1).to_bytes(4, "little") + header_len.to_bytes(2, "little") + len(record).to_bytes(2, "little")
    data = bytes(header) + bytes(field) + b"\r" + record
    assert detect_dbf_encoding(data) == "gb18030"


def test_codepage_names():
    assert codec_for_cpg("UTF-8") == "utf-8"
    assert codec_for_cpg("65001") == "utf-8"
    assert codec_for_cpg("GBK") == codec_for_cpg("936") == codec_for_cpg("cp936") == "gb18030"
    assert codec_for_cpg("big5") == "big5"
    assert codec_for_cpg("ANSI 1252") == "cp1252"
    assert codec_for_cpg("1251") == "cp1251"
    assert codec_for_cpg("no such page") is None


def test_text_encoding_detection():
    assert detect_text_encoding("名称,经度\n".encode("gbk")) == "gb18030"
    assert detect_text_encoding("名称,经度\n".encode()) == "utf-8"
    assert detect_text_encoding("名称\n".encode("utf-8-sig")) == "utf-8-sig"
    cut = "名称,经度,纬度".encode()[:-1]  # a buffer ending inside a character
    assert detect_text_encoding(cut) == "utf-8"


# ----------------------------------------------------------------- Shapefile limits


def test_long_field_names_are_renamed_consistently_with_a_warning(tmp_path, towns, caplog):
    data = towns.assign(parcel_code_long=["a", "b", "c", "d"], parcel_code_longer=[1, 2, 3, 4])
    data["企业名称代码"] = ["x", "y", "z", "w"]
    with caplog.at_level(logging.WARNING, logger="gis.vector_io"):
        path = write_vector(data, tmp_path / "long.shp")
    got = read_vector(path)
    assert got["parcel_cod"].tolist() == ["a", "b", "c", "d"]
    assert got["parcel_c_1"].tolist() == [1, 2, 3, 4]
    assert got["企业名"].tolist() == ["x", "y", "z", "w"]
    assert "parcel_code_long -> parcel_cod" in caplog.text
    assert "parcel_code_longer -> parcel_c_1" in caplog.text


def test_field_name_mapping_is_unique_and_fits():
    names = ["abcdefghijkl", "abcdefghijxx", "ABCDEFGHIJ", "短", "很长的中文字段名称"]
    mapped = shapefile_field_names(names)
    assert mapped["ABCDEFGHIJ"] == "ABCDEFGHIJ"  # fitting names keep their spelling
    assert len({v.lower() for v in mapped.values()}) == len(names)
    assert all(len(v.encode()) <= 10 for v in mapped.values())


def test_long_text_is_truncated_at_254_bytes_with_a_warning(tmp_path, towns, caplog):
    data = towns.copy()
    data.loc[0, "town"] = "镇" * 100  # 300 UTF-8 bytes
    with caplog.at_level(logging.WARNING, logger="gis.vector_io"):
        path = write_vector(data, tmp_path / "t.shp")
    value = read_vector(path).loc[0, "town"]
    assert value == "镇" * 84  # 252 bytes: no half character
    assert "1 value(s) of field town" in caplog.text
    assert data.loc[0, "town"] == "镇" * 100  # caller's frame untouched


# ----------------------------------------------------------------- GeoPackage layers


def test_geopackage_layers(tmp_path, towns):
    path = tmp_path / "city.gpkg"
    write_vector(towns, path, layer="parcels")
    write_vector(towns.iloc[:2], path, layer="buildings")  # adding a layer is not overwriting
    assert list_layers(path) == ["parcels", "buildings"]
    with pytest.raises(DataError, match=r"2 layers.*--layer: parcels, buildings"):
        read_vector(path)
    with pytest.raises(DataError, match=r"no layer 'roads'; layers: parcels, buildings"):
        read_vector(path, "roads")
    before = path.read_bytes()
    with pytest.raises(OutputExistsError, match="layer 'parcels' exists"):
        write_vector(towns.iloc[:1], path, layer="parcels")
    assert path.read_bytes() == before
    write_vector(towns.iloc[:1], path, layer="parcels", overwrite=True)
    assert len(read_vector(path, "parcels")) == 1
    assert len(read_vector(path, "buildings")) == 2
    assert files(tmp_path) == ["city.gpkg"]


def test_columns_selection(tmp_path, towns):
    path = write_vector(towns, tmp_path / "towns.gpkg")
    got = read_vector(path, columns=["town"])
    assert list(got.columns) == ["town", "geometry"]
    with pytest.raises(DataError, match=r"no column\(s\) nope; columns: town, landuse"):
        read_vector(path, columns=["nope"])


# ----------------------------------------------------------------- other read formats


TOPOJSON = {
    "type": "Topology",
    "objects": {
        "towns": {
            "type": "GeometryCollection",
            "geometries": [
                {"type": "Polygon", "arcs": [[0, 1]], "properties": {"name": "黄桥镇", "pop": 80000}},
                {"type": "Polygon", "arcs": [[2, -1]], "properties": {"name": "平望镇", "pop": 60000}},
            ],
        }
    },
    "arcs": [
        [[120.5, 31.3], [120.5, 31.2]],
        [[120.5, 31.2], [120.4, 31.2], [120.4, 31.3], [120.5, 31.3]],
        [[120.5, 31.2], [120.6, 31.2], [120.6, 31.3], [120.5, 31.3]],
    ],
}


def test_topojson(tmp_path):
    path = tmp_path / "towns.topojson"
    path.write_text(json.dumps(TOPOJSON, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(CRSError, match=r"towns\.topojson.*--crs"):
        read_vector(path)  # TopoJSON declares no CRS
    got = read_vector(path, crs=4326)
    assert sorted(got["name"]) == ["平望镇", "黄桥镇"]
    areas = dict(zip(got["name"], got.to_crs(4549).area, strict=True))
    assert areas["黄桥镇"] == pytest.approx(areas["平望镇"], rel=0.01)  # 0.1° x 0.1° each
    assert got.union_all().area == pytest.approx(0.02)  # the shared arc: no gap, no overlap
    assert list_layers(path) == ["towns"]


def test_filegdb(tmp_path, towns):
    assert "w" in pyogrio.list_drivers()["OpenFileGDB"]  # GDAL >= 3.6 writes FileGDB
    path = tmp_path / "bureau.gdb"
    options = {
        "driver": "OpenFileGDB", "promote_to_multi": True,
        "layer_options": {"TARGET_ARCGIS_VERSION": "ARCGIS_PRO_3_2_OR_LATER"},  # keep Int64
    }
    pyogrio.write_dataframe(towns, path, layer="parcels", **options)
    pyogrio.write_dataframe(towns.iloc[:2], path, layer="buildings", **options)
    assert sorted(list_layers(path)) == ["buildings", "parcels"]
    with pytest.raises(DataError, match="--layer"):
        read_vector(path)
    got = read_vector(path, "parcels")
    assert got.crs.to_epsg() == 4549
    assert got["town"].tolist() == TOWNS
    assert got["landuse"].tolist() == ["0601", "0602", "0604", "0601"]
    assert got["floors"].tolist() == [1, 3, 12, 4]
    assert got.geometry.geom_equals(towns.geometry).all()


KML = """<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document><name>towns</name>
<Placemark><name>黄桥镇</name><description>工业园</description><Polygon><outerBoundaryIs><LinearRing>
<coordinates>120.4,31.2 120.5,31.2 120.5,31.3 120.4,31.3 120.4,31.2</coordinates>
</LinearRing></outerBoundaryIs></Polygon></Placemark>
<Placemark><name>平望镇</name><Point><coordinates>120.63,30.97</coordinates></Point></Placemark>
</Document></kml>
"""


def test_kml(tmp_path):
    path = tmp_path / "towns.kml"
    path.write_text(KML, encoding="utf-8")
    got = read_vector(path)
    assert got.crs.to_epsg() == 4326
    assert got["Name"].tolist() == ["黄桥镇", "平望镇"]
    assert got.loc[0, "description"] == "工业园"
    assert got.geometry[1].equals(shapely.Point(120.63, 30.97))
    assert "tessellate" not in got.columns  # LIBKML housekeeping dropped


def test_csv_wkt_in_gbk(tmp_path):
    path = tmp_path / "parcels.csv"
    text = "宗地代码,名称,WKT\n320509001,黄桥镇,\"POLYGON ((0 0, 10 0, 10 10, 0 10, 0 0))\"\n"
    text += "320509002,平望镇,POINT (5 5)\n"
    path.write_bytes(text.encode("gbk"))
    with pytest.raises(CRSError, match=r"parcels\.csv.*--crs"):
        read_vector(path)
    got = read_vector(path, crs=4549)
    assert got["名称"].tolist() == ["黄桥镇", "平望镇"]
    assert got["宗地代码"].tolist() == [320509001, 320509002]
    assert got.geometry[0].area == 100
    assert got.crs.to_epsg() == 4549


def test_csv_lon_lat_columns(tmp_path):
    path = tmp_path / "firms.csv"
    path.write_bytes("企业名称,经度,纬度,行业\n苏州某厂,120.61,31.30,C3311\n吴江某厂,120.64,31.16,C1751\n".encode("gbk"))
    got = read_vector(path, crs=4490)
    assert got["企业名称"].tolist() == ["苏州某厂", "吴江某厂"]
    assert got.geometry[0].equals(shapely.Point(120.61, 31.30))
    assert list(got.columns) == ["企业名称", "行业", "geometry"]


def test_csv_xy_with_bad_row_and_prj(tmp_path, caplog):
    path = tmp_path / "points.csv"
    path.write_text("id,X,Y,code\n1,557000,3464000,0601\n2,,3464000,0602\n3,abc,1,0604\n", encoding="utf-8")
    path.with_suffix(".prj").write_text(gpd.GeoSeries([], crs=4549).crs.to_wkt())
    with caplog.at_level(logging.WARNING, logger="gis.vector_io"):
        got = read_vector(path)
    assert got.crs.to_epsg() == 4549
    assert got.geometry[0].equals(shapely.Point(557000, 3464000))
    assert got.geometry[1:].isna().all()
    assert got["code"].tolist() == ["0601", "0602", "0604"]
    assert "2 row(s) with unreadable geometry (lines 3, 4)" in caplog.text


def test_csv_with_only_a_geometry_column(tmp_path):
    path = tmp_path / "only.csv"
    path.write_text('geometry\n"POINT (1 2)"\n"POINT (3 4)"\n', encoding="utf-8")
    got = read_vector(path, crs=4549)
    assert list(got.columns) == ["geometry"] and len(got) == 2


def test_csv_without_geometry_columns(tmp_path):
    path = tmp_path / "plain.csv"
    path.write_text("name,value\na,1\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"plain\.csv: no geometry columns.*columns: name, value"):
        read_vector(path, crs=4326)


# ----------------------------------------------------------------- bad input


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match=r"nope\.shp: file not found"):
        read_vector(tmp_path / "nope.shp")


@pytest.mark.parametrize("name", ["empty.shp", "empty.geojson", "empty.csv", "empty.gpkg"])
def test_empty_file(tmp_path, name):
    (tmp_path / name).write_bytes(b"")
    with pytest.raises(EmptyInputError, match=rf"{name}: file is empty"):
        read_vector(tmp_path / name)


def test_csv_with_header_only_is_empty(tmp_path):
    (tmp_path / "h.csv").write_text("wkt,name\n")
    with pytest.raises(EmptyInputError, match="has no features"):
        read_vector(tmp_path / "h.csv", crs=4326)


def test_zero_feature_layer(tmp_path, towns):
    path = tmp_path / "none.gpkg"
    pyogrio.write_dataframe(towns.iloc[:0], path, layer="parcels", geometry_type="Polygon")
    pyogrio.write_dataframe(towns, path, layer="other")
    with pytest.raises(EmptyInputError, match=r"none\.gpkg layer 'parcels': has no features"):
        read_vector(path, "parcels")
    assert len(read_vector(path, "parcels", allow_empty=True)) == 0
    empty_json = tmp_path / "none.geojson"
    empty_json.write_text('{"type": "FeatureCollection", "features": []}')
    with pytest.raises(EmptyInputError, match="has no features"):
        read_vector(empty_json)


def test_missing_crs_names_the_file(tmp_path, towns):
    path = write_vector(towns, tmp_path / "noprj.shp")
    (tmp_path / "noprj.prj").unlink()
    with pytest.raises(CRSError, match=r"noprj\.shp: no coordinate reference system.*--crs"):
        read_vector(path)
    assert read_vector(path, crs="EPSG:4549").crs.to_epsg() == 4549


def test_unknown_format(tmp_path, towns):
    path = tmp_path / "data.xyz"
    path.write_text("hello, this is not GIS data\n")
    with pytest.raises(DriverError, match=r"data\.xyz.*unsupported.*GeoPackage \(\.gpkg\).*Shapefile"):
        read_vector(path)
    with pytest.raises(DriverError, match=r"cannot write \.xyz; writable formats: GeoPackage"):
        write_vector(towns, tmp_path / "out.xyz")
    assert files(tmp_path) == ["data.xyz"]


def test_other_ogr_formats_are_read_by_content(tmp_path, towns):
    path = tmp_path / "towns.gml"
    pyogrio.write_dataframe(towns, path, driver="GML")
    assert read_vector(path)["town"].tolist() == TOWNS


def test_truncated_geopackage(tmp_path, towns):
    path = write_vector(towns, tmp_path / "towns.gpkg")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])
    with pytest.raises(DataError, match=r"towns\.gpkg: cannot read as GeoPackage.*corrupt") as info:
        read_vector(path)
    assert not isinstance(info.value, DriverError)


def test_corrupt_geojson(tmp_path):
    path = tmp_path / "broken.geojson"
    path.write_text('{"type": "FeatureCollection", "features": [{"type": "Feat')
    with pytest.raises(DataError, match=r"broken\.geojson: cannot read as GeoJSON"):
        read_vector(path)


def test_truncated_shapefile(tmp_path, towns):
    path = write_vector(towns, tmp_path / "cut.shp")
    data = path.read_bytes()
    path.write_bytes(data[:60])  # header claims more than is there
    with pytest.raises(DataError, match=r"cut\.shp: cannot read as Shapefile.*corrupt"):
        read_vector(path)


# ----------------------------------------------------------------- atomic writes


def test_existing_output_is_untouched_without_overwrite(tmp_path, towns):
    path = write_vector(towns, tmp_path / "towns.fgb")
    before = path.read_bytes()
    with pytest.raises(OutputExistsError, match="--overwrite"):
        write_vector(towns.iloc[:1], path)
    assert path.read_bytes() == before
    write_vector(towns.iloc[:1], path, overwrite=True)
    assert len(read_vector(path)) == 1


def test_existing_shapefile_is_untouched_without_overwrite(tmp_path, towns):
    path = write_vector(towns, tmp_path / "towns.shp")
    before = {n: (tmp_path / n).read_bytes() for n in files(tmp_path)}
    with pytest.raises(OutputExistsError):
        write_vector(towns.iloc[:1], path)
    assert {n: (tmp_path / n).read_bytes() for n in files(tmp_path)} == before


def test_failure_while_writing_leaves_nothing(tmp_path, towns, monkeypatch):
    import tests.vector_files as vio

    real = vio._WRITERS["GPKG"]

    def fail_after_writing(gdf, tmp, layer, source):
        real(gdf, tmp, layer, source)
        assert tmp.exists()
        raise OSError("disk full")

    monkeypatch.setitem(vio._WRITERS, "GPKG", fail_after_writing)
    with pytest.raises(OSError, match="disk full"):
        write_vector(towns, tmp_path / "towns.gpkg")
    assert files(tmp_path) == []


def test_gdal_refusal_leaves_nothing(tmp_path, towns):
    mixed = gpd.GeoDataFrame(
        {"a": [1, 2]}, geometry=[shapely.Point(0, 0), shapely.box(0, 0, 1, 1)], crs=4549
    )
    with pytest.raises(DataError, match=r"mixed\.shp: cannot write ESRI Shapefile"):
        write_vector(mixed, tmp_path / "mixed.shp")
    assert files(tmp_path) == []


def test_failed_layer_replacement_keeps_the_geopackage(tmp_path, towns, monkeypatch):
    import tests.vector_files as vio

    path = write_vector(towns, tmp_path / "city.gpkg", layer="parcels")
    before = path.read_bytes()

    def broken(gdf, tmp, layer, source):
        raise RuntimeError("interrupted")

    monkeypatch.setitem(vio._WRITERS, "GPKG", broken)
    with pytest.raises(RuntimeError):
        write_vector(towns, path, layer="parcels", overwrite=True)
    assert path.read_bytes() == before
    assert files(tmp_path) == ["city.gpkg"]


def test_writing_needs_a_crs(tmp_path, towns):
    with pytest.raises(CRSError, match="no CRS"):
        write_vector(towns.set_crs(None, allow_override=True), tmp_path / "x.gpkg")
    assert files(tmp_path) == []


# ----------------------------------------------------------------- real OpenStreetMap data


def test_real_osm_geopackage(shared_data, tmp_path, caplog):
    path = shared_data / "osm-industrial" / "osm_landuse_buildings.gpkg"
    assert set(list_layers(path)) == {"landuse", "buildings"}
    with pytest.raises(DataError, match="--layer"):
        read_vector(path)
    with caplog.at_level(logging.WARNING, logger="gis.vector_io"):
        landuse = read_vector(path, "landuse")
        buildings = read_vector(path, "buildings")
    assert len(landuse) == 54 and len(buildings) == 2219
    assert (landuse["landuse"] == "industrial").sum() == 10
    assert landuse.crs.to_epsg() == 4326
    assert "undecodable geometry" in caplog.text  # incomplete polygons at the clip edge
    assert buildings.geometry.notna().sum() >= 2200
    out = write_vector(buildings, tmp_path / "buildings.fgb")
    again = read_vector(out)
    assert len(again) == 2219
    np.testing.assert_allclose(again.total_bounds, buildings.total_bounds)
    assert pd.Series(again["osm_id"]).equals(pd.Series(buildings["osm_id"]))
