"""The one footprint loader: OpenStreetMap files, --map, --date, guessed columns, repeats."""

from __future__ import annotations

import json

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from tests.cli_runner import fetch
from tests.cli_runner import run_mujun as run

LON0, LAT0 = 120.60, 31.30
DEG = 1 / 111_000
DEGX = DEG / 0.8545


def buildings(n):
    return [shapely.box(LON0 + i * 30 * DEGX, LAT0, LON0 + (i * 30 + 20) * DEGX, LAT0 + 15 * DEG)
            for i in range(n)]


def osm_style_file(path):
    """What an OSM building extract looks like: tags as columns, mixed text and numbers."""
    gdf = gpd.GeoDataFrame({
        "osm_id": ["1001", "1002", "1003", "1004", "1005"],
        "building": ["industrial", "yes", "warehouse", "yes", "residential"],
        "name": ["甲厂", None, "仓库", None, None],
        "start_date": ["1802", "1999-05", "2010", "late 1980s", None],
        "height": ["12 m", "7.5", "tall", None, "40 ft"],
        "building:levels": ["3", "2.5", "x", None, "4"],
    }, geometry=buildings(5), crs=4326)
    gdf.to_file(path, layer="buildings")
    return path


def test_osm_style_buildings_load_whole(tmp_path, db_conn, db_dsn, monkeypatch, capsys):
    src = osm_style_file(tmp_path / "osm_buildings.gpkg")
    code, out, err = run(["import", "footprints", str(src), "--layer", "buildings", "--json"],
                         monkeypatch, db_dsn, capsys)
    assert code == 0, err
    summary = json.loads(out)
    assert summary["n_loaded"] == 5 and summary["n_rejected"] == 0
    # start_date (a construction year) is never the survey date
    assert "guessed_column" not in summary["by_check"]
    rows = fetch(db_conn, "SELECT source_fid, image_date, height_m, storeys, attrs->>'start_date' "
                          "FROM footprint ORDER BY source_fid")
    assert [r[1] for r in rows] == [None] * 5
    assert [r[2] for r in rows] == [12.0, 7.5, None, None, pytest.approx(12.192)]
    assert [r[3] for r in rows] == [3, 3, None, None, 4]
    assert rows[0][4] == "1802"
    warned = {(i["row"], i["field"]) for i in summary["issues"] if i["severity"] == "warning"}
    assert {(3, "height_m"), (3, "storeys"), (2, "storeys")} <= warned


def test_date_wins_and_guesses_are_named(tmp_path, db_conn, db_dsn, monkeypatch, capsys):
    gdf = gpd.GeoDataFrame({"date_2021": ["2021-03-01", "not a date"],
                            "高度": [10.0, 20.0], "H2": [3.0, 4.0]},
                           geometry=buildings(2), crs=4326)
    src = tmp_path / "vendor.gpkg"
    gdf.to_file(src)
    code, out, err = run(["import", "footprints", str(src), "--dry-run"], monkeypatch, db_dsn,
                         capsys)
    assert code == 0, err
    assert "column date_2021 read as image_date (guessed; --map image_date= to ignore" in out
    code, out, err = run(["import", "footprints", str(src), "--date", "2024-06-01", "--map",
                          "height_m=H2", "--json"], monkeypatch, db_dsn, capsys)
    assert code == 0, err
    assert json.loads(out)["n_warnings"] == 0
    assert fetch(db_conn, "SELECT image_date::text, height_m, attrs->>'高度' FROM footprint "
                          "ORDER BY source_fid") == [("2024-06-01", 3.0, "10.0"),
                                                     ("2024-06-01", 4.0, "20.0")]
    code, _, err = run(["import", "footprints", str(src), "--map", "height_m=NOSUCH"],
                       monkeypatch, db_dsn, capsys)
    assert code == 2 and "'NOSUCH'" in err and "date_2021" in err


def test_real_osm_extract(shared_data, tmp_path, db_conn, db_dsn, monkeypatch, capsys):
    src = shared_data / "osm-industrial" / "osm_landuse_buildings.gpkg"
    monkeypatch.chdir(tmp_path)
    code, out, err = run(["import", "footprints", str(src), "--layer", "buildings",
                          "--date", "2020-01-01", "--accept-partial", "--json"],
                         monkeypatch, db_dsn, capsys)
    assert code == 0, err
    summary = json.loads(out)
    assert summary["srid"] == 32635
    assert summary["n_loaded"] + summary["n_rejected"] == summary["n_read"] == 2219
    assert summary["n_loaded"] > 2100
    # building:levels comes out of GDAL's other_tags column
    levels = fetch(db_conn, "SELECT count(*) FROM footprint WHERE storeys IS NOT NULL")[0][0]
    assert levels == 10
    assert fetch(db_conn, "SELECT count(*) FROM footprint WHERE attrs ? 'other_tags'") == [(0,)]
    rejected = pd.read_csv(tmp_path / "osm_landuse_buildings.rejects.csv", encoding="utf-8-sig")
    errors = rejected[rejected["级别"] == "错误"]
    assert set(errors["检查项"]) <= {"几何为空", "碎片或退化几何", "非面要素"}
    assert errors["要素序号"].nunique() == summary["n_rejected"]


def test_one_way_into_the_footprint_table():
    """No product module but the loader writes footprint rows (benchmarks and tests may)."""
    import re
    from pathlib import Path

    repo = Path(__file__).resolve().parents[2]
    writes = re.compile(r"INSERT\s+INTO\s+footprint\b(?!_)|copy_frames?\(\s*[\w.]+,\s*[\"']footprint[\"']"
                        r"|COPY\s+footprint\b(?!_)", re.I)
    offenders = [str(p.relative_to(repo))
                 for package in ("gis", "parcels", "remote_sensing", "sample", "scoring", "maps")
                 for p in (repo / package).rglob("*.py")
                 if writes.search(p.read_text(encoding="utf-8"))]
    assert offenders == ["gis/importing/footprints.py"], offenders
