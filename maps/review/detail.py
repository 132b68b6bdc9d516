"""One candidate in full: parcel, evidence, enterprises (figures by role), history, notes,
and the before/after snapshot drawings of the parcel. Runs as ``mujun_app`` (RLS)."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import psycopg

_FIGURES = ("year", "tax_wan", "revenue_wan", "value_added_wan", "energy_tce",
            "electricity_kwh", "employees")


def _iso(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def candidate_detail(conn: psycopg.Connection, candidate_id: int, *, figures: bool) -> dict | None:
    """Everything the detail panel shows; ``None`` when the user cannot see the candidate.

    Parameters
    ----------
    figures : bool
        Include enterprise figures (tax, revenue ...). Row-level security hides them
        from roles without the 'figures' permission anyway; this also skips the query.
    """
    from scoring.land_status.lifecycle import allowed_transitions

    cur = conn.execute(
        "SELECT c.candidate_id, c.parcel_code, c.kind, c.kinds, c.reasons, c.status, c.town,"
        " c.district, c.area_m2,"
        " c.reclaimable_m2, c.certainty, c.priority, c.evidence, c.rules, c.run_id, c.version,"
        " c.created_at, c.updated_at, c.closed_reason,"
        " p.area_m2 AS parcel_area_m2, p.cert_area_m2, p.land_use_code, p.supply_date,"
        " p.agreed_start_date, p.agreed_finish_date, p.planned_far,"
        " ST_AsGeoJSON(ST_Transform(p.geom, 4326), 6)::json AS geometry"
        " FROM candidate c LEFT JOIN parcel p ON p.parcel_code = c.parcel_code"
        " WHERE c.candidate_id = %s", (candidate_id,))
    row = cur.fetchone()
    if row is None:
        return None
    out = {d.name: _iso(v) for d, v in zip(cur.description, row, strict=True)}
    if not figures:
        from maps.review.redact import redact_evidence, redact_rules

        out["evidence"] = redact_evidence(out["evidence"])
        out["rules"] = redact_rules(out["rules"])
    out["allowed"] = list(allowed_transitions(out["status"]))
    cur = conn.execute(
        "SELECT lr.credit_code, e.name, lr.right_type, lr.share, lr.leased_land_m2, e.status,"
        " e.industry_code, es.class"
        " FROM land_right lr LEFT JOIN enterprise e ON e.credit_code = lr.credit_code"
        " LEFT JOIN enterprise_score es ON es.credit_code = lr.credit_code"
        "   AND es.run_id = (SELECT max(run_id) FROM run WHERE kind = 'score' AND status = 'done')"
        " WHERE lr.parcel_code = %s ORDER BY lr.right_type, lr.share DESC NULLS LAST,"
        " lr.credit_code", (out["parcel_code"],))
    names = [d.name for d in cur.description]
    enterprises = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    if figures and enterprises:
        cur = conn.execute(
            "SELECT DISTINCT ON (credit_code) credit_code, year, tax_wan, revenue_wan,"
            " value_added_wan, energy_tce, electricity_kwh, employees FROM enterprise_year"
            " WHERE credit_code = ANY (%s) ORDER BY credit_code, year DESC",
            ([e["credit_code"] for e in enterprises],))
        by_code = {r[0]: dict(zip(_FIGURES, r[1:], strict=True)) for r in cur.fetchall()}
        for e in enterprises:
            e["figures"] = by_code.get(e["credit_code"])
    out["enterprises"] = enterprises
    out["figures_shown"] = figures
    cur = conn.execute(
        "SELECT event_id, at, actor, action, from_status, to_status, reason_code, comment"
        " FROM review_event WHERE candidate_id = %(id)s OR candidate_id IN"
        " (SELECT candidate_id FROM candidate WHERE merged_into = %(id)s) ORDER BY event_id",
        {"id": candidate_id})
    names = [d.name for d in cur.description]
    out["history"] = [{k: _iso(v) for k, v in zip(names, r, strict=True)} for r in cur.fetchall()]
    cur = conn.execute(
        "SELECT n.note_id, n.at, n.author, n.note,"
        " coalesce(array_agg(ph.photo_key ORDER BY ph.photo_id)"
        "          FILTER (WHERE ph.photo_key IS NOT NULL), '{}')"
        " FROM field_note n LEFT JOIN field_photo ph ON ph.note_id = n.note_id"
        " WHERE n.candidate_id = %s GROUP BY n.note_id ORDER BY n.note_id", (candidate_id,))
    out["notes"] = [{"note_id": r[0], "at": _iso(r[1]), "author": r[2], "note": r[3],
                     "photos": list(r[4])} for r in cur.fetchall()]
    cur = conn.execute(
        "SELECT s.survey_id, s.survey_date, s.attrs ? 'image' FROM survey s JOIN parcel p"
        " ON p.parcel_code = %s AND s.coverage && p.geom ORDER BY s.survey_date, s.survey_id",
        (out["parcel_code"],))
    out["surveys"] = [{"survey_id": r[0], "survey_date": _iso(r[1]), "has_image": bool(r[2])}
                      for r in cur.fetchall()]
    out["explanation"] = explanations(out)
    return out


def explanations(detail: dict) -> dict[str, dict]:
    """The evidence in words (:func:`scoring.land_status.explain.explain`, the same lines as
    the sheet and ``mujun candidates show``), in every language of the app; the history
    is the detail's own (it shows field notes' authors as the app knows them)."""
    from maps.review.i18n import LANGUAGES
    from scoring.land_status.explain import explain

    return {lang: explain(detail, lang).as_dict() for lang in LANGUAGES}


def chip_source(conn: psycopg.Connection, candidate_id: int, survey_id: int
                ) -> tuple[str | None, bytes] | None:
    """(the survey's image path or ``None``, the parcel as WKB in the working CRS) for a
    chip; ``None`` when the candidate is not visible or the survey does not cover it."""
    row = conn.execute(
        "SELECT s.attrs ->> 'image', ST_AsBinary(p.geom) FROM candidate c"
        " JOIN parcel p ON p.parcel_code = c.parcel_code"
        " JOIN survey s ON s.survey_id = %s AND s.coverage && p.geom"
        " WHERE c.candidate_id = %s", (survey_id, candidate_id)).fetchone()
    return None if row is None else (row[0], bytes(row[1]))


def snapshot_svg(conn: psycopg.Connection, candidate_id: int, which: str) -> bytes | None:
    """SVG drawing of the parcel with the footprints of the first (``before``) or last
    (``after``) survey covering it; ``None`` when the candidate is not visible.

    Drawn by PostGIS (``ST_AsSVG``) in the working CRS, north up, 15 % margin.
    """
    order = "ASC" if which == "before" else "DESC"
    row = conn.execute(
        "SELECT p.geom, ST_XMin(p.geom), ST_YMax(p.geom), ST_XMax(p.geom) - ST_XMin(p.geom),"
        " ST_YMax(p.geom) - ST_YMin(p.geom), ST_AsSVG(p.geom, 0, 2)"
        " FROM candidate c JOIN parcel p ON p.parcel_code = c.parcel_code"
        " WHERE c.candidate_id = %s", (candidate_id,)).fetchone()
    if row is None:
        return None
    _geom, x0, y1, w, h, parcel_path = row
    survey = conn.execute(
        "SELECT s.survey_id, s.survey_date FROM survey s, candidate c JOIN parcel p"
        " ON p.parcel_code = c.parcel_code WHERE c.candidate_id = %s AND s.coverage && p.geom"
        f" ORDER BY s.survey_date {order}, s.survey_id {order} LIMIT 1",
        (candidate_id,)).fetchone()
    paths: list[str] = []
    if survey is not None:
        paths = [r[0] for r in conn.execute(
            "SELECT ST_AsSVG(f.geom, 0, 2) FROM footprint f, candidate c JOIN parcel p"
            " ON p.parcel_code = c.parcel_code WHERE c.candidate_id = %s AND f.survey_id = %s"
            " AND f.geom && ST_Expand(p.geom, greatest(ST_XMax(p.geom) - ST_XMin(p.geom),"
            " ST_YMax(p.geom) - ST_YMin(p.geom)) * 0.15) LIMIT 2000",
            (candidate_id, survey[0])).fetchall()]
    pad = max(w, h, 1.0) * 0.15
    view = f"{x0 - pad:.2f} {-y1 - pad:.2f} {w + 2 * pad:.2f} {h + 2 * pad:.2f}"
    label = html.escape(f"{which}: {survey[1].isoformat()}" if survey else f"{which}: no survey")
    stroke = max(w, h, 1.0) / 150
    parts = [
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="' + view + '" width="320" height="320"'
        ' preserveAspectRatio="xMidYMid meet">',
        f"<title>{label}</title>",
        f'<rect x="{x0 - pad:.2f}" y="{-y1 - pad:.2f}" width="{w + 2 * pad:.2f}"'
        f' height="{h + 2 * pad:.2f}" fill="#f4f1e8"/>',
    ]
    parts += [f'<path d="{p}" fill="#8c8c8c" stroke="#444" stroke-width="{stroke / 2:.3f}"/>'
              for p in paths]
    parts.append(f'<path d="{parcel_path}" fill="none" stroke="#d7191c"'
                 f' stroke-width="{stroke:.3f}"/>')
    parts.append("</svg>")
    return "".join(parts).encode("utf-8")
