"""``score export``: one row per enterprise of a score run as CSV, XLSX or GeoPackage.

Columns: identity, population, land (m², mu), every indicator value, every item score,
bonus/penalty, total, class, ranks, the previous year's total and class and the change,
the class-T reason, the occupancy run and the score run. XLSX uses Chinese headers
(:data:`HEADERS_ZH`); the GeoPackage puts each enterprise on each of its parcels (one
feature per enterprise and parcel, with the right type). Files are written atomically
and never replace an existing file without ``overwrite``.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from gis.errors import ConfigError

if TYPE_CHECKING:
    import psycopg

log = logging.getLogger(__name__)

FORMATS = (".csv", ".xlsx", ".gpkg")

HEADERS_ZH = {
    "run_id": "评价批次", "year": "年度", "ruleset": "评价办法", "credit_code": "统一社会信用代码",
    "name": "企业名称", "town": "乡镇街道", "district": "区县", "industry_division": "行业大类",
    "population": "评价类别", "land_m2": "用地面积(平方米)", "land_mu": "用地面积(亩)",
    "total": "综合得分", "class": "评价等级", "rank_county": "全县排名", "rank_town": "镇街排名",
    "rank_industry": "行业排名", "prev_total": "上年得分", "prev_class": "上年等级",
    "change": "得分变化", "class_t_reason": "暂不评价原因", "adjustments": "加减分及否决",
    "occupancy_run": "用地核算批次", "parcel_code": "宗地代码", "right_type": "权利类型",
}


def _rules_of(rules: list, kind: str) -> str:
    return "; ".join(str(r.get("detail")) for r in rules if r.get("rule") == kind)


def score_table(conn: psycopg.Connection, run_id: int) -> pd.DataFrame:
    """The flat per-enterprise table of a run (indicator and item columns included)."""
    from gis.crs import m2_to_mu
    from scoring.store import load_scores

    s = load_scores(conn, run_id)
    if not len(s):
        return s
    out = s[["run_id", "year", "ruleset", "credit_code", "name", "town", "district",
             "industry_division", "population", "land_m2"]].copy()
    out["land_mu"] = m2_to_mu(s["land_m2"].astype("float64"))
    ind = pd.DataFrame(list(s["indicators"].map(lambda d: d or {})), index=s.index)
    for col in ind.columns:
        out[col] = pd.to_numeric(ind[col], errors="coerce")
    names = sorted({k for d in s["items"] if d for k in d})
    for name in names:
        out[f"score_{name}"] = s["items"].map(
            lambda d, n=name: (d or {}).get(n, {}).get("score")).astype("float64")
    for col in ("total", "class", "rank_county", "rank_town", "rank_industry", "prev_total",
                "prev_class"):
        out[col] = s[col]
    out["change"] = s["total"].astype("float64") - s["prev_total"].astype("float64")
    out["class_t_reason"] = s["rules_fired"].map(lambda r: _rules_of(r or [], "class_t"))
    out["adjustments"] = s["rules_fired"].map(
        lambda r: "; ".join(x for x in (_rules_of(r or [], "adjustment"),
                                        _rules_of(r or [], "veto")) if x))
    out["occupancy_run"] = s["occupancy_run"]
    return out


def _labels(conn: psycopg.Connection, run_id: int) -> dict[str, str]:
    """Chinese headers for indicator and item columns, from the run's stored items."""
    labels: dict[str, str] = {}
    rows = conn.execute("SELECT items FROM enterprise_score WHERE run_id = %s"
                        " AND items <> '{}'::jsonb LIMIT 50", (run_id,)).fetchall()
    for (items,) in rows:
        for name, it in items.items():
            label = it.get("label") or name
            labels[name] = f"{label}({it.get('unit', '')})"
            labels[f"score_{name}"] = f"{label}得分"
    return labels


