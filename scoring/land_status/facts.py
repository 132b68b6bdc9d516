"""What the land-status rules look at, read from PostGIS (the tool side of the rules).

:func:`read_facts` gives one row per parcel of an occupancy run: the parcel's dates (a
land contract's, when a plot on the parcel was transferred with one, else the parcel's
own; ``dates_source`` says which, and ``certificate_*`` keep the parcel's own),
its occupancy (built area, coverage, FAR, the survey it rests on), the enterprises
linked to it on the as-of date with their status, the year's tax and electricity and
their class and tax per mu in the latest score run, the industry minimum FAR (2008
control indicators by GB/T 4754-2002 division, through the shipped crosswalk), and the
exemptions in force. :func:`stalled_change` adds, for the parcels that might be
stalled, the built-area change since an earlier survey (stored in ``survey_change``).
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    import psycopg

log = logging.getLogger(__name__)

#: The dates in force, as columns over ``parcel p`` joined by :data:`CONTRACT_JOIN`: a land
#: contract of a plot on the parcel, transferred (出让) on or before the as-of date, wins over
#: the parcel's own (certificate) dates, which stay in the certificate_* columns (migration
#: 0036, view parcel_contract_dates).
DATES_IN_FORCE = """
       CASE WHEN cd.parcel_code IS NULL THEN p.supply_date
            ELSE coalesce(cd.supply_date, p.supply_date) END AS supply_date,
       CASE WHEN cd.parcel_code IS NULL THEN p.agreed_start_date
            ELSE cd.agreed_start_date END AS agreed_start_date,
       CASE WHEN cd.parcel_code IS NULL THEN p.agreed_finish_date
            ELSE cd.agreed_finish_date END AS agreed_finish_date"""

#: The join giving :data:`DATES_IN_FORCE` its contract (parameter ``as_of``).
CONTRACT_JOIN = """
LEFT JOIN parcel_contract_dates cd ON cd.parcel_code = p.parcel_code
     AND (cd.supply_date IS NULL OR cd.supply_date <= %(as_of)s)"""

_PARCELS_SQL = f"""
SELECT p.parcel_code, p.town, p.district,{DATES_IN_FORCE},
       CASE WHEN cd.parcel_code IS NULL THEN 'parcel' ELSE 'contract' END AS dates_source,
       cd.plot_code AS contract_plot, cd.contract_no,
       p.supply_date AS certificate_supply_date, p.agreed_start_date AS certificate_start_date,
       p.agreed_finish_date AS certificate_finish_date,
       p.land_use_code, p.planned_far,
       o.area_m2, o.built_m2, o.sliver_m2, o.coverage, o.far, o.floor_area_m2, o.n_buildings,
       o.survey_id, o.survey_date, ST_Covers(s.coverage, p.geom) AS survey_full
FROM occupancy o JOIN parcel p ON p.parcel_code = o.parcel_code
LEFT JOIN survey s ON s.survey_id = o.survey_id{CONTRACT_JOIN}
WHERE o.run_id = %(run)s
"""

_LINKS_SQL = """
SELECT r.parcel_code, r.credit_code, r.right_type, e.name,
       -- deregistered after the as-of date: still active then
       CASE WHEN e.status = 'deregistered' AND e.deregistered_date > %(as_of)s THEN 'active'
            ELSE e.status END AS status,
       e.industry_code, e.industry_version, y.tax_wan, y.electricity_kwh
FROM land_right r
LEFT JOIN enterprise e ON e.credit_code = r.credit_code
LEFT JOIN enterprise_year y ON y.credit_code = r.credit_code AND y.year = %(year)s
WHERE (r.start_date IS NULL OR r.start_date <= %(as_of)s)
  AND (r.end_date IS NULL OR r.end_date >= %(as_of)s)
ORDER BY r.parcel_code, r.right_type, r.credit_code
"""

_SCORES_SQL = """
SELECT credit_code, class,
       coalesce((items -> %(item)s ->> 'value')::float8,
                (indicators ->> %(item)s)::float8) AS tax_per_mu,
       CASE jsonb_typeof(items -> %(item)s -> 'benchmark')
            WHEN 'object' THEN (items -> %(item)s -> 'benchmark' ->> 'value')::float8
            WHEN 'number' THEN (items -> %(item)s ->> 'benchmark')::float8 END AS benchmark
FROM enterprise_score WHERE run_id = %(run)s
"""

_EXEMPT_SQL = """
SELECT exemption_id, parcel_code, reason, kinds, comment, created_by, created_at
FROM land_exemption
WHERE revoked_at IS NULL AND (valid_until IS NULL OR valid_until >= %(as_of)s)
ORDER BY exemption_id
"""


@dataclass
class Facts:
    """Everything the rules read; ``parcels`` has one row per parcel."""

    parcels: pd.DataFrame
    links: pd.DataFrame
    as_of: dt.date
    year: int | None
    occupancy_run: int
    score_run: int | None
    benchmark_tax_per_mu: float | None
    notes: list[str] = field(default_factory=list)


def _frame(conn: psycopg.Connection, query: str, params: Any) -> pd.DataFrame:
    cur = conn.execute(query, params)
    cols = [d.name for d in cur.description]
    return pd.DataFrame(cur.fetchall(), columns=cols)


def records_year(conn: psycopg.Connection, as_of: dt.date) -> int | None:
    """The newest year with enterprise records not after ``as_of``'s year."""
    row = conn.execute("SELECT max(year) FROM enterprise_year WHERE year <= %s",
                       (as_of.year,)).fetchone()
    return int(row[0]) if row and row[0] is not None else None


