"""What a score run reads: enterprises, two years of records and the land of an occupancy run.

One query per source, joined in pandas; the result is the kernel's input frame
(:mod:`scoring.kernel`). Enterprises appear when they have records for the year or land in
the occupancy run (records without land and land without records are warnings).

Tenants under the ``merge_with_holder`` rule (``enterprise_land.merged_into``) have no
land of their own: their annual figures are added to the holder's row and they take the
holder's result (:func:`merge_tenants`).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from scoring.errors import ScoreRunError
from scoring.formula import ANNUAL_FIELDS

if TYPE_CHECKING:
    import psycopg

log = logging.getLogger(__name__)

_FIELDS_SQL = ", ".join(ANNUAL_FIELDS)


def choose_occupancy_run(conn: psycopg.Connection, year: int, run_id: int | None) -> int:
    """The occupancy run giving the land: ``run_id`` checked, else the latest of ``year``,
    else the latest of any year.

    Raises
    ------
    ScoreRunError
        No finished occupancy run (run ``mujun occupancy --year Y`` first).
    """
    from parcels.occupancy.store import resolve_run

    if run_id is not None:
        try:
            return resolve_run(conn, run_id)
        except Exception as exc:
            raise ScoreRunError(str(exc)) from exc
    row = conn.execute(
        "SELECT run_id FROM run WHERE kind = 'occupancy' AND status = 'done'"
        " ORDER BY ((params->>'year')::int = %s) DESC, finished_at DESC, run_id DESC LIMIT 1",
        (year,)).fetchone()
    if row is None:
        raise ScoreRunError(f"尚无占地测算；请先运行 `mujun occupancy --year {year}`"
                            "（评价从中取得各企业的用地）")
    return int(row[0])


def industry_division(codes: pd.Series, versions: pd.Series) -> pd.Series:
    """GB/T 4754-2017 two-digit division of each code (2002 codes through the crosswalk)."""
    from parcels.industry import crosswalk_2002_to_2017

    div = codes.astype("string").str.strip().str.upper().str.replace(r"^[A-T]", "", regex=True)
    div = div.str[:2].where(div.str.len() >= 2)
    old = (versions == "2002") & div.notna()
    if old.any():
        mapping = {d: (sorted(crosswalk_2002_to_2017(d, main_only=True)) or [d])[0]
                   for d in div[old].unique()}
        div[old] = div[old].map(mapping)
    return div.astype(object).where(div.notna(), None)


def load_inputs(conn: psycopg.Connection, year: int, occupancy_run: int) -> pd.DataFrame:
    """The kernel's input frame for ``year`` with land from ``occupancy_run``.

    Columns: see :mod:`scoring.kernel`, plus ``name``, ``has_records``, ``has_land``,
    ``merged_into``, ``n_parcels``, ``role``, ``parcel_codes``, ``occupancy_year``.
    """
    from gis.db.copy import read_frame

    ent = read_frame(conn, "SELECT credit_code, name, industry_code, industry_version,"
                     " size_class, town, status, established_date, is_utility FROM enterprise")
    years = read_frame(conn, f"SELECT credit_code, year, {_FIELDS_SQL} FROM enterprise_year"
                       " WHERE year IN (%s, %s)", (year, year - 1))
    land = read_frame(conn, "SELECT credit_code, land_m2, floor_area_m2 AS floor_m2,"
                      " n_parcels, role, merged_into, year AS occupancy_year"
                      " FROM enterprise_land WHERE run_id = %s"
                      " AND year = (SELECT (params->>'year')::int FROM run WHERE run_id = %s)",
                      (occupancy_run, occupancy_run))
    occ_year = conn.execute("SELECT (params->>'year')::int FROM run WHERE run_id = %s",
                            (occupancy_run,)).fetchone()[0]
    parcels = read_frame(
        conn, "SELECT r.credit_code, string_agg(DISTINCT r.parcel_code, ';') AS parcel_codes,"
        " max(p.supply_date) AS supply_date, mode() WITHIN GROUP (ORDER BY p.district)"
        " AS district, mode() WITHIN GROUP (ORDER BY p.town) AS parcel_town"
        " FROM land_right r JOIN parcel p USING (parcel_code)"
        " WHERE (r.start_date IS NULL OR r.start_date <= make_date(%s, 12, 31))"
        " AND (r.end_date IS NULL OR r.end_date >= make_date(%s, 1, 1))"
        " GROUP BY r.credit_code", (occ_year or year, occ_year or year))
    for f in (ent, years, land, parcels):
        if len(f):
            f["credit_code"] = f["credit_code"].str.strip()
    if len(land):
        land["merged_into"] = land["merged_into"].map(
            lambda v: v.strip() if isinstance(v, str) else None)
    cur = years[years["year"] == year].drop(columns="year")
    prev = years[years["year"] == year - 1].drop(columns="year").add_prefix("prev_") \
        .rename(columns={"prev_credit_code": "credit_code"})
    codes = pd.Index(pd.concat([cur["credit_code"], land["credit_code"]]).unique())
    frame = pd.DataFrame({"credit_code": codes})
    frame = frame.merge(ent, on="credit_code", how="left")
    frame = frame.merge(cur.assign(has_records=True), on="credit_code", how="left")
    frame = frame.merge(prev, on="credit_code", how="left")
    frame = frame.merge(land.assign(has_land=True), on="credit_code", how="left")
    frame = frame.merge(parcels, on="credit_code", how="left")
    frame["has_records"] = frame["has_records"].notna()
    frame["has_land"] = frame["has_land"].notna()
    frame["town"] = frame["town"].where(frame["town"].notna(), frame.get("parcel_town"))
    frame = frame.drop(columns=["parcel_town"])
    frame["industry_division"] = industry_division(
        frame["industry_code"].astype(object), frame["industry_version"].fillna("2017"))
    for col in (*ANNUAL_FIELDS, *("prev_" + f for f in ANNUAL_FIELDS), "land_m2", "floor_m2"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce").astype("float64")
    frame["is_utility"] = frame["is_utility"].eq(True)
    frame["occupancy_year"] = occ_year
    if not frame["has_records"].any():
        raise ScoreRunError(f"没有 {year} 年的企业数据（--year）；请用 `mujun import "
                            f"enterprises 文件 --year {year}` 导入")
    return frame.sort_values("credit_code", kind="stable").reset_index(drop=True)


def merge_tenants(frame: pd.DataFrame) -> pd.DataFrame:
    """Add the figures of ``merge_with_holder`` tenants to their holder's row.

    The tenant rows stay (with their own figures) so they can take the holder's result.
    """
    merged = frame["merged_into"].notna() if "merged_into" in frame else None
    if merged is None or not merged.any():
        return frame
    out = frame.copy()
    sums = frame.loc[merged].groupby("merged_into")[list(ANNUAL_FIELDS)].sum(min_count=1)
    pos = pd.Index(out["credit_code"]).get_indexer(sums.index)
    ok = pos >= 0
    for f in ANNUAL_FIELDS:
        add = sums[f].to_numpy()[ok]
        base = out[f].to_numpy(np.float64).copy()
        target = pos[ok]
        base[target] = np.where(np.isnan(add), base[target], np.nan_to_num(base[target]) + add)
        out[f] = base
    return out
