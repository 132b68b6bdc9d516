"""Pick the stored runs of a year and read the annual report's figures (the tool).

Every figure comes from a stored run or import, and :class:`AnnualData` names them
(the report's 数据来源 section):

* the **score run** of the year: the latest finished one that scored ``year``; last
  year's run: :func:`scoring.store.previous_year_run` (the same rule set first);
  the trend: the latest run of each year up to ``year``;
* the **occupancy run** that gave the score run its land (its parameters), and the one
  the park table and the land-tax check use (the latest with figures for the year);
* the **candidates run** of the year: the latest finished land-status run whose
  records year (or, failing that, whose as-of date) is ``year``; candidates found are
  those it found or refreshed, land reclaimed those with an approval decision
  (``review_event`` to 批准收回/盘活);
* the **policy run** applied to the classes of that score run (the latest), if any;
* the **land-tax base** of the year (``mujun import land-tax``), its import batches.

A part without data is kept with the reason (``notes``), never left out silently.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from maps.annual import figures
from scoring.errors import ScoreRunError

if TYPE_CHECKING:
    import psycopg

log = logging.getLogger(__name__)


@dataclass
class AnnualData:
    """What the report prints; frames are the lower floors' tables, unrendered."""

    year: int
    score_run: dict[str, Any]
    totals: dict[str, Any]
    classes: pd.DataFrame
    previous_run: dict[str, Any] | None = None
    previous_totals: dict[str, Any] | None = None
    shifts: dict[str, int] | None = None
    trend: pd.DataFrame | None = None
    towns: pd.DataFrame | None = None
    parks: pd.DataFrame | None = None
    park_land: pd.DataFrame | None = None
    candidates_run: dict[str, Any] | None = None
    candidates: pd.DataFrame | None = None
    policy_run: dict[str, Any] | None = None
    policy: list[dict[str, Any]] | None = None
    land_tax: pd.DataFrame | None = None
    land_tax_info: dict[str, Any] | None = None
    occupancy_runs: dict[str, int] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)


def score_runs_by_year(conn: psycopg.Connection) -> dict[int, int]:
    """Year → the latest finished score run of that year."""
    rows = conn.execute(
        "SELECT DISTINCT ON ((params->>'year')::int) (params->>'year')::int, run_id FROM run"
        " WHERE kind = 'score' AND status = 'done' AND params ? 'year'"
        " ORDER BY (params->>'year')::int, finished_at DESC, run_id DESC").fetchall()
    return {int(y): int(r) for y, r in rows}


def year_run(conn: psycopg.Connection, year: int) -> int:
    """The score run of ``year``.

    Raises
    ------
    ScoreRunError
        None stored for the year: the message lists the years that have one.
    """
    runs = score_runs_by_year(conn)
    if year in runs:
        return runs[year]
    if not runs:
        raise ScoreRunError(f"没有{year}年的评价运行，数据库中也还没有任何评价运行；"
                            f"请先运行 mujun score --ruleset 评价办法 --year {year}")
    have = "、".join(f"{y}年（运行 {r}）" for y, r in sorted(runs.items()))
    raise ScoreRunError(f"没有{year}年的评价运行；已有评价运行的年度：{have}。"
                        f"请选其中一年，或先运行 mujun score --ruleset 评价办法 --year {year}")


def score_frame(conn: psycopg.Connection, run_id: int) -> pd.DataFrame:
    """The score frame of :mod:`maps.annual.figures` for a stored run (adjustments applied)."""
    from gis.crs import m2_to_mu
    from gis.db.copy import read_frame
    from scoring.export import with_overrides
    from scoring.overrides import effective_overrides

    s = read_frame(conn, "SELECT trim(s.credit_code) AS credit_code, s.name, s.town,"
                   " s.population IS NOT NULL AS evaluated, s.land_m2, s.class, y.tax_wan,"
                   " y.revenue_wan, y.value_added_wan FROM enterprise_score s"
                   " LEFT JOIN enterprise_year y ON y.credit_code = s.credit_code"
                   " AND y.year = s.year WHERE s.run_id = %s ORDER BY 1", (run_id,))
    s["land_mu"] = m2_to_mu(pd.to_numeric(s["land_m2"], errors="coerce").fillna(0.0))
    return with_overrides(s, effective_overrides(conn, run_id))


def ruleset_title(name: str | None) -> str:
    """The title of a score run's rule set (its name when it no longer loads)."""
    from scoring.errors import RuleSetError
    from scoring.ruleset import load_ruleset

    if not name:
        return "-"
    try:
        return load_ruleset(name).title or name
    except (RuleSetError, OSError):
        return name


def _run_info(conn: psycopg.Connection, run_id: int) -> dict[str, Any]:
    row = conn.execute("SELECT run_id, kind, params, summary, finished_at FROM run"
                       " WHERE run_id = %s", (run_id,)).fetchone()
    info = {"run_id": int(row[0]), "kind": row[1], "params": row[2] or {},
            "summary": row[3] or {},
            "finished": row[4].strftime("%Y-%m-%d %H:%M") if row[4] else None}
    if row[1] == "score":
        info["title"] = ruleset_title(info["params"].get("ruleset"))
    return info


def candidates_run_of_year(conn: psycopg.Connection, year: int) -> int | None:
    """The latest finished candidates run for ``year`` (records year, else as-of date)."""
    row = conn.execute(
        "SELECT run_id FROM run WHERE kind = 'candidates' AND status = 'done'"
        " AND ((summary->>'records_year')::int = %s"
        "      OR extract(year FROM (params->>'as_of')::date)::int = %s)"
        " ORDER BY ((summary->>'records_year')::int IS NOT DISTINCT FROM %s) DESC,"
        " finished_at DESC, run_id DESC LIMIT 1", (year, year, year)).fetchone()
    return int(row[0]) if row else None