def far_minimum(industry_code: Any, version: Any, table: dict[str, float]) -> float | None:
    """The 2008 minimum FAR of an industry code (any edition), or ``None`` when none applies.

    A 2017 division that came from several 2002 divisions gets the lowest of their
    minimums (the benefit of the doubt).

    >>> far_minimum("3311", "2017", {"34": 0.7})
    0.7
    >>> far_minimum("5810", "2017", {"34": 0.7}) is None
    True
    """
    from parcels.industry import crosswalk_2017_to_2002, normalize_industry_code

    if industry_code is None or (isinstance(industry_code, float) and np.isnan(industry_code)):
        return None
    code = normalize_industry_code(industry_code)
    if len(code) < 2 or not code[:2].isdigit():
        return None
    division = code[:2]
    olds = {division} if str(version) == "2002" else crosswalk_2017_to_2002(division)
    values = [table[d] for d in olds if d in table]
    return min(values) if values else None


def read_facts(conn: psycopg.Connection, rules: dict[str, Any], *, occupancy_run: int,
               as_of: dt.date, score_run: int | None = None) -> Facts:
    """Read the per-parcel facts of ``occupancy_run`` and the links on ``as_of``."""
    from scoring.store import latest_score_run

    notes: list[str] = []
    parcels = _frame(conn, _PARCELS_SQL, {"run": occupancy_run, "as_of": as_of})
    if len(parcels) and parcels["survey_date"].isna().all():
        notes.append("no parcel rests on a dated survey (footprints loaded without one?): the "
                     "idle, unfinished and inefficient kinds need one")
    year = records_year(conn, as_of)
    links = _frame(conn, _LINKS_SQL, {"year": year, "as_of": as_of})
    if len(links):
        links["credit_code"] = links["credit_code"].astype(str).str.strip()
    ineff = rules["inefficient"]
    if score_run is None:
        score_run = latest_score_run(conn, year) if year is not None else None
    benchmark = ineff["tax_per_mu_benchmark_wan"]
    if score_run is not None:
        scores = _frame(conn, _SCORES_SQL, {"item": ineff["tax_per_mu_item"], "run": score_run})
        scores["credit_code"] = scores["credit_code"].astype(str).str.strip()
        if benchmark is not None:                 # the rules file fixes one benchmark
            scores["benchmark"] = float(benchmark)
        elif scores["benchmark"].notna().any():   # else each firm's population benchmark
            benchmark = float(scores["benchmark"].dropna().median())
        links = links.merge(scores[["credit_code", "class", "tax_per_mu", "benchmark"]],
                            on="credit_code", how="left")
    else:
        links["class"] = None
        links["tax_per_mu"] = np.nan
        links["benchmark"] = np.nan
        notes.append("no score run: class D and tax-per-mu tests skipped"
                     if year is not None else "no enterprise records: enterprise tests skipped")
    if benchmark is None:
        notes.append("no tax-per-mu benchmark (rule set or score run): tax test skipped")
    parcels = _attach_links(parcels, links, rules)
    parcels = _attach_exemptions(parcels, _frame(conn, _EXEMPT_SQL, {"as_of": as_of}))
    return Facts(parcels, links, as_of, year, occupancy_run, score_run, benchmark, notes)


