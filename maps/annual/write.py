"""``mujun report annual``: gather, draw, render and write the year's report, stage by stage."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gis.errors import DriverError, OutputExistsError

if TYPE_CHECKING:
    from collections.abc import Callable

    import psycopg

log = logging.getLogger(__name__)

#: The stages a progress display counts: six of gathering, then charts, map, document.
STAGES = ("评价结果", "历年趋势", "镇街和园区排名", "低效闲置土地", "差别化政策", "土地使用税核查",
          "统计图", "评价等级分布图", "写出报告")
SUFFIXES = (".docx", ".pdf")


def write_annual(conn: psycopg.Connection, path: str | Path, *, year: int,
                 issuer: str = "", with_map: bool = True, overwrite: bool = False,
                 stage: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Write the annual report of ``year`` to ``path`` (.docx or .pdf), atomically.

    Parameters
    ----------
    conn : psycopg.Connection
    path : path-like
        ``亩均评价年度报告.docx`` (Word) or ``.pdf`` (Chinese font embedded).
    year : int
        The data year: a score run of this year must be stored.
    issuer : str
        Printed under the title (the bureau).
    with_map : bool
        Draw the class map (the slowest stage on a big county).
    overwrite : bool
        Replace an existing file.
    stage : callable, optional
        Called with each stage's name (:data:`STAGES`) as it starts.

    Returns
    -------
    dict
        ``path``, ``year``, ``bytes``, the runs used (``score_run``, ``previous_run``,
        ``candidates_run``, ``policy_run``, ``occupancy_runs``), ``totals`` and the
        parts without data (``notes``).

    Raises
    ------
    DriverError
        ``path`` is not .docx or .pdf.
    OutputExistsError
        ``path`` exists and ``overwrite`` is false (checked before any work).
    ScoreRunError
        No score run for ``year`` (the message lists the years that have one).
    """
    from gis.atomic import atomic_output
    from maps.annual import charts
    from maps.annual.content import report_blocks
    from maps.annual.gather import gather
    from maps.annual.render_docx import render_docx
    from maps.annual.render_pdf import render_pdf

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise DriverError(f"年度报告只能写成 .docx（Word）或 .pdf，不能写成"
                          f"{suffix or '无扩展名的文件'}", source=str(path))
    if path.exists() and not overwrite:
        raise OutputExistsError(f"{path}: 文件已存在；加 --overwrite 才会替换")

    def step(name: str) -> None:
        if name in STAGES[-3:]:                # gather logs its own stages
            log.info("annual report: %s", name)
        if stage is not None:
            stage(name)

    data = gather(conn, year, stage=step)
    step("统计图")
    images = {"classes": charts.class_chart(data.classes, year)}
    if len(data.trend) >= 2:
        images["trend"] = charts.trend_chart(data.trend)
    if len(data.towns):
        images["towns"] = charts.town_chart(data.towns)
    step("评价等级分布图")
    if with_map:
        images["map"] = charts.class_map(conn, data.score_run["run_id"])
    else:
        data.notes["map"] = "按 --no-map 未绘制地图"
    step("写出报告")
    blocks = report_blocks(data, images, issuer=issuer)
    body = (render_pdf if suffix == ".pdf" else render_docx)(blocks)
    with atomic_output(path, overwrite=overwrite) as tmp:
        Path(tmp).write_bytes(body)
    log.info("wrote the %d annual report to %s", year, path)

    def rid(run):
        return run["run_id"] if run else None

    return {"path": str(path), "year": year, "bytes": len(body),
            "score_run": rid(data.score_run), "previous_run": rid(data.previous_run),
            "candidates_run": rid(data.candidates_run), "policy_run": rid(data.policy_run),
            "occupancy_runs": data.occupancy_runs, "totals": data.totals,
            "trend_years": [int(y) for y in data.trend["year"]], "notes": data.notes}
