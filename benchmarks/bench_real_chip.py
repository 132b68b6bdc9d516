"""Object accuracy of ``footprints train`` on every real scene in ``../shared/data``.

Each scene's development part (for Banepa and Austin the west half of the scene; for the
others the whole file) is split again: the model is trained on the **western two thirds**
(its own validation stripe for early stopping lies inside them) and measured on the
**eastern third**, which no training, tuning or stopping decision ever looks at. The
eastern third is cut into a file of its own and run through ``footprints extract
--method onnx`` (tiles, test-time augmentation, object post-processing with the interior
seeds, regularization), so the figures are the product's.

Printed per scene: predicted and labelled buildings (by centroid in the eastern third),
buildings found at IoU >= 0.5, object precision/recall/F1 (SpaceNet's rule), mean IoU of
matched pairs, pixel IoU, total built-area error, the per-building area error of matched
buildings (10th/50th/90th percentile and the share within +-10 %), and the training time
(wall and CPU seconds) under the load of the moment (``os.getloadavg``). Areas are
computed on the ground (each scene reprojected to its UTM zone), not in Web-Mercator or
degree units.

Then one **general model** trained on the western two thirds of all real-label RGB scenes
(Banepa, Austin, Kampala, Rio; not the noisy Joplin labels, not the panchromatic Atlanta
chip), measured on each eastern third; and **fine-tuning** that model on Austin's western
two thirds against Austin's model from scratch. The baseline of every figure is the
previous round's published result (issue 24: Banepa F1 0.11, Austin 0.52, Atlanta 0.05-0.14;
second pass, three levels without batch normalisation: Banepa 0.28, Austin 0.35-0.39,
Kampala 0.38, Rio 0.19; docs/footprints.md has both).

Every model trains for a fixed number of optimisation steps (8 patches of 128² each), so
the figures do not depend on how busy the machine is; wall and CPU seconds are printed
next to them. Sizes: ``small`` 150 steps per model, ``city`` 600, ``province`` 1500
(``footprints train`` itself stops after ``--max-minutes``, ten by default).
``python -m benchmarks.bench_real_chip --steps 300 --scenes banepa,austin`` runs a selection.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
REAL = SHARED / "real-footprints"

#: scene -> (image, labels) pairs, relative to ../shared/data
SCENES: dict[str, list[tuple[str, str]]] = {
    "banepa": [("real-footprints/banepa/banepa_west.tif", "real-footprints/banepa/banepa_west_buildings.gpkg")],
    "austin": [("real-footprints/austin/austin_west.tif", "real-footprints/austin/austin_west_buildings.gpkg")],
    "kampala": [(f"real-footprints/kampala/kampala_z20_cluster{i}.tif",
                 f"real-footprints/kampala/kampala_z20_cluster{i}_buildings.gpkg") for i in (0, 1)],
    "rio": [(f"real-footprints/rio/rio_strip{s}_rgb.tif", f"real-footprints/rio/rio_strip{s}_buildings_from_mask.gpkg")
            for s in ("A_img50-58", "B_img59-64")],
    "joplin-noisy": [("real-footprints/joplin-noisy/joplin_pre_rgb_0p6m_epsg26915.tif",
                      "real-footprints/joplin-noisy/joplin_ms_buildings_in_pre.gpkg")],
    "atlanta": [("spacenet-atlanta-west/atlanta_west_pan.tif", "spacenet-atlanta-west/atlanta_west_buildings.gpkg")],
}
#: Scenes of the general model: real labels, RGB.
GENERAL = ("banepa", "austin", "kampala", "rio")
STEPS = {"small": 150, "city": 600, "province": 1500}
STEPS_PER_EPOCH = 25
TRAIN_SHARE = 2 / 3


def split_boxes(image: Path):
    """The western two thirds and the eastern third of an image, as boxes in its CRS."""
    import rasterio
    import shapely

    with rasterio.open(image) as ds:
        b = ds.bounds
    cut = b.left + (b.right - b.left) * TRAIN_SHARE
    return shapely.box(b.left, b.bottom, cut, b.top), shapely.box(cut, b.bottom, b.right, b.top)


def crop(image: Path, box, out: Path) -> Path:
    """Write the part of ``image`` inside ``box`` to ``out`` (a GeoTIFF of its own).

    A box reaching past the image is cut to it (reading outside would shift the pixels
    against the transform written).
    """
    import rasterio
    from rasterio.windows import Window, from_bounds

    with rasterio.open(image) as ds:
        win = from_bounds(*box.bounds, transform=ds.transform).round_offsets().round_lengths()
        win = win.intersection(Window(0, 0, ds.width, ds.height))
        prof = ds.profile | {"width": int(win.width), "height": int(win.height),
                             "transform": ds.window_transform(win), "driver": "GTiff"}
        prof.pop("blockxsize", None), prof.pop("blockysize", None)
        prof["tiled"] = False
        with rasterio.open(out, "w", **prof) as dst:
            dst.write(ds.read(window=win))
    return out


def measure(model: Path, image: Path, labels, box, workdir: Path) -> dict:
    """Extract on the held-out part of one image and compare with its labels, on the ground."""
    import geopandas as gpd

    from remote_sensing.assess import assess, match_objects
    from remote_sensing.errors import NoFootprintsError
    from remote_sensing.extract import extract_footprints, prepare_config

    part = crop(image, box, workdir / f"{image.stem}_east.tif")
    t = time.perf_counter()
    cfg, meta = prepare_config(method="onnx", image=part, model=model, workers=1, tile_size=1024)
    try:
        fp, _ = extract_footprints(cfg, meta=meta)
    except NoFootprintsError:
        fp = gpd.GeoDataFrame(geometry=[], crs=cfg.grid.crs_wkt)
    seconds = time.perf_counter() - t
    box_frame = gpd.GeoDataFrame(geometry=[box], crs=cfg.grid.crs_wkt)
    utm = box_frame.to_crs(4326).estimate_utm_crs()
    box_g = box_frame.to_crs(utm).geometry.iloc[0]
    ref = labels.to_crs(utm)
    ref = ref[ref.centroid.within(box_g)]
    pred = fp.to_crs(utm) if len(fp) else gpd.GeoDataFrame(geometry=[], crs=utm)
    pred = pred[pred.centroid.within(box_g)] if len(pred) else pred
    r = assess(pred, ref)
    pairs = match_objects(np.asarray(pred.geometry.values, dtype=object),
                          np.asarray(ref.geometry.values, dtype=object)) if len(pred) else []
    errors = [(pred.geometry.values[p].area - ref.geometry.values[q].area) / ref.geometry.values[q].area
              for p, q, _ in pairs]
    return {"n_pred": r["n_pred"], "n_ref": r["n_ref"], "tp": r["tp"], "iou_sum": r["mean_iou"] * r["tp"],
            "pred_area": r["pred_area_m2"], "ref_area": r["ref_area_m2"],
            "inter_union": (r["pixel_iou"], r["pred_area_m2"], r["ref_area_m2"]),
            "area_errors": errors, "extract_s": seconds,
            "ref_median_m2": float(ref.area.median()) if len(ref) else 0.0}


def pooled(parts: list[dict]) -> dict:
    """One scene's figures from its images' counts."""
    tp = sum(p["tp"] for p in parts)
    n_pred, n_ref = sum(p["n_pred"] for p in parts), sum(p["n_ref"] for p in parts)
    pa, ra = sum(p["pred_area"] for p in parts), sum(p["ref_area"] for p in parts)
    # pixel IoU pooled: intersection = iou * union, union = pred + ref - intersection
    inter = sum(iou * (a + b) / (1 + iou) for iou, a, b in (p["inter_union"] for p in parts))
    errs = np.asarray([e for p in parts for e in p["area_errors"]], float)
    q = (np.percentile(errs, [10, 50, 90]) if len(errs) else [np.nan] * 3)
    return {"n_pred": n_pred, "n_ref": n_ref, "tp": tp,
            "precision": round(tp / n_pred, 3) if n_pred else 0.0,
            "recall": round(tp / n_ref, 3) if n_ref else 0.0,
            "f1": round(2 * tp / (n_pred + n_ref), 3) if n_pred + n_ref else 0.0,
            "matched_iou": round(sum(p["iou_sum"] for p in parts) / tp, 3) if tp else 0.0,
            "pixel_iou": round(inter / (pa + ra - inter), 3) if pa + ra - inter > 0 else 0.0,
            "built_area_error": round((pa - ra) / ra, 3) if ra else None,
            "building_area_error_p10_p50_p90": [round(float(v), 3) for v in q],
            "buildings_within_10pct": round(float(np.mean(np.abs(errs) <= 0.10)), 3) if len(errs) else 0.0,
            "extract_s": round(sum(p["extract_s"] for p in parts), 1)}


def _sources(scene: str):
    import geopandas as gpd

    out = []
    for img, lab in SCENES[scene]:
        image = SHARED / img
        west, east = split_boxes(image)
        out.append((image, gpd.read_file(SHARED / lab), west, east))
    return out


def train_and_measure(name: str, scenes: list[str], steps: int, workdir: Path, *,
                      measure_on: list[str] | None = None, init_from: Path | None = None,
                      seed: int = 0, encoder: str | None = None) -> dict:
    """Train one model on the western two thirds of ``scenes``; measure on eastern thirds.

    ``encoder="auto"`` trains on the pretrained encoder where the imagery is RGB 8-bit
    (Atlanta's panchromatic chip keeps the U-Net's own), as ``footprints train`` does.
    """
    from remote_sensing.training.train import Source, TrainOptions, save_model, train_segmentation

    srcs = [s for sc in scenes for s in _sources(sc)]
    load = os.getloadavg()[0]
    opts = TrainOptions(max_seconds=None, steps_per_epoch=STEPS_PER_EPOCH,
                        max_epochs=max(1, round(steps / STEPS_PER_EPOCH)), min_steps=min(600, steps // 2),
                        seed=seed, encoder=encoder)
    result = train_segmentation(srcs[0][0], srcs[0][1], area=srcs[0][2], options=opts,
                                more=[Source(i, lab, w) for i, lab, w, _ in srcs[1:]], init_from=init_from)
    model, _ = save_model(result, workdir / f"{name}.onnx", overwrite=True)
    tr = result.card["training"]
    out: dict = {"model": name, "trained_on": scenes, "resolution": result.card["resolution"],
                 "training_s": tr["seconds"], "training_cpu_s": tr["cpu_seconds"], "steps": tr["steps"],
                 "epochs": tr["epochs"], "best_epoch": tr["best_epoch"], "stopped": tr["stopped"],
                 "load_at_start": round(load, 1), "load_at_end": round(os.getloadavg()[0], 1),
                 "train_megapixels": result.card["training_area"]["megapixels"],
                 "validation_f1": result.card["validation"].get("object_f1"),
                 "validation_pixel_f1": result.card["validation"].get("pixel_f1"),
                 "widths": result.card["architecture"]["widths"],
                 "encoder": result.card["architecture"].get("encoder"),
                 "postprocess": {k: v for k, v in result.card["postprocess"].items() if k != "method"},
                 "measured": {}}
    for sc in measure_on or scenes:
        parts = [measure(model, image, labels, east, workdir) for image, labels, _, east in _sources(sc)]
        out["measured"][sc] = pooled(parts)
        m = out["measured"][sc]
        print(f"{name} on {sc} (eastern third): F1 {m['f1']} (P {m['precision']}, R {m['recall']}; "
              f"{m['tp']} of {m['n_ref']} found, {m['n_pred']} predicted), matched IoU {m['matched_iou']}, "
              f"pixel IoU {m['pixel_iou']}, built area {m['built_area_error']}, per-building area error "
              f"p10/p50/p90 {m['building_area_error_p10_p50_p90']}, within 10 % {m['buildings_within_10pct']}",
              flush=True)
    print(f"  {name}: trained {out['training_s']} s wall, {out['training_cpu_s']} CPU s, {out['steps']} steps "
          f"at {out['resolution']} m on {out['train_megapixels']} Mpx (load {out['load_at_start']}->"
          f"{out['load_at_end']}); validation stripe object F1 {out['validation_f1']}; post-processing "
          f"{out['postprocess']}", flush=True)
    return out


def main(size: str = "city", scenes: list[str] | None = None, steps: int | None = None,
         general: bool = True, finetune: bool = True, report: Path | None = None,
         encoder: str | None = None) -> dict:
    """Run every scene (or ``scenes``), the general model and the fine-tuning; return the figures.

    ``report``: a JSON file rewritten after every model, so a long run leaves its figures so far.
    """
    if not REAL.is_dir():
        print(f"skipped: {REAL} not present")
        return {}
    steps = steps or STEPS[size]
    scenes = list(SCENES) if scenes is None else scenes
    out: dict = {"steps_per_model": steps, "per_scene": {}}

    def save():
        if report is not None:
            report.write_text(json.dumps(out, indent=2))

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for sc in scenes:
            out["per_scene"][sc] = train_and_measure(sc, [sc], steps, work, encoder=encoder)
            save()
        if general:
            out["general"] = train_and_measure("general", list(GENERAL), 2 * steps, work, encoder=encoder)
            save()
            if finetune:
                out["austin_finetuned_from_general"] = train_and_measure(
                    "austin-finetuned", ["austin"], steps // 2, work, init_from=work / "general.onnx")
                save()
    return out


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="city", choices=list(STEPS))
    ap.add_argument("--steps", type=int, help="optimisation steps per model (default: by size)")
    ap.add_argument("--scenes", help="comma-separated, e.g. banepa,austin (default: all)")
    ap.add_argument("--no-general", action="store_true")
    ap.add_argument("--only-general", action="store_true", help="only the general model and the fine-tuning")
    ap.add_argument("--json", type=Path, help="write the figures here too")
    ap.add_argument("--encoder", choices=["auto"], help="train on the pretrained encoder where the imagery is RGB 8-bit")
    a = ap.parse_args()
    chosen = [] if a.only_general else (a.scenes.split(",") if a.scenes else None)
    main(a.size, chosen, a.steps, general=not a.no_general, report=a.json, encoder=a.encoder)
