"""Training on real imagery with surveyed footprints: train on one part, measure on another.

Known answers: the real SpaceNet chip's labels and the Austin/Kampala scenes' labels.
Floors are set below what was measured (see docs/footprints.md), so they fail when the
model or the post-processing gets worse. A file of its own, so that with ``pytest -n``
these two long tests run beside the rest of the training tests.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely

from remote_sensing.assess import assess
from remote_sensing.extract import extract_footprints, prepare_config
from remote_sensing.training.train import Source, TrainOptions, save_model, train_segmentation


@pytest.mark.slow
def test_real_chip_train_on_one_half_measure_on_the_other(shared_data, tmp_path):
    """Real 0.5 m panchromatic SpaceNet chip, two folds: train on the north half, extract, score
    the south (8 buildings); train on the south, score the north (15 buildings); pool the counts.

    A half holds 8 or 15 buildings, so one fold alone moves by 0.1 per building; the pooled F1
    over all 23 is the steadier figure. A small network for test time; docs/footprints.md has
    the figures of the default one. Floors are below what this configuration measured (printed).
    """
    folder = shared_data / "spacenet-atlanta-west"
    image, labels = folder / "atlanta_west_pan.tif", gpd.read_file(folder / "atlanta_west_buildings.gpkg")
    with rasterio.open(image) as ds:
        b = ds.bounds
    mid = (b.bottom + b.top) / 2
    north, south = shapely.box(b.left, mid, b.right, b.top), shapely.box(b.left, b.bottom, b.right, mid)
    # one output (the building map, as models before issue 24): this 8-channel network with the
    # interior output collapsed to a constant 0.5 on this chip (docs/footprints.md)
    opts = TrainOptions(widths=(8, 16, 32), patch=64, batch=6, max_epochs=24, min_epochs=10,
                        patience=6, min_steps=REAL_MIN_STEPS, seed=0, interior=False)
    pooled = {"tp": 0, "n_pred": 0, "n_ref": 0}
    for fold, train_half, test_half, n_area, n_ref in (("north->south", north, south, 16, 8),
                                                       ("south->north", south, north, 8, 15)):
        result = train_segmentation(image, labels, area=train_half, options=opts)
        assert result.card["labelled_buildings"]["in_area"] == n_area
        assert result.card["tta"] == 4 and result.card["training"]["steps"] >= REAL_MIN_STEPS
        path, _ = save_model(result, tmp_path / f"atl_{fold[:5]}.onnx")
        cfg, meta = prepare_config(method="onnx", image=image, model=path, workers=1, tile_size=512,
                                   min_area_m2=REAL_MIN_AREA)
        fp, _ = extract_footprints(cfg, meta=meta)
        pred, ref = fp[fp.centroid.within(test_half)], labels[labels.centroid.within(test_half)]
        r = assess(pred, ref)
        loose = assess(pred, ref, iou_threshold=0.25)
        print(f"real chip, {fold}:", {k: r[k] for k in ("n_pred", "n_ref", "tp", "f1", "mean_iou",
                                                        "pixel_iou", "built_area_error")},
              "recall at IoU 0.25:", loose["recall"], "median area:", float(pred.area.median()),
              "training s:", result.card["training"]["seconds"])
        assert r["n_ref"] == n_ref
        assert r["pixel_iou"] >= REAL_PIXEL_IOU_FLOOR
        assert float(pred.area.median()) >= 40  # buildings, not 19 m² fragments
        for k in pooled:
            pooled[k] += r[k]
    f1 = 2 * pooled["tp"] / (pooled["n_pred"] + pooled["n_ref"])
    print("real chip, both folds pooled:", pooled, "F1", round(f1, 3))
    assert pooled["n_ref"] == 23
    assert f1 >= REAL_POOLED_F1_FLOOR


REAL_MIN_AREA = 30.0
REAL_MIN_STEPS = 200
# measured with this configuration (one output, batch normalisation; the learning rate falls along
# a half cosine over the 304 steps; deterministic on the CPU):
# north->south: 11 predicted, 2 of 8 at IoU >= 0.5, pixel IoU 0.20;
# south->north: 9 predicted, 1 of 15, pixel IoU 0.16; pooled 3 of 23, F1 0.140
# (without batch normalisation: pooled 2 of 23, F1 0.111, pixel IoU 0.12 / 0.16;
# on this chip one building more or less is the seed's luck, docs/footprints.md).
# With the averaged weights (the default since): 8 predicted, 1 of 8, pixel IoU 0.21;
# 10 predicted, 1 of 15, pixel IoU 0.14; pooled 2 of 23, F1 0.098 -- one building fewer.
# With 64-pixel patches (13 steps an epoch, so 468 and 494 steps; two thirds of the time):
# 6 predicted, 1 of 8, pixel IoU 0.216; 11 predicted, 2 of 15, pixel IoU 0.179; pooled 3 of
# 23, F1 0.150 (at 8 steps an epoch, 304 steps: pooled 2 of 23, F1 0.080).
# Cut to at most 24 epochs (312 steps a fold) to keep the suite under 15 minutes: 52 s instead of
# 92 s alone; 16 predicted, 1 of 8, pixel IoU 0.127; 11 predicted, 1 of 15, pixel IoU 0.162;
# pooled 2 of 23 (27 predicted), F1 0.080. The floor: 2 of 23 with up to 30 predicted.
REAL_POOLED_F1_FLOOR = 0.075
REAL_PIXEL_IOU_FLOOR = 0.11


REAL_SCENE_OPTIONS = TrainOptions(widths=(8, 16, 32), patch=96, batch=6, steps_per_epoch=10, max_epochs=10,
                                  min_epochs=5, patience=10, min_steps=0, max_seconds=None, seed=0)


def _west_east(image):
    with rasterio.open(image) as ds:
        b = ds.bounds
    cut = b.left + (b.right - b.left) * 2 / 3
    return shapely.box(b.left, b.bottom, cut, b.top), shapely.box(cut, b.bottom, b.right, b.top)


def _measure_east(model, image, labels, east, tmp_path):
    """Extract on the eastern third cut into a file of its own; score on the ground (UTM)."""
    from rasterio.windows import from_bounds

    part = tmp_path / f"{image.stem}_east.tif"
    with rasterio.open(image) as ds:
        win = from_bounds(*east.bounds, transform=ds.transform).round_offsets().round_lengths()
        prof = ds.profile | {"width": int(win.width), "height": int(win.height), "tiled": False,
                             "transform": ds.window_transform(win)}
        with rasterio.open(part, "w", **prof) as out:
            out.write(ds.read(window=win))
    cfg, meta = prepare_config(method="onnx", image=part, model=model, workers=1, tile_size=1024)
    fp, _ = extract_footprints(cfg, meta=meta)
    box = gpd.GeoDataFrame(geometry=[east], crs=fp.crs)
    utm = box.to_crs(4326).estimate_utm_crs()
    east_g = box.to_crs(utm).geometry.iloc[0]
    pred, ref = fp.to_crs(utm), labels.to_crs(utm)
    return assess(pred[pred.centroid.within(east_g)], ref[ref.centroid.within(east_g)]), fp


@pytest.mark.slow
def test_real_scenes_train_on_the_west_two_thirds_measure_the_east_third(shared_data, tmp_path):
    """Austin (a USGS 0.3 m orthophoto, UTM) and Kampala (0.15 m drone mosaics in Web Mercator,
    two image/label pairs in one model, resampled to 0.25 m): a small network trained for
    100 steps on the western two thirds, measured on the eastern thirds it never saw.

    The floors sit below what this configuration measured (printed); benchmarks/bench_real_chip.py
    has the figures of the default network. Kampala also checks the Web-Mercator handling: the
    card's resolution and the footprints' areas are ground metres."""
    real = shared_data / "real-footprints"
    measured = {}
    for scene, pairs in (("austin", [("austin_west.tif", "austin_west_buildings.gpkg")]),
                         ("kampala", [(f"kampala_z20_cluster{i}.tif", f"kampala_z20_cluster{i}_buildings.gpkg")
                                      for i in (0, 1)])):
        srcs = [(real / scene / img, gpd.read_file(real / scene / lab)) for img, lab in pairs]
        areas = [_west_east(img) for img, _ in srcs]
        result = train_segmentation(srcs[0][0], srcs[0][1], area=areas[0][0], options=REAL_SCENE_OPTIONS,
                                    more=[Source(img, lab, a[0]) for (img, lab), a in zip(srcs[1:], areas[1:], strict=True)])
        card = result.card
        assert card["training"]["steps"] == 100 and len(card["training_area"]["places"]) == len(srcs)
        path, _ = save_model(result, tmp_path / f"{scene}.onnx")
        tp = n_pred = n_ref = 0
        pixel_iou = []
        for (img, lab), (_, east) in zip(srcs, areas, strict=True):
            r, fp = _measure_east(path, img, lab, east, tmp_path)
            tp, n_pred, n_ref = tp + r["tp"], n_pred + r["n_pred"], n_ref + r["n_ref"]
            pixel_iou.append(round(r["pixel_iou"], 3))
            if scene == "kampala":  # Web Mercator: areas on the ground, not in Mercator units
                utm_area = fp.to_crs(fp.to_crs(4326).estimate_utm_crs()).area.to_numpy()
                np.testing.assert_allclose(fp["area_m2"].to_numpy(), utm_area, rtol=0.01)
        f1 = 2 * tp / (n_pred + n_ref)
        measured[scene] = (card["resolution"], tp, n_pred, n_ref, round(f1, 3), min(pixel_iou),
                           card["training"]["seconds"])
        print(f"real scene {scene}: resolution, found, predicted, labelled, F1, pixel IoU, training s:",
              measured[scene])
    assert measured["austin"][0] == 0.3 and measured["kampala"][0] == 0.25
    assert measured["austin"][3] == REAL_EAST_BUILDINGS["austin"]
    assert measured["kampala"][3] == REAL_EAST_BUILDINGS["kampala"]
    for scene in ("austin", "kampala"):
        assert measured[scene][4] >= REAL_SCENE_F1_FLOOR[scene], scene
        assert measured[scene][5] >= REAL_SCENE_PIXEL_IOU_FLOOR[scene], scene


REAL_EAST_BUILDINGS = {"austin": 21, "kampala": 65}
# measured with this configuration (deterministic on the CPU): Austin 0 of 21 found (38 predicted),
# pixel IoU 0.114; Kampala 12 of 65 (85 predicted, F1 0.16), pixel IoU 0.216 (the worse of its two
# clusters); before batch normalisation and the gap weights: Austin 0 of 21 (82 predicted), 0.115;
# Kampala 5 of 65, F1 0.068, 0.215. 100 steps of a small network find roofs, not yet their
# outlines; the default network's figures are in docs/footprints.md
REAL_SCENE_F1_FLOOR = {"austin": 0.0, "kampala": 0.1}
REAL_SCENE_PIXEL_IOU_FLOOR = {"austin": 0.1, "kampala": 0.18}
