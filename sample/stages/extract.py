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
:data:`SOURCE_PREFIX`, e.g. of another seed) are removed, with their surveys, in the
transaction that loads this sample's.
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


def remove_demo_extractions(conn: psycopg.Connection, keep: int | None = None) -> int:
    """Delete the footprints (and their surveys) of earlier demo extractions.

    Only rows whose ``footprint.source`` starts with :data:`SOURCE_PREFIX` are touched,
    never a real import; ``keep`` is a batch to leave alone. The batch records stay
    (as the sample loader's do). Runs in the caller's transaction; returns the
    footprints removed.
    """
    batches = [r[0] for r in conn.execute(
        "SELECT DISTINCT batch_id FROM footprint WHERE source LIKE %s AND batch_id IS NOT NULL"
        " AND batch_id IS DISTINCT FROM %s", (SOURCE_PREFIX + ":%", keep)).fetchall()]
    removed = conn.execute("DELETE FROM footprint WHERE source LIKE %s AND batch_id IS DISTINCT"
                           " FROM %s", (SOURCE_PREFIX + ":%", keep)).rowcount
    if batches:
        conn.execute("DELETE FROM survey WHERE batch_id = ANY(%s)", (batches,))
        log.info("removed %d footprints of earlier demo extractions %s", removed, batches)
    return removed


def _loaded_extraction(conn: psycopg.Connection, digest: str) -> tuple[int | None, int, bool]:
    """(batch holding this extraction, its rows, whether other demo footprints exist)."""
    rows = conn.execute(
        "SELECT f.batch_id, count(*), min(b.params ->> 'extraction') FROM footprint f"
        " LEFT JOIN import_batch b USING (batch_id) WHERE f.source LIKE %s GROUP BY f.batch_id",
        (SOURCE_PREFIX + ":%",)).fetchall()
    mine = [(batch, n) for batch, n, made in rows if made == digest]
    batch, n = mine[0] if len(mine) == 1 else (None, 0)
    return batch, int(n), len(rows) > len(mine) or len(mine) > 1


def load_extracted(conn: psycopg.Connection, city: SampleCity, *,
                   settings: Settings | None = None, image_date: str | None = None
                   ) -> dict[str, Any]:
    """Load the sample's extracted footprints through the one footprint loader.

    A no-op when exactly these footprints are the demo's in the database. Otherwise
    one transaction removes earlier demo extractions and loads these
    (:func:`gis.importing.footprints.load_footprints`, validated, recorded as a batch).

    Returns
    -------
    dict
        ``loaded`` (False when already there), ``batch_id``, ``footprints`` (rows in
        the table), ``removed`` (earlier demo footprints deleted), ``rejected``.
    """
    from gis.db.connection import translate_errors
    from gis.importing.common import content_sha256
    from gis.importing.footprints import load_footprints
    from gis.importing.surveys import image_attrs
    from remote_sensing.tools.extract import image_outline

    path, _ = extraction_paths(city)
    digest = content_sha256(path)
    batch, n, others = _loaded_extraction(conn, digest)
    if batch is not None and not others:
        conn.rollback()
        return {"loaded": False, "batch_id": batch, "footprints": n, "removed": 0,
                "rejected": 0}
    conn.rollback()
    with translate_errors(f"loading the extracted footprints {path}"), conn.transaction():
        removed = remove_demo_extractions(conn, keep=batch)
        if batch is not None:
            return {"loaded": False, "batch_id": batch, "footprints": n, "removed": removed,
                    "rejected": 0}
        result = load_footprints(
            conn, path, survey_date=image_date, settings=settings, file_hash=digest,
            coverage=image_outline(city.paths.get("ndsm")),  # the survey covers the whole image
            survey_attrs=image_attrs(city.paths.get("rgbn")),  # the review app's chips
            source_name=f"{SOURCE_PREFIX}: sample {city.size}-{city.seed}, extracted",
            params={"extraction": digest}, skip_if_loaded=False, commit=False)
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
