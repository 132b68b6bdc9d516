"""``mujun candidates approvals FILE``: approved conversions for the 批而未供 rule."""

from __future__ import annotations

import json

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
    assert "载入 2（新增 2" in out and "批次" in out
    code, out, err = run_mujun(["candidates", "approvals", str(src)], monkeypatch, db_dsn,
                               capsys)
    assert code == 0 and "未作任何更改" in out
    assert fetch(conn, "SELECT count(*) FROM land_approval") == [(2,)]
    run_mujun(["candidates", "--as-of", "2024-12-31"], monkeypatch, db_dsn, capsys)
    rows = fetch(conn, "SELECT parcel_code, round(reclaimable_m2) FROM candidate"
                       " WHERE kind = 'approved_unsupplied'")
    assert rows == [("2020-批-01", 10000)]


@pytest.mark.parametrize("rows,message", [
    ([{"名称": "x", "批准日期": "2020-01-01", "geometry": box(0, 0, 1, 1)}], "no approval_code column"),
    ([{"批次号": "a", "批准日期": "2020-13-01", "geometry": box(0, 0, 10, 10)}],
     "第 1 个要素（字段 批准日期）：not a date"),
    ([{"批次号": "a", "批准日期": "2020-01-01", "geometry": box(0, 0, 10, 10)},
      {"批次号": "", "批准日期": "2020-01-01", "geometry": box(0, 0, 10, 10)}],
     "第 2 个要素（字段 批次号）：no approval code"),
])
def test_bad_layers_are_refused_and_nothing_written(town, monkeypatch, db_dsn, capsys, tmp_path,
                                                    rows, message):
    conn, *_ = town
    src = _write(tmp_path / "bad.gpkg", rows)
    code, _out, err = run_mujun(["candidates", "approvals", str(src)], monkeypatch, db_dsn, capsys)
    assert code == 3 and message in err and "bad.gpkg" in err
    assert fetch(conn, "SELECT count(*) FROM land_approval") == [(0,)]
    assert fetch(conn, "SELECT count(*) FROM import_batch WHERE kind = 'approvals'") == [(0,)]


def test_approvals_go_through_the_import_pipeline(town, monkeypatch, db_dsn, capsys, tmp_path):
    """Dry run, a report, partial loads with a rejects file, the CRS area-of-use check and
    the import's identity, as for parcels (before, the importer skipped all of them)."""
    conn, *_ = town
    rows = [{"批次号": "2020-批-01", "批准日期": "2020-03-01", "geometry": box(0, 0, 200, 100)},
            {"批次号": "2021-批-02", "批准日期": "不知道", "geometry": box(0, 0, 50, 50)}]
    src = _write(tmp_path / "批次.gpkg", rows)
    code, out, err = run_mujun(["candidates", "approvals", str(src), "--dry-run", "--json"],
                               monkeypatch, db_dsn, capsys)
    assert code == 3 and "未写入任何数据" in err and "--accept-partial" in err
    monkeypatch.chdir(tmp_path)
    code, out, err = run_mujun(["candidates", "approvals", str(src), "--accept-partial",
                                "--dry-run", "--json"], monkeypatch, db_dsn, capsys)
    assert code == 0, err
    info = json.loads(out)
    assert info["dry_run"] and info["n_loaded"] == 1 and info["n_rejected"] == 1
    assert info["by_check"] == {"bad_approval_date": 1}
    assert fetch(conn, "SELECT count(*) FROM land_approval") == [(0,)]
    assert fetch(conn, "SELECT count(*) FROM import_batch WHERE kind = 'approvals'") == [(0,)]
    code, out, err = run_mujun(["candidates", "approvals", str(src), "--accept-partial",
                                "--json"], monkeypatch, db_dsn, capsys)
    assert code == 0, err
    info = json.loads(out)
    assert info["n_loaded"] == 1 and info["rejects"].endswith("批次.rejects.csv")
    assert "不知道" in (tmp_path / "批次.rejects.csv").read_text(encoding="utf-8-sig")
    report = fetch(conn, "SELECT identity IS NOT NULL, report -> 'n_rejected' FROM import_batch"
                         " WHERE kind = 'approvals'")
    assert report == [(True, 1)]
    # the same file read another way is another import; read the same way, nothing changes
    code, out, _ = run_mujun(["candidates", "approvals", str(src), "--accept-partial"],
                             monkeypatch, db_dsn, capsys)
    assert code == 0 and "导入过" in out
    # coordinates that cannot be in the declared CRS are refused with the feature named
    far = _write(tmp_path / "far.gpkg", [{"批次号": "x", "批准日期": "2020-01-01",
                                          "geometry": box(0, 0, 100, 100)}], crs=4326)
    code, out, err = run_mujun(["candidates", "approvals", str(far)], monkeypatch, db_dsn,
                               capsys)
    assert code == 3 and "far.gpkg" in err
    assert fetch(conn, "SELECT count(*) FROM land_approval") == [(1,)]
