"""Training a segmentation model from imagery and surveyed footprints, and running it.

Known answers: the synthetic scene's true buildings, and the real SpaceNet chip's labels
(train on one half, measure on the other). Floors are set below what was measured
(see docs/footprints.md), so they fail when the model or the post-processing gets worse.
"""

from __future__ import annotations

import dataclasses
import json

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely
from rasterio.enums import Resampling

from remote_sensing.assess import assess
from remote_sensing.errors import ModelError
from remote_sensing.extract import extract_footprints, prepare_config
from remote_sensing.onnx_model import load_onnx_model, read_model_card
from remote_sensing.training.train import TrainOptions, save_model, train_segmentation
from tests.cli_runner import mujun_process

from .test_synthetic_cli import run_cli

TINY = TrainOptions(widths=(8, 16), patch=96, batch=6, max_epochs=12, min_epochs=4, patience=4, seed=0)


@pytest.fixture(scope="module")
def synthetic_model(small_scene, tmp_path_factory):
    """A tiny U-Net trained on the small synthetic scene's west two thirds."""
    ref = gpd.read_file(small_scene["buildings"])
    with rasterio.open(small_scene["rgbn"]) as ds:
        b = ds.bounds
    west = shapely.box(b.left, b.bottom, b.left + (b.right - b.left) * 2 / 3, b.top)
    result = train_segmentation(small_scene["rgbn"], ref, area=west, options=TINY)
    path, card = save_model(result, tmp_path_factory.mktemp("model") / "syn.onnx")
    return {"result": result, "path": path, "card": card, "west": west, "bounds": b}


def test_unet_onnx_export_equals_the_jax_network():
    import jax
    import onnxruntime as ort

    from remote_sensing.training.onnx_export import build_model
    from remote_sensing.training.unet import forward, init_params

    widths = (8, 16, 32)
    params = init_params(3, widths, seed=5)
    x = np.random.default_rng(1).standard_normal((1, 40, 52, 3)).astype(np.float32)
    expected = np.asarray(jax.nn.sigmoid(forward(params, x, widths)))[0]
    sess = ort.InferenceSession(build_model(params, widths, 3).SerializeToString(),
                                providers=["CPUExecutionProvider"])
    got = sess.run(None, {"image": np.transpose(x, (0, 3, 1, 2))})[0][0, 0]
    np.testing.assert_allclose(got, expected, atol=1e-5)


def test_two_output_unet_exports_both_maps_and_reads_back_for_fine_tuning(tmp_path):
    """The building and interior outputs: ONNX equals JAX, the card's ``outputs`` make
    predict_tile return both maps, and the weights read back exactly (fine-tuning)."""
    import jax
    import onnxruntime as ort

    from remote_sensing.onnx_model import predict_tile
    from remote_sensing.training.onnx_export import build_model, read_params
    from remote_sensing.training.unet import OUTPUTS, forward, init_params

    widths = (4, 8)
    params = init_params(3, widths, seed=2, n_out=2)
    x = np.random.default_rng(3).standard_normal((1, 20, 28, 3)).astype(np.float32)
    expected = np.moveaxis(np.asarray(jax.nn.sigmoid(forward(params, x, widths)))[0], -1, 0)
    proto = build_model(params, widths, 3)
    sess = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    got = sess.run(None, {"image": np.transpose(x, (0, 3, 1, 2))})[0][0]
    assert got.shape == (2, 20, 28)
    np.testing.assert_allclose(got, expected, atol=1e-5)
    path = tmp_path / "two.onnx"
    path.write_bytes(proto.SerializeToString())
    back = read_params(path)
    assert back.keys() == params.keys()
    for k in params:
        np.testing.assert_array_equal(back[k], params[k])
    card = {"bands": [1, 2, 3], "mean": [0.0] * 3, "std": [1.0] * 3, "resolution": 0.5, "tile_size": 0,
            "size_multiple": 2, "outputs": list(OUTPUTS)}
    path.with_suffix(".json").write_text(json.dumps(card))
    both = predict_tile(load_onnx_model(path), np.transpose(x[0], (2, 0, 1)), 0.5)
    assert both.shape == (2, 20, 28)
    np.testing.assert_allclose(both, expected, atol=1e-5)
    # without "outputs" in the card (a model from elsewhere) the last channel is the building
    path.with_suffix(".json").write_text(json.dumps({k: v for k, v in card.items() if k != "outputs"}))
    one = predict_tile(load_onnx_model(path), np.transpose(x[0], (2, 0, 1)), 0.5)
    np.testing.assert_allclose(one, expected[1], atol=1e-5)