def export_scores(conn: psycopg.Connection, path: str | Path, *, run_id: int | None = None,
                  year: int | None = None, overwrite: bool = False) -> dict:
    """Write a score run (default: the latest, of ``year`` when given).

    Parameters
    ----------
    conn : psycopg.Connection
    path : str or Path
        ``.csv`` (UTF-8 with BOM), ``.xlsx`` (Chinese headers) or ``.gpkg`` (layer
        ``scores``: one feature per enterprise and parcel).
    run_id, year : int, optional
    overwrite : bool

    Returns
    -------
    dict
        ``{"path", "run_id", "rows"}``.
    """
    from gis.atomic import atomic_output
    from scoring.store import resolve_score_run

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise ConfigError(f"{path}: scores can be written as {', '.join(FORMATS)}; change the "
                          "file name's extension")
    run_id = resolve_score_run(conn, run_id, year)
    table = score_table(conn, run_id)
    if suffix == ".gpkg":
        return _export_gpkg(conn, table, path, run_id, overwrite)
    with atomic_output(path, overwrite=overwrite) as tmp:
        if suffix == ".csv":
            table.to_csv(tmp, index=False, encoding="utf-8-sig")
        else:
            labels = {**HEADERS_ZH, **_labels(conn, run_id)}
            table.rename(columns=lambda c: labels.get(c, c)).to_excel(
                tmp, index=False, sheet_name="亩均评价", engine="openpyxl")
    log.info("wrote %d enterprises of score run %d to %s", len(table), run_id, path)
    return {"path": str(path), "run_id": run_id, "rows": len(table)}


def _export_gpkg(conn: psycopg.Connection, table: pd.DataFrame, path: Path, run_id: int,
                 overwrite: bool) -> dict:
    from gis.db.copy import read_frame
    from gis.vector_io import write_vector

    occ_year = conn.execute(
        "SELECT coalesce((r.params->>'year')::int, s.year) FROM enterprise_score s"
        " LEFT JOIN run r ON r.run_id = s.occupancy_run WHERE s.run_id = %s LIMIT 1",
        (run_id,)).fetchone()
    y = occ_year[0] if occ_year else None
    parcels = read_frame(
        conn, "SELECT DISTINCT ON (trim(r.credit_code), r.parcel_code) trim(r.credit_code)"
        " AS credit_code, r.parcel_code, r.right_type, p.geom"
        " FROM land_right r JOIN parcel p USING (parcel_code)"
        " JOIN enterprise_score s ON s.credit_code = r.credit_code AND s.run_id = %s"
        " WHERE (r.start_date IS NULL OR r.start_date <= make_date(%s, 12, 31))"
        " AND (r.end_date IS NULL OR r.end_date >= make_date(%s, 1, 1))"
        " ORDER BY trim(r.credit_code), r.parcel_code, r.right_type",
        (run_id, y, y))
    if not len(parcels) or not hasattr(parcels, "geometry"):
        raise ConfigError(f"score run {run_id} has no enterprise on a parcel to map; write "
                          ".csv or .xlsx instead")
    gdf = parcels.merge(table, on="credit_code", how="inner")
    for col in gdf.columns:
        if gdf[col].dtype == object and col != "geom":
            gdf[col] = gdf[col].map(lambda v: json.dumps(v, ensure_ascii=False)
                                    if isinstance(v, (dict, list)) else v)
    for col in ("rank_county", "rank_town", "rank_industry", "occupancy_run"):
        if col in gdf:
            gdf[col] = pd.to_numeric(gdf[col], errors="coerce").astype("float64")
            gdf[col] = gdf[col].where(np.isfinite(gdf[col]))
    import geopandas as gpd

    gdf = gpd.GeoDataFrame(gdf, geometry="geom", crs=parcels.crs)
    write_vector(gdf, path, layer="scores", overwrite=overwrite)
    log.info("wrote %d enterprise parcels of score run %d to %s", len(gdf), run_id, path)
    return {"path": str(path), "run_id": run_id, "rows": len(gdf)}
