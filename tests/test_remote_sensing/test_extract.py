"""The extraction pipeline: seams, corners, nodata, bad input, accuracy on synthetic imagery."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely

from gis.errors import ConfigError, CRSError
from remote_sensing.assess import assess
from remote_sensing.errors import NoFootprintsError, RasterMismatchError, TileReadError
from remote_sensing.extract import extract_footprints, prepare_config
from remote_sensing.readers import RasterResampledWarning

from .conftest import write_raster

X0, Y0 = 500000.0, 3400000.0


def run_mask(path, **options):
    options.setdefault("regularize", False)
    options.setdefault("min_area_m2", 1.0)
    options.setdefault("morphology", 0)
    cfg, meta = prepare_config(method="mask", mask=path, **options)
    return extract_footprints(cfg, meta=meta)


def px_box(r0, c0, r1, c1):
    """World box of pixel rows r0..r1, cols c0..c1 (end exclusive) at 1 m from (X0, Y0)."""
    return shapely.box(X0 + c0, Y0 - r1, X0 + c1, Y0 - r0)


def test_building_crossing_seams_becomes_one_exact_polygon(tmp_path):
    m = np.zeros((100, 100), np.uint8)
    m[10:40, 20:70] = 1  # crosses the column seams at 32 and 64 and the row seam at 32
    m[40:90, 60:70] = 1  # an L leg crossing row seam 64
    path = write_raster(tmp_path / "m.tif", m)
    fp, res = run_mask(path, tile_size=32, overlap=4)
    assert len(fp) == 1
    expected = shapely.union_all([px_box(10, 20, 40, 70), px_box(40, 60, 90, 70)])
    assert fp.geometry.iloc[0].equals(expected)  # exact, no slivers or gaps
    assert fp.geometry.iloc[0].area == pytest.approx(30 * 50 + 50 * 10)
    assert res.n_seam_pieces > 1 and res.n_seam_merged == res.n_seam_pieces - 1


def test_corner_touching_blobs_stay_apart_inside_tiles_and_across_seams(tmp_path):
    m = np.zeros((100, 100), np.uint8)
    m[20:32, 20:32] = 1  # meets the next blob only at pixel corner (32, 32) = a tile corner
    m[32:44, 32:44] = 1
    m[70:75, 70:75] = 1  # inside one tile
    m[75:80, 75:80] = 1
    m[0:10, 40:64] = 1  # a seam piece that touches nothing else
    path = write_raster(tmp_path / "m.tif", m)
    for tile in (32, 100):
        fp, _ = run_mask(path, tile_size=tile, overlap=4)
        assert len(fp) == 5, tile
        assert sorted(np.round(fp.area).astype(int)) == [25, 25, 144, 144, 240]


def test_same_result_with_worker_processes_and_any_tiling(small_scene):
    kw = dict(method="ndsm", ndsm=small_scene["ndsm"], image=small_scene["rgbn"])
    cfg1, meta = prepare_config(**kw, tile_size=600, workers=1)
    one, _ = extract_footprints(cfg1, meta=meta)
    cfg2, _ = prepare_config(**kw, tile_size=128, workers=2)
    many, res = extract_footprints(cfg2, meta=meta)
    assert res.n_tiles == 25 and res.n_seam_merged > 0
    assert len(one) == len(many)
    assert one.area.sum() == pytest.approx(many.area.sum(), rel=1e-9)
    assert many.geometry.is_valid.all() and (many.geom_type == "Polygon").all()


def test_height_method_meets_accuracy_targets(scene):
    ref = gpd.read_file(scene["buildings"])
    cfg, meta = prepare_config(method="ndsm", ndsm=scene["ndsm"], image=scene["rgbn"], tile_size=512)
    fp, _res = extract_footprints(cfg, meta=meta)
    r = assess(fp, ref, iou_threshold=0.5)
    print("height method on synthetic scene:", {k: r[k] for k in ("n_pred", "n_ref", "tp", "f1", "mean_iou", "pixel_iou", "built_area_error")})
    assert len(ref) > 200
    assert r["f1"] >= 0.95
    assert abs(r["built_area_error"]) <= 0.02
    assert fp.geometry.is_valid.all()
    # attributes: date from the image tags, heights close to the truth, storeys from height
    assert (fp["image_date"] == "2024-06-15").all()
    assert (fp["method"] == "ndsm").all() and (fp["ground_res_m"] == 0.5).all()
    joined = gpd.sjoin(gpd.GeoDataFrame(geometry=fp.centroid, crs=fp.crs).join(fp[["height_m", "storeys"]]),
                       ref[["height_m", "geometry"]], predicate="within", lsuffix="pred", rsuffix="ref")
    err = (joined["height_m_pred"] - joined["height_m_ref"]).abs()
    assert err.median() < 0.2
    assert (joined["storeys"] == np.maximum(1, np.round(joined["height_m_pred"] / 3.5))).all()


def test_vegetation_is_excluded_only_with_the_filter(small_scene):
    trees = gpd.read_file(small_scene["trees"])
    cfg, meta = prepare_config(method="ndsm", ndsm=small_scene["ndsm"], image=small_scene["rgbn"])
    fp, _ = extract_footprints(cfg, meta=meta)
    assert not gpd.sjoin(fp, trees, predicate="intersects").shape[0]
    cfg, meta = prepare_config(method="ndsm", ndsm=small_scene["ndsm"], image=small_scene["rgbn"],
                               ndvi_threshold=None)
    with_trees, _ = extract_footprints(cfg, meta=meta)
    assert len(with_trees) > len(fp)


def test_nodata_is_respected(tmp_path):
    h = np.zeros((80, 80), np.float32)
    h[10:30, 10:70] = 8.0  # a building half under nodata
    h[50:70, 10:30] = 8.0  # a building fully under nodata
    h[:, 40:] = np.where(np.arange(80)[:, None] < 40, -9999, h[:, 40:])
    h[45:75, 5:35] = -9999
    path = write_raster(tmp_path / "h.tif", h, nodata=-9999)
    cfg, meta = prepare_config(method="ndsm", ndsm=path, min_area_m2=1, tile_size=32)
    fp, _ = extract_footprints(cfg, meta=meta)
    assert len(fp) == 1
    assert fp.geometry.iloc[0].equals(px_box(10, 10, 30, 40))


@pytest.mark.parametrize("kind", ["uint8 nodata", "float NaN", "mask band", "all valid"])
@pytest.mark.parametrize("workers", [1, 2])
def test_a_class_mask_keeps_nodata_out_of_buildings(tmp_path, kind, workers):
    """The mask method reads class rasters in their own type; invalid pixels never become building."""
    m = np.zeros((80, 80), np.float32)
    m[10:30, 10:70] = 1  # a building, its right part under nodata
    m[50:70, 10:30] = 1
    invalid = np.zeros((80, 80), bool)
    invalid[:40, 40:] = True
    invalid[45:75, 5:35] = True  # hides the second building
    path = tmp_path / "m.tif"
    if kind == "uint8 nodata":
        write_raster(path, np.where(invalid, 255, m).astype(np.uint8), nodata=255)
    elif kind == "float NaN":
        write_raster(path, np.where(invalid, np.nan, m).astype(np.float32))
    elif kind == "mask band":
        write_raster(path, np.where(invalid, 1, m).astype(np.uint8))  # "1" under the mask: not a building
        with rasterio.Env(GDAL_TIFF_INTERNAL_MASK=True), rasterio.open(path, "r+") as ds:
            ds.write_mask(np.where(invalid, 0, 255).astype(np.uint8))
    else:
        write_raster(path, m.astype(np.uint8))
    fp, _ = run_mask(path, tile_size=32, threshold=1, workers=workers, morphology=1)
    if kind == "all valid":
        assert sorted(fp.area.round()) == [400.0, 1200.0]
    else:
        assert len(fp) == 1
        assert fp.geometry.iloc[0].equals(px_box(10, 10, 30, 40))
        assert fp["n_pixels"].iloc[0] == 600


def test_dsm_and_dtm(tmp_path):
    dtm = np.fromfunction(lambda r, c: 100 + 0.1 * c, (60, 60), dtype=np.float32)
    dsm = dtm.copy()
    dsm[10:30, 10:40] += 6.0
    a = write_raster(tmp_path / "dsm.tif", dsm)
    b = write_raster(tmp_path / "dtm.tif", dtm)
    cfg, meta = prepare_config(method="ndsm", dsm=a, dtm=b, min_area_m2=1, regularize=False)
    fp, _ = extract_footprints(cfg, meta=meta)
    assert len(fp) == 1 and fp.geometry.iloc[0].equals(px_box(10, 10, 30, 40))
    assert fp["height_m"].iloc[0] == pytest.approx(6.0, abs=0.01)


def test_image_without_crs_is_refused(tmp_path):
    path = write_raster(tmp_path / "nocrs.tif", np.ones((20, 20), np.float32), crs=None)
    with pytest.raises(CRSError, match="no coordinate reference system"):
        prepare_config(method="ndsm", ndsm=path)


def test_non_overlapping_image_and_ndsm(tmp_path):
    img = write_raster(tmp_path / "img.tif", np.full((4, 20, 20), 100, np.uint8))
    h = write_raster(tmp_path / "h.tif", np.ones((20, 20), np.float32), origin=(X0 + 5000, Y0))
    with pytest.raises(RasterMismatchError, match="does not overlap"):
        prepare_config(method="ndsm", ndsm=h, image=img)


def test_mismatched_resolution_is_resampled_with_a_warning(small_scene, tmp_path):
    # the nDSM at 1 m while the image is 0.5 m
    with rasterio.open(small_scene["ndsm"]) as ds:
        coarse = ds.read(1, out_shape=(300, 300), resampling=rasterio.enums.Resampling.average)
        origin = (ds.bounds.left, ds.bounds.top)
    path = write_raster(tmp_path / "coarse.tif", coarse, res=1.0, origin=origin, nodata=-9999.0)
    with pytest.warns(RasterResampledWarning, match="resampling"):
        cfg, meta = prepare_config(method="ndsm", ndsm=path, image=small_scene["rgbn"])
    assert cfg.warp["ndsm"] is True and cfg.grid.width == 600
    fp, _ = extract_footprints(cfg, meta=meta)
    r = assess(fp, gpd.read_file(small_scene["buildings"]))
    assert r["f1"] >= 0.9


def test_empty_result_is_an_error(tmp_path):
    path = write_raster(tmp_path / "flat.tif", np.zeros((40, 40), np.float32))
    cfg, meta = prepare_config(method="ndsm", ndsm=path)
    with pytest.raises(NoFootprintsError, match="no building found"):
        extract_footprints(cfg, meta=meta)


def test_missing_inputs_for_a_method():
    with pytest.raises(ConfigError, match="needs"):
        prepare_config(method="classify", image="x.tif")
    with pytest.raises(ConfigError, match="choose one of"):
        prepare_config(method="magic")


def test_corrupt_tile_is_reported_with_its_window(tmp_path):
    h = np.zeros((128, 128), np.float32)
    h[10:50, 10:50] = 9
    path = tmp_path / "h.tif"
    write_raster(path, h, tiled=True, blockxsize=64, blockysize=64, compress="deflate")
    with rasterio.open(path) as ds:
        off = int(ds.get_tag_item("BLOCK_OFFSET_1_1", "TIFF", bidx=1))
        size = int(ds.get_tag_item("BLOCK_SIZE_1_1", "TIFF", bidx=1))
    with open(path, "r+b") as f:
        f.seek(off)
        f.write(b"\xff" * size)
    cfg, meta = prepare_config(method="ndsm", ndsm=path, tile_size=64, overlap=0)
    with pytest.raises(TileReadError, match=r"window col_off=64 row_off=64 width=64 height=64"):
        extract_footprints(cfg, meta=meta)


def test_output_geometries_are_valid_for_noisy_masks(tmp_path):
    rng = np.random.default_rng(5)
    m = (rng.random((150, 150)) > 0.55).astype(np.uint8)
    path = write_raster(tmp_path / "noise.tif", m)
    raw, _ = run_mask(path, tile_size=37, overlap=3, regularize=False, min_area_m2=1)
    assert raw.geometry.is_valid.all() and not raw.geometry.is_empty.any()
    # traced polygons never overlap and cover exactly the mask's pixels (nothing lost at seams)
    assert raw.area.sum() == pytest.approx(shapely.union_all(raw.geometry.values).area)
    assert raw.area.sum() == pytest.approx(raw["n_pixels"].sum())
    fp, _ = run_mask(path, tile_size=37, overlap=3, regularize=True, min_area_m2=1)
    assert fp.geometry.is_valid.all() and not fp.geometry.is_empty.any()
    assert len(fp) == len(raw)


@pytest.mark.parametrize(("tile_size", "workers"), [(32, 1), (128, 1), (32, 2)])
def test_height_of_a_building_across_seams_is_the_median_of_all_its_pixels(tmp_path, tile_size, workers):
    rng = np.random.default_rng(5)
    h = np.zeros((100, 100), np.float32)
    # roof heights within a factor of two of each other (the roof-edge rule keeps them)
    h[10:40, 20:70] = rng.choice([10.0, 12.0, 18.0], size=(30, 50), p=[0.5, 0.2, 0.3])
    h[10:40, 60:70] = 19.5                        # a tall wing on the far side of seam 64
    h[70:80, 70:80] = rng.uniform(8, 15, (10, 10)).astype(np.float32)   # inside one tile
    path = write_raster(tmp_path / "ndsm.tif", h)
    cfg, meta = prepare_config(method="ndsm", ndsm=path, tile_size=tile_size, overlap=4,
                               regularize=False, min_area_m2=1.0, morphology=0,
                               workers=workers)  # with workers, they read the seam heights
    fp = extract_footprints(cfg, meta=meta)[0].sort_values("area_m2").reset_index(drop=True)
    assert len(fp) == 2
    for row, pixels in zip(fp.itertuples(), (h[70:80, 70:80], h[10:40, 20:70]), strict=True):
        values = np.sort(pixels.ravel().astype(np.float64))
        assert row.height_m == pytest.approx(round(float(np.median(values)), 2), abs=0.006)
        assert row.height_p95_m == pytest.approx(values[round(0.95 * (values.size - 1))],
                                                 abs=0.006)


def test_geojson_and_csv_outputs_are_streamed_and_match_the_geopackage(tmp_path):
    from gis.vector_io import read_vector
    from remote_sensing.sinks import file_sink

    m = np.zeros((100, 100), np.uint8)
    for r in range(5, 95, 12):                    # 64 small buildings over 16 tiles
        for c in range(5, 95, 12):
            m[r:r + 6, c:c + 8] = 1
    m[10:40, 20:70] = 1                           # and one across seams
    path = write_raster(tmp_path / "m.tif", m)
    cfg, meta = prepare_config(method="mask", mask=path, tile_size=32, overlap=4,
                               regularize=False, min_area_m2=1.0, morphology=0, workers=1,
                               batch_rows=4)
    frames = {}
    for suffix in ("gpkg", "geojson", "csv"):
        out = tmp_path / f"fp.{suffix}"
        batches = []
        with file_sink(out) as sink:
            def counting(frame, sink=sink, batches=batches):
                batches.append(len(frame))
                sink(frame)
            extract_footprints(cfg, sink=counting, meta=meta)
        assert len(batches) > 5                   # written batch by batch, not at the end
        frames[suffix] = read_vector(out).to_crs(3857)
    gpkg = frames["gpkg"].sort_values("area_m2").reset_index(drop=True)
    for suffix in ("geojson", "csv"):
        other = frames[suffix].sort_values("area_m2").reset_index(drop=True)
        assert len(other) == len(gpkg)
        np.testing.assert_allclose(other.area_m2.astype(float), gpkg.area_m2, rtol=1e-9)
        np.testing.assert_allclose(other.area, gpkg.area, rtol=1e-6)
        assert other.image_date.isna().tolist() == gpkg.image_date.isna().tolist()
    assert (tmp_path / "fp.prj").exists()         # the CSV's CRS beside it
    raw = (tmp_path / "fp.geojson").read_text(encoding="utf-8")
    import json
    doc = json.loads(raw)
    assert doc["type"] == "FeatureCollection" and len(doc["features"]) == len(gpkg)
    ring = np.asarray(doc["features"][0]["geometry"]["coordinates"][0])
    assert -180 <= ring[0, 0] <= 180 and -90 <= ring[0, 1] <= 90   # WGS 84 degrees (RFC 7946)
    x, y = ring[:, 0], ring[:, 1]
    assert np.sum(x[:-1] * y[1:] - x[1:] * y[:-1]) > 0   # outer ring counter-clockwise


@pytest.mark.parametrize("suffix", ["geojson", "csv"])
def test_a_failed_stream_leaves_no_output(tmp_path, suffix):
    from remote_sensing.sinks import file_sink

    frame = gpd.GeoDataFrame({"image_date": ["2024-05-01"], "area_m2": [4.0]},
                             geometry=[px_box(0, 0, 2, 2)], crs=32650)
    target = tmp_path / f"out.{suffix}"
    with pytest.raises(RuntimeError, match="tile 7"), file_sink(target) as sink:
        sink(frame)
        raise RuntimeError("tile 7 could not be read")
    assert list(tmp_path.iterdir()) == []


def test_workers_are_forked_only_from_a_process_without_other_threads(monkeypatch, tmp_path):
    """Forking a process that runs threads (JAX, onnxruntime, a thread of the caller) can deadlock."""
    import sys
    import threading
    import types

    import remote_sensing.tile_workers as workers
    from remote_sensing.tile_workers import _THREADED_MODULES, _worker_context

    with monkeypatch.context() as mp:  # as in `mujun footprints extract`: one thread, no JAX
        mp.setattr(threading, "active_count", lambda: 1)
        mp.setattr(workers, "_openmp_loaded", lambda: False)
        for name in _THREADED_MODULES:
            mp.delitem(sys.modules, name, raising=False)
        assert _worker_context().get_start_method() == "fork"
        mp.setattr(workers, "_openmp_loaded", lambda: True)
        assert _worker_context().get_start_method() == "forkserver"
        mp.setattr(workers, "_openmp_loaded", lambda: False)
        mp.setitem(sys.modules, "jax", types.ModuleType("jax"))
        assert _worker_context().get_start_method() == "forkserver"
    stop = threading.Event()
    busy = threading.Thread(target=stop.wait)
    busy.start()
    try:
        assert _worker_context().get_start_method() == "forkserver"
        # and a run from such a process still works, with the same answer
        m = np.zeros((100, 100), np.uint8)
        m[10:40, 20:70] = 1
        path = write_raster(tmp_path / "m.tif", m)
        fp, res = run_mask(path, tile_size=32, overlap=4, workers=2)
        assert len(fp) == 1 and fp.area.iloc[0] == 1500 and res.n_seam_merged > 0
    finally:
        stop.set()
        busy.join()


def _run_script(path, timeout=90) -> str:
    """Run a Python script in its own process group; fail (and kill the group) if it hangs."""
    import os
    import signal
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, str(path)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the hung workers too
        proc.communicate()
        pytest.fail("worker processes hung")
    assert proc.returncode == 0, err
    return out


def test_worker_processes_start_after_an_in_process_run(tmp_path):
    """A run in the caller's process loads OpenCV, whose thread pool must not be forked (it hung)."""
    m = np.zeros((100, 100), np.uint8)
    m[10:40, 20:70] = 1
    path = write_raster(tmp_path / "m.tif", m)
    script = (
        "from remote_sensing.extract import extract_footprints, prepare_config\n"
        "if __name__ == '__main__':\n"
        "    for w in (1, 2, 1, 2):\n"
        f"        cfg, meta = prepare_config(method='mask', mask={str(path)!r}, workers=w, tile_size=32,\n"
        "                                   overlap=4, min_area_m2=1)\n"
        "        fp, _ = extract_footprints(cfg, meta=meta)\n"
        "        print(w, len(fp), round(fp.area.sum()))\n"
    )
    (tmp_path / "run.py").write_text(script)
    assert _run_script(tmp_path / "run.py").split() == ["1", "1", "1500", "2", "1", "1500"] * 2


