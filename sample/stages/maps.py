"""Demo stage: every web map kind, a report figure of each, and every layer export."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sample.demo_run import DemoRun

log = logging.getLogger(__name__)

#: Layers written as GeoPackages, and the one written in every format.
EXPORT_LAYERS = ("parcels", "enterprises", "candidates", "footprints", "towns")
EVERY_FORMAT_LAYER = "towns"
#: Map kinds whose data the demo does not make: the sample city has no utility accounts
#: or land-use tax base, so no policy run (docs/policy.md walks through one) and no
#: land-tax check (docs/reports.md), and the demo scores once, so there are no two runs
#: to compare (docs/comparisons.md).
NOT_IN_DEMO = frozenset({"policy", "compare", "land-tax"})
FORMATS = (".gpkg", ".shp", ".geojson", ".kml", ".gdb", ".csv", ".xlsx")


def stage_maps(run: DemoRun) -> dict | None:
    """Write maps/ (pages), maps/figures/ (PDF) and maps/layers/ under the demo folder."""
    if not run.load:
        return None
    from gis.errors import MujunError
    from maps.export.layers import export_layer
    from maps.make import make_map
    from maps.web.kinds import KINDS

    conn = run.conn
    out = run.root / "maps"
    written: list[str] = []
    skipped: list[str] = []
    kinds = [kind for kind in KINDS if kind not in NOT_IN_DEMO]
    with run.bar(len(kinds) * 2 + len(EXPORT_LAYERS) + len(FORMATS), "maps", "file") as step:
        ortho = run.root / "imagery" / "rgbn.tif"
        for kind in kinds:
            for target in (out / f"{kind}.html", out / "figures" / f"{kind}.pdf"):
                # the industry page over the sample's own orthophoto, as local tiles
                extra = ({"basemap": "ortho", "ortho": ortho}
                         if kind == "industry" and target.suffix == ".html" and ortho.exists()
                         else {})
                try:
                    make_map(conn, kind, target, overwrite=True, **extra)
                    written.append(str(target))
                except MujunError as exc:       # e.g. no candidates in this database
                    skipped.append(f"{target.name}: {exc}")
                step(1)
        layers = out / "layers"
        jobs = [(name, layers / f"{name}.gpkg") for name in EXPORT_LAYERS]
        jobs += [(EVERY_FORMAT_LAYER, layers / f"{EVERY_FORMAT_LAYER}{suffix}")
                 for suffix in FORMATS if suffix != ".gpkg"]
        jobs.append(("parcels", layers / "parcels_public.xlsx"))
        for name, target in jobs:
            try:
                export_layer(conn, name, target, overwrite=True,
                             desensitize=target.stem.endswith("_public"))
                written.append(str(target))
            except MujunError as exc:
                skipped.append(f"{target.name}: {exc}")
            step(1)
    for line in skipped:
        log.warning("demo maps: skipped %s", line)
    result = {"folder": str(out), "files": f"{len(written)} written"}
    result["paths"] = "".join(f"\n{'':15}{p}" for p in written)
    if skipped:
        result["skipped"] = "".join(f"\n{'':15}{s}" for s in skipped)
    return result


stage_maps.order = 70
