"""``score explain``: why an enterprise got its class, from what the run stored.

Everything comes from the stored row (indicator values, item scores with benchmark,
weight and rule, the rules that fired) plus the enterprise's parcels and rights for the
occupancy year, so an explanation always matches the run, even after the rule set or
the data changed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scoring.errors import ScoreRunError

if TYPE_CHECKING:
    import psycopg


def explain(conn: psycopg.Connection, credit_code: str, *, year: int | None = None,
            run_id: int | None = None) -> dict[str, Any]:
    """The stored score of one enterprise with its items, rules and land.

    Raises
    ------
    ScoreRunError
        No score run, or the enterprise is not in it.
    """
    from parcels.codes import normalize_credit_code
    from scoring.store import resolve_score_run, run_params

    code = normalize_credit_code(credit_code)
    run_id = resolve_score_run(conn, run_id, year)
    cur = conn.execute(
        "SELECT credit_code, year, ruleset, population, name, town, district, industry_division,"
        " land_m2, total, class, rank_county, rank_town, rank_industry, indicators, items,"
        " rules_fired, occupancy_run, prev_run, prev_total, prev_class"
        " FROM enterprise_score WHERE run_id = %s AND credit_code = %s", (run_id, code))
    names = [d.name for d in cur.description]
    row = cur.fetchone()
    if row is None:
        raise ScoreRunError(f"enterprise {code} is not in score run {run_id} (no records for "
                            "the year and no land in its occupancy run?)")
    rec = dict(zip(names, row, strict=True))
    rec["credit_code"] = rec["credit_code"].strip()
    rec["run_id"] = run_id
    occ = rec["occupancy_run"]
    occ_params = run_params(conn, occ)["params"] if occ else {}
    occ_year = occ_params.get("year", rec["year"])
    land = conn.execute(
        "SELECT r.parcel_code, r.right_type, r.share, r.leased_land_m2, r.leased_floor_m2,"
        " p.area_m2, p.cert_area_m2, p.town, p.supply_date"
        " FROM land_right r LEFT JOIN parcel p USING (parcel_code)"
        " WHERE r.credit_code = %s"
        " AND (r.start_date IS NULL OR r.start_date <= make_date(%s, 12, 31))"
        " AND (r.end_date IS NULL OR r.end_date >= make_date(%s, 1, 1))"
        " ORDER BY r.parcel_code", (code, occ_year, occ_year)).fetchall()
    el = conn.execute("SELECT land_m2, built_m2, floor_area_m2, n_parcels, role, merged_into"
                      " FROM enterprise_land WHERE run_id = %s AND credit_code = %s"
                      " AND year = %s", (occ, code, occ_year)).fetchone() if occ else None
    rec["land"] = {
        "occupancy_run": occ, "year": occ_year,
        "tenant_rule": occ_params.get("tenant_rule"), "area_basis": occ_params.get("area_basis"),
        "allocated": None if el is None else {
            "land_m2": el[0], "built_m2": el[1], "floor_area_m2": el[2], "n_parcels": el[3],
            "role": el[4], "merged_into": el[5].strip() if el[5] else None},
        "parcels": [{"parcel_code": r[0], "right_type": r[1], "share": r[2],
                     "leased_land_m2": r[3], "leased_floor_m2": r[4], "area_m2": r[5],
                     "cert_area_m2": r[6], "town": r[7],
                     "supply_date": r[8].isoformat() if r[8] else None} for r in land],
    }
    rec["change"] = None if rec["prev_total"] is None or rec["total"] is None \
        else rec["total"] - rec["prev_total"]
    from scoring.overrides import override_history

    history = override_history(conn, code, rec["year"])
    rec["initial_class"] = rec["class"]
    rec["override"] = history[-1] if history else None
    rec["override_history"] = history
    rec["adjusted_class"] = history[-1]["class"] if history else None
    rec["final_class"] = rec["adjusted_class"] or rec["class"]
    rec["protection"] = next((r["detail"] for r in rec["rules_fired"] or []
                              if r.get("rule") == "protection"), None)
    return rec


def _f(v: Any, digits: int = 4) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:,.{digits}f}"
    return str(v)


def explain_text(rec: dict[str, Any]) -> str:
    """A readable explanation of :func:`explain`'s record."""
    not_classed = "- (protection period)" if rec.get("protection") else "- (not evaluated)"
    lines = [f"{rec['credit_code']} {rec['name'] or ''}  ({rec['town'] or '-'}, industry "
             f"division {rec['industry_division'] or '-'})",
             f"score run {rec['run_id']}, rule set {rec['ruleset']}, year {rec['year']}: "
             f"class {rec['class'] or not_classed}, total {_f(rec['total'], 3)}"]
    ov = rec.get("override")
    if ov is not None:
        approved = f", approved by {ov['approved_by']}" if ov["approved_by"] else \
            ", not approved by anyone else"
        lines.append(f"initial class {rec['class'] or '-'}, adjusted class {ov['class']} "
                     f"(调档 by {ov['decided_by']}{approved}, {ov['at'][:16].replace('T', ' ')}"
                     f", recorded against run {ov['run_id']}): {ov['reason']}")
        if ov["initial_class"] != rec["class"]:
            lines.append(f"  note: run {ov['run_id']} had class {ov['initial_class'] or '-'} "
                         f"when the class was adjusted; this run computes "
                         f"{rec['class'] or '-'}: check the adjustment still holds")
        for old in rec["override_history"][:-1]:
            lines.append(f"  earlier: {old['at'][:16].replace('T', ' ')} → {old['class']} by "
                         f"{old['decided_by']}: {old['reason']}")
    if rec.get("protection"):
        lines.append(f"protection period (listed, not classed): {rec['protection']}")
    if rec["population"]:
        lines.append(f"population {rec['population']}; rank {rec['rank_county'] or '-'} in the "
                     f"county, {rec['rank_town'] or '-'} in the town, "
                     f"{rec['rank_industry'] or '-'} in the industry division")
    if rec["prev_run"]:
        lines.append(f"previous year (run {rec['prev_run']}): class {rec['prev_class'] or '-'}, "
                     f"total {_f(rec['prev_total'], 3)}; change {_f(rec['change'], 3)}")
    if rec["items"]:
        lines.append("")
        lines.append(f"{'item':<22}{'value':>14} {'unit':<12}{'benchmark':>14}{'weight':>8}"
                     f"{'score':>10}  rule")
        ordered = sorted(rec["items"].items(), key=lambda kv: (-(kv[1].get("weight") or 0),
                                                              kv[0]))
        for name, it in ordered:
            b = it.get("benchmark", {})
            btxt = _f(b.get("value")) if "value" in b else \
                f"{_f(b.get('min'))}–{_f(b.get('max'))}"
            lines.append(f"{name:<22}{_f(it.get('value')):>14} {it.get('unit', ''):<12}"
                         f"{btxt:>14}{_f(it.get('weight'), 0):>8}{_f(it.get('score'), 3):>10}  "
                         f"{it.get('rule')} ({it.get('method')}, {it.get('direction')})")
    elif rec["indicators"]:
        lines.append("indicators: " + ", ".join(f"{k} {_f(v)}" for k, v in
                                                 rec["indicators"].items()))
    lines.append("")
    lines.append("rules fired:")
    for r in rec["rules_fired"]:
        item = f" [{r['item']}]" if r.get("item") else ""
        lines.append(f"  {r['rule']}{item}: {r['detail']}")
    land = rec["land"]
    lines.append("")
    alloc = land["allocated"]
    lines.append(f"land: occupancy run {land['occupancy_run']} (year {land['year']}, tenant rule "
                 f"{land['tenant_rule']}, area basis {land['area_basis']}): "
                 + ("none allocated" if alloc is None else
                    f"{_f(alloc['land_m2'], 1)} m² as {alloc['role']} on {alloc['n_parcels']} "
                    "parcel(s)" + (f", merged into {alloc['merged_into']}"
                                   if alloc["merged_into"] else "")))
    for p in land["parcels"]:
        extra = ", ".join(x for x in (
            f"share {p['share']:g}" if p["share"] else "",
            f"leased land {p['leased_land_m2']:,.0f} m²" if p["leased_land_m2"] else "",
            f"leased floor {p['leased_floor_m2']:,.0f} m²" if p["leased_floor_m2"] else "",
            f"supplied {p['supply_date']}" if p["supply_date"] else "") if x)
        lines.append(f"  {p['parcel_code']} {p['right_type']:<6} parcel "
                     f"{_f(p['area_m2'], 1)} m²" + (f"; {extra}" if extra else ""))
    return "\n".join(lines)
