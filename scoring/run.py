"""Score runs: read the stored data, score under a rule set, store the results and warnings.

Tool module: :func:`run_scores` opens nothing itself (the caller passes the connection),
reads enterprises, records and the land of an occupancy run (:mod:`scoring.inputs`),
scores them with the pure kernel (:mod:`scoring.kernel`), finds data warnings
(:mod:`scoring.data_warnings`), and in one transaction stores a ``run`` of kind ``score``,
its ``enterprise_score`` and ``score_warning`` rows and the warnings' verification items.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from scoring.ruleset import RuleSet, load_ruleset

if TYPE_CHECKING:
    import psycopg

    from gis.progress import Progress

log = logging.getLogger(__name__)

PROBLEM_TEXT = {
    "power_no_tax": "用电量高但税收接近零",
    "zero_electricity": "全年用电量为零",
    "tax_per_mu_high": "亩均税收异常偏高 (面积或单位可能有误)",
    "records_no_land": "有经济数据但无用地",
    "land_no_records": "有用地但无经济数据",
    "yoy_jump": "指标同比变化超过 10 倍",
}


@dataclass
class ScoreRun:
    """A stored score run: id, the rows stored, warnings and the summary."""

    run_id: int
    rows: pd.DataFrame
    warnings: pd.DataFrame
    summary: dict[str, Any]


def _merge_tenant_results(inputs: pd.DataFrame, frame: pd.DataFrame) -> pd.DataFrame:
    """Tenants merged with their holder take the holder's population, total and class."""
    if "merged_into" not in inputs or not inputs["merged_into"].notna().any():
        return frame
    out = frame.copy()
    tenants = np.flatnonzero(inputs["merged_into"].notna().to_numpy())
    holder_pos = pd.Index(out["credit_code"]).get_indexer(inputs["merged_into"].iloc[tenants])
    ok = holder_pos >= 0
    tenants, holder_pos = tenants[ok], holder_pos[ok]
    for col in ("population", "total", "class", "t_reason", "veto_reason", "protection"):
        out.loc[out.index[tenants], col] = out[col].to_numpy()[holder_pos]
    holders = out["credit_code"].to_numpy(object)[holder_pos]
    out.loc[out.index[tenants], "not_evaluated"] = ""
    out.loc[out.index[tenants], "class_rule"] = ["class of holder " + h for h in holders]
    for col in ("rank_county", "rank_town", "rank_industry"):
        out.loc[out.index[tenants], col] = pd.NA
    return out


def _prev_scores(conn: psycopg.Connection, year: int, ruleset: str
                 ) -> tuple[int | None, pd.DataFrame | None]:
    from gis.db.copy import read_frame
    from scoring.store import previous_year_run

    prev_run = previous_year_run(conn, year, ruleset)
    if prev_run is None:
        return None, None
    prev = read_frame(conn, "SELECT credit_code, total, class, population FROM"
                      " enterprise_score WHERE run_id = %s", (prev_run,))
    prev["credit_code"] = prev["credit_code"].str.strip()
    return prev_run, prev


def previous_size(inputs: pd.DataFrame, rs: RuleSet, prev: pd.DataFrame | None) -> pd.Series:
    """Per enterprise: was it scored as a large (规上) firm in the previous year's run?

    True when its population there includes size class ``large`` (populations named as in
    ``rs``), False when it does not or the firm is absent from that run (new to the
    lists), None when there is no previous run, the firm was not evaluated there, or its
    population is not one of ``rs``.
    """
    if prev is None:
        return pd.Series([None] * len(inputs), index=inputs.index, dtype=object)
    large = {p.name: "large" in p.size_classes for p in rs.populations}
    pops = inputs["credit_code"].map(prev.set_index("credit_code")["population"])
    present = inputs["credit_code"].isin(prev["credit_code"])
    out = [False if not here else large.get(pop) if isinstance(pop, str) else None
           for here, pop in zip(present, pops, strict=True)]
    return pd.Series(out, index=inputs.index, dtype=object)


def push_warnings(conn: psycopg.Connection, run_id: int) -> int:
    """Open (or refresh) a verification item per warning of ``run_id``; returns the count."""
    cur = conn.execute(
        "INSERT INTO verification_item (kind, item_key, town, credit_code, detail)"
        " SELECT w.kind, trim(w.credit_code) || '|' || w.year, w.town, trim(w.credit_code),"
        "        w.detail || jsonb_build_object('run_id', w.run_id, 'year', w.year)"
        " FROM score_warning w WHERE w.run_id = %s"
        " ON CONFLICT (kind, item_key) WHERE status = 'open'"
        " DO UPDATE SET detail = verification_item.detail || EXCLUDED.detail", (run_id,))
    return cur.rowcount


def _finite(value, digits: int) -> float | None:
    """``value`` rounded, or ``None`` when missing or infinite (JSON holds neither)."""
    v = float(value)
    return round(v, digits) if np.isfinite(v) else None


def summarize(rows: pd.DataFrame, warnings: pd.DataFrame, rs: RuleSet, result) -> dict:
    """Figures of a run: counts per class and population, benchmarks used, warnings.

    Every number is finite or ``None``: the summary is stored as JSON.
    """
    classes = rows["class"].fillna("none").value_counts().sort_index()
    by_pop = {}
    for p in rs.populations:
        sel = rows[rows["population"] == p.name]
        by_pop[p.name] = {
            "label": p.label, "enterprises": len(sel),
            "classes": {k: int(v) for k, v in sel["class"].value_counts().sort_index().items()},
            "mean_total": None if sel["total"].isna().all()
            else _finite(sel["total"].mean(), 3),
            "benchmarks": {it.name: {k: (None if v is None else _finite(v, 6))
                                     for k, v in result.benchmarks.get((p.name, it.name),
                                                                       {}).items()}
                           for it in p.items},
        }
    return {
        "enterprises": len(rows),
        "evaluated": int(rows["population"].notna().sum()),
        "classes": {k: int(v) for k, v in classes.items()},
        "protection": int((result.frame["protection"] != "").sum())
        if "protection" in result.frame else 0,
        "populations": by_pop,
        "warnings": {k: int(v) for k, v in warnings["kind"].value_counts().sort_index().items()},
    }