def read_candidates(conn: psycopg.Connection, run_id: int) -> pd.DataFrame:
    """Candidates the run found or refreshed, with ``approved`` (an approval decision)."""
    from gis.db.copy import read_frame

    return read_frame(
        conn, "SELECT c.candidate_id, c.kind, c.status, c.area_m2, c.reclaimable_m2,"
        " EXISTS (SELECT 1 FROM review_event e WHERE e.candidate_id = c.candidate_id"
        "         AND e.to_status = 'approved') AS approved"
        " FROM candidate c WHERE c.run_id = %s ORDER BY c.candidate_id", (run_id,))


def policy_run_of(conn: psycopg.Connection, score_run: int) -> int | None:
    """The latest finished policy run applied to the classes of ``score_run``."""
    row = conn.execute(
        "SELECT run_id FROM run WHERE kind = 'policy' AND status = 'done'"
        " AND (params->>'score_run')::bigint = %s ORDER BY finished_at DESC, run_id DESC"
        " LIMIT 1", (score_run,)).fetchone()
    return int(row[0]) if row else None


def land_tax_batches(conn: psycopg.Connection, year: int) -> list[int]:
    """Import batches of the year's land-tax base."""
    rows = conn.execute("SELECT DISTINCT batch_id FROM land_tax_base WHERE year = %s"
                        " AND batch_id IS NOT NULL ORDER BY 1", (year,)).fetchall()
    return [int(r[0]) for r in rows]


def gather(conn: psycopg.Connection, year: int, *, stage=None) -> AnnualData:
    """Every figure of the year's report, from the stored runs (see the module docstring).

    Parameters
    ----------
    conn : psycopg.Connection
    year : int
        The data year (the score run's year).
    stage : callable, optional
        Called with the name of each stage as it starts (a progress display).

    Raises
    ------
    ScoreRunError
        No score run for ``year`` (the message lists the years that have one).
    """
    from scoring.land_status.vocabulary import KINDS
    from scoring.land_tax import land_tax_check, occupancy_run_of_year
    from scoring.parks import park_report
    from scoring.policy.summary import policy_summary
    from scoring.rank import rank_run
    from scoring.store import previous_year_run

    def step(name: str) -> None:
        log.info("annual report: %s", name)
        if stage is not None:
            stage(name)

    step("评价结果")
    run_id = year_run(conn, year)
    run = _run_info(conn, run_id)
    current = score_frame(conn, run_id)
    data = AnnualData(year=year, score_run=run, totals=figures.run_totals(current),
                      classes=figures.class_table(current, None))
    occ = run["params"].get("occupancy_run")
    if occ is not None:
        data.occupancy_runs["score"] = int(occ)
    prev = previous_year_run(conn, year, run["params"].get("ruleset"))
    if prev is None:
        data.notes["previous"] = f"没有{year - 1}年的评价运行，无法与上年比较"
    else:
        before = score_frame(conn, prev)
        data.previous_run = _run_info(conn, prev)
        data.previous_totals = figures.run_totals(before)
        data.classes = figures.class_table(current, before)
        data.shifts = figures.shift_counts(current, before)

    step("历年趋势")
    runs = {y: r for y, r in score_runs_by_year(conn).items() if y <= year}
    runs[year] = run_id
    if prev is not None:
        runs[year - 1] = prev
    data.trend = figures.trend_table(
        [(y, r, current if r == run_id else score_frame(conn, r)) for y, r in runs.items()])
    if len(data.trend) < 2:
        data.notes["trends"] = f"只有{year}年一个年度的评价运行，尚无历年趋势"

    step("镇街和园区排名")
    data.towns, _ = rank_run(conn, by="town", run_id=run_id)
    parks, _ = rank_run(conn, by="park", run_id=run_id)
    parks = parks[parks["group"] != "(none)"].reset_index(drop=True)
    if len(parks):
        parks["rank"] = range(1, len(parks) + 1)
        data.parks = parks
    else:
        data.notes["parks"] = "没有标注所属园区的工业用地宗地，无法按园区排名"
    try:
        data.park_land, info = park_report(conn, year=year)
        data.occupancy_runs["parks"] = int(info["occupancy_run"])
    except ScoreRunError as exc:
        data.notes["park_land"] = str(exc)

    step("低效闲置土地")
    cand = candidates_run_of_year(conn, year)
    if cand is None:
        data.notes["land_status"] = f"没有{year}年的土地状况识别运行（mujun candidates run）"
    else:
        data.candidates_run = _run_info(conn, cand)
        data.candidates = figures.candidate_table(read_candidates(conn, cand), KINDS.codes())

    step("差别化政策")
    pol = policy_run_of(conn, run_id)
    if pol is None:
        data.notes["policy"] = (f"没有依据评价运行 {run_id} 的分类结果执行的政策运行"
                                "（mujun policy apply）")
    else:
        data.policy_run = _run_info(conn, pol)
        data.policy = policy_summary(conn, pol, by="class")

    step("土地使用税核查")
    try:
        _, towns, info = land_tax_check(conn, year=year)
        data.land_tax, data.land_tax_info = towns, {**info,
                                                    "batches": land_tax_batches(conn, year)}
        data.occupancy_runs["land_tax"] = int(info["occupancy_run"])
    except ScoreRunError as exc:
        data.notes["land_tax"] = str(exc)
    if "parks" not in data.occupancy_runs and "land_tax" not in data.occupancy_runs:
        try:
            occupancy_run_of_year(conn, year)
        except ScoreRunError as exc:
            data.notes.setdefault("occupancy", str(exc))
    return data