def _attach_links(parcels: pd.DataFrame, links: pd.DataFrame, rules: dict[str, Any]
                  ) -> pd.DataFrame:
    """Per-parcel enterprise summary: linked, active, industry minimum FAR, classes."""
    bu = rules["built_unused"]
    table = rules["inefficient"]["far_min_2002"]
    out = parcels.copy()
    if len(links) == 0:
        for col, val in (("n_linked", 0), ("n_active", 0), ("n_unknown", 0)):
            out[col] = val
        out["far_min"] = np.nan
        out["owner_classes"] = [[] for _ in range(len(out))]
        out["owner_tax_ratio"] = [[] for _ in range(len(out))]
        return out
    lk = links.copy()
    known = lk["status"].notna()
    tax = pd.to_numeric(lk["tax_wan"], errors="coerce").fillna(np.inf)
    kwh = pd.to_numeric(lk["electricity_kwh"], errors="coerce").fillna(np.inf)
    near_zero = (tax < bu["near_zero_tax_wan"]) & (kwh < bu["near_zero_kwh"])
    inactive = lk["status"].isin(bu["inactive_statuses"]) | near_zero
    lk["known"] = known
    lk["active"] = known & ~inactive
    lk["unknown"] = ~known
    g = lk.groupby("parcel_code", sort=False)
    agg = pd.DataFrame({"n_linked": g["known"].sum(), "n_active": g["active"].sum(),
                        "n_unknown": g["unknown"].sum()})
    owners = lk[(lk["right_type"] == "owner") & known]
    cached = functools.lru_cache(maxsize=None)(
        lambda code, version: far_minimum(code, version, table))
    # several owners: the lowest of their industries' minimums (the benefit of the doubt;
    # and the same whatever order the rows come in)
    far_min: dict[str, float] = {}
    for c, i, v in zip(owners["parcel_code"].to_numpy(), owners["industry_code"].to_numpy(),
                       owners["industry_version"].to_numpy(), strict=True):
        m = cached(i if isinstance(i, str) else None, str(v))
        if m is not None and (c not in far_min or m < far_min[c]):
            far_min[c] = m
    # per-parcel lists by one pass over the rows (a groupby with Python lambdas took
    # 15 s for a city's 100,000 parcels)
    ratio = (pd.to_numeric(owners["tax_per_mu"], errors="coerce")
             / pd.to_numeric(owners["benchmark"], errors="coerce")).to_numpy(dtype=float)
    classes: dict[str, list[str]] = {}
    ratios: dict[str, list[float]] = {}
    for code, cls, r in zip(owners["parcel_code"].to_numpy(), owners["class"].to_numpy(),
                            ratio, strict=True):
        if isinstance(cls, str):
            classes.setdefault(code, []).append(cls)
        if np.isfinite(r):
            ratios.setdefault(code, []).append(float(r))
    out = out.merge(agg, left_on="parcel_code", right_index=True, how="left")
    for col in ("n_linked", "n_active", "n_unknown"):
        out[col] = out[col].fillna(0).astype(int)
    codes = out["parcel_code"]
    out["far_min"] = codes.map(far_min).astype(float)
    out["owner_classes"] = [classes.get(c, []) for c in codes]
    out["owner_tax_ratio"] = [ratios.get(c, []) for c in codes]
    return out


def _attach_exemptions(parcels: pd.DataFrame, exemptions: pd.DataFrame) -> pd.DataFrame:
    out = parcels.copy()
    by_parcel: dict[str, list[dict]] = {}
    for r in exemptions.itertuples(index=False):
        by_parcel.setdefault(r.parcel_code, []).append(
            {"exemption_id": int(r.exemption_id), "reason": r.reason, "kinds": list(r.kinds),
             "comment": r.comment, "by": r.created_by})
    out["exemptions"] = [by_parcel.get(c, []) for c in out["parcel_code"]]
    return out


_PREVIOUS_SQL = """
SELECT p.parcel_code, s.survey_id, s.survey_date
FROM parcel p
JOIN occupancy o ON o.parcel_code = p.parcel_code AND o.run_id = %(run)s
JOIN LATERAL (
    SELECT survey_id, survey_date FROM survey s
    WHERE s.survey_date <= o.survey_date - make_interval(months => %(gap_months)s)
      AND ST_Covers(s.coverage, p.geom)
    ORDER BY s.survey_date DESC, s.survey_id DESC LIMIT 1
) s ON true
WHERE p.parcel_code = ANY(%(codes)s)
"""


def stalled_change(conn: psycopg.Connection, facts: Facts, codes: list[str],
                   rules: dict[str, Any], options) -> pd.DataFrame:
    """Change since an earlier survey for ``codes`` (those that might be stalled).

    The earlier survey is the latest one covering the parcel at least
    ``idle_stalled.min_survey_gap_years`` before the survey the parcel rests on.
    Computed per pair of surveys (only for these parcels) and stored in
    ``survey_change``.

    Returns
    -------
    DataFrame
        ``parcel_code, prev_survey_id, prev_survey_date`` and the change columns.
    """
    from parcels.survey_change import CHANGE_COLUMNS, store_change, survey_change

    cols = ["parcel_code", "prev_survey_id", "prev_survey_date", *CHANGE_COLUMNS[1:]]
    if not codes:
        return pd.DataFrame(columns=cols)
    gap_months = round(12 * rules["idle_stalled"]["min_survey_gap_years"])
    prev = _frame(conn, _PREVIOUS_SQL, {"run": facts.occupancy_run, "gap_months": gap_months,
                                        "codes": codes})
    if len(prev) == 0:
        return pd.DataFrame(columns=cols)
    cur = facts.parcels.set_index("parcel_code")["survey_id"]
    prev["after"] = prev["parcel_code"].map(cur)
    parts = []
    for (before, after), group in prev.groupby(["survey_id", "after"]):
        change = survey_change(conn, int(before), int(after), options,
                               parcel_codes=group["parcel_code"].tolist())
        store_change(conn, int(before), int(after), change)
        change = change.merge(group[["parcel_code", "survey_id", "survey_date"]]
                              .rename(columns={"survey_id": "prev_survey_id",
                                               "survey_date": "prev_survey_date"}),
                              on="parcel_code")
        parts.append(change)
    return pd.concat(parts, ignore_index=True)[cols] if parts else pd.DataFrame(columns=cols)