@dataclass
class ComputedScores:
    """Scores computed but not stored (:func:`compute_scores`)."""

    ruleset: RuleSet
    year: int
    rows: pd.DataFrame
    warnings: pd.DataFrame
    result: Any
    occupancy_run: int
    occupancy_params: dict
    previous_run: int | None
    files: tuple
    adjustments: int
    seconds: float


def compute_scores(conn: psycopg.Connection, ruleset: str | Path | RuleSet, year: int, *,
                   occupancy_run: int | None = None, adjustments: tuple[Path, ...] = (),
                   progress: Progress | None = None) -> ComputedScores:
    """Score ``year`` under ``ruleset`` and build the rows a run would store; write nothing.

    Reads only (enterprises, records, the land of the occupancy run, the previous year's
    run); :func:`run_scores` stores what this returns, ``score --what-if`` compares it.
    Parameters as :func:`run_scores`.
    """
    from scoring.adjustments import read_adjustments
    from scoring.data_warnings import find_warnings
    from scoring.inputs import choose_occupancy_run, load_inputs, merge_tenants
    from scoring.kernel import score_year
    from scoring.records import build_rows
    from scoring.store import run_params

    rs = ruleset if isinstance(ruleset, RuleSet) else load_ruleset(ruleset)
    year = int(year)
    occ = choose_occupancy_run(conn, year, occupancy_run)
    occ_params = run_params(conn, occ)["params"]
    if occ_params.get("year") not in (None, year):
        log.warning("scoring %d with the land of occupancy run %d, computed for %s; run "
                    "`mujun occupancy --year %d` for that year's land rights", year, occ,
                    occ_params.get("year"), year)
    inputs = load_inputs(conn, year, occ)
    prev_run, prev = _prev_scores(conn, year, rs.name)
    if rs.protection.first_year_above_scale:
        inputs["prev_large"] = previous_size(inputs, rs, prev)
    files = (*rs.adjustments.files, *map(Path, adjustments))
    adj = read_adjustments(files, max_points=rs.adjustments.max_points)
    started = time.perf_counter()
    result = score_year(rs, merge_tenants(inputs), year, adj)
    result.frame = _merge_tenant_results(inputs, result.frame)
    seconds = time.perf_counter() - started
    if progress is not None:
        progress(len(inputs))
    warnings = find_warnings(inputs, year, rs.warnings)
    for i, (kind, detail) in enumerate(zip(warnings["kind"], warnings["detail"], strict=True)):
        warnings.at[warnings.index[i], "detail"] = {**detail, "problem": PROBLEM_TEXT[kind]}
    rows = build_rows(rs, inputs, result, year=year, occupancy_run=occ,
                      occupancy_params=occ_params, prev=prev, prev_run=prev_run)
    return ComputedScores(rs, year, rows, warnings, result, occ, occ_params, prev_run, files,
                          len(adj), seconds)


def run_scores(conn: psycopg.Connection, ruleset: str | Path | RuleSet, year: int, *,
               occupancy_run: int | None = None, adjustments: tuple[Path, ...] = (),
               progress: Progress | None = None) -> ScoreRun:
    """Score ``year`` under ``ruleset``, store the run and its warnings, commit.

    Parameters
    ----------
    conn : psycopg.Connection
        Committed on success, rolled back on failure (nothing partial is stored).
    ruleset : str, Path or RuleSet
        A preset name, a YAML file, or a loaded rule set.
    year : int
        The data year to score (the previous year's records feed growth rates and
        previous-year benchmarks).
    occupancy_run : int, optional
        The occupancy run giving the land (default: the latest of ``year``, else the latest).
    adjustments : tuple of Path
        Adjustment lists added to those named in the rule set.
    progress : callable, optional
        Called with the number of enterprises scored.

    Returns
    -------
    ScoreRun
    """
    from gis.db.runs import finish_run, start_run
    from scoring.store import save_scores

    try:
        c = compute_scores(conn, ruleset, year, occupancy_run=occupancy_run,
                           adjustments=adjustments, progress=progress)
        rs, rows, warnings = c.ruleset, c.rows, c.warnings
        params = {"ruleset": rs.name, "ruleset_sha256": rs.sha256, "ruleset_path": rs.path,
                  "year": c.year, "occupancy_run": c.occupancy_run,
                  "adjustments": [str(f) for f in c.files]}
        run_id = start_run(conn, "score", params)
        save_scores(conn, run_id, rows, warnings)
        pushed = push_warnings(conn, run_id)
        summary = summarize(rows, warnings, rs, c.result)
        summary.update(year=c.year, ruleset=rs.name, occupancy_run=c.occupancy_run,
                       occupancy_year=c.occupancy_params.get("year"),
                       previous_run=c.previous_run, kernel_seconds=round(c.seconds, 3),
                       verification_items=pushed, adjustments=c.adjustments)
        finish_run(conn, run_id, "done", summary)
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    seconds = c.seconds
    log.info("score run %d: %d enterprises under %s in %.2f s", run_id, len(rows), rs.name,
             seconds)
    return ScoreRun(run_id, rows, warnings, summary)
