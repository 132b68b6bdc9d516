"""No tracebacks: unwritable outputs, a wrong --encoding, a lost connection, odd file names,
and temporary files of a killed writer cleaned up on the next run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import geopandas as gpd
import pyogrio
import pytest
import shapely

from gis.atomic import atomic_output
from gis.errors import OutputError
from parcels.codes import make_parcel_code
from tests.cli_runner import fetch
from tests.cli_runner import run_mujun as run
from tests.vector_files import write_vector

LON0, LAT0 = 120.60, 31.30
DEG = 1 / 111_000
DEGX = DEG / 0.8545
PARCELS = [make_parcel_code("320509", 1, 6, i) for i in range(1, 5)]


def parcels(n=3):
    geoms = [shapely.box(LON0 + i * 60 * DEGX, LAT0, LON0 + (i * 60 + 50) * DEGX, LAT0 + 50 * DEG)
             for i in range(n)]
    return gpd.GeoDataFrame({"宗地代码": PARCELS[:n], "乡镇": ["黄桥镇"] * n}, geometry=geoms,
                            crs=4490)


def one_line(err: str) -> bool:
    return "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_unwritable_outputs_are_one_line_errors(tmp_path, db_conn, db_dsn, monkeypatch, capsys):
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("a file where a folder should be")
    # verify export into a folder that cannot exist
    code, _, err = run(["verify", "export", "-o", str(blocker / "queue.xlsx")], monkeypatch,
                       db_dsn, capsys)
    assert code == 4 and one_line(err) and "queue.xlsx" in err and "无法写出" in err
    assert "not_a_folder 是文件，不是文件夹" in err
    # the rejects file of a partial import
    gdf = parcels(3)
    gdf.loc[2, "宗地代码"] = None
    gdf.to_file(tmp_path / "p.gpkg")
    code, _, err = run(["import", "parcels", str(tmp_path / "p.gpkg"), "--accept-partial",
                        "--rejects", str(blocker / "r.csv")], monkeypatch, db_dsn, capsys)
    assert code == 4 and one_line(err) and "r.csv" in err
    assert fetch(db_conn, "SELECT count(*) FROM parcel") == [(0,)]  # nothing half-done
    # /proc takes no new files, not even from root
    with pytest.raises(OutputError, match="无法写出"), \
            atomic_output("/proc/mujun-test/out.csv") as tmp:
        tmp.write_text("x")


def test_wrong_encoding_is_a_one_line_error(tmp_path, db_conn, db_dsn, monkeypatch, capsys):
    src = tmp_path / "gbk.shp"
    pyogrio.write_dataframe(parcels(2), src, encoding="GBK")
    src.with_suffix(".cpg").unlink()
    code, _, err = run(["import", "parcels", str(src), "--encoding", "utf-8"], monkeypatch,
                       db_dsn, capsys)
    assert code == 3 and one_line(err) and "--encoding" in err, err
    code, _, err = run(["import", "parcels", str(src), "--encoding", "no-such-codec"],
                       monkeypatch, db_dsn, capsys)
    assert code == 3 and one_line(err), err
    code, _, err = run(["import", "parcels", str(src), "--json"], monkeypatch, db_dsn, capsys)
    assert code == 0, err
    assert fetch(db_conn, "SELECT town FROM parcel LIMIT 1") == [("黄桥镇",)]


def test_semicolon_in_a_shapefile_name(tmp_path, db_conn, db_dsn, monkeypatch, capsys):
    write_vector(parcels(2).rename(columns={"宗地代码": "ZDDM"}), tmp_path / "plain.shp")
    for part in tmp_path.iterdir():  # named on Windows, where ';' is an ordinary character
        part.rename(tmp_path / f"semi;colon{part.suffix}")
    src = tmp_path / "semi;colon.shp"
    code, out, err = run(["import", "parcels", str(src), "--json"], monkeypatch, db_dsn, capsys)
    assert code == 0, err
    assert json.loads(out)["n_loaded"] == 2


def test_lost_connection_is_a_one_line_error(tmp_path, db_conn, db_dsn):
    """The server drops the connection while the import waits: one line, nothing kept."""
    gdf = gpd.GeoDataFrame(geometry=[shapely.box(LON0, LAT0, LON0 + 1e-4, LAT0 + 1e-4)], crs=4490)
    src = tmp_path / "fp.gpkg"
    gdf.to_file(src)
    holder = db_conn
    holder.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                   ("mujun.import:footprints",))  # an import of the same kind is running
    from tests.cli_runner import mujun_popen

    proc = mujun_popen("import", "footprints", str(src), "--date", "2024-01-01", dsn=db_dsn)
    from gis.db.connection import connect

    with connect(db_dsn, autocommit=True) as admin:
        waiting = []
        for _ in range(300):
            waiting = admin.execute(
                "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND NOT granted").fetchall()
            if waiting:
                break
            time.sleep(0.1)
        assert waiting, "the import never waited for the lock"
        admin.execute("SELECT pg_terminate_backend(%s)", (waiting[0][0],))
    _, err = proc.communicate(timeout=120)
    holder.rollback()
    assert proc.returncode == 5, err
    assert one_line(err) and "mujun: error:" in err and "数据库连接已断开" in err, err
    assert fetch(db_conn, "SELECT count(*) FROM import_batch") == [(0,)]


def test_temporary_files_of_a_killed_writer_are_cleaned_up(tmp_path):
    target = tmp_path / "out.gpkg"
    code = ("import time, sys; from gis.atomic import atomic_output\n"
            f"with atomic_output({str(target)!r}) as tmp:\n"
            "    tmp.write_bytes(b'half a file')\n"
            "    print(tmp, flush=True)\n"
            "    time.sleep(60)\n")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    leftover = proc.stdout.readline().strip()
    # a second writer at work at the same time is left alone
    with atomic_output(tmp_path / "other.gpkg") as tmp:
        assert os.path.exists(leftover)
        tmp.write_text("x")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert os.path.exists(leftover) and not target.exists()
    with atomic_output(target) as tmp:
        tmp.write_text("complete")
    assert not os.path.exists(leftover)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.gpkg", "out.gpkg"]
