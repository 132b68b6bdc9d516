"""Panel 亩均效益: per-mu tax, value added and revenue by year against the industry and town
averages (Σ figure ÷ Σ scored land of the evaluated firms of the same GB/T 4754 division or
town in that run), with the change since the year before.

The command line reads every evaluated firm's figures; the review app's role sees only the
figures of its own area, so it asks the database for the two sums
(``mujun_per_mu_sums``, migration 0029: with 'figures' and for a firm of the user's area).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from maps.enterprise_file.rows import clean

if TYPE_CHECKING:
    import psycopg

#: Per-mu figures of the file: (field in enterprise_year, label).
PER_MU = (("tax_wan", "亩均税收（万元/亩）"), ("value_added_wan", "亩均增加值（万元/亩）"),
          ("revenue_wan", "亩均营业收入（万元/亩）"))
_GROUPS = ("industry_division", "town")


def _sums_all(conn: psycopg.Connection, run_id: int, code: str) -> dict | None:
    """(group, field) → (Σ figure, Σ land m²) over every evaluated firm, and the firm's own
    (figures, land m²); None when the firm was not evaluated with land in the run."""
    from gis.db.copy import read_frame

    f = read_frame(conn, "SELECT trim(s.credit_code) AS credit_code, s.town,"
                   " s.industry_division, s.land_m2, y.tax_wan, y.value_added_wan,"
                   " y.revenue_wan FROM enterprise_score s JOIN enterprise_year y"
                   " ON y.credit_code = s.credit_code AND y.year = s.year"
                   " WHERE s.run_id = %s AND s.population IS NOT NULL AND s.land_m2 > 0",
                   (run_id,))
    me = f[f["credit_code"] == code]
    if not len(me):
        return None
    sums = {}
    for field, _label in PER_MU:
        vals = pd.to_numeric(f[field], errors="coerce")
        for grp in _GROUPS:
            has = (f[grp] == me[grp].iloc[0]) & vals.notna()
            sums[grp, field] = (float(vals[has].sum()), float(f.loc[has, "land_m2"].sum())) \
                if has.any() else None
    own = {field: clean(pd.to_numeric(me[field], errors="coerce").iloc[0]) for field, _ in PER_MU}
    return {"sums": sums, "own": own, "land_m2": float(me["land_m2"].iloc[0])}


def _sums_app(conn: psycopg.Connection, run_id: int, year: int, code: str,
              land_m2: float | None) -> dict | None:
    if not land_m2:
        return None
    own = conn.execute("SELECT tax_wan, value_added_wan, revenue_wan FROM enterprise_year"
                       " WHERE credit_code = %s AND year = %s", (code, year)).fetchone()
    if own is None:
        return None
    sums = {(g, f): (s, m) for g, f, s, m in conn.execute(
        "SELECT grp, field, figure_sum, land_m2_sum FROM mujun_per_mu_sums(%s, %s)",
        (run_id, code)).fetchall()}
    return {"sums": sums, "own": {field: clean(v) for (field, _), v in zip(PER_MU, own,
                                                                          strict=True)},
            "land_m2": float(land_m2)}


def per_mu(conn: psycopg.Connection, code: str, history: list[dict], *,
           app: bool = False) -> list[dict[str, Any]]:
    """The per-mu rows of ``code``, one per year of ``history`` it was evaluated with land."""
    from gis.crs import SQM_PER_MU

    out, before = [], {}
    for h in history:
        got = (_sums_app(conn, h["run_id"], h["year"], code, h.get("land_m2")) if app
               else _sums_all(conn, h["run_id"], code))
        if got is None:
            continue
        mu = got["land_m2"] / SQM_PER_MU
        row = {"year": h["year"], "run_id": h["run_id"], "land_mu": round(mu, 4)}
        for field, label in PER_MU:
            value = got["own"][field]
            mine = None if value is None else value / mu
            avg = {}
            for grp in _GROUPS:
                s = got["sums"].get((grp, field))
                avg[grp] = None if not s or not s[1] else round(s[0] / (s[1] / SQM_PER_MU), 4)
            prev = before.get(field)
            row[field.replace("_wan", "_per_mu")] = {
                "label": label, "value": None if mine is None else round(mine, 4),
                "industry_average": avg["industry_division"], "town_average": avg["town"],
                "change": None if prev is None or mine is None else round(mine - prev, 4)}
            before[field] = mine
        out.append(row)
    return out
