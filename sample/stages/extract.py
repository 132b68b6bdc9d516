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

The extraction and its accuracy are computed once per sample and kept beside it
(``extracted/footprints.gpkg`` and ``extracted/extraction.json``), so a second
``mujun demo`` does no work. In the database the demo keeps exactly one extraction:
footprints of earlier demo extractions (``footprint.source`` starting with
:data:`SOURCE_PREFIX`, e.g. of another seed) are removed with their batch and survey
records before this sample's are loaded.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import psycopg

    from gis.settings import Settings
    from sample.demo import DemoRun
    from sample.generate import SampleCity

log = logging.getLogger(__name__)

#: ``footprint.source`` of every footprint the demo extracted (``"<prefix>: sample …"``).
SOURCE_PREFIX = "mujun demo"
#: Options of the demo's extraction (bump ``version`` when the method changes).
OPTIONS: dict[str, Any] = {"version": 1, "method": "ndsm", "vegetation_filter": True}
#: Object match threshold of the accuracy figures (SpaceNet).
IOU_THRESHOLD = 0.5


def has_imagery(city: SampleCity) -> bool:
    """True when the sample was generated with its synthetic imagery (one scene)."""
    return "rgbn" in city.paths and "ndsm" in city.paths


def extraction_paths(city: SampleCity) -> tuple[Path, Path]:
    """The extracted footprints and the record of how they were made and how good they are."""
    folder = city.root / "extracted"
    return folder / "footprints.gpkg", folder / "extraction.json"


def extract_sample(city: SampleCity, *, settings: Settings | None = None,
                   bar: Any = None) -> dict[str, Any]:
    """Extract the sample's footprints from its imagery and assess them (once per sample).

    Parameters
    ----------
    city : SampleCity
        A sample generated with imagery.
    settings : Settings, optional
        ``height_threshold_m`` and ``storey_height_m`` of the deployment.
    bar : callable, optional
        ``bar(total, desc, unit)`` giving a progress context (``DemoRun.bar``).

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
    key = {**OPTIONS, "size": city.size, "seed": int(city.seed),
           "generator_version": city.generator_version}
    if output.is_file() and record.is_file():
        done = json.loads(record.read_text(encoding="utf-8"))
        if done.get("key") == key:
            return {**done, "reused": True}
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


def remove_demo_extractions(conn: psycopg.Connection, keep: int | None = None,
                            forget: int | None = None) -> int:
    """Delete the footprints, surveys and batch records of earlier demo extractions.

    Only rows whose ``footprint.source`` starts with :data:`SOURCE_PREFIX` are touched
    (never a real import), plus the batch ``forget`` (an emptied batch of the file
    about to be loaded, which the import would otherwise take for a repeat). ``keep``
    is a batch to leave alone. Runs in the caller's transaction; returns the
    footprints removed.
    """
    batches = [r[0] for r in conn.execute(
        "SELECT DISTINCT batch_id FROM footprint WHERE source LIKE %s AND batch_id IS NOT NULL"
        " AND batch_id IS DISTINCT FROM %s", (SOURCE_PREFIX + ":%", keep)).fetchall()]
    if forget is not None and forget != keep:
        batches.append(forget)
    removed = conn.execute("DELETE FROM footprint WHERE source LIKE %s AND batch_id IS DISTINCT"
                           " FROM %s", (SOURCE_PREFIX + ":%", keep)).rowcount
    if batches:
        conn.execute("DELETE FROM survey WHERE batch_id = ANY(%s)", (batches,))
        conn.execute("DELETE FROM import_batch WHERE batch_id = ANY(%s)", (batches,))
    if removed:
        log.info("removed %d footprints of earlier demo extractions %s", removed, batches)
    return removed


def load_extracted(conn: psycopg.Connection, city: SampleCity, *,
                   settings: Settings | None = None, image_date: str | None = None
                   ) -> dict[str, Any]:
    """Load the sample's extracted footprints through the validated footprint import.

    A no-op when they are loaded already; footprints of an earlier demo extraction
    are removed first (one commit), then the import runs in its own transaction.

    Returns
    -------
    dict
        ``loaded`` (False when already there), ``batch_id``, ``footprints`` (rows in
        the table), ``removed`` (earlier demo footprints deleted), ``rejected``.
    """
    from gis.db.batches import find_batch_by_sha
    from parcels.importing.common import file_sha256
    from parcels.importing.footprint_import import import_footprints

    path, _ = extraction_paths(city)
    current = find_batch_by_sha(conn, "footprints", file_sha256(path))
    present = current is not None and conn.execute(
        "SELECT count(*) FROM footprint WHERE batch_id = %s", (current,)).fetchone()[0] > 0
    with conn.transaction():
        # an emptied batch of this very file is forgotten too, so the file can load again
        removed = remove_demo_extractions(conn, keep=current if present else None,
                                          forget=None if present else current)
    conn.commit()
    if present:
        n = conn.execute("SELECT count(*) FROM footprint WHERE batch_id = %s",
                         (current,)).fetchone()[0]
        conn.rollback()
        return {"loaded": False, "batch_id": current, "footprints": int(n),
                "removed": removed, "rejected": 0}
    result = import_footprints(conn, path, survey_date=image_date, settings=settings,
                               source_name=f"{SOURCE_PREFIX}: sample {city.size}-{city.seed}, "
                                           "extracted")
    report = result.report
    return {"loaded": True, "batch_id": result.batch_id, "footprints": report.n_loaded,
            "removed": removed, "rejected": len(report.rejected_rows)}


def stage_extract(run: DemoRun) -> dict | None:
    """Footprints from the sample's imagery, their accuracy, loaded as the footprints."""
    if not run.load:
        return None
    assert run.city is not None
    if not has_imagery(run.city):
        with run.conn.transaction():
            removed = remove_demo_extractions(run.conn)
        run.conn.commit()
        return {"skipped": True, "reason": f"the {run.city.size} sample has no imagery; "
                                          "occupancy uses its true outlines",
                "removed": removed}
    done = extract_sample(run.city, settings=run.settings, bar=run.bar)
    loaded = load_extracted(run.conn, run.city, settings=run.settings,
                            image_date=done["extraction"].get("image_date"))
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
            + ("" if result["load"]["loaded"] else "; already loaded"))
