"""One file per enterprise (一企一档): everything stored about one firm, gathered for
``mujun enterprise show`` (and, later, its sheet and the review app's page).

Panels: the header (name, code, status, town, park, GB/T 4754 division with its name,
规上/规下, tags); the class history by data year (the latest score run of each year:
total, initial and adjusted class with the reason, ranks in county, town and industry,
the rule set); per-mu figures by year against the industry and town averages (Σ figure /
Σ scored land of the evaluated firms) with the change since the year before; the land
held, leased in and leased out, with certificate and measured area and, from the latest
occupancy run, built area, coverage and FAR; warnings (verification items, open and
closed); land-status candidates on its parcels.

Every read goes through the caller's connection, so the database decides what the user
may see (the command line's owner role reads everything; the review app's restricted role
is not granted these tables as a whole and cannot use this module as it is). Nothing here
computes a score.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from gis.errors import DataError

if TYPE_CHECKING:
    import psycopg

#: Per-mu figures of the file: (field in enterprise_year, label).
PER_MU = (("tax_wan", "亩均税收（万元/亩）"), ("value_added_wan", "亩均增加值（万元/亩）"),
          ("revenue_wan", "亩均营业收入（万元/亩）"))



def _clean(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, float) and value != value:
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "item"):
        return value.item()
    return value.strip() if isinstance(value, str) else value


def _rows(cur) -> list[dict[str, Any]]:
    names = [d.name for d in cur.description]
    return [{k: _clean(v) for k, v in zip(names, r, strict=True)} for r in cur.fetchall()]


def _header(conn: psycopg.Connection, code: str) -> dict[str, Any]:
    from parcels.industry import divisions_2017
    from parcels.vocabulary import ENTERPRISE_STATUS, SIZES
    from scoring.inputs import industry_division

    rows = _rows(conn.execute(
        "SELECT trim(credit_code) AS credit_code, name, industry_code, industry_version,"
        " size_class, town, status, established_date, deregistered_date, is_utility"
        " FROM enterprise WHERE credit_code = %s", (code,)))
    if not rows:
        raise DataError(f"enterprise {code} is not in the database; check the code or import "
                        "it with `mujun import enterprises`")
    h = rows[0]
    div = industry_division(pd.Series([h["industry_code"]]),
                            pd.Series([h["industry_version"]])).iloc[0]
    h["industry_division"] = div
    h["industry_name"] = divisions_2017().get(div) if div else None
    h["size"] = SIZES.label(h["size_class"]) or "未知"
    h["status_label"] = ENTERPRISE_STATUS.label(h["status"])
    park = conn.execute("SELECT mode() WITHIN GROUP (ORDER BY p.park) FROM land_right r"
                        " JOIN parcel p USING (parcel_code) WHERE r.credit_code = %s"
                        " AND p.park IS NOT NULL", (code,)).fetchone()
    h["park"] = park[0] if park else None
    return h


def _history(conn: psycopg.Connection, code: str) -> list[dict[str, Any]]:
    rows = _rows(conn.execute(
        "WITH runs AS (SELECT DISTINCT ON ((params->>'year')::int) run_id,"
        "   (params->>'year')::int AS year, params->>'ruleset' AS ruleset FROM run"
        "   WHERE kind = 'score' AND status = 'done'"
        "   ORDER BY (params->>'year')::int, finished_at DESC, run_id DESC),"
        " adj AS (SELECT DISTINCT ON (year) year, class, reason, decided_by, approved_by"
        "   FROM class_override WHERE credit_code = %s ORDER BY year, override_id DESC)"
        " SELECT r.year, r.run_id, r.ruleset, s.population, s.total, s.class AS initial_class,"
        " a.class AS adjusted_class, a.reason AS adjustment_reason,"
        " a.decided_by AS adjusted_by, a.approved_by AS adjustment_approved_by,"
        " s.rank_county, s.rank_town, s.rank_industry, s.land_m2, s.rules_fired"
        " FROM runs r JOIN enterprise_score s ON s.run_id = r.run_id AND s.credit_code = %s"
        " LEFT JOIN adj a ON a.year = r.year ORDER BY r.year", (code, code)))
    for r in rows:
        r["final_class"] = r["adjusted_class"] or r["initial_class"]
        fired = r.pop("rules_fired") or []
        r["tags"] = sorted({f.get("rule") for f in fired
                            if f.get("rule") in ("veto", "class_t", "protection")})
    return rows


def _per_mu(conn: psycopg.Connection, code: str, history: list[dict]) -> list[dict[str, Any]]:
    from gis.crs import m2_to_mu
    from gis.db.copy import read_frame

    out, before = [], {}
    for h in history:
        f = read_frame(conn, "SELECT trim(s.credit_code) AS credit_code, s.town,"
                       " s.industry_division, s.land_m2, y.tax_wan, y.value_added_wan,"
                       " y.revenue_wan FROM enterprise_score s JOIN enterprise_year y"
                       " ON y.credit_code = s.credit_code AND y.year = s.year"
                       " WHERE s.run_id = %s AND s.population IS NOT NULL AND s.land_m2 > 0",
                       (h["run_id"],))
        f["mu"] = m2_to_mu(f["land_m2"].astype("float64"))
        me = f[f["credit_code"] == code]
        if not len(me):
            continue
        row = {"year": h["year"], "run_id": h["run_id"], "land_mu": round(float(me["mu"].iloc[0]), 4)}
        for field, label in PER_MU:
            mine = pd.to_numeric(me[field], errors="coerce").iloc[0] / me["mu"].iloc[0]
            vals = pd.to_numeric(f[field], errors="coerce")
            avg = {}
            for grp in ("industry_division", "town"):
                sel = f[grp] == me[grp].iloc[0]
                has = sel & vals.notna()
                avg[grp] = vals[has].sum() / f.loc[has, "mu"].sum() if has.any() else None
            prev = before.get(field)
            row[field.replace("_wan", "_per_mu")] = {
                "label": label, "value": _clean(round(float(mine), 4)),
                "industry_average": _clean(None if avg["industry_division"] is None
                                           else round(float(avg["industry_division"]), 4)),
                "town_average": _clean(None if avg["town"] is None
                                       else round(float(avg["town"]), 4)),
                "change": None if prev is None or mine != mine else round(float(mine - prev), 4)}
            before[field] = mine if mine == mine else None
        out.append(row)
    return out


def _land(conn: psycopg.Connection, code: str) -> list[dict[str, Any]]:
    return _rows(conn.execute(
        "WITH occ AS (SELECT run_id FROM run WHERE kind = 'occupancy' AND status = 'done'"
        "   ORDER BY finished_at DESC, run_id DESC LIMIT 1),"
        " mine AS (SELECT parcel_code, right_type, share, leased_land_m2, leased_floor_m2,"
        "   start_date, end_date, NULL::text AS tenant FROM land_right WHERE credit_code = %s"
        "   UNION ALL"
        "   SELECT t.parcel_code, 'leased_out', NULL, t.leased_land_m2, t.leased_floor_m2,"
        "   t.start_date, t.end_date, trim(t.credit_code) FROM land_right t"
        "   JOIN land_right o ON o.parcel_code = t.parcel_code AND o.credit_code = %s"
        "   AND o.right_type = 'owner' WHERE t.right_type = 'tenant' AND t.credit_code <> %s)"
        " SELECT m.parcel_code, m.right_type, m.share, m.leased_land_m2, m.leased_floor_m2,"
        " m.start_date, m.end_date, m.tenant, p.land_use_code, p.town, p.park,"
        " p.cert_area_m2, p.area_m2 AS measured_m2, o.built_m2, o.coverage, o.far"
        " FROM mine m LEFT JOIN parcel p USING (parcel_code)"
        " LEFT JOIN occupancy o ON o.parcel_code = m.parcel_code"
        "   AND o.run_id = (SELECT run_id FROM occ)"
        " ORDER BY array_position(ARRAY['owner', 'tenant', 'leased_out'], m.right_type),"
        " m.parcel_code", (code, code, code)))


def enterprise_file(conn: psycopg.Connection, credit_code: str) -> dict[str, Any]:
    """The file of one enterprise (panels in the module docstring) as plain data.

    Raises
    ------
    DataError
        The credit code is not in the database.
    """
    from parcels.codes import normalize_credit_code
    from parcels.vocabulary import RIGHT_ROLES, VERIFICATION_STATUS
    from scoring.land_status.vocabulary import KINDS, STATUSES

    code = normalize_credit_code(credit_code)
    header = _header(conn, code)
    history = _history(conn, code)
    land = _land(conn, code)
    for r in land:
        r["right"] = RIGHT_ROLES.label(r["right_type"])
    warnings = _rows(conn.execute(
        "SELECT item_id, kind, status, detail->>'problem' AS problem, detail->>'year' AS year,"
        " created_at, resolved_at FROM verification_item WHERE trim(credit_code) = %s"
        " ORDER BY status = 'open' DESC, created_at DESC", (code,)))
    for w in warnings:
        w["status_label"] = VERIFICATION_STATUS.label(w["status"])
    parcels = sorted({r["parcel_code"] for r in land})
    candidates = _rows(conn.execute(
        "SELECT candidate_id, parcel_code, kind, status, area_m2, reclaimable_m2, priority,"
        " updated_at FROM candidate WHERE parcel_code = ANY(%s) ORDER BY candidate_id",
        (parcels,))) if parcels else []
    for c in candidates:
        c["kind_label"], c["status_label"] = KINDS.label(c["kind"]), STATUSES.label(c["status"])
    return {"header": header, "history": history, "per_mu": _per_mu(conn, code, history),
            "land": land, "warnings": warnings, "candidates": candidates}


def _n(v, digits: int = 1) -> str:
    return "-" if v is None else f"{v:,.{digits}f}"


def file_text(rec: dict[str, Any]) -> str:
    """The file for a terminal, in Chinese."""
    h = rec["header"]
    tags = [h["size"]] + (["公用事业"] if h["is_utility"] else [])
    lines = [f"{h['name']}（{h['credit_code']}）", f"  状态 {h['status_label']}，镇街 {h['town'] or '-'}，"
             f"园区 {h['park'] or '-'}，行业 {h['industry_division'] or '-'} "
             f"{h['industry_name'] or ''}，{'、'.join(tags)}", "", "历年评价（每年最新一次评价运行）："]
    if not rec["history"]:
        lines.append("  无（尚未评价）")
    for r in rec["history"]:
        adj = (f"，调档为 {r['adjusted_class']}（{r['adjustment_reason']}，{r['adjusted_by']}）"
               if r["adjusted_class"] else "")
        lines.append(f"  {r['year']}年 运行 {r['run_id']}（{r['ruleset']}）：总分 {_n(r['total'], 2)}，"
                     f"评价档次 {r['initial_class'] or '未评价'}{adj}；排名 全县 "
                     f"{r['rank_county'] or '-'}、镇街 {r['rank_town'] or '-'}、行业 "
                     f"{r['rank_industry'] or '-'}")
    lines += ["", "亩均效益（本企业 / 行业平均 / 镇街平均，较上年变化）："]
    for r in rec["per_mu"]:
        parts = [f"{v['label']} {_n(v['value'], 2)} / {_n(v['industry_average'], 2)} / "
                 f"{_n(v['town_average'], 2)}" + (f"（{v['change']:+.2f}）" if v["change"]
                                                  is not None else "")
                 for k, v in r.items() if isinstance(v, dict)]
        lines.append(f"  {r['year']}年（用地 {_n(r['land_mu'], 2)} 亩）：" + "；".join(parts))
    lines += ["", "土地（证载面积 / 实测面积，平方米；建筑占地、建筑系数、容积率为最近一次用地核算）："]
    for r in rec["land"]:
        who = f" 承租方 {r['tenant']}" if r["tenant"] else ""
        lines.append(f"  {r['right']} {r['parcel_code']}{who}：{_n(r['cert_area_m2'])} / "
                     f"{_n(r['measured_m2'])}，建筑占地 {_n(r['built_m2'])}，建筑系数 "
                     f"{_n(r['coverage'], 2)}，容积率 {_n(r['far'], 2)}")
    lines += ["", f"数据核查提示 {len(rec['warnings'])} 条："]
    lines += [f"  [{w['status_label']}] {w['problem'] or w['kind']}" for w in rec["warnings"]]
    lines += ["", f"宗地上的土地状态线索 {len(rec['candidates'])} 条："]
    lines += [f"  {c['parcel_code']} {c['kind_label']}（{c['status_label']}）"
              for c in rec["candidates"]]
    return "\n".join(lines)
