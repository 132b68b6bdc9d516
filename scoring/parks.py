"""``report parks``: land-use intensity per development zone (园区), as the data supports it.

The national evaluation of development zones' land use (开发区土地集约利用评价) asks for
a table of indicators per zone. From the parcels (``parcel.park``), the occupancy run and
the firms' figures this computes (:data:`COLUMNS`, Chinese headers in
``scoring.park_field`` of ``data/terms.yaml``):

* industrial land (mu and hectares): parcels whose land use is industrial (GB/T 21010
  ``0601``, 2007 edition ``061``);
* built rate (建筑密度) = Σ built area / Σ land of all the zone's parcels;
* overall FAR (综合容积率) = Σ floor area / Σ land of all the zone's parcels;
* industrial FAR (工业用地综合容积率) = the same over the industrial parcels;
* tax per hectare of industrial land (工业用地地均税收, 万元/公顷): the tax of the firms
  holding industrial land in the zone (a land right in force in the year), each firm's tax
  shared among the zones in proportion to the industrial land it holds in each, over the
  zone's industrial land.

Three indicators of the evaluation need data the database does not hold
(:data:`NOT_AVAILABLE`): the land development rate and the land supply rate (they need
the zone's approved boundary and its developable / supplied land), and fixed-asset
investment per hectare (no department import carries investment). The report names
them with the reason instead of leaving them blank. Pure kernel :func:`park_table`;
:func:`park_report` reads.

Examples
--------
>>> import pandas as pd
>>> parcels = pd.DataFrame({"parcel_code": ["p1", "p2", "p3"], "park": ["东园", "东园", "西园"],
...     "area_m2": [10000.0, 10000.0, 20000.0], "industrial": [True, False, True],
...     "built_m2": [5000.0, 2000.0, 8000.0], "floor_area_m2": [8000.0, 6000.0, 16000.0]})
>>> holdings = pd.DataFrame({"credit_code": ["a", "b", "b"], "parcel_code": ["p1", "p1", "p3"]})
>>> tax = pd.DataFrame({"credit_code": ["a", "b"], "tax_wan": [30.0, 90.0]})
>>> t = park_table(parcels, holdings, tax)
>>> t[["park", "industrial_land_ha", "built_rate", "far", "industrial_far", "tax_per_ha"]
...   ].values.tolist()
[['东园', 1.0, 0.35, 0.7, 0.8, 60.0], ['西园', 2.0, 0.4, 0.8, 0.8, 30.0]]
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from gis.crs import SQM_PER_MU
from scoring.rank import INDUSTRIAL_LAND_USE

if TYPE_CHECKING:
    import psycopg

#: m² in a hectare.
HA_M2 = 10000.0
COLUMNS = ("park", "parcels", "land_ha", "industrial_land_mu", "industrial_land_ha",
           "built_rate", "far", "industrial_far", "industrial_firms", "tax_wan", "tax_per_ha")
#: Indicators of the national evaluation the database cannot supply, with the reason.
NOT_AVAILABLE = {
    "land_development_rate": "需要开发区批准范围及其中已达到供地条件的土地面积，数据库未存",
    "land_supply_rate": "需要开发区批准范围内已供应的国有建设用地面积，数据库未存",
    "fixed_asset_investment_per_ha": "没有导入固定资产投资数据，无法计算工业用地固定资产投入强度",
}


def park_table(parcels: pd.DataFrame, holdings: pd.DataFrame, tax: pd.DataFrame
               ) -> pd.DataFrame:
    """One row per park (pure, vectorized).

    Parameters
    ----------
    parcels : DataFrame
        ``parcel_code``, ``park`` (parcels without a park are left out), ``area_m2``,
        ``industrial`` (bool), ``built_m2``, ``floor_area_m2`` (missing = nothing built).
    holdings : DataFrame
        ``credit_code``, ``parcel_code``: who holds which industrial parcel in the year.
    tax : DataFrame
        ``credit_code``, ``tax_wan``: the firms' tax of the year.

    Returns
    -------
    DataFrame
        :data:`COLUMNS`, by park name.
    """
    p = parcels[parcels["park"].notna()].assign(
        area_m2=lambda d: d["area_m2"].astype(float),
        built_m2=lambda d: d["built_m2"].astype(float).fillna(0.0),
        floor_area_m2=lambda d: d["floor_area_m2"].astype(float).fillna(0.0),
        industrial=lambda d: d["industrial"].astype(bool))
    ind = p[p["industrial"]]
    g, gi = p.groupby("park"), ind.groupby("park")
    out = pd.DataFrame({"parcels": g.size(), "land_m2": g["area_m2"].sum(),
                        "built_m2": g["built_m2"].sum(), "floor_m2": g["floor_area_m2"].sum()})
    out = out.join(pd.DataFrame({"ind_m2": gi["area_m2"].sum(),
                                 "ind_floor_m2": gi["floor_area_m2"].sum()}), how="left")
    out[["ind_m2", "ind_floor_m2"]] = out[["ind_m2", "ind_floor_m2"]].fillna(0.0)
    # each firm's tax shared among parks by the industrial land it holds in each
    h = holdings.drop_duplicates(["credit_code", "parcel_code"]).merge(
        ind[["parcel_code", "park", "area_m2"]], on="parcel_code")
    h = h.assign(weight=h["area_m2"] / h.groupby("credit_code")["area_m2"].transform("sum")
                 .where(lambda s: s > 0))
    t = tax.groupby("credit_code")["tax_wan"].sum(min_count=1)
    h = h.assign(tax_wan=h["credit_code"].map(t) * h["weight"])
    hp = h.groupby("park")
    out = out.join(pd.DataFrame({"industrial_firms": hp["credit_code"].nunique(),
                                 "tax_wan": hp["tax_wan"].sum(min_count=1)}), how="left")
    out["industrial_firms"] = out["industrial_firms"].fillna(0).astype(int)

    def ratio(num, den):
        return num / den.where(den > 0)

    out["land_ha"] = out["land_m2"] / HA_M2
    out["industrial_land_mu"] = out["ind_m2"] / SQM_PER_MU
    out["industrial_land_ha"] = out["ind_m2"] / HA_M2
    out["built_rate"] = ratio(out["built_m2"], out["land_m2"])
    out["far"] = ratio(out["floor_m2"], out["land_m2"])
    out["industrial_far"] = ratio(out["ind_floor_m2"], out["ind_m2"])
    out["tax_per_ha"] = ratio(out["tax_wan"], out["industrial_land_ha"])
    out.index.name = "park"
    out = out.reset_index().sort_values("park", kind="stable").reset_index(drop=True)
    return out[list(COLUMNS)].round(4)


def park_report(conn: psycopg.Connection, *, year: int) -> tuple[pd.DataFrame, dict]:
    """Read the parks' parcels, the year's occupancy run and tax; returns (table, info).

    Raises
    ------
    ScoreRunError
        No occupancy run with figures for ``year``, or no parcel with a park.
    """
    from gis.db.copy import read_frame
    from scoring.errors import ScoreRunError
    from scoring.land_tax import occupancy_run_of_year

    run_id = occupancy_run_of_year(conn, year)
    like = (INDUSTRIAL_LAND_USE[0] + "%", INDUSTRIAL_LAND_USE[1] + "%")
    parcels = read_frame(
        conn, "SELECT p.parcel_code, p.park, p.area_m2,"
        " (p.land_use_code LIKE %s OR p.land_use_code LIKE %s) AS industrial,"
        " o.built_m2, o.floor_area_m2 FROM parcel p LEFT JOIN occupancy o"
        " ON o.parcel_code = p.parcel_code AND o.run_id = %s WHERE p.park IS NOT NULL",
        (*like, run_id))
    if parcels.empty:
        raise ScoreRunError("没有标注所属园区的宗地；请在导入宗地时提供园区字段")
    parcels["industrial"] = parcels["industrial"].fillna(False).astype(bool)
    holdings = read_frame(
        conn, "SELECT trim(credit_code) AS credit_code, parcel_code FROM land_right"
        " WHERE (start_date IS NULL OR start_date <= make_date(%s, 12, 31))"
        " AND (end_date IS NULL OR end_date >= make_date(%s, 1, 1))", (year, year))
    tax = read_frame(conn, "SELECT trim(credit_code) AS credit_code, tax_wan"
                     " FROM enterprise_year WHERE year = %s", (year,))
    return park_table(parcels, holdings, tax), {"year": year, "occupancy_run": run_id,
                                                "not_available": dict(NOT_AVAILABLE)}
