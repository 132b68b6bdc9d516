"""The pretrained encoder (EfficientNet-Lite0's ImageNet weights) and the network built on it.

Known answer: the port classifies the photograph TensorFlow's tutorials use (Grace Hopper,
shipped with matplotlib) as ImageNet's "military uniform", as the original network does.
"""

from __future__ import annotations

import pickle

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from remote_sensing.errors import ModelError
from remote_sensing.training import pretrained as pt
from remote_sensing.training.train import TrainOptions, train_segmentation
from remote_sensing.training.unet import PRETRAINED_WIDTHS, forward, init_params

MILITARY_UNIFORM = 652  # ImageNet class index


def test_the_port_names_the_uniform_in_grace_hoppers_portrait():
    import matplotlib.cbook as cbook
    from PIL import Image

    img = Image.open(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)).convert("RGB")
    w, h = img.size
    s = min(w, h)
    img = img.crop(((w - s) // 2, (h - s) // 2, (w + s) // 2, (h + s) // 2)).resize((224, 224), Image.BICUBIC)
    x = ((np.asarray(img, np.float32) - pt.INPUT_MEAN) / pt.INPUT_STD)[None]
    import jax

    logits = np.asarray(jax.jit(pt.classify)(pt.load_encoder(with_head=True), x))[0]
    p = np.exp(logits - logits.max())
    p /= p.sum()
    assert int(np.argmax(p)) == MILITARY_UNIFORM
    assert p[MILITARY_UNIFORM] > 0.3  # measured 0.40; a wrong padding or scaling drops it


def test_a_weights_file_that_would_run_code_is_refused(tmp_path):
    import os

    bad = tmp_path / "bad.pth"
    with open(bad, "wb") as f:
        for part in (0x1950A86A20F9469CFC6C, 1001, {}):
            pickle.dump(part, f)

        class Evil:
            def __reduce__(self):
                return (os.system, ("echo pwned > " + str(tmp_path / "pwned"),))

        pickle.dump({"w": Evil()}, f)
    with pytest.raises(pt.PretrainedWeightsError, match="not allowed"):
        pt.read_torch_file(bad)
    assert not (tmp_path / "pwned").exists()


def test_a_truncated_or_foreign_weights_file_is_refused(tmp_path):
    data = pt.weights_path().read_bytes()
    cut = tmp_path / "cut.pth"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(pt.PretrainedWeightsError, match=r"cut\.pth"):
        pt.read_torch_file(cut)
    other = tmp_path / "other.pth"
    other.write_bytes(pickle.dumps({"a": 1}))
    with pytest.raises(pt.PretrainedWeightsError, match="not a PyTorch weights file"):
        pt.read_torch_file(other)


def test_the_weights_file_reads_whole():
    sd = pt.read_torch_file(pt.weights_path())
    assert sd["_conv_stem.weight"].shape == (32, 3, 3, 3)
    assert sd["_fc.weight"].shape == (1000, 1280)
    n = sum(v.size for v in sd.values() if v.dtype == np.float32)
    assert 4_500_000 < n < 5_000_000  # EfficientNet-Lite0: 4.65 million weights


@settings(max_examples=6, deadline=None)
@given(k=st.sampled_from([3, 5]), stride=st.sampled_from([1, 2]), rows=st.integers(4, 13),
       cols=st.integers(4, 13), ch=st.integers(1, 5), seed=st.integers(0, 2**16))
def test_the_shifted_depthwise_convolution_equals_the_grouped_one(k, stride, rows, cols, ch, seed):
    import jax

    rng = np.random.default_rng(seed)
    x = rng.standard_normal((2, rows, cols, ch)).astype(np.float32)
    w = rng.standard_normal((k, k, 1, ch)).astype(np.float32)
    expected = jax.lax.conv_general_dilated(x, w, (stride, stride), "SAME",
                                            dimension_numbers=("NHWC", "HWIO", "NHWC"), feature_group_count=ch)
    np.testing.assert_allclose(np.asarray(pt.depthwise(x, w, stride)), np.asarray(expected), atol=1e-4)


def test_the_network_on_the_pretrained_encoder_exports_to_onnx_as_it_computes(tmp_path):
    import jax
    import onnxruntime as ort

    from remote_sensing.training.onnx_export import build_model, read_params, write_model

    params = init_params(3, PRETRAINED_WIDTHS, seed=2, n_out=2, encoder=pt.ENCODER)
    x = np.random.default_rng(1).standard_normal((1, 48, 80, 3)).astype(np.float32)
    expected = np.asarray(jax.jit(lambda p, a: jax.nn.sigmoid(forward(p, a, PRETRAINED_WIDTHS)))(params, x))[0]
    sess = ort.InferenceSession(build_model(params, PRETRAINED_WIDTHS, 3).SerializeToString(),
                                providers=["CPUExecutionProvider"])
    got = sess.run(None, {"image": np.transpose(x, (0, 3, 1, 2))})[0][0]
    np.testing.assert_allclose(np.moveaxis(got, 0, -1), expected, atol=1e-4)
    back = read_params(write_model(tmp_path / "m.onnx", params, PRETRAINED_WIDTHS, 3))
    assert set(back) == set(params)
    assert all(np.array_equal(back[k], params[k]) for k in params)


def _west(small_scene):
    with rasterio.open(small_scene["rgbn"]) as ds:
        b = ds.bounds
    return shapely.box(b.left, b.bottom, b.left + (b.right - b.left) * 2 / 3, b.top)


def test_a_four_band_image_is_refused_before_training(small_scene):
    ref = gpd.read_file(small_scene["buildings"])
    with pytest.raises(ModelError, match="RGB 8-bit"):
        train_segmentation(small_scene["rgbn"], ref, area=_west(small_scene),
                           options=TrainOptions(encoder=pt.ENCODER, max_epochs=1))


def test_widths_that_do_not_fit_the_encoder_are_refused(small_scene):
    ref = gpd.read_file(small_scene["buildings"])
    with pytest.raises(ModelError, match="16,32,48,64,112"):
        train_segmentation(small_scene["rgbn"], ref, area=_west(small_scene), bands=[1, 2, 3],
                           options=TrainOptions(encoder=pt.ENCODER, widths=(8, 16), max_epochs=1))


def test_cli_refuses_the_encoder_for_a_four_band_image(small_scene, tmp_path):
    from .test_synthetic_cli import run_cli

    code, _out, err = run_cli("footprints", "train", "--image", str(small_scene["rgbn"]), "--labels",
                              str(small_scene["buildings"]), "--encoder", pt.ENCODER, "-o", str(tmp_path / "m.onnx"))
    assert code != 0 and "RGB 8-bit" in err and "--encoder none" in err and "Traceback" not in err
    assert not (tmp_path / "m.onnx").exists()


def _copy_bands(src, dst, *, alpha_from_col=None):
    """The first three bands of ``src`` as RGB, plus an alpha band (zero from a column on)
    when ``alpha_from_col`` is given: an RGBA drone mosaic, as OpenDroneMap writes them."""
    from rasterio.enums import ColorInterp

    with rasterio.open(src) as ds:
        rgb, prof = ds.read([1, 2, 3]), ds.profile
    bands = [rgb]
    if alpha_from_col is not None:
        alpha = np.full((1, *rgb.shape[1:]), 255, np.uint8)
        alpha[:, :, alpha_from_col:] = 0
        bands.append(alpha)
    data = np.concatenate(bands)
    prof.update(count=len(data), nodata=None, photometric="RGB", alpha="YES" if len(data) == 4 else "NO")
    with rasterio.open(dst, "w", **prof) as out:
        out.write(data)
    with rasterio.open(dst) as ds:
        assert ds.colorinterp[-1] == (ColorInterp.alpha if len(data) == 4 else ColorInterp.blue)
    return dst


def test_auto_trains_on_the_pretrained_encoder_for_an_rgba_mosaic_then_extract_finds_the_held_out_buildings(
        small_scene, tmp_path):
    """``encoder="auto"`` (the CLI's default) picks the pretrained encoder for three 8-bit bands,
    also when a fourth band is alpha (an RGBA drone mosaic: the alpha band says where the image is
    valid and is not trained on), writes it into the card, and the model finds the held-out
    third's buildings through ``footprints extract --method onnx``, nothing where alpha is zero.
    The model fits the same imagery without alpha; four colour bands (RGBN) are refused.
    (Fine-tuning from such a model was checked by hand: it costs another compile of the
    network, about 40 s of the suite; test_training checks fine-tuning on a small U-Net.)"""
    from remote_sensing.assess import assess
    from remote_sensing.onnx_model import check_model_fits, read_model_card
    from remote_sensing.training.train import save_model

    from .test_synthetic_cli import run_cli

    ref = gpd.read_file(small_scene["buildings"])
    with rasterio.open(small_scene["rgbn"]) as ds:
        b, width, res = ds.bounds, ds.width, ds.res[0]
    blank_from = width - width // 12  # alpha zero over the last twelfth of the columns
    rgba = _copy_bands(small_scene["rgbn"], tmp_path / "rgba.tif", alpha_from_col=blank_from)
    opts = TrainOptions(encoder="auto", patch=64, batch=4, max_epochs=10, min_epochs=4, patience=4,
                        steps_per_epoch=8, min_steps=0, seed=0, tta=1)
    result = train_segmentation(rgba, ref, area=_west(small_scene), options=opts)
    model, _ = save_model(result, tmp_path / "eff.onnx")
    card = read_model_card(model)
    assert card["architecture"]["encoder"] == pt.ENCODER
    assert "ImageNet" in card["architecture"]["encoder_weights"]
    assert card["architecture"]["widths"] == list(PRETRAINED_WIDTHS)
    assert card["mean"] == [pt.INPUT_MEAN] * 3 and card["std"] == [pt.INPUT_STD] * 3
    assert card["size_multiple"] == 16 and card["bands"] == [1, 2, 3]
    assert card["n_image_bands"] == 4 and card["alpha_bands"] == 1
    fp_path = tmp_path / "fp.gpkg"
    code, _out, err = run_cli("footprints", "extract", "--method", "onnx", "--image", str(rgba),
                              "--model", str(model), "-o", str(fp_path), "--workers", "1")
    assert code == 0, err
    fp = gpd.read_file(fp_path)
    blank = shapely.box(b.left + blank_from * res, b.bottom, b.right, b.top)
    assert not fp.intersects(blank.buffer(-res)).any()  # alpha zero: no image there, no building
    east = shapely.box(b.left + (b.right - b.left) * 2 / 3, b.bottom, b.left + blank_from * res, b.top)
    truth = ref.to_crs(fp.crs)
    r = assess(fp[fp.centroid.within(east)], truth[truth.centroid.within(east)])
    print("pretrained encoder, synthetic east third:", {k: r[k] for k in ("f1", "precision", "recall")})
    assert r["f1"] >= 0.5, r
    fits = {"resolution": res, "image": "x.tif", "model": str(model)}
    check_model_fits(card, n_bands=3, **fits)  # the same imagery without its alpha band
    with pytest.raises(ModelError, match="4 band"):
        check_model_fits(card, n_bands=4, **fits)  # RGBN: the fourth band is a colour
