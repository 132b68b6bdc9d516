"""Score runs and their result tables in PostGIS (``enterprise_score``, ``score_warning``).

A score run is a ``run`` row of kind ``score`` whose parameters name the rule set, the year
and the occupancy run that gave the land. Nothing here commits: the caller
(:func:`scoring.run.run_scores`) does.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from scoring.errors import ScoreRunError

if TYPE_CHECKING:
    import pandas as pd
    import psycopg

log = logging.getLogger(__name__)

RUN_KIND = "score"

SCORE_TABLE = "enterprise_score"
WARNING_TABLE = "score_warning"

SCORE_COLUMNS = ("credit_code", "year", "ruleset", "population", "name", "town", "district",
                 "industry_division", "land_m2", "total", "class", "rank_county", "rank_town",
                 "rank_industry", "indicators", "items", "rules_fired", "occupancy_run",
                 "prev_run", "prev_total", "prev_class")
WARNING_COLUMNS = ("credit_code", "year", "kind", "town", "detail")


def latest_score_run(conn: psycopg.Connection, year: int | None = None) -> int | None:
    """Id of the latest finished score run (of ``year`` when given), or ``None``.

    Parameters
    ----------
    conn : psycopg.Connection
    year : int, optional
        Only runs that scored this year.

    Examples
    --------
    With an open connection ``conn``::

        latest_score_run(conn, 2024)   # -> 7
    """
    row = conn.execute(
        "SELECT run_id FROM run WHERE kind = %s AND status = 'done'"
        " AND (%s::int IS NULL OR (params->>'year')::int = %s)"
        " ORDER BY finished_at DESC, run_id DESC LIMIT 1", (RUN_KIND, year, year)).fetchone()
    return int(row[0]) if row else None


def resolve_score_run(conn: psycopg.Connection, run_id: int | None = None,
                      year: int | None = None) -> int:
    """``run_id`` checked to be a finished score run, or the latest one (of ``year``).

    Raises
    ------
    ScoreRunError
        No such run, or none stored yet.
    """
    if run_id is None:
        found = latest_score_run(conn, year)
        if found is None:
            what = f" {year} 年的" if year is not None else ""
            raise ScoreRunError(f"尚无{what}亩均效益评价；请先运行 `mujun score --ruleset "
                                f"规则 --year {year or '年份'}`")
        return found
    row = conn.execute("SELECT kind, status FROM run WHERE run_id = %s", (run_id,)).fetchone()
    if row is None or row[0] != RUN_KIND:
        raise ScoreRunError(f"第 {run_id} 次运行不是亩均效益评价（--run）；"
                            "`mujun score runs` 列出全部评价")
    if row[1] != "done":
        from gis.run_terms import RUN_STATUS

        raise ScoreRunError(f"第 {run_id} 次评价未完成（状态：{RUN_STATUS.label(row[1])}）")
    return int(run_id)


def run_params(conn: psycopg.Connection, run_id: int) -> dict:
    """The parameters and summary of a run: ``{"params": ..., "summary": ...}``."""
    row = conn.execute("SELECT params, summary FROM run WHERE run_id = %s",
                       (run_id,)).fetchone()
    if row is None:
        raise ScoreRunError(f"第 {run_id} 次运行不存在")
    return {"params": row[0], "summary": row[1]}


def previous_year_run(conn: psycopg.Connection, year: int, ruleset: str | None = None
                      ) -> int | None:
    """The latest finished score run of ``year - 1`` (same rule set first, else any)."""
    row = conn.execute(
        "SELECT run_id FROM run WHERE kind = %s AND status = 'done'"
        " AND (params->>'year')::int = %s"
        " ORDER BY (params->>'ruleset' = %s) DESC, finished_at DESC, run_id DESC LIMIT 1",
        (RUN_KIND, year - 1, ruleset or "")).fetchone()
    return int(row[0]) if row else None


def save_scores(conn: psycopg.Connection, run_id: int, scores: pd.DataFrame,
                warnings: pd.DataFrame | None = None) -> None:
    """COPY the per-enterprise rows (and warnings) of ``run_id`` (no commit)."""
    from gis.db.copy import copy_frame

    frame = scores.loc[:, list(SCORE_COLUMNS)].copy()
    frame.insert(0, "run_id", run_id)
    if len(frame):
        copy_frame(conn, SCORE_TABLE, frame)
    if warnings is not None and len(warnings):
        w = warnings.loc[:, list(WARNING_COLUMNS)].copy()
        w.insert(0, "run_id", run_id)
        copy_frame(conn, WARNING_TABLE, w)


def load_scores(conn: psycopg.Connection, run_id: int) -> pd.DataFrame:
    """Every ``enterprise_score`` row of a run, credit codes stripped."""
    from gis.db.copy import read_frame

    frame = read_frame(conn, "SELECT * FROM enterprise_score WHERE run_id = %s"
                       " ORDER BY credit_code", (run_id,))
    if len(frame):
        frame["credit_code"] = frame["credit_code"].str.strip()
    return frame


def load_warnings(conn: psycopg.Connection, run_id: int) -> pd.DataFrame:
    """Every ``score_warning`` row of a run."""
    from gis.db.copy import read_frame

    frame = read_frame(conn, "SELECT * FROM score_warning WHERE run_id = %s"
                       " ORDER BY kind, credit_code", (run_id,))
    if len(frame):
        frame["credit_code"] = frame["credit_code"].map(
            lambda v: v.strip() if isinstance(v, str) else v)
    return frame


def list_runs(conn: psycopg.Connection) -> pd.DataFrame:
    """Every score run: id, status, times, parameters, summary."""
    from gis.db.copy import read_frame

    return read_frame(conn, "SELECT run_id, status, started_at, finished_at, code_version,"
                      " params, summary FROM run WHERE kind = %s ORDER BY run_id", (RUN_KIND,))
