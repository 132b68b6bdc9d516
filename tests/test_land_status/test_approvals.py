"""``mujun candidates approvals FILE``: approved conversions for the 批而未供 rule."""

from __future__ import annotations

import geopandas as gpd
import pytest

from tests.cli_runner import fetch, run_mujun
from tests.test_land_status.builders import box


def _write(path, rows, crs=4549):
    frame = gpd.GeoDataFrame(rows, geometry="geometry", crs=f"EPSG:{crs}")
    frame.to_file(path, driver="GPKG")
    return path


def test_load_run_and_repeat(town, monkeypatch, db_dsn, capsys, tmp_path):
    conn, *_ = town
    src = _write(tmp_path / "批次.gpkg", [
        {"批次号": "2020-批-01", "批准日期": "2020年3月1日", "镇": "镇A",
         "geometry": box(0, 0, 200, 100)},
        {"批次号": "2024-批-07", "批准日期": "2024-07-01", "镇": "镇A",
         "geometry": box(-300, 0, -100, 100)}])
    code, out, err = run_mujun(["candidates", "approvals", str(src)], monkeypatch, db_dsn,
                               capsys)
    assert code == 0, err
    assert "loaded 2 approvals" in out
    code, out, err = run_mujun(["candidates", "approvals", str(src)], monkeypatch, db_dsn,
                               capsys)
    assert code == 0 and "nothing changed" in out
    assert fetch(conn, "SELECT count(*) FROM land_approval") == [(2,)]
    run_mujun(["candidates", "--as-of", "2024-12-31"], monkeypatch, db_dsn, capsys)
    rows = fetch(conn, "SELECT parcel_code, round(reclaimable_m2) FROM candidate"
                       " WHERE kind = 'approved_unsupplied'")
    assert rows == [("2020-批-01", 10000)]


@pytest.mark.parametrize("rows,message", [
    ([{"名称": "x", "批准日期": "2020-01-01", "geometry": box(0, 0, 1, 1)}], "no approval_code column"),
    ([{"批次号": "a", "批准日期": "2020-13-01", "geometry": box(0, 0, 1, 1)}], "feature 1: not a date"),
    ([{"批次号": "a", "批准日期": "2020-01-01", "geometry": box(0, 0, 1, 1)},
      {"批次号": "", "批准日期": "2020-01-01", "geometry": box(0, 0, 1, 1)}], "feature 2: no approval code"),
])
def test_bad_layers_are_refused_and_nothing_written(town, monkeypatch, db_dsn, capsys, tmp_path,
                                                    rows, message):
    conn, *_ = town
    src = _write(tmp_path / "bad.gpkg", rows)
    code, _out, err = run_mujun(["candidates", "approvals", str(src)], monkeypatch, db_dsn, capsys)
    assert code == 3 and message in err and "bad.gpkg" in err
    assert fetch(conn, "SELECT count(*) FROM land_approval") == [(0,)]
    assert fetch(conn, "SELECT count(*) FROM import_batch WHERE kind = 'approvals'") == [(0,)]
