"""``score rank``: towns, districts, parks or industries ranked by tax per mu, with coverage.

An area can look good by leaving firms out: a town that evaluates only its best firms has
a high tax per mu. So each row carries its **coverage** beside the per-mu figures:

* firms evaluated / firms holding industrial land (a land right in force in the run's
  year on a parcel whose land use is industrial, GB/T 21010 ``0601``, or ``061`` of the
  2007 edition);
* land evaluated / industrial land (mu): the area of the industrial parcels that an
  evaluated firm holds, over the area of all industrial parcels.

Per-mu figures are totals over totals of the evaluated firms (Σ tax / Σ land), as county
bulletins report them; class shares are of the evaluated firms, by final class (an
adjustment in force wins). Pure kernel :func:`rank_table`; :func:`rank_run` reads.

Examples
--------
>>> import pandas as pd
>>> scores = pd.DataFrame({"group": ["东城", "东城", "西城"], "evaluated": [True, True, True],
...     "land_mu": [10.0, 10.0, 5.0], "tax_wan": [30.0, 10.0, 25.0],
...     "value_added_wan": [1.0, 1.0, 1.0], "revenue_wan": [9.0, 9.0, 9.0],
...     "final_class": ["A", "C", "A"]})
>>> holders = pd.DataFrame({"group": ["东城"] * 4 + ["西城"], "credit_code": list("abcde")})
>>> parcels = pd.DataFrame({"group": ["东城", "东城", "西城"], "area_mu": [20.0, 20.0, 5.0],
...                         "evaluated": [True, False, True]})
>>> t = rank_table(scores, holders, parcels)
>>> t[["group", "rank", "tax_per_mu", "firm_coverage", "land_coverage"]].values.tolist()
[['西城', 1, 5.0, 1.0, 1.0], ['东城', 2, 2.0, 0.5, 0.5]]
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from scoring.errors import ScoreRunError

if TYPE_CHECKING:
    import psycopg

#: Groupings and the score-row column each uses.
GROUPS = {"town": "town", "district": "district", "industry": "industry_division",
          "park": "park"}
#: Land-use code prefixes of industrial land (GB/T 21010-2017 0601; 2007 edition 061).
INDUSTRIAL_LAND_USE = ("0601", "061")
_SHARES = ("A", "B", "C", "D", "T")
COLUMNS = ("group", "rank", "evaluated", "land_holders", "firm_coverage", "land_evaluated_mu",
           "industrial_land_mu", "land_coverage", "land_mu", "tax_wan", "value_added_wan", "revenue_wan",
           "tax_per_mu", "value_added_per_mu", "revenue_per_mu",
           *(f"share_{k}" for k in _SHARES))


def _ratio(num: pd.Series, den: pd.Series) -> pd.Series:
    return num / den.where(den > 0)


def rank_table(scores: pd.DataFrame, holders: pd.DataFrame, parcels: pd.DataFrame
               ) -> pd.DataFrame:
    """One row per group, ranked by tax per mu (pure).

    Parameters
    ----------
    scores : DataFrame
        One row per firm of the run: ``group``, ``evaluated`` (bool), ``land_mu``,
        ``tax_wan``, ``value_added_wan``, ``revenue_wan``, ``final_class``.
    holders : DataFrame
        ``group``, ``credit_code``: firms holding industrial land in the group (a firm
        holding land in two groups counts in each).
    parcels : DataFrame
        ``group``, ``area_mu``, ``evaluated`` (an evaluated firm holds it): the
        industrial parcels.

    Returns
    -------
    DataFrame
        :data:`COLUMNS`; groups without a per-mu figure rank last.
    """
    s = scores.assign(group=scores["group"].fillna("(none)"))
    ev = s[s["evaluated"].astype(bool)]
    g = ev.groupby("group")
    out = pd.DataFrame({
        "evaluated": g.size(),
        "land_mu": g["land_mu"].sum(),
        **{c: g[c].sum(min_count=1) for c in ("tax_wan", "value_added_wan", "revenue_wan")}})
    held = holders.assign(group=holders["group"].fillna("(none)")).drop_duplicates(
        ["group", "credit_code"]).groupby("group").size().rename("land_holders")
    pg = parcels.assign(group=parcels["group"].fillna("(none)"),
                        held_mu=parcels["area_mu"].where(parcels["evaluated"].astype(bool),
                                                         0.0)).groupby("group")
    land = pd.DataFrame({"industrial_land_mu": pg["area_mu"].sum(),
                         "land_evaluated_mu": pg["held_mu"].sum()})
    out = out.join(held, how="outer").join(land, how="outer")
    out["evaluated"] = out["evaluated"].fillna(0).astype(int)
    out["land_holders"] = out["land_holders"].fillna(0).astype(int)
    out["land_evaluated_mu"] = out["land_evaluated_mu"].fillna(0.0)
    out["land_mu"] = out["land_mu"].fillna(0.0)
    out["industrial_land_mu"] = out["industrial_land_mu"].fillna(0.0)
    out["firm_coverage"] = _ratio(out["evaluated"].astype(float), out["land_holders"])
    out["land_coverage"] = _ratio(out["land_evaluated_mu"], out["industrial_land_mu"])
    for c, per in (("tax_wan", "tax_per_mu"), ("value_added_wan", "value_added_per_mu"),
                   ("revenue_wan", "revenue_per_mu")):
        out[per] = _ratio(out[c], out["land_mu"])
    classes = pd.Categorical(ev["final_class"], categories=_SHARES)
    counts = pd.crosstab(ev["group"], classes, dropna=False) if len(ev) else \
        pd.DataFrame(columns=list(_SHARES))
    counts = counts.reindex(index=out.index, columns=list(_SHARES), fill_value=0).fillna(0)
    for k in _SHARES:
        out[f"share_{k}"] = _ratio(counts[k].astype(float), out["evaluated"].astype(float))
    out.index.name = "group"
    out = out.reset_index()
    key = out["tax_per_mu"].fillna(-np.inf).to_numpy()
    order = np.lexsort((out["group"].astype(str).to_numpy(), -key))
    out = out.iloc[order].reset_index(drop=True)
    out["rank"] = np.arange(1, len(out) + 1)
    return out[list(COLUMNS)].round(4)


def rank_run(conn: psycopg.Connection, *, by: str = "town", run_id: int | None = None,
             year: int | None = None) -> tuple[pd.DataFrame, dict]:
    """Rank the groups of a score run (:func:`rank_table`); returns (table, run info).

    Raises
    ------
    ScoreRunError
        Unknown grouping or no such run.
    """
    from gis.crs import m2_to_mu
    from gis.db.copy import read_frame
    from scoring.inputs import industry_division
    from scoring.overrides import effective_overrides
    from scoring.store import resolve_score_run, run_params

    if by not in GROUPS:
        raise ScoreRunError(f"无法按「{by}」排名（--by）；可选：{'、'.join(GROUPS)}")
    run_id = resolve_score_run(conn, run_id, year)
    params = run_params(conn, run_id)["params"]
    year = int(params["year"])
    s = read_frame(conn, "SELECT trim(s.credit_code) AS credit_code, s.town, s.district,"
                   " s.industry_division, s.population IS NOT NULL AS evaluated, s.land_m2,"
                   " s.class, y.tax_wan, y.value_added_wan, y.revenue_wan"
                   " FROM enterprise_score s LEFT JOIN enterprise_year y"
                   " ON y.credit_code = s.credit_code AND y.year = s.year"
                   " WHERE s.run_id = %s", (run_id,))
    ov = effective_overrides(conn, run_id)
    adjusted = s["credit_code"].map(ov.set_index("credit_code")["adjusted_class"]) \
        if len(ov) else pd.Series(None, index=s.index, dtype=object)
    s["final_class"] = adjusted.where(adjusted.notna(), s["class"])
    s["land_mu"] = m2_to_mu(pd.to_numeric(s["land_m2"], errors="coerce").fillna(0.0))
    held = read_frame(
        conn, "SELECT trim(r.credit_code) AS credit_code, r.parcel_code, r.right_type,"
        " r.share, coalesce(e.town, p.town) AS town, p.district, p.park, e.industry_code,"
        " e.industry_version, p.area_m2"
        " FROM land_right r JOIN parcel p USING (parcel_code)"
        " LEFT JOIN enterprise e ON e.credit_code = r.credit_code"
        " WHERE (p.land_use_code LIKE %s OR p.land_use_code LIKE %s)"
        " AND (r.start_date IS NULL OR r.start_date <= make_date(%s, 12, 31))"
        " AND (r.end_date IS NULL OR r.end_date >= make_date(%s, 1, 1))",
        (INDUSTRIAL_LAND_USE[0] + "%", INDUSTRIAL_LAND_USE[1] + "%", year, year))
    held["industry_division"] = industry_division(held["industry_code"],
                                                  held["industry_version"]) \
        if len(held) else pd.Series(dtype=object)
    parcels = read_frame(
        conn, "SELECT parcel_code, town, district, park, area_m2 FROM parcel"
        " WHERE land_use_code LIKE %s OR land_use_code LIKE %s",
        (INDUSTRIAL_LAND_USE[0] + "%", INDUSTRIAL_LAND_USE[1] + "%"))
    parcels["area_mu"] = m2_to_mu(parcels["area_m2"].astype("float64"))
    scored = set(s.loc[s["evaluated"].astype(bool), "credit_code"])
    parcels["evaluated"] = parcels["parcel_code"].isin(
        held.loc[held["credit_code"].isin(scored), "parcel_code"])
    col = GROUPS[by]
    if by == "park":
        parks = held.dropna(subset=["park"]).groupby("credit_code")["park"].agg(
            lambda v: v.mode().iloc[0])
        s["park"] = s["credit_code"].map(parks)
    elif by == "industry":
        # an industrial parcel belongs to the industry of its main holder
        main = held.assign(owner=held["right_type"] == "owner",
                           sh=held["share"].fillna(1.0)).sort_values(
            ["parcel_code", "owner", "sh", "credit_code"], ascending=[True, False, False, True])
        main = main.drop_duplicates("parcel_code").set_index("parcel_code")["industry_division"]
        parcels["industry_division"] = parcels["parcel_code"].map(main)
    table = rank_table(s.assign(group=s[col]), held.assign(group=held[col]),
                       parcels.assign(group=parcels[col]))
    if by == "industry":
        from parcels.industry import divisions_2017

        table.insert(1, "group_name", table["group"].astype(str).map(divisions_2017()))
    return table, {"run_id": run_id, "ruleset": params.get("ruleset"), "year": year, "by": by}


def rank_text(table: pd.DataFrame, info: dict) -> str:
    """The ranking for a terminal: Chinese headers from :mod:`scoring.vocabulary`."""
    from scoring.vocabulary import FIELDS

    by = {"town": "镇街", "district": "区县", "industry": "行业大类", "park": "园区"}[info["by"]]
    lines = [f"运行 {info['run_id']}（{info['ruleset']}，{info['year']}年）按{by}排名，"
             "亩均值为参评企业合计（税收合计 ÷ 用地合计），档次为最终档次（含调档）",
             f"{'排名':>4} {by:<10}{'亩均税收':>8}{'亩均增加值':>8}{'亩均营收':>8}{'参评/持地(家)':>14}"
             f"{'企业覆盖':>8}{'参评/全部工业用地(亩)':>18}{'用地覆盖':>8}  A/B/C/D/T 占比"]
    for r in table.to_dict("records"):
        shares = "/".join("-" if r[f"share_{k}"] is None or r[f"share_{k}"] != r[f"share_{k}"]
                          else f"{r[f'share_{k}']:.0%}" for k in _SHARES)
        group = "（未填）" if r["group"] == "(none)" else r["group"]
        name = f"{group} {r['group_name']}" if r.get("group_name") else str(group)
        lines.append(f"{r['rank']:>4} {name:<10}{_n(r['tax_per_mu']):>10}"
                     f"{_n(r['value_added_per_mu']):>10}{_n(r['revenue_per_mu']):>10}"
                     f"{r['evaluated']:>8,}/{r['land_holders']:<6,}{_p(r['firm_coverage']):>8}"
                     f"{_n(r['land_evaluated_mu']):>10}/{_n(r['industrial_land_mu']):<9}"
                     f"{_p(r['land_coverage']):>8}  {shares}")
    lines.append("列：" + "、".join(FIELDS.label(c) for c in ("firm_coverage", "land_coverage")))
    return "\n".join(lines)


def _n(v) -> str:
    return "-" if v is None or v != v else f"{v:,.1f}"


def _p(v) -> str:
    return "-" if v is None or v != v else f"{v:.1%}"
