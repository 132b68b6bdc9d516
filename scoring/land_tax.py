"""``report land-tax``: land occupied as measured against the land-use tax base, per firm.

The tax bureau taxes the area a firm declared (``land_tax_base``, from ``mujun import
land-tax``); the occupancy run measures the land the firm really holds
(``enterprise_land``, the latest occupancy run with figures for the year). Each firm gets
one status (:data:`STATUSES`, Chinese labels in ``scoring.land_tax_status`` of
``data/terms.yaml``):

* ``unregistered``: occupies land, no tax registration for the year (用地未登记纳税);
* ``untaxed_land``: occupies more land than it is taxed on (占地大于计税面积);
* ``over_taxed``: taxed on more land than it holds, or on land while holding none
  (计税面积大于占地);
* ``matched``: the two areas agree within the tolerance (default 1 % of the larger area).

The tax difference (元 a year) is the area difference at the firm's unit rate: the
rate of its grade, or with several grades the area-weighted mean of their rates (each
grade's area grows or shrinks in proportion). A firm without a registration has no grade:
its difference is priced at its town's area-weighted rate (the county's when the town has
no taxpayer), and ``rate_source`` says so. Positive = tax not collected, negative = tax
levied on land the firm does not hold. Pure kernel :func:`land_tax_table` and
:func:`town_totals`; :func:`land_tax_check` reads.

Examples
--------
>>> import pandas as pd
>>> land = pd.DataFrame({"credit_code": ["a", "b", "c"], "occupied_m2": [1000.0, 500.0, 800.0]})
>>> base = pd.DataFrame({"credit_code": ["a", "a", "b"], "land_grade": ["一级", "二级", "一级"],
...                      "taxable_area_m2": [400.0, 400.0, 600.0], "unit_tax": [6.0, 4.0, 6.0]})
>>> firms = pd.DataFrame({"credit_code": ["a", "b", "c"], "name": ["甲", "乙", "丙"],
...                       "town": ["东镇"] * 3})
>>> t = land_tax_table(land, base, firms)       # 丙 is priced at 东镇's 7,600 元 / 1,400 m²
>>> t[["credit_code", "status", "area_difference_m2", "unit_rate", "tax_difference_yuan"]
...   ].values.tolist()
[['c', 'unregistered', 800.0, 5.4286, 4342.86], ['a', 'untaxed_land', 200.0, 5.0, 1000.0], ['b', 'over_taxed', -100.0, 6.0, -600.0]]
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from scoring.errors import ScoreRunError

if TYPE_CHECKING:
    import psycopg

#: Status codes, most urgent first.
STATUSES = ("unregistered", "untaxed_land", "over_taxed", "matched")
#: Default tolerance: areas within this share of the larger one agree.
TOLERANCE = 0.01
COLUMNS = ("credit_code", "name", "town", "status", "land_role", "occupied_m2", "taxed_m2", "land_grades",
           "area_difference_m2", "unit_rate", "rate_source", "tax_due_yuan",
           "tax_difference_yuan")
TOWN_COLUMNS = ("town", "firms", "occupied_m2", "taxed_m2", "unregistered", "untaxed_land",
                "over_taxed", "matched", "untaxed_m2", "over_taxed_m2", "tax_due_yuan",
                "tax_missing_yuan", "tax_excess_yuan")


def land_tax_table(land: pd.DataFrame, base: pd.DataFrame, firms: pd.DataFrame, *,
                   tolerance: float = TOLERANCE) -> pd.DataFrame:
    """One row per firm that occupies land or is taxed on land (pure, vectorized).

    Parameters
    ----------
    land : DataFrame
        ``credit_code``, ``occupied_m2``: measured land per firm (one row per firm);
        optional ``role`` (``owner``, ``tenant``, ``owner+tenant``: how it holds the land).
    base : DataFrame
        ``credit_code``, ``land_grade``, ``taxable_area_m2``, ``unit_tax`` (元/m² a
        year): the tax base, one row per firm and grade.
    firms : DataFrame
        ``credit_code``, ``name``, ``town``; firms missing here keep empty name and town.
    tolerance : float
        Share of the larger area within which the two areas agree.

    Returns
    -------
    DataFrame
        :data:`COLUMNS`, sorted by status (:data:`STATUSES`), then by the absolute tax
        difference, largest first.
    """
    b = base.assign(taxable_area_m2=base["taxable_area_m2"].astype(float),
                    unit_tax=base["unit_tax"].astype(float))
    b = b.assign(tax=b["taxable_area_m2"] * b["unit_tax"])
    g = b.groupby("credit_code")
    named = b.loc[b["land_grade"].astype(str) != "", ["credit_code", "land_grade"]] \
        .drop_duplicates().sort_values(["credit_code", "land_grade"])
    grades = ("、" + named["land_grade"].astype(str)).groupby(named["credit_code"]).sum().str[1:]
    taxed = pd.DataFrame({"taxed_m2": g["taxable_area_m2"].sum(),
                          "tax_due_yuan": g["tax"].sum()}).join(grades.rename("land_grades"))
    lg = land.groupby("credit_code")
    occ = pd.DataFrame({"occupied_m2": lg["occupied_m2"].sum().astype(float),
                        "land_role": lg["role"].first() if "role" in land else None})
    out = occ.join(taxed, how="outer")
    out.index.name = "credit_code"
    out = out.reset_index()
    f = firms.drop_duplicates("credit_code").set_index("credit_code")
    out["name"] = out["credit_code"].map(f["name"])
    out["town"] = out["credit_code"].map(f["town"])
    base_town = b["credit_code"].map(f["town"])
    registered = out["taxed_m2"].notna().to_numpy()
    out["occupied_m2"] = out["occupied_m2"].fillna(0.0)
    out["taxed_m2"] = out["taxed_m2"].fillna(0.0)
    out["tax_due_yuan"] = out["tax_due_yuan"].fillna(0.0)
    out["land_grades"] = out["land_grades"].fillna("")
    out["land_role"] = out["land_role"].where(out["land_role"].notna(), "none")
    # unit rate: the firm's own, else its town's, else the county's (area-weighted)
    own = out["tax_due_yuan"] / out["taxed_m2"].where(out["taxed_m2"] > 0)
    tg = b.assign(town=base_town).groupby("town")
    town_rate = tg["tax"].sum() / tg["taxable_area_m2"].sum().where(lambda s: s > 0)
    total_area = float(b["taxable_area_m2"].sum())
    county_rate = float(b["tax"].sum()) / total_area if total_area > 0 else np.nan
    by_town = out["town"].map(town_rate)
    out["unit_rate"] = own.fillna(by_town).fillna(county_rate)
    out["rate_source"] = np.select([own.notna(), by_town.notna()], ["own", "town"], "county")
    diff = out["occupied_m2"] - out["taxed_m2"]
    out["area_difference_m2"] = diff
    out["tax_difference_yuan"] = diff * out["unit_rate"]
    slack = tolerance * np.maximum(out["occupied_m2"], out["taxed_m2"])
    out["status"] = np.select(
        [~registered & (out["occupied_m2"] > 0), diff > slack, -diff > slack],
        ["unregistered", "untaxed_land", "over_taxed"], "matched")
    order = np.lexsort((out["credit_code"].astype(str).to_numpy(),
                        -out["tax_difference_yuan"].abs().fillna(0.0).to_numpy(),
                        pd.Categorical(out["status"], categories=STATUSES).codes))
    out = out.iloc[order].reset_index(drop=True)
    return out[list(COLUMNS)].round({"occupied_m2": 2, "taxed_m2": 2, "area_difference_m2": 2,
                                     "unit_rate": 4, "tax_due_yuan": 2,
                                     "tax_difference_yuan": 2})


def town_totals(table: pd.DataFrame) -> pd.DataFrame:
    """Totals per town of :func:`land_tax_table` (pure), with a last row for the county.

    ``untaxed_m2`` / ``tax_missing_yuan`` add up the firms that hold more than they are
    taxed on (unregistered ones included); ``over_taxed_m2`` / ``tax_excess_yuan`` the
    firms taxed on more than they hold.
    """
    t = table.assign(town=table["town"].fillna("（未知）"))
    d = t["area_difference_m2"]
    short = t["status"].isin(["unregistered", "untaxed_land"])
    over = t["status"] == "over_taxed"
    t = t.assign(untaxed_m2=d.where(short, 0.0), over_taxed_m2=(-d).where(over, 0.0),
                 tax_missing_yuan=t["tax_difference_yuan"].where(short, 0.0),
                 tax_excess_yuan=(-t["tax_difference_yuan"]).where(over, 0.0))
    counts = pd.crosstab(t["town"], pd.Categorical(t["status"], categories=STATUSES),
                         dropna=False) if len(t) else pd.DataFrame(columns=list(STATUSES))
    sums = t.groupby("town")[["occupied_m2", "taxed_m2", "untaxed_m2", "over_taxed_m2",
                              "tax_due_yuan", "tax_missing_yuan", "tax_excess_yuan"]].sum()
    out = sums.join(counts.reindex(index=sums.index, columns=list(STATUSES), fill_value=0))
    out["firms"] = out[list(STATUSES)].sum(axis=1)
    out.index.name = "town"
    out = out.reset_index()
    total = out.drop(columns="town").sum().to_frame().T.assign(town="合计")
    out = pd.concat([out, total], ignore_index=True)
    for c in ("firms", *STATUSES):
        out[c] = out[c].astype(int)
    return out[list(TOWN_COLUMNS)].round(2)


def occupancy_run_of_year(conn: psycopg.Connection, year: int) -> int:
    """The latest finished occupancy run with figures for ``year``.

    Raises
    ------
    ScoreRunError
        There is none (run ``mujun occupancy --year`` first).
    """
    row = conn.execute(
        "SELECT r.run_id FROM run r WHERE r.kind = 'occupancy' AND r.status = 'done'"
        " AND EXISTS (SELECT 1 FROM enterprise_land l WHERE l.run_id = r.run_id"
        " AND l.year = %s) ORDER BY r.finished_at DESC, r.run_id DESC LIMIT 1",
        (year,)).fetchone()
    if row is None:
        raise ScoreRunError(f"没有{year}年的占地测算结果；请先运行 mujun occupancy --year {year}")
    return int(row[0])


def land_tax_check(conn: psycopg.Connection, *, year: int, tolerance: float = TOLERANCE
                   ) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Read the year's occupancy and tax base; returns (firm table, town totals, info).

    Raises
    ------
    ScoreRunError
        No occupancy run with figures for ``year``, or no tax base for it.
    """
    from gis.db.copy import read_frame

    run_id = occupancy_run_of_year(conn, year)
    land = read_frame(conn, "SELECT trim(credit_code) AS credit_code, land_m2 AS occupied_m2,"
                      " role"
                      " FROM enterprise_land WHERE run_id = %s AND year = %s",
                      (run_id, year))
    base = read_frame(conn, "SELECT trim(credit_code) AS credit_code, land_grade,"
                      " taxable_area_m2, unit_tax FROM land_tax_base WHERE year = %s", (year,))
    if base.empty:
        raise ScoreRunError(f"没有{year}年的土地使用税计税数据；请先运行 mujun import land-tax")
    firms = read_frame(conn, "SELECT trim(credit_code) AS credit_code, name, town"
                       " FROM enterprise")
    table = land_tax_table(land, base, firms, tolerance=tolerance)
    return table, town_totals(table), {"year": year, "occupancy_run": run_id,
                                       "tolerance": tolerance}
