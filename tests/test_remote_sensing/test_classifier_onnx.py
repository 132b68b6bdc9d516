"""Trained classifier and external ONNX model methods."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import onnx
import pytest
import shapely
from onnx import TensorProto, helper

from remote_sensing.assess import assess
from remote_sensing.classifier import load_classifier, train_classifier
from remote_sensing.errors import ModelError
from remote_sensing.extract import extract_footprints, prepare_config
from remote_sensing.onnx_model import load_onnx_model, predict_tile

from .conftest import write_raster


@pytest.mark.slow
def test_classifier_on_rgbn_meets_target_on_held_out_half(scene, tmp_path):
    ref = gpd.read_file(scene["buildings"])
    x0, y0, x1, y1 = 500000.0, 3400000.0, 501000.0, 3401000.0
    west, east = shapely.box(x0, y0, (x0 + x1) / 2, y1), shapely.box((x0 + x1) / 2, y0, x1, y1)
    model = train_classifier(scene["rgbn"], ref[ref.within(west)], train_area=west, max_iter=80)
    assert model.card["held_out"]["f1"] > 0.9
    path, card = model.save(tmp_path / "m.joblib")
    assert json.loads(card.read_text())["features"][:4] == ["band1", "band2", "band3", "band4"]
    # apply it to the east half only (a copy of that half of the image)
    import rasterio
    from rasterio.windows import Window

    east_tif = tmp_path / "east.tif"
    with rasterio.open(scene["rgbn"]) as ds:
        win = Window(ds.width // 2, 0, ds.width - ds.width // 2, ds.height)
        prof = ds.profile | {"width": int(win.width), "transform": ds.window_transform(win)}
        with rasterio.open(east_tif, "w", **prof) as out:
            out.write(ds.read(window=win))
            out.update_tags(**ds.tags())
    cfg, meta = prepare_config(method="classify", image=east_tif, model=path, workers=2, tile_size=512)
    fp, _ = extract_footprints(cfg, meta=meta)
    r = assess(fp[fp.within(east)], ref[ref.within(east)])
    print("classifier on the held-out east half:", {k: r[k] for k in ("n_pred", "n_ref", "tp", "f1", "mean_iou", "built_area_error")})
    assert r["n_ref"] > 100
    assert r["f1"] >= 0.80
    assert fp.geometry.is_valid.all()


def test_classifier_refuses_other_band_count(small_scene, tmp_path):
    ref = gpd.read_file(small_scene["buildings"])
    model = train_classifier(small_scene["rgbn"], ref, max_iter=10)
    model.save(tmp_path / "m.joblib")
    loaded = load_classifier(tmp_path / "m.joblib")
    with pytest.raises(ModelError, match="trained on 4 band"):
        from remote_sensing.classifier import predict_proba

        predict_proba(loaded, np.zeros((3, 40, 40), np.float32))
    (tmp_path / "m.json").unlink()
    with pytest.raises(ModelError, match="model card"):
        load_classifier(tmp_path / "m.joblib")


def tiny_threshold_model(path, threshold=2.5):
    """A 1x1 convolution + sigmoid: probability = sigmoid(4 * (x - threshold))."""
    w = helper.make_tensor("w", TensorProto.FLOAT, [1, 1, 1, 1], [4.0])
    b = helper.make_tensor("b", TensorProto.FLOAT, [1], [-4.0 * threshold])
    conv = helper.make_node("Conv", ["x", "w", "b"], ["z"])
    sig = helper.make_node("Sigmoid", ["z"], ["y"])
    graph = helper.make_graph(
        [conv, sig], "threshold",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, None, None])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 1, None, None])],
        initializer=[w, b],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    onnx.checker.check_model(model)
    onnx.save(model, path)
    return path


def test_onnx_method_with_tiny_model_and_card(small_scene, tmp_path):
    model = tiny_threshold_model(tmp_path / "m.onnx")
    (tmp_path / "m.json").write_text(json.dumps({
        "bands": [1], "mean": [0.0], "std": [1.0], "scale": 1.0, "resolution": 0.5,
        "tile_size": 64, "overlap": 16, "output": "probability"}))
    cfg, meta = prepare_config(method="onnx", image=small_scene["ndsm"], model=model, tile_size=256)
    fp, _res = extract_footprints(cfg, meta=meta)
    ref = gpd.read_file(small_scene["buildings"])
    trees = gpd.read_file(small_scene["trees"])
    # no vegetation filter (single band): buildings found, trees become false positives
    r = assess(fp, ref)
    assert r["recall"] >= 0.95
    assert r["fp"] <= len(trees)
    assert (fp["method"] == "onnx").all()


def test_onnx_blending_is_seamless_and_resolution_is_checked(tmp_path, caplog):
    model = tiny_threshold_model(tmp_path / "m.onnx")
    (tmp_path / "m.onnx.json").write_text(json.dumps({"bands": [1], "resolution": 1.0,
                                                      "tile_size": 32, "overlap": 8}))
    m = load_onnx_model(model)
    x = np.random.default_rng(0).uniform(0, 5, (1, 100, 90)).astype(np.float32)
    p = predict_tile(m, x, 1.0)
    expected = 1 / (1 + np.exp(-4 * (x[0] - 2.5)))
    np.testing.assert_allclose(p, expected, atol=1e-5)  # pixelwise model: blending is exact
    # another ground resolution is resampled to the model's, tile by tile (logged once, not a warning)
    with caplog.at_level("INFO", logger="remote_sensing.onnx_model"):
        p2 = predict_tile(m, x, 0.5)
    assert p2.shape == (100, 90) and "resampling each tile" in caplog.text


def test_onnx_without_card_is_refused(tmp_path):
    model = tiny_threshold_model(tmp_path / "m.onnx")
    with pytest.raises(ModelError, match="no model card"):
        load_onnx_model(model)


def test_probability_mask_method(tmp_path):
    prob = np.zeros((60, 60), np.float32)
    prob[5:25, 5:25] = 0.9
    prob[30:50, 30:50] = 0.4
    path = write_raster(tmp_path / "p.tif", prob)
    cfg, meta = prepare_config(method="mask", mask=path, mask_is_probability=True, min_area_m2=1)
    fp, _ = extract_footprints(cfg, meta=meta)
    assert len(fp) == 1 and fp["confidence"].iloc[0] == pytest.approx(0.9, abs=1e-3)
    cfg, meta = prepare_config(method="mask", mask=path, threshold=0.3, min_area_m2=1)
    fp, _ = extract_footprints(cfg, meta=meta)
    assert len(fp) == 2


@pytest.mark.slow
def test_real_naip_rgbn_footprints_do_not_depend_on_tiling(shared_data, small_scene, tmp_path):
    """Real 4-band NAIP (EPSG:26914, 5 m) has no building reference, so what is checked is
    what the pipeline owes any image: a model trained at another resolution is flagged, the
    footprints are the same whatever the tiling (seams merged exactly on real data), valid,
    dated, and never on nodata pixels."""
    import rasterio
    from rasterio import features

    from remote_sensing.readers import raster_info

    naip = shared_data / "naip-rgbn" / "m_4709963_se_14_1_20200831.tif"
    info = raster_info(naip)
    assert (info["width"], info["height"], info["count"], info["epsg"], info["nodata"]) == (934, 723, 4, 26914, 0.0)
    model = train_classifier(small_scene["rgbn"], gpd.read_file(small_scene["buildings"]), max_iter=10)
    runs = {}
    for tile_size in (256, 400):
        with pytest.warns(UserWarning, match="does not transfer across ground resolutions"):
            cfg, meta = prepare_config(method="classify", image=naip, model=model, tile_size=tile_size)
        runs[tile_size] = extract_footprints(cfg, meta=meta, date="2020-08-31")
    (fp, res), (other, other_res) = runs[256], runs[400]
    assert res.n_tiles == 12 and other_res.n_tiles < res.n_tiles and fp.crs.to_epsg() == 26914
    assert fp.geometry.is_valid.all() and (fp["image_date"] == "2020-08-31").all()
    assert len(fp) > 0 and len(fp) == len(other)
    union, other_union = fp.geometry.union_all(), other.geometry.union_all()
    # measured: 29 m² of 4.7 km² differ (about one 5 m pixel); a seam not merged would
    # differ by whole buildings and change the count
    pixel = abs(cfg.grid.transform[0] * cfg.grid.transform[4])
    assert union.symmetric_difference(other_union).area <= 2 * pixel
    with rasterio.open(naip) as ds:
        nodata = ~ds.dataset_mask().astype(bool)
        transform = ds.transform
    if nodata.any():
        covered = features.rasterize(fp.geometry, out_shape=nodata.shape, transform=transform,
                                     all_touched=False)
        assert not (covered.astype(bool) & nodata).any()


def test_extract_overrides_the_cards_test_time_augmentation(small_scene, tmp_path, monkeypatch):
    """`footprints extract --tta N` reaches every model tile; other methods refuse it."""
    import remote_sensing.onnx_model as onnx_model
    from gis.errors import ConfigError

    from .test_synthetic_cli import run_cli

    model = tiny_threshold_model(tmp_path / "m.onnx")
    (tmp_path / "m.json").write_text(json.dumps({
        "bands": [1], "mean": [0.0], "std": [1.0], "scale": 1.0, "resolution": 0.5,
        "tile_size": 64, "overlap": 16, "output": "probability", "tta": 2}))
    seen = []
    real = onnx_model.run_tta
    monkeypatch.setattr(onnx_model, "run_tta", lambda m, x, tta=1: seen.append(tta) or real(m, x, tta))
    results = {}
    for tta in (None, 8):
        seen.clear()
        cfg, meta = prepare_config(method="onnx", image=small_scene["ndsm"], model=model, tile_size=256,
                                   workers=1, tta=tta)
        results[tta], _ = extract_footprints(cfg, meta=meta)
        assert seen and set(seen) == {2 if tta is None else 8}
    # a per-pixel model does not care how the tile is turned: the same buildings either way
    assert len(results[None]) == len(results[8])
    assert results[None].area.sum() == pytest.approx(results[8].area.sum(), rel=1e-9)
    with pytest.raises(ConfigError, match="onnx method"):
        prepare_config(method="ndsm", ndsm=small_scene["ndsm"], tta=2)
    code, _, err = run_cli("footprints", "extract", "--ndsm", str(small_scene["ndsm"]), "--tta", "2",
                             "-o", str(tmp_path / "fp.gpkg"))
    assert code != 0 and "onnx method" in err
