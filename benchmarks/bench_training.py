"""Training a segmentation model: seconds per megapixel, against the pixel classifier.

On a synthetic RGBN scene (generated once and cached under ``<mujun home>/bench/``)
two learners are trained on the western two thirds and measured on the eastern third,
each in a fresh process:

* ``unet``: ``footprints train`` (the compact U-Net in JAX, early stopping on its
  validation stripe), then ``footprints extract --method onnx``;
* ``classifier`` (the baseline): the scikit-learn pixel classifier, then
  ``footprints extract --method classify``.

Printed per learner: training seconds, seconds (wall and CPU, all threads) per megapixel of
training area,
epochs (U-Net), the object F1 (IoU >= 0.5), matched IoU and built-area error on the
held-out third, and the U-Net's training time as a ratio of the classifier's.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

SIZES = {"small": 600, "city": 2000, "province": 2000}


def _scene(size: int) -> dict[str, Path]:
    from benchmarks._cache import cached_inputs
    from remote_sensing.synthetic import make_synthetic_inputs

    return cached_inputs(f"training_{size}", lambda root: make_synthetic_inputs(root, size, seed=5))


def _child(kind: str, paths_json: str, out_dir: str) -> None:
    """Body of a measured run (a fresh interpreter): train, extract, assess."""
    import geopandas as gpd
    import rasterio
    import shapely

    from remote_sensing.assess import assess
    from remote_sensing.extract import extract_footprints, prepare_config

    paths = json.loads(paths_json)
    ref = gpd.read_file(paths["buildings"])
    with rasterio.open(paths["rgbn"]) as ds:
        b = ds.bounds
        res = ds.res[0]
    cut = b.left + (b.right - b.left) * 2 / 3
    west, east = shapely.box(b.left, b.bottom, cut, b.top), shapely.box(cut, b.bottom, b.right, b.top)
    mpx = west.area / res**2 / 1e6
    t = time.perf_counter()
    cpu = time.process_time()  # all threads of this process (JAX and scikit-learn use several)
    if kind == "unet":
        from remote_sensing.training.train import TrainOptions, save_model, train_segmentation

        result = train_segmentation(paths["rgbn"], ref, area=west, options=TrainOptions(max_epochs=30))
        model, _ = save_model(result, Path(out_dir) / "unet.onnx", overwrite=True)
        extra = {"epochs": result.card["training"]["epochs"],
                 "best_epoch": result.card["training"]["best_epoch"],
                 "validation_object_f1": result.card["validation"].get("object_f1")}
    else:
        from remote_sensing.classifier import train_classifier

        model = train_classifier(paths["rgbn"], ref[ref.intersects(west)], train_area=west)
        extra = {}
    seconds = time.perf_counter() - t
    cpu = time.process_time() - cpu
    method = "onnx" if kind == "unet" else "classify"
    cfg, meta = prepare_config(method=method, image=paths["rgbn"], model=model, workers=2, tile_size=1024)
    fp, _ = extract_footprints(cfg, meta=meta)
    r = assess(fp[fp.centroid.within(east)], ref[ref.centroid.within(east)])
    print(json.dumps({"train_seconds": round(seconds, 1), "train_cpu_seconds": round(cpu, 1),
                      "train_mpx": round(mpx, 3),
                      "f1": round(r["f1"], 4), "matched_iou": round(r["mean_iou"], 4),
                      "built_area_error": round(r["built_area_error"], 4), "n_ref": r["n_ref"], **extra}))


def _measure(kind: str, paths: dict, out_dir: Path) -> dict:
    from benchmarks._process import run_measured

    code = ("import sys; from benchmarks.bench_training import _child; "
            "_child(sys.argv[1], sys.argv[2], sys.argv[3])")
    run = run_measured([sys.executable, "-c", code, kind,
                        json.dumps({k: str(v) for k, v in paths.items()}), str(out_dir)])
    if run.returncode != 0:
        raise RuntimeError(f"{kind} run failed: {run.stderr[-2000:]}")
    data = json.loads(run.stdout.strip().splitlines()[-1])
    data["peak_rss_mb"] = round(run.peak_rss_mb, 1)
    return data


def main(size: str = "small") -> dict:
    """Train both learners on a ``SIZES[size]``² synthetic scene and compare them."""
    import tempfile

    px = SIZES[size]
    paths = _scene(px)
    results: dict = {"size_px": px}
    with tempfile.TemporaryDirectory() as tmp:
        for kind in ("classifier", "unet"):
            r = _measure(kind, paths, Path(tmp))
            r["seconds_per_mpx"] = round(r["train_seconds"] / r["train_mpx"], 1)
            r["cpu_seconds_per_mpx"] = round(r["train_cpu_seconds"] / r["train_mpx"], 1)
            results[kind] = r
            print(f"  {px}² {kind:<10} trained in {r['train_seconds']:7.1f} s "
                  f"({r['seconds_per_mpx']:.1f} s per Mpx of training area, "
                  f"CPU {r['cpu_seconds_per_mpx']:.1f} s per Mpx"
                  + (f", {r['epochs']} epochs, best {r['best_epoch']}" if "epochs" in r else "")
                  + f"); held-out third: F1 {r['f1']:.3f}, matched IoU {r['matched_iou']:.3f}, "
                  f"built area {100 * r['built_area_error']:+.1f} % ({r['n_ref']} buildings)",
                  flush=True)
    ratio = results["unet"]["train_seconds"] / results["classifier"]["train_seconds"]
    results["unet_time_vs_classifier"] = round(ratio, 2)
    print(f"  U-Net training time: {ratio:.1f}x the pixel classifier's", flush=True)
    return results