def test_classifier_workers_start_after_training_in_process(small_scene, tmp_path):
    """Training the pixel classifier runs OpenMP threads; a forked worker's OpenMP call then hung."""
    import geopandas as gpd

    script = (
        "import geopandas as gpd\n"
        "from remote_sensing.classifier import train_classifier\n"
        "from remote_sensing.extract import extract_footprints, prepare_config\n"
        "if __name__ == '__main__':\n"
        f"    ref = gpd.read_file({str(small_scene['buildings'])!r})\n"
        f"    model = train_classifier({str(small_scene['rgbn'])!r}, ref, max_iter=10, samples_per_tile=500)\n"
        f"    model.save({str(tmp_path / 'm.joblib')!r})\n"
        f"    cfg, meta = prepare_config(method='classify', image={str(small_scene['rgbn'])!r},\n"
        f"                               model={str(tmp_path / 'm.joblib')!r}, workers=2, tile_size=256)\n"
        "    fp, res = extract_footprints(cfg, meta=meta)\n"
        "    print(res.n_tiles, len(fp))\n"
    )
    (tmp_path / "run.py").write_text(script)
    n_tiles, n = map(int, _run_script(tmp_path / "run.py", timeout=180).split())
    assert n_tiles == 9 and n > 0
    assert len(gpd.read_file(small_scene["buildings"])) > 0