def _random_unet_file(tmp_path, tta):
    from remote_sensing.training.onnx_export import build_model
    from remote_sensing.training.unet import init_params

    widths = (4, 8)
    path = tmp_path / "random.onnx"
    path.write_bytes(build_model(init_params(1, widths, seed=3), widths, 1).SerializeToString())
    card = {"bands": [1], "mean": [0.0], "std": [1.0], "resolution": 0.5, "tile_size": 0,
            "size_multiple": 2, "tta": tta}
    path.with_suffix(".json").write_text(json.dumps(card))
    return path


def test_test_time_augmentation_over_all_eight_symmetries_is_exactly_equivariant(tmp_path):
    """With tta=8 the prediction of a turned or mirrored image is the turned/mirrored prediction;
    without it a (random) network is not, so the property is not trivially true."""
    from remote_sensing.onnx_model import predict_tile

    img = np.random.default_rng(2).standard_normal((1, 24, 24)).astype(np.float32)
    tta8 = load_onnx_model(_random_unet_file(tmp_path, 8))
    plain = load_onnx_model(_random_unet_file(tmp_path, 1))
    assert tta8.card["tta"] == 8
    for turn in (lambda a: np.rot90(a, 1, axes=(-2, -1)), lambda a: a[..., ::-1], lambda a: a[..., ::-1, :]):
        np.testing.assert_allclose(predict_tile(tta8, turn(img).copy(), 0.5), turn(predict_tile(tta8, img, 0.5)),
                                   atol=1e-5)
    rot = lambda a: np.rot90(a, 1, axes=(-2, -1))  # noqa: E731
    assert np.abs(predict_tile(plain, rot(img).copy(), 0.5) - rot(predict_tile(plain, img, 0.5))).max() > 1e-4
    # the argument overrides the card
    np.testing.assert_allclose(predict_tile(plain, img, 0.5, tta=8), predict_tile(tta8, img, 0.5), atol=1e-6)


def test_model_card_with_an_unknown_test_time_augmentation_is_refused(tmp_path):
    with pytest.raises(ModelError, match=r"'tta' is 3; use one of \(1, 2, 4, 8\)"):
        read_model_card(_random_unet_file(tmp_path, 3))


def test_model_card_round_trip(synthetic_model):
    card = synthetic_model["result"].card
    read = read_model_card(synthetic_model["path"])
    assert synthetic_model["card"].name == "syn.json"
    for key in ("kind", "bands", "n_image_bands", "mean", "std", "resolution", "size_multiple",
                "postprocess", "training_area", "labelled_buildings", "validation", "architecture"):
        assert read[key] == json.loads(json.dumps(card[key])), key
    assert read["bands"] == [1, 2, 3, 4] and read["resolution"] == 0.5
    assert read["outputs"] == ["building", "interior"] and read["postprocess"]["seed"] == 0.5
    assert read["training"]["cpu_seconds"] > 0 and read["training"]["steps"] >= read["training"]["epochs"]
    assert read["tta"] == TINY.tta == 4
    assert read["labelled_buildings"]["train"] > 5 and read["labelled_buildings"]["validation"] >= 1
    assert 0 < read["validation"]["pixel_f1"] <= 1
    assert read["training"]["best_epoch"] <= read["training"]["epochs"] <= TINY.max_epochs
    model = load_onnx_model(synthetic_model["path"])
    assert model.session.get_inputs()[0].shape[1] == 4


