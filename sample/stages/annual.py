"""Demo stage: the annual report (亩均评价年度报告.docx) of the year the demo scored."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sample.demo_run import DemoRun


def stage_annual(run: DemoRun) -> dict | None:
    """Write 亩均评价年度报告.docx in the demo folder (replaced on every demo run)."""
    if not run.load:
        return None
    from maps.annual.write import STAGES, write_annual

    year = run.conn.execute("SELECT max((params->>'year')::int) FROM run WHERE kind = 'score'"
                            " AND status = 'done'").fetchone()[0]
    if year is None:
        return None
    with run.bar(len(STAGES), "annual report", "stage") as step:
        info = write_annual(run.conn, run.root / "亩均评价年度报告.docx", year=int(year),
                            overwrite=True, stage=lambda _name: step(1))
    out = {"report": info["path"], "score run": info["score_run"]}
    if info["notes"]:
        out["without data"] = "；".join(info["notes"].values())
    return out


stage_annual.order = 75  # type: ignore[attr-defined]