def test_a_thin_diagonal_building_is_regularized_without_failing_its_tile(tmp_path):
    """Its traced staircase once crashed the tile's regularization ("processing failed")."""
    from rasterio.features import rasterize
    from shapely import affinity

    # the staircase a 3 x 17 box turned by 27 degrees rasterizes to (pixel corners)
    stair = shapely.from_wkt("POLYGON ((4 0, 5 0, 5 1, 6 1, 6 4, 5 4, 5 6, 4 6, 4 8, 3 8, 3 10, 2 10, "
                             "2 12, 1 12, 1 14, 0 14, 0 7, 1 7, 1 5, 2 5, 2 3, 3 3, 3 1, 4 1, 4 0))")
    m = rasterize([affinity.translate(stair, 10, 10)], out_shape=(64, 64)).astype(np.uint8)
    m[40:52, 40:56] = 1  # and an ordinary building in the same tile
    path = write_raster(tmp_path / "m.tif", m)
    fp, _ = run_mask(path, regularize=True, min_area_m2=1.0)
    assert len(fp) == 2 and fp.geometry.is_valid.all()
    assert sorted(fp["n_pixels"]) == sorted([int(stair.area), 12 * 16])


@pytest.mark.parametrize("crs, origin, res, scale", [
    ("EPSG:3857", (1_113_194.9, 8_399_737.9), 1.0, 0.5),  # Web Mercator at 60° N: 1 unit = 0.5 m
    ("EPSG:4326", (10.0, 60.0), 1e-5, None),  # degrees
    ("EPSG:32633", (500_000.0, 6_650_000.0), 0.5, 1.0),  # UTM: plane metres
])
def test_areas_and_resolution_are_on_the_ground_whatever_the_crs(tmp_path, crs, origin, res, scale):
    """A 40 x 40 px building: its area and the ground resolution are metres on the ground,
    not Web-Mercator units (4 times the area at 60° N) or square degrees."""
    from remote_sensing.ground import ground_scale

    m = np.zeros((100, 100), np.uint8)
    m[30:70, 30:70] = 1
    path = write_raster(tmp_path / "m.tif", m, res=res, origin=origin, crs=crs)
    with rasterio.open(path) as ds:
        sx, sy = ground_scale(ds.crs, ds.bounds)
    if scale is not None:
        assert sx == pytest.approx(scale, rel=5e-3) and sy == pytest.approx(scale, rel=5e-3)
    truth = 40 * res * sx * 40 * res * sy
    fp, _ = run_mask(path)
    assert len(fp) == 1
    assert fp["area_m2"].iloc[0] == pytest.approx(truth, rel=1e-3)
    assert fp["ground_res_m"].iloc[0] == pytest.approx(np.sqrt(res * sx * res * sy), rel=1e-3)
    if crs == "EPSG:3857":
        assert fp["area_m2"].iloc[0] == pytest.approx(400, rel=0.01)
