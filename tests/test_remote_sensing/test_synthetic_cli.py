"""The synthetic renderer's contract and the CLI through the real entry point."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely

from remote_sensing.synthetic import NDSM_NODATA, render_scene
from tests.cli_runner import mujun_process

from .conftest import write_raster


def run_cli(*args):
    """Run ``mujun`` through its console entry point in a subprocess."""
    proc = mujun_process(*args, timeout=300)
    return proc.returncode, proc.stdout, proc.stderr


def test_render_scene_contract_and_window_independence(tmp_path):
    b = gpd.GeoDataFrame({"height_m": [9.0, 21.0]},
                         geometry=[shapely.box(10, 10, 30, 25), shapely.box(40, 40, 70, 90)], crs=32650)
    trees = gpd.GeoDataFrame({"height_m": [7.0]}, geometry=[shapely.Point(80, 20).buffer(4)], crs=32650)
    roads = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 100, 5)], crs=32650)
    kw = dict(bounds=(0, 0, 100, 100), resolution=0.5, trees=trees, roads=roads, seed=4)
    a = render_scene(b, tmp_path / "a", block=1024, **kw)
    small = render_scene(b, tmp_path / "b", block=64, **kw)
    with rasterio.open(a["rgbn"]) as ds, rasterio.open(a["ndsm"]) as hs:
        assert (ds.count, ds.dtypes[0], ds.nodata, ds.crs.to_epsg()) == (4, "uint8", 0, 32650)
        assert ds.profile["tiled"] and ds.compression.value == "DEFLATE"
        assert ds.tags()["TIFFTAG_DATETIME"] == "2024:06:15 10:30:00"
        assert (hs.dtypes[0], hs.nodata) == ("float32", NDSM_NODATA)
        img, h = ds.read(), hs.read(1)
        row, col = ds.index(20, 17)
        assert h[row, col] == pytest.approx(9.0, abs=0.6)
        trow, tcol = ds.index(80, 20)
        assert img[3, trow, tcol] > 150 and 4 < h[trow, tcol] < 8  # tree: bright NIR, tall
        assert abs(float(np.median(h[ds.index(5, 60)[0]]))) < 0.5  # ground near 0
        assert img.min() >= 1  # 0 is nodata
    # only the sensor-noise seeds depend on the window, not the scene: same buildings either way
    with rasterio.open(small["ndsm"]) as hs:
        h2 = hs.read(1)
    assert ((h > 2.5) == (h2 > 2.5)).mean() > 0.999


def test_cli_extract_assess_change_and_overwrite(small_scene, tmp_path):
    out = tmp_path / "fp.gpkg"
    code, stdout, err = run_cli("footprints", "extract", "--ndsm", str(small_scene["ndsm"]),
                                "--image", str(small_scene["rgbn"]), "-o", str(out), "--workers", "1",
                                "--json")
    assert code == 0, err
    data = json.loads(stdout)
    fp = gpd.read_file(out)
    assert data["footprints"] == len(fp) > 10 and data["image_date"] == "2024-06-15"
    assert fp.crs.to_epsg() == 4547 and fp.geometry.is_valid.all()
    # never overwritten without --overwrite; the file is untouched
    before = out.stat().st_mtime_ns
    code, _, err = run_cli("footprints", "extract", "--ndsm", str(small_scene["ndsm"]), "-o", str(out))
    assert code == 4 and "exists" in err and out.stat().st_mtime_ns == before
    # a failing run leaves no output behind (atomic)
    flat = write_raster(tmp_path / "flat.tif", np.zeros((50, 50), np.float32))
    code, _, err = run_cli("footprints", "extract", "--ndsm", str(flat), "-o", str(tmp_path / "none.gpkg"))
    assert code == 3 and "no building found" in err
    assert not (tmp_path / "none.gpkg").exists() and list(tmp_path.glob("*none*")) == []
    # an image without CRS
    nocrs = write_raster(tmp_path / "nocrs.tif", np.ones((20, 20), np.float32), crs=None)
    code, _, err = run_cli("footprints", "extract", "--ndsm", str(nocrs), "-o", str(tmp_path / "x.gpkg"))
    assert code == 3 and "coordinate reference system" in err

    code, stdout, err = run_cli("footprints", "assess", str(out), str(small_scene["buildings"]), "--json")
    assert code == 0, err
    r = json.loads(stdout)
    assert r["f1"] >= 0.95 and abs(r["built_area_error"]) <= 0.02

    code, stdout, err = run_cli("footprints", "change", str(small_scene["buildings"]), str(out),
                                "-o", str(tmp_path / "ch.gpkg"), "--json")
    assert code == 0, err
    assert json.loads(stdout)["counts"] == {"new": 0, "demolished": 0, "expanded": 0}


def test_cli_imagery_info_and_cog(small_scene, tmp_path):
    code, stdout, err = run_cli("imagery", "info", str(small_scene["rgbn"]), "--json")
    assert code == 0, err
    info = json.loads(stdout)
    assert (info["count"], info["epsg"], info["date"], info["resolution"]) == (4, 4547, "2024-06-15", [0.5, 0.5])
    assert info["alpha_bands"] == []  # RGBN: the fourth band is near-infrared
    untiled = write_raster(tmp_path / "strips.tif", np.ones((3, 64, 64), np.uint8), tiled=False)
    code, stdout, _ = run_cli("imagery", "info", str(untiled))
    assert code == 0 and "影像未分块" in stdout and "mujun imagery cog" in stdout
    cog = tmp_path / "c.tif"
    code, _, err = run_cli("imagery", "cog", str(untiled), "-o", str(cog))
    assert code == 0, err
    with rasterio.open(cog) as ds:
        assert ds.profile["tiled"] and ds.crs.to_epsg() == 4547
        assert (ds.read() == 1).all()
    code, _, err = run_cli("imagery", "cog", str(untiled), "-o", str(cog))
    assert code == 4
