"""The demo pipeline behind ``mujun demo``: a list of stages run in order.

Each stage is a function ``stage(run: DemoRun) -> dict | None``; what it
returns is shown in the summary under the stage's name. The built-in stages
generate (or reuse) the sample city (10), load it into PostGIS (20), extract
footprints from its synthetic imagery and assess them (30,
:mod:`sample.stages.extract`) and measure occupancy on them (40). Later
capabilities add their own step (scoring, candidates, maps ...) without touching
this module, in either way:

* call :func:`register_stage` at import time of a module listed in
  :data:`STAGE_MODULES`, or
* declare an entry point in the group ``mujun.demo_stages`` whose object is
  the stage function; an optional ``order`` attribute (int, default 100)
  places it (generate 10, load 20, extract 30, occupancy 40).

A stage that needs the database uses ``run.conn`` (the invocation's one
connection) and should skip itself when ``run.load`` is false. The state a stage
gets, :class:`~sample.demo_run.DemoRun`, lives in a module of its own, which stage
modules import (never this one: this module imports the built-in stages).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from gis.errors import OutputExistsError
from sample.demo_run import DemoRun

log = logging.getLogger(__name__)

Stage = Callable[[DemoRun], "dict | None"]
ENTRY_POINT_GROUP = "mujun.demo_stages"
#: Modules imported (if importable) before the stages run; they may call register_stage.
STAGE_MODULES: list[str] = []


_REGISTRY: list[tuple[int, str, Stage]] = []


def register_stage(name: str, func: Stage, order: int = 100) -> None:
    """Add a stage (replacing one of the same name)."""
    global _REGISTRY
    _REGISTRY = [s for s in _REGISTRY if s[1] != name]
    _REGISTRY.append((order, name, func))


def stages() -> list[tuple[str, Stage]]:
    """All stages in run order: built-ins, registered modules, entry points."""
    import importlib
    from importlib.metadata import entry_points

    for module in STAGE_MODULES:
        importlib.import_module(module)
    found = list(_REGISTRY)
    known = {name for _, name, _ in found}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name in known:
            continue
        try:
            func = ep.load()
        except ModuleNotFoundError as exc:
            if exc.name != ep.module:
                log.warning("demo stage %s cannot be loaded: %s", ep.name, exc)
            else:  # declared for a capability this checkout does not have yet
                log.debug("demo stage %s is not installed: %s", ep.name, exc)
            continue
        except Exception as exc:  # a broken plugin must not take the demo down
            log.warning("demo stage %s cannot be loaded: %s", ep.name, exc)
            continue
        found.append((int(getattr(func, "order", 100)), ep.name, func))
    return [(name, func) for _, name, func in sorted(found, key=lambda s: (s[0], s[1]))]


def run_demo(run: DemoRun) -> DemoRun:
    """Run every stage in order, collecting their figures in ``run.results``."""
    import time

    for name, func in stages():
        log.info("demo stage %s", name)
        started = time.perf_counter()
        result = func(run)
        run.seconds[name] = round(time.perf_counter() - started, 2)
        log.info("demo stage %s took %.1f s", name, run.seconds[name])
        if result is not None:
            run.results[name] = result
    return run


# ---------------------------------------------------------------------------
# Built-in stages


def stage_generate(run: DemoRun) -> dict:
    """Generate the sample into ``run.root`` unless a complete one is already there."""
    from sample.config import GENERATOR_VERSION
    from sample.generate import SampleCity, generate_city, is_complete, progress_steps

    stale = False
    if is_complete(run.root):
        city = SampleCity.load(run.root)
        if (city.size, int(city.seed)) != (run.size, int(run.seed)):
            raise OutputExistsError(
                f"{run.root}: holds the sample {city.size}-{city.seed}, not {run.size}-{run.seed}; "
                "choose another --out"
            )
        # a sample made by an older generator is regenerated (same folder, new content)
        stale = city.generator_version != GENERATOR_VERSION
        if not stale:
            run.city, run.generated = city, False
    if run.city is None:
        if run.root.exists() and not stale:
            raise OutputExistsError(
                f"{run.root}: exists but is not a complete sample; "
                "remove it or choose another --out"
            )
        with run.bar(progress_steps(run.size), "generating sample", "step") as progress:
            run.city = generate_city(
                run.size, run.seed, run.root, progress=progress, overwrite=stale
            )
        run.generated = True
    return {"generated": run.generated, "root": str(run.root), "seconds": run.city.seconds}


def stage_load(run: DemoRun) -> dict:
    """Load the sample into PostGIS (a no-op when this very sample is loaded).

    With imagery, the true building outlines stay out of ``footprint``: the
    ``extract`` stage loads footprints extracted from the imagery instead.
    """
    from sample.load import TARGETS, load_sample, table_steps
    from sample.stages.extract import has_imagery

    if not run.load:
        return {"loaded": False, "skipped": True}
    assert run.city is not None
    tables = [name for name in TARGETS if name != "buildings" or not has_imagery(run.city)]
    with run.bar(table_steps(run.city, tables), "loading into PostGIS", "row") as progress:
        result = load_sample(run.conn, run.city, progress=progress, tables=tables)
    return {**result, "skipped": False, "true_outlines": "buildings" in tables}


def stage_occupancy(run: DemoRun) -> dict | None:
    """Measure built area, coverage and land per enterprise (vector engine), stored as a run."""
    if not run.load:
        return None
    from gis.settings import load_settings
    from parcels.occupancy.run import run_occupancy

    settings = run.settings or load_settings()
    with run.bar(None, "occupancy", "parcel") as progress:
        result = run_occupancy(run.conn, settings, engine="vector", progress=progress)
    s = result.summary
    extract = run.results.get("extract") or {}
    return {
        "run": result.run_id,
        "footprints": "extracted" if extract.get("skipped") is False else "true outlines",
        "buildings": s["buildings"],
        "built_m2": s["built_m2"],
        "coverage": s["coverage"],
        "far": s["far"],
        "parcels_without_buildings": s["parcels_without_buildings"],
        "enterprises": s["enterprises"],
        "enterprise_land_m2": s["enterprise_land_m2"],
    }


def _describe_occupancy(result: dict) -> str:
    return (f"run {result['run']} on {result['footprints']}: {result['buildings']:,} buildings, "
            f"built {result['built_m2']:,.0f} m² (coverage {100 * (result['coverage'] or 0):.1f} %"
            f", FAR {result['far'] or 0:.2f}); {result['parcels_without_buildings']:,} parcels "
            f"without buildings; {result['enterprises']:,} enterprises hold "
            f"{result['enterprise_land_m2']:,.0f} m²")


def _register_builtins() -> None:
    from sample.stages.extract import describe as describe_extract
    from sample.stages.extract import stage_extract

    register_stage("generate", stage_generate, order=10)
    register_stage("load", stage_load, order=20)
    register_stage("extract", stage_extract, order=stage_extract.order)
    register_stage("occupancy", stage_occupancy, order=40)
    DESCRIBE.update(extract=describe_extract, occupancy=_describe_occupancy)


#: Stage name -> function writing its summary line (others print ``key value, ...``).
DESCRIBE: dict[str, Callable[[dict], str]] = {}
_register_builtins()


# ---------------------------------------------------------------------------
# Summary


def summary(run: DemoRun) -> dict:
    """The figures ``mujun demo`` prints (also its ``--json`` output)."""
    assert run.city is not None
    c = run.city.counts
    files = {k: str(v) for k, v in sorted(run.city.paths.items())}
    return {
        "size": run.size,
        "seed": run.seed,
        "root": str(run.root),
        "generated": run.generated,
        "towns": c["towns"],
        "parcels": c["parcels"],
        "buildings": c["buildings"],
        "enterprises": {
            "total": c["enterprises"],
            "large": c["enterprises_large"],
            "small": c["enterprises_small"],
        },
        "land_rights": {"total": c["land_rights"], "owners": c["owners"], "tenants": c["tenants"]},
        "parcel_area": {"m2": c["parcel_area_m2"], "mu": c["parcel_area_mu"]},
        "built_area": {"m2": c["built_area_m2"], "mu": c["built_area_mu"]},
        "coverage": c["coverage"],
        "planted": c["planted"],
        "files": files,
        "stages": run.results,
        "stage_seconds": run.seconds,
    }


def summary_text(data: dict) -> str:
    """Human-readable version of :func:`summary`."""
    e, r = data["enterprises"], data["land_rights"]
    pa, ba = data["parcel_area"], data["built_area"]
    planted = ", ".join(f"{k} {v}" for k, v in data["planted"].items())
    state = "generated" if data["generated"] else "already there, reused"
    lines = [
        f"sample city {data['size']}-{data['seed']} ({state})",
        f"  towns        {data['towns']:>10,}",
        f"  parcels      {data['parcels']:>10,}   area {pa['m2']:,.0f} m² = {pa['mu']:,.1f} mu",
        f"  buildings    {data['buildings']:>10,}   built {ba['m2']:,.0f} m² = {ba['mu']:,.1f} mu,"
        f" coverage {100 * data['coverage']:.1f} %",
        f"  enterprises  {e['total']:>10,}   "
        f"large (规上) {e['large']:,} / small (规下) {e['small']:,}",
        f"  land rights  {r['total']:>10,}   owners {r['owners']:,} / tenants {r['tenants']:,}",
        f"  planted      {planted}",
    ]
    load = data["stages"].get("load", {})
    if load.get("skipped"):
        lines.append("  database     not loaded (--no-load)")
    elif load:
        what = "loaded" if load.get("loaded") else "already loaded, nothing to do"
        outlines = (
            f"{load.get('footprint', 0):,} true outlines as footprints"
            if load.get("true_outlines")
            else "footprints from the imagery (extract)"
        )
        lines.append(
            f"  database     {what}: {load.get('parcel', 0):,} parcels, {outlines},"
            f" {load.get('enterprise', 0):,} enterprises (EPSG:{load.get('srid')})"
        )
        if load.get("replaced"):
            lines.append(
                f"               (replaced {load['replaced']:,} rows of an earlier sample)"
            )
    for name, result in data["stages"].items():
        if name in ("generate", "load"):
            continue
        describe = DESCRIBE.get(name)
        text = describe(result) if describe else ", ".join(f"{k} {v}" for k, v in result.items())
        lines.append(f"  {name:<12} {text}")
    lines.append(f"  files        {data['root']}")
    files = data["files"]
    if "rgbn" in files:
        lines.append(f"  imagery      {files['rgbn']}, {files['ndsm']}")
    lines.append(f"  dirty copies {files.get('dirty', '')}")
    return "\n".join(lines)