def test_the_weights_kept_are_their_moving_average(synthetic_model, small_scene):
    """Averaging off (0), and a vanishing decay, keep the last step's weights; 0.99 does not."""
    ref = gpd.read_file(small_scene["buildings"])
    # without batch normalisation, so the averaged weights are the whole model (with it, the
    # averaged network's statistics are measured on batches of its own)
    short = dataclasses.replace(TINY, max_epochs=2, min_epochs=1, min_steps=0, tune_postprocess=False,
                                batch_norm=False)
    params = {}
    for average in (0.0, 1e-9, 0.99):
        result = train_segmentation(small_scene["rgbn"], ref, area=synthetic_model["west"],
                                    options=dataclasses.replace(short, average=average))
        params[average] = result.params
        assert result.card["training"]["weights_averaged"] == (average or None)
    last, vanishing, averaged = params[0.0], params[1e-9], params[0.99]
    assert all(np.allclose(last[k], vanishing[k], rtol=1e-5, atol=1e-6) for k in last)
    assert any(not np.allclose(last[k], averaged[k], rtol=1e-3, atol=1e-4) for k in last)
    assert synthetic_model["card"].exists()
    assert synthetic_model["result"].card["training"]["weights_averaged"] == TINY.average == 0.99


def test_postprocess_thresholds_chosen_on_the_validation_stripe(small_scene):
    """--tune-postprocess tries the grid on the validation stripe and keeps the best pair there."""
    from dataclasses import replace

    from remote_sensing.training.validation import POSTPROCESS_GRID, SEED_GRID, SEED_MIN_GRID

    ref = gpd.read_file(small_scene["buildings"])
    opts = replace(TINY, max_epochs=4, min_epochs=2, tune_postprocess=True)
    card = train_segmentation(small_scene["rgbn"], ref, options=opts).card
    tried = card["validation"]["postprocess_tried"]
    assert [(t["low"], t["high"], t["seed"], t["seed_min_m2"]) for t in tried] == [
        (lo, hi, sd, sm) for lo, hi in POSTPROCESS_GRID for sd in SEED_GRID for sm in SEED_MIN_GRID]  # default first
    pp = card["postprocess"]
    chosen = (pp["low"], pp["high"], pp["seed"], pp.get("seed_min_m2"))
    best = max(tried, key=lambda t: (t["object_f1"], t["matched_iou"]))
    assert chosen == (best["low"], best["high"], best["seed"], best["seed_min_m2"])
    assert card["validation"]["object_f1"] == best["object_f1"]
    assert "chosen on this stripe" in card["validation"]["note"]


def test_postprocess_is_tuned_by_default_only_on_stripes_with_enough_buildings(synthetic_model):
    """Default (None): the grid is tried only when the stripes hold TUNE_MIN_BUILDINGS labelled buildings."""
    from remote_sensing.training.validation import TUNE_MIN_BUILDINGS

    v = synthetic_model["result"].card["validation"]
    assert ("postprocess_tried" in v) == (v["n_labelled"] >= TUNE_MIN_BUILDINGS)


def test_batch_norm_is_folded_into_plain_convolutions(synthetic_model):
    """Trained with batch normalisation, written as plain Conv layers whose output ONNX Runtime matches."""
    import jax
    import onnx

    from remote_sensing.training.onnx_export import read_params
    from remote_sensing.training.unet import forward

    card = synthetic_model["result"].card
    assert card["architecture"]["batch_norm"] == "folded into the convolutions"
    graph = onnx.load(str(synthetic_model["path"])).graph
    assert {n.op_type for n in graph.node} <= {"Conv", "Relu", "MaxPool", "Resize", "Concat", "Sigmoid"}
    params = read_params(synthetic_model["path"])
    assert not any(k.endswith(("/gamma", "/beta")) for k in params)
    x = np.random.default_rng(1).standard_normal((1, 32, 32, len(card["bands"]))).astype(np.float32)
    expected = np.moveaxis(np.asarray(jax.nn.sigmoid(forward(params, x, tuple(card["architecture"]["widths"]))))[0],
                           -1, 0)
    model = load_onnx_model(synthetic_model["path"])
    got = model.session.run(None, {model.session.get_inputs()[0].name: np.moveaxis(x, -1, 1)})[0][0]
    assert np.allclose(got, expected, atol=1e-4)


