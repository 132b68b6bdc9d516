"""Demo stage ``extract`` (order 30): footprints from the sample's imagery, as in production.

The sample city renders an orthophoto (RGBN) and an nDSM from its true building
outlines. This stage runs the product's own chain on them instead of loading the
outlines: ``footprints extract`` (:mod:`remote_sensing.tools.extract`, nDSM method
with the vegetation filter) → the validated footprint import → the ``footprint``
table, so ``occupancy`` (order 40) measures extracted buildings. It reports the
extraction's accuracy against the true outlines (object F1 at IoU 0.5 as SpaceNet
defines it, and the built-area error). The true outlines stay in the sample folder
(``buildings.gpkg``) for tests and benchmarks that need exact inputs; samples without
imagery (``city``, ``province``) load them as footprints instead (``load`` stage).

With ``mujun demo --extract-method onnx`` the stage instead learns a model as a bureau
would from last year's survey: a small U-Net is trained for about a minute
(:data:`ONNX_TRAINING`, ``footprints train``'s own code) on the western half of the
sample's imagery and its true outlines, written with its card to
``extracted/model.onnx``, and the whole image is extracted with ``--method onnx``
(so the eastern half is buildings the model never saw; the accuracy covers both).

The extraction and its accuracy are computed once per sample and kept beside it
(``extracted/footprints.gpkg`` and ``extracted/extraction.json``), so a second
``mujun demo`` does no work. The footprints are loaded by the tool behind
``footprints extract --load`` (:func:`remote_sensing.tools.extract.load_extracted_file`:
hashed by their features, dated and covered by the image), which loads the same
extraction only once. In the database the demo keeps exactly one extraction: its
loads carry :data:`DEMO_PARAM` on their batch, and the batches of earlier demo
extractions (of another seed, say) are taken out by
:func:`gis.importing.footprints.remove_footprint_batches` in the transaction that
loads this sample's.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import psycopg

    from gis.settings import Settings
    from sample.demo_run import DemoRun
    from sample.generate import SampleCity

log = logging.getLogger(__name__)

#: Key of ``import_batch.params`` marking the demo's extraction loads (value: the sample).
DEMO_PARAM = "mujun_demo"
#: Options of the demo's extraction (bump ``version`` when the method changes).
OPTIONS: dict[str, Any] = {"version": 1, "method": "ndsm", "vegetation_filter": True}
#: The extraction methods of the demo: heights (the default) or a model trained here.
METHODS = ("ndsm", "onnx")
#: Training of the demo's model (``--extract-method onnx``): a small network, about a minute.
ONNX_TRAINING: dict[str, Any] = {"widths": (8, 16, 32), "patch": 96, "batch": 6, "steps_per_epoch": 10,
                                 "max_epochs": 40, "min_epochs": 3, "min_steps": 0, "patience": 40,
                                 "max_seconds": 90.0, "tta": 2, "seed": 0}
#: Object match threshold of the accuracy figures (SpaceNet).
IOU_THRESHOLD = 0.5


def has_imagery(city: SampleCity) -> bool:
    """True when the sample was generated with its synthetic imagery (one scene)."""
    return "rgbn" in city.paths and "ndsm" in city.paths


def extraction_paths(city: SampleCity) -> tuple[Path, Path]:
    """The extracted footprints and the record of how they were made and how good they are."""
    folder = city.root / "extracted"
    return folder / "footprints.gpkg", folder / "extraction.json"


def train_sample_model(city: SampleCity, *, overwrite: bool = False,
                       training: dict[str, Any] | None = None) -> Path:
    """Train the demo's model on the western half of the sample's imagery (``footprints train``).

    ``training``: :class:`~remote_sensing.training.train.TrainOptions` fields (default
    :data:`ONNX_TRAINING`). Returns the model path (``extracted/model.onnx``, its card
    ``model.json`` beside it).
    """
    import geopandas as gpd
    import rasterio
    import shapely

    from remote_sensing.training.train import TrainOptions, save_model, train_segmentation

    folder, _ = extraction_paths(city)
    path = folder.parent / "model.onnx"
    with rasterio.open(city.paths["rgbn"]) as ds:
        b = ds.bounds
    west = shapely.box(b.left, b.bottom, (b.left + b.right) / 2, b.top)
    truth = gpd.read_file(city.paths["buildings"])
    result = train_segmentation(city.paths["rgbn"], truth, area=west,
                                options=TrainOptions(**(training or ONNX_TRAINING)))
    save_model(result, path, overwrite=overwrite)
    return path


def extract_sample(city: SampleCity, *, settings: Settings | None = None,
                   bar: Any = None, method: str = "ndsm",
                   training: dict[str, Any] | None = None) -> dict[str, Any]:
    """Extract the sample's footprints from its imagery and assess them (once per sample).

    Parameters
    ----------
    city : SampleCity
        A sample generated with imagery.
    settings : Settings, optional
        ``height_threshold_m`` and ``storey_height_m`` of the deployment.
    bar : callable, optional
        ``bar(total, desc, unit)`` giving a progress context (``DemoRun.bar``).
    method : {'ndsm', 'onnx'}
        Heights, or a model trained on the western half first (:func:`train_sample_model`).
    training : dict, optional
        The model's training options (default :data:`ONNX_TRAINING`).

    Returns
    -------
    dict
        ``extraction`` (what ``footprints extract --json`` prints), ``accuracy``
        (:func:`remote_sensing.assess.assess` against the true outlines, with the
        per-parcel built-area error) and ``reused`` (True when nothing was computed).
    """
    from contextlib import nullcontext

    from gis.atomic import atomic_output
    from remote_sensing.tools.assess import assess_files
    from remote_sensing.tools.extract import extract_to_file, plan_extraction

    output, record = extraction_paths(city)
    key = {**OPTIONS, "method": method, "size": city.size, "seed": int(city.seed),
           "generator_version": city.generator_version}
    if method == "onnx":
        key["training"] = {k: list(v) if isinstance(v, tuple) else v
                           for k, v in (training or ONNX_TRAINING).items()}
    if output.is_file() and record.is_file():
        done = json.loads(record.read_text(encoding="utf-8"))
        if done.get("key") == key:
            return {**done, "reused": True}
    if method == "onnx":
        output.parent.mkdir(parents=True, exist_ok=True)
        model = train_sample_model(city, overwrite=True, training=training)
        plan = plan_extraction(output, method="onnx", image=city.paths["rgbn"], model=model,
                               overwrite=True, settings=settings)
    else:
        plan = plan_extraction(output, method=OPTIONS["method"], image=city.paths["rgbn"],
                               ndsm=city.paths["ndsm"], overwrite=True, settings=settings)
    with (bar(plan.n_tiles, "extracting footprints", "tile") if bar else nullcontext(None)) as tick:
        extraction = extract_to_file(plan, progress=tick)
    accuracy = assess_files(output, city.paths["buildings"], iou_threshold=IOU_THRESHOLD,
                            parcels=city.paths["parcels"])
    done = {"key": key, "extraction": extraction, "accuracy": accuracy}
    with atomic_output(record, overwrite=True) as tmp:
        tmp.write_text(json.dumps(done, indent=2, default=float), encoding="utf-8")
    return {**done, "reused": False}


def demo_extraction_batches(conn: psycopg.Connection) -> list[int]:
    """Footprint batches of demo extractions still in the database (never a real import)."""
    return [r[0] for r in conn.execute(
        "SELECT batch_id FROM import_batch WHERE kind = 'footprints' AND params ? %s"
        " AND NOT params ? 'removed' ORDER BY batch_id", (DEMO_PARAM,)).fetchall()]


def load_extracted(conn: psycopg.Connection, city: SampleCity, *,
                   settings: Settings | None = None, image_date: str | None = None,
                   image_id: str | None = None, method: str = "ndsm") -> dict[str, Any]:
    """Load the sample's extracted footprints as ``footprints extract --load`` does.

    One transaction loads them (a no-op when this extraction is loaded) and takes out
    every other demo extraction.

    Returns
    -------
    dict
        ``loaded`` (False when already there), ``batch_id``, ``footprints`` (loaded
        now), ``removed`` (footprints of earlier demo extractions taken out).
    """
    from gis.db.connection import translate_errors
    from gis.importing.footprints import remove_footprint_batches
    from remote_sensing.tools.extract import load_extracted_file

    path, _ = extraction_paths(city)
    conn.rollback()
    with translate_errors(f"loading the extracted footprints {path}"), conn.transaction():
        loaded = load_extracted_file(
            conn, path, method=method, image=city.paths.get("rgbn"),
            grid=city.paths.get("ndsm"), image_id=image_id, image_date=image_date,
            settings=settings,
            params={DEMO_PARAM: f"sample {city.size}-{city.seed}"}, commit=False)
        others = [b for b in demo_extraction_batches(conn) if b != loaded["batch_id"]]
        removed = remove_footprint_batches(conn, others)
    return {"loaded": not loaded["already_imported"], "batch_id": loaded["batch_id"],
            "footprints": loaded["n_loaded"], "removed": removed}


def stage_extract(run: DemoRun) -> dict | None:
    """Footprints from the sample's imagery, their accuracy, loaded as the footprints."""
    if not run.load:
        return None
    assert run.city is not None
    if not has_imagery(run.city):
        from gis.importing.footprints import remove_footprint_batches

        run.conn.rollback()
        with run.conn.transaction():
            removed = remove_footprint_batches(run.conn, demo_extraction_batches(run.conn))
        return {"skipped": True, "reason": f"the {run.city.size} sample has no imagery; "
                                          "occupancy uses its true outlines",
                "removed": removed}
    done = extract_sample(run.city, settings=run.settings, bar=run.bar, method=run.extract_method)
    loaded = load_extracted(run.conn, run.city, settings=run.settings,
                            image_date=done["extraction"].get("image_date"),
                            image_id=done["extraction"].get("image_id"), method=run.extract_method)
    a = done["accuracy"]
    return {
        "skipped": False,
        "reused": done["reused"],
        "method": done["extraction"]["method"],
        "footprints": done["extraction"]["footprints"],
        "true_buildings": a["n_ref"],
        "iou_threshold": a["iou_threshold"],
        "precision": a["precision"],
        "recall": a["recall"],
        "f1": a["f1"],
        "built_m2": a["pred_area_m2"],
        "true_built_m2": a["ref_area_m2"],
        "built_area_error": a["built_area_error"],
        "parcels_within_5pct": a.get("per_parcel", {}).get("share_within_5pct"),
        "load": loaded,
    }


stage_extract.order = 30  # type: ignore[attr-defined]


def describe(result: dict) -> str:
    """One line of ``mujun demo``'s summary."""
    if result.get("skipped"):
        return result["reason"]
    return (f"{result['footprints']:,} footprints from the imagery ({result['method']}); "
            f"against the {result['true_buildings']:,} true outlines F1 {result['f1']:.3f} "
            f"(IoU ≥ {result['iou_threshold']:g}), built area {100 * result['built_area_error']:+.2f} %"
            + ("; the earlier extraction, reused" if result.get("reused") else "")
            + ("" if result["load"]["loaded"] else "; already loaded"))
