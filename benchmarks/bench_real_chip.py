"""Object accuracy of ``footprints train`` on the real SpaceNet Atlanta chip, in two folds.

The chip (``../shared/data/spacenet-atlanta-west``: 450 x 900 px of 0.5 m panchromatic
imagery, 23 labelled buildings) is cut into a north and a south half. Fold 1 trains on
the north half and measures on the south (8 buildings); fold 2 the other way round (15).
A half holds so few buildings that one fold's F1 moves by 0.07-0.13 per building, so the
counts of both folds are also pooled (F1 over all 23 buildings, each measured by the
model that did not learn it).

Each fold runs the product's path: :func:`train_segmentation` with the default options
(``small``: the test-size network, a few minutes), :func:`save_model`, then
``extract_footprints`` with ``--method onnx``. The baseline, in the same run, is the
same model extracted without test-time augmentation (card ``"tta": 1``). Printed per
fold: predicted and labelled buildings, true positives at IoU >= 0.5, F1, matched IoU,
pixel IoU, built-area error, training seconds; then the pooled F1 and its ratio to the
baseline's. One seed only: over seeds 0-2 the pooled F1 moves by +-0.05 with the seed and
test-time augmentation leaves it unchanged on average (docs/footprints.md), so read the
ratio of a single run as noise unless it is far from 1.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from pathlib import Path

CHIP = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "spacenet-atlanta-west"
KEYS = ("n_pred", "n_ref", "tp", "f1", "mean_iou", "pixel_iou", "built_area_error")


def _options(size: str):
    from remote_sensing.training.train import TrainOptions

    if size == "small":  # the slow test's configuration
        return TrainOptions(widths=(8, 16, 32), patch=96, batch=6, max_epochs=38, min_epochs=10,
                            patience=6, min_steps=300, seed=0)
    return TrainOptions()


def _extract(model: Path, image: Path, half, labels) -> dict:
    from remote_sensing.assess import assess
    from remote_sensing.errors import NoFootprintsError
    from remote_sensing.extract import extract_footprints, prepare_config

    cfg, meta = prepare_config(method="onnx", image=image, model=model, workers=1, tile_size=512,
                               min_area_m2=30.0)
    ref = labels[labels.centroid.within(half)]
    try:
        fp, _ = extract_footprints(cfg, meta=meta)
    except NoFootprintsError:
        return {"n_pred": 0, "n_ref": len(ref), "tp": 0, "f1": 0.0, "mean_iou": 0.0, "pixel_iou": 0.0,
                "built_area_error": -1.0}
    r = assess(fp[fp.centroid.within(half)], ref)
    return {k: round(r[k], 3) if isinstance(r[k], float) else r[k] for k in KEYS}


def _pooled(folds: list[dict]) -> dict:
    tp = sum(f["tp"] for f in folds)
    n_pred, n_ref = sum(f["n_pred"] for f in folds), sum(f["n_ref"] for f in folds)
    return {"tp": tp, "n_pred": n_pred, "n_ref": n_ref,
            "f1": round(2 * tp / (n_pred + n_ref), 3) if n_pred + n_ref else 0.0}


def main(size: str = "city") -> dict:
    """Run both folds; return the figures."""
    import geopandas as gpd
    import rasterio
    import shapely

    from remote_sensing.training.train import save_model, train_segmentation

    image = CHIP / "atlanta_west_pan.tif"
    if not image.exists():
        print(f"skipped: {CHIP} not present")
        return {}
    labels = gpd.read_file(CHIP / "atlanta_west_buildings.gpkg")
    with rasterio.open(image) as ds:
        b = ds.bounds
    mid = (b.bottom + b.top) / 2
    north, south = shapely.box(b.left, mid, b.right, b.top), shapely.box(b.left, b.bottom, b.right, mid)
    opts = _options(size)
    out: dict = {"options": "test size" if size == "small" else "defaults", "folds": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for name, train_half, test_half in (("north->south", north, south), ("south->north", south, north)):
            t = time.perf_counter()
            result = train_segmentation(image, labels, area=train_half, options=opts)
            seconds = time.perf_counter() - t
            model, card = save_model(result, Path(tmp) / f"{name[:5]}.onnx")
            plain = Path(tmp) / f"{name[:5]}_plain.onnx"
            shutil.copyfile(model, plain)
            plain.with_suffix(".json").write_text(json.dumps({**json.loads(card.read_text()), "tta": 1}))
            fold = {"tta": result.card["tta"], **_extract(model, image, test_half, labels),
                    "training_s": round(seconds, 1), "epochs": result.card["training"]["epochs"],
                    "best_epoch": result.card["training"]["best_epoch"],
                    "postprocess": {k: result.card["postprocess"][k] for k in ("low", "high")},
                    "baseline_tta1": _extract(plain, image, test_half, labels)}
            out["folds"][name] = fold
            print(f"{name}: " + ", ".join(f"{k} {fold[k]}" for k in (*KEYS, "training_s", "epochs")), flush=True)
            print("  baseline (no test-time augmentation): "
                  + ", ".join(f"{k} {fold['baseline_tta1'][k]}" for k in KEYS), flush=True)
    out["pooled"] = _pooled([f for f in out["folds"].values()])
    out["pooled_baseline_tta1"] = _pooled([f["baseline_tta1"] for f in out["folds"].values()])
    base = out["pooled_baseline_tta1"]["f1"]
    out["ratio_f1_vs_baseline"] = round(out["pooled"]["f1"] / base, 2) if base else None
    print(f"pooled over both folds: {out['pooled']}; baseline (tta 1): {out['pooled_baseline_tta1']}; "
          f"ratio {out['ratio_f1_vs_baseline']}")
    return out