def test_train_then_extract_finds_the_known_buildings_of_the_held_out_third(synthetic_model, small_scene):
    ref = gpd.read_file(small_scene["buildings"])
    b = synthetic_model["bounds"]
    east = shapely.box(b.left + (b.right - b.left) * 2 / 3, b.bottom, b.right, b.top)
    cfg, meta = prepare_config(method="onnx", image=small_scene["rgbn"], model=synthetic_model["path"],
                               tile_size=256, workers=1)
    assert cfg.postprocess == "objects"
    fp, res = extract_footprints(cfg, meta=meta)
    assert res.n_tiles == 9 and fp.geometry.is_valid.all() and (fp["method"] == "onnx").all()
    r = assess(fp[fp.centroid.within(east)], ref[ref.centroid.within(east)])
    print("synthetic held-out third:", {k: r[k] for k in ("n_pred", "n_ref", "tp", "f1", "mean_iou",
                                                         "built_area_error")})
    assert r["n_ref"] >= 5
    assert r["f1"] >= 0.6
    assert r["mean_iou"] >= 0.7
    assert abs(r["built_area_error"]) <= 0.3


def test_model_for_other_bands_or_resolution_is_refused(synthetic_model, small_scene, shared_data, tmp_path):
    pan = shared_data / "spacenet-atlanta-west" / "atlanta_west_pan.tif"
    with pytest.raises(ModelError, match=r"reads band\(s\) \[1, 2, 3, 4\] but .* has 1 band"):
        prepare_config(method="onnx", image=pan, model=synthetic_model["path"])
    for k in (2, 3):  # twice as coarse is resampled to the model's 0.5 m; three times is refused
        coarse = tmp_path / f"coarse{k}.tif"
        with rasterio.open(small_scene["rgbn"]) as ds:
            data = ds.read(out_shape=(ds.count, ds.height // k, ds.width // k), resampling=Resampling.average)
            prof = ds.profile | {"width": ds.width // k, "height": ds.height // k,
                                 "transform": ds.transform @ ds.transform.scale(k, k)}
            with rasterio.open(coarse, "w", **prof) as out:
                out.write(data)
    prepare_config(method="onnx", image=tmp_path / "coarse2.tif", model=synthetic_model["path"])
    with pytest.raises(ModelError, match=r"trained at 0.5 m per pixel but .* is 1.5 m, more than 2 times coarser"):
        prepare_config(method="onnx", image=tmp_path / "coarse3.tif", model=synthetic_model["path"])
    five = tmp_path / "five.tif"
    with rasterio.open(small_scene["rgbn"]) as ds, \
            rasterio.open(five, "w", **(ds.profile | {"count": 5})) as out:
        out.write(np.concatenate([ds.read(), ds.read(1)[None]]))
    with pytest.raises(ModelError, match=r"trained on a 4-band image but .* has 5"):
        prepare_config(method="onnx", image=five, model=synthetic_model["path"])


def test_training_refuses_labels_outside_the_image(small_scene):
    ref = gpd.read_file(small_scene["buildings"])
    far = ref.set_geometry(ref.geometry.translate(50_000, 0))
    with pytest.raises(ModelError, match="does not overlap the image"):
        train_segmentation(small_scene["rgbn"], far, options=TINY)
    with pytest.raises(ModelError, match=r"band\(s\) \[7\] do not exist"):
        train_segmentation(small_scene["rgbn"], ref, bands=[7], options=TINY)


def test_cli_train_then_extract(small_scene, tmp_path):
    model = tmp_path / "m.onnx"
    args = ("footprints", "train", "--image", str(small_scene["rgbn"]), "--labels",
            str(small_scene["buildings"]), "--widths", "8,16", "--epochs", "4", "--average", "0.9",
            "-o", str(model))
    # the compiled programs are kept in MUJUN_HOME (when the environment names no cache of its own)
    home = tmp_path / "home"
    proc = mujun_process(*args, home=home, env={"JAX_COMPILATION_CACHE_DIR": ""}, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert any(f.is_file() and f.stat().st_size > 1000 for f in (home / "cache" / "jax").rglob("*"))
    data = json.loads((tmp_path / "m.json").read_text(encoding="utf-8"))  # the card
    assert data["training"]["epochs"] == 4 and data["labelled_buildings"]["in_area"] > 10
    assert data["training"]["weights_averaged"] == 0.9
    # the summary a technician reads: Chinese, with the figures of the card
    lb = data["labelled_buildings"]
    assert proc.stdout.startswith(f"模型 → {model}（模型卡 m.json）")
    assert f"训练范围内有标注建筑 {lb['in_area']:,} 栋" in proc.stdout and "共 4 轮（达到轮数上限" in proc.stdout
    assert f"像元 F1 {data['validation']['pixel_f1']:.3f}" in proc.stdout
    code, out, err = run_cli(*args)
    assert code == 4 and "exists; use --overwrite" in err
    fp = tmp_path / "fp.gpkg"
    code, out, err = run_cli("footprints", "extract", "--method", "onnx", "--image", str(small_scene["rgbn"]),
                             "--model", str(model), "-o", str(fp), "--workers", "1", "--json")
    assert code == 0, err
    assert json.loads(out)["footprints"] == len(gpd.read_file(fp)) > 0


def test_fine_tuning_starts_from_the_given_model(synthetic_model, small_scene):
    """--init-from: the weights, architecture, normalisation and resolution of the given model
    are the start, and the start stays a candidate; one epoch from it is far better than one
    epoch from scratch."""
    from dataclasses import replace

    ref = gpd.read_file(small_scene["buildings"])
    one = replace(TINY, max_epochs=1, min_epochs=1, widths=(4, 8))  # widths come from the model
    result = train_segmentation(small_scene["rgbn"], ref, options=one, init_from=synthetic_model["path"])
    tuned = result.card
    scratch = train_segmentation(small_scene["rgbn"], ref, options=replace(one, widths=TINY.widths)).card
    base = synthetic_model["result"].card
    # the model read back from its file is the first candidate (epoch 0): it scores on the stripe
    # what its card says, and what comes back has the lowest validation loss of the candidates
    start = result.history[0]
    assert start["epoch"] == 0
    assert start["val_pixel_f1"] == pytest.approx(base["validation"]["pixel_f1"], abs=0.01)
    kept = result.history[tuned["training"]["best_epoch"]]
    assert kept["val_loss"] == min(h["val_loss"] for h in result.history)
    assert tuned["training"]["fine_tuned_from"] == "syn.onnx"
    assert tuned["architecture"]["widths"] == base["architecture"]["widths"] == list(TINY.widths)
    assert tuned["mean"] == base["mean"] and tuned["resolution"] == base["resolution"]
    print("pixel F1 after one epoch: fine-tuned", tuned["validation"]["pixel_f1"], "from scratch",
          scratch["validation"]["pixel_f1"])
    assert tuned["validation"]["pixel_f1"] >= scratch["validation"]["pixel_f1"] + 0.2


def test_cli_train_pairs_images_with_label_files(small_scene, tmp_path):
    code, _out, err = run_cli("footprints", "train", "--image", str(small_scene["rgbn"]), "--image",
                             str(small_scene["rgbn"]), "--labels", str(small_scene["buildings"]),
                             "-o", str(tmp_path / "m.onnx"))
    assert code != 0 and "2 image(s) but 1 label file(s)" in err and "Traceback" not in err


def test_training_data_from_labels_in_another_crs_resampled_to_the_model_resolution(small_scene):
    """Labels in degrees over a projected image burn in where the projected ones do; asking for
    a coarser model resolution resamples the image and the labels on the ground."""
    from remote_sensing.training.data import read_training_data

    ref = gpd.read_file(small_scene["buildings"])
    same = read_training_data(small_scene["rgbn"], ref)
    other = read_training_data(small_scene["rgbn"], ref.to_crs(4326))
    assert other.label.shape == same.label.shape and other.resolution == same.resolution == 0.5
    a, b = same.label > 0, other.label > 0
    assert (a & b).sum() / (a | b).sum() > 0.97
    coarse = read_training_data(small_scene["rgbn"], ref.to_crs(4326), resolution=1.0)
    assert coarse.resolution == pytest.approx(1.0) and coarse.image.shape[1:] == (
        round(same.label.shape[0] / 2), round(same.label.shape[1] / 2))
    assert coarse.label.mean() == pytest.approx(same.label.mean(), rel=0.05)  # the same built share
    assert coarse.instances.max() == len(coarse.labels)  # every footprint its own number


def test_every_reason_training_stops_for_has_words():
    """The summary shows why training stopped in words from the vocabulary, never the card's code."""
    import re
    from pathlib import Path

    import remote_sensing.training.train as train_module
    from remote_sensing.training.vocabulary import STOPPED

    codes = set(re.findall(r'stopped = "(\w+)"', Path(train_module.__file__).read_text(encoding="utf-8")))
    assert codes == set(STOPPED.codes()) == {"early_stopping", "time_limit", "max_epochs"}
    assert all(STOPPED.label(c) != c for c in codes)
