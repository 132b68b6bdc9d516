"""``score summary``: land, tax, per-mu values and class counts per group.

Groups are how counties report: by town (镇街), district (区县), industry division (行业),
or park (园区 / 开发区, the parcel column the import recognises). An enterprise's park is
the park of most of its parcels. Per-mu values are totals over totals (Σ tax / Σ land), the
way county bulletins report them, not means of ratios.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from scoring.errors import ScoreRunError

if TYPE_CHECKING:
    import psycopg

GROUPS = {
    "town": "town",
    "district": "district",
    "industry": "industry_division",
    "park": "park",
}


def _has_park(conn: psycopg.Connection) -> bool:
    return conn.execute("SELECT 1 FROM information_schema.columns WHERE table_name = 'parcel'"
                        " AND column_name = 'park' AND table_schema = current_schema()"
                        ).fetchone() is not None


def summarize_run(conn: psycopg.Connection, *, by: str = "town", run_id: int | None = None,
                  year: int | None = None) -> pd.DataFrame:
    """One row per group of a score run.

    Columns: the group, ``enterprises``, ``evaluated``, ``land_mu``, ``tax_wan``,
    ``revenue_wan``, ``tax_per_mu``, ``revenue_per_mu``, ``mean_total`` and the counts
    ``A, B, C, D, T``.

    Raises
    ------
    ScoreRunError
        Unknown grouping, no run, or ``park`` without the parcel column.
    """
    from gis.crs import m2_to_mu
    from gis.db.copy import read_frame
    from scoring.store import resolve_score_run

    if by not in GROUPS:
        raise ScoreRunError(f"无法按「{by}」分组（--by）；可选：{'、'.join(GROUPS)}")
    run_id = resolve_score_run(conn, run_id, year)
    s = read_frame(conn, "SELECT trim(s.credit_code) AS credit_code, s.town, s.district,"
                   " s.industry_division, s.population, s.land_m2, s.total, s.class,"
                   " y.tax_wan, y.revenue_wan FROM enterprise_score s"
                   " LEFT JOIN enterprise_year y ON y.credit_code = s.credit_code"
                   " AND y.year = s.year WHERE s.run_id = %s", (run_id,))
    if by == "park":
        if not _has_park(conn):
            raise ScoreRunError("库中宗地没有园区字段；请先导入带「园区/开发区」列的宗地")
        parks = read_frame(conn, "SELECT trim(r.credit_code) AS credit_code,"
                           " mode() WITHIN GROUP (ORDER BY p.park) AS park"
                           " FROM land_right r JOIN parcel p USING (parcel_code)"
                           " WHERE p.park IS NOT NULL GROUP BY 1")
        s = s.merge(parks, on="credit_code", how="left")
    col = GROUPS[by]
    s[col] = s[col].fillna("(none)")
    s["land_mu"] = m2_to_mu(pd.to_numeric(s["land_m2"], errors="coerce").fillna(0.0))
    for c in ("tax_wan", "revenue_wan", "total"):
        s[c] = pd.to_numeric(s[c], errors="coerce")
    g = s.groupby(col, sort=True)
    out = pd.DataFrame({
        "enterprises": g.size(),
        "evaluated": g["population"].count(),
        "land_mu": g["land_mu"].sum(),
        "tax_wan": g["tax_wan"].sum(),
        "revenue_wan": g["revenue_wan"].sum(),
        "mean_total": g["total"].mean(),
    })
    out["tax_per_mu"] = out["tax_wan"] / out["land_mu"].where(out["land_mu"] > 0)
    out["revenue_per_mu"] = out["revenue_wan"] / out["land_mu"].where(out["land_mu"] > 0)
    counts = pd.crosstab(s[col], s["class"]).reindex(columns=list("ABCDT"), fill_value=0)
    out = out.join(counts).fillna({k: 0 for k in "ABCDT"})
    for k in "ABCDT":
        out[k] = out[k].astype(int)
    out.index.name = by
    return out.reset_index().round(4)
