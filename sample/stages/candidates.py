"""Demo stage: the land-status rules on the sample city, the ranked report and one sheet."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sample.demo_run import DemoRun

#: How many candidates the demo summary lists.
TOP = 5


def stage_candidates(run: DemoRun) -> dict | None:
    """Run the rules as of the sample's "today", write candidates.xlsx and one 核查表 (PDF).

    The outputs go to the sample's folder and are replaced on every demo run (they are
    the demo's own files).
    """
    if not run.load:
        return None
    from gis.crs import SQM_PER_MU
    from gis.settings import load_settings
    from maps.export.layers import export_layer
    from maps.sheet import write_sheet
    from sample.config import AS_OF
    from scoring.land_status.run import run_candidates
    from scoring.land_status.vocabulary import KINDS

    settings = run.settings or load_settings()
    conn = run.conn
    result = run_candidates(conn, settings, as_of=AS_OF)
    s = result.summary
    report = export_layer(conn, "candidates", run.root / "candidates.xlsx", overwrite=True)
    top = result.candidates.head(TOP)
    out = {
        "run": result.run_id,
        "found": ", ".join(f"{KINDS.label(k)} {v}" for k, v in s["by_kind"].items() if v) or "none",
        "reclaimable": f"{s['reclaimable_m2'] / SQM_PER_MU:,.0f} mu",
        "top": "; ".join(f"{r.parcel_code} {KINDS.label(r.kind)} {r.area_m2 / SQM_PER_MU:.0f} mu "
                         f"(priority {r.priority:.0f})" for r in top.itertuples(index=False)),
        "report": report["path"],
    }
    if len(top):
        cid = conn.execute("SELECT candidate_id FROM candidate WHERE parcel_code = %s"
                           " AND kind = %s AND status <> 'closed'",
                           (top.iloc[0]["parcel_code"], top.iloc[0]["kind"])).fetchone()[0]
        from gis.errors import ConfigError
        from maps.sheet import find_cjk_font

        fmt = "pdf"
        try:
            find_cjk_font()
        except ConfigError:  # no CJK font installed: the HTML sheet needs none
            fmt = "html"
        image = (run.city.paths.get("rgbn") if run.city is not None else None)
        sheet = write_sheet(conn, cid, run.root / f"sheet_{cid}.{fmt}", overwrite=True,
                            image=image if image is not None and Path(image).exists() else None)
        out["sheet"] = sheet["path"]
    conn.rollback()
    return out


stage_candidates.order = 60
