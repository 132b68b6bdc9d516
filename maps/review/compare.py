"""The comparison page's data: two stored score runs side by side, in the user's scope.

Tool module for :mod:`maps.review.routes.compare`: runs as the app role on the request's
connection. The score rows come from the view ``enterprise_score_figures`` (migration
0030: rows of the user's districts and towns, only for roles with ``figures``; the app
role cannot read totals, land or item points from ``enterprise_score`` itself), and
row-level security on ``enterprise_year``, ``parcel`` and ``land_right`` (0011, 0014)
leaves out every other figure and parcel the user may not see. The comparison itself is ``mujun score compare``'s
(:func:`scoring.compare_runs.compare_runs`); the words (classes, shifts, headers) are
the vocabulary's (:mod:`scoring.vocabulary`) and the colours those of every class-change
map (:func:`maps.styles.style_for`).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import psycopg

#: Most score runs the chooser lists (newest first).
MAX_RUNS = 200
#: Most changed firms (and their parcels) one answer holds; the count says how many.
MAX_CHANGED = 2000
#: Headers the page shows (labels from ``scoring.field``).
PAGE_FIELDS = ("credit_code", "name", "town", "industry_division", "industry_name",
               "class_a", "class_b", "shift", "total_a", "total_b", "total_change", "item_1",
               "points_1", "item_2", "points_2", "item_3", "points_3", "firms", "class",
               "firms_a", "land_a", "tax_a", "tax_per_mu_a", "firms_b", "land_b", "tax_b",
               "tax_per_mu_b", "from_class")


class CompareRefused(Exception):
    """A comparison the page cannot show: ``status`` (400/404) and a message in Chinese."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def score_runs(conn: psycopg.Connection) -> list[dict[str, Any]]:
    """The finished score runs, newest first: id, rule set, year, when finished."""
    rows = conn.execute(
        "SELECT run_id, params->>'ruleset', params->>'year', finished_at FROM run"
        " WHERE kind = 'score' AND status = 'done' ORDER BY run_id DESC LIMIT %s",
        (MAX_RUNS,)).fetchall()
    return [{"run_id": int(r[0]), "ruleset": r[1],
             "year": int(r[2]) if r[2] and str(r[2]).isdigit() else None,
             "finished_at": r[3].isoformat(timespec="minutes") if r[3] else None}
            for r in rows]


def run_id_param(value: str | None, which: str) -> int:
    """A run id from the query string, or :class:`CompareRefused` (400)."""
    text = (value or "").strip()
    if not text.isdigit() or len(text) > 12:
        raise CompareRefused(400, f"请选择{which}的评价运行（运行号为正整数）")
    return int(text)


def _parcels(conn: psycopg.Connection, changed: list[dict[str, Any]]) -> dict[str, Any]:
    """The visible parcels of the changed firms (main owner), as GeoJSON in WGS84."""
    by_code = {r["credit_code"]: r for r in changed}
    if not by_code:
        return {"type": "FeatureCollection", "features": []}
    rows = conn.execute(
        "WITH holder AS (SELECT DISTINCT ON (parcel_code) parcel_code,"
        "   trim(credit_code) AS credit_code FROM land_right WHERE right_type = 'owner'"
        "   ORDER BY parcel_code, share DESC NULLS LAST, credit_code)"
        " SELECT h.parcel_code, h.credit_code,"
        "   ST_AsGeoJSON(ST_Transform(p.geom, 4326), 6)"
        " FROM holder h JOIN parcel p USING (parcel_code)"
        " WHERE h.credit_code = ANY(%s) ORDER BY h.parcel_code",
        (list(by_code),)).fetchall()
    features = []
    for parcel, code, geometry in rows:
        firm = by_code[code]
        features.append({"type": "Feature", "geometry": json.loads(geometry),
                         "properties": {"parcel_code": parcel, "credit_code": code,
                                        "name": firm.get("name"),
                                        "class_a": firm["class_a"], "class_b": firm["class_b"],
                                        "shift": firm["shift"]}})
    return {"type": "FeatureCollection", "features": features}


def comparison_page(conn: psycopg.Connection, run_a: int, run_b: int,
                    lang: str = "zh") -> dict[str, Any]:
    """Everything the page shows for runs ``run_a`` (甲) and ``run_b`` (乙).

    The JSON of ``score compare --json`` restricted to the visible firms, at most
    :data:`MAX_CHANGED` changed firms (``changed_shown``), their parcels as GeoJSON
    (``parcels``), the labels and the class-change colours.

    Raises
    ------
    CompareRefused
        404 when either run is not a finished score run.
    """
    from maps.styles import style_for
    from scoring.compare_runs import compare_runs, comparison_json, run_title
    from scoring.errors import ScoreRunError
    from scoring.vocabulary import CLASSES, FIELDS, SHIFTS

    for run in (run_a, run_b):
        row = conn.execute("SELECT kind, status FROM run WHERE run_id = %s", (run,)).fetchone()
        if row is None or row[0] != "score" or row[1] != "done":
            raise CompareRefused(404, f"评价运行 {run} 不存在或尚未完成")
    try:
        cmp = compare_runs(conn, run_a, run_b, source="enterprise_score_figures")
    except ScoreRunError as exc:            # a run vanished between the check and the read
        raise CompareRefused(404, f"评价运行无法读取：{exc}") from None
    cmp.changed = cmp.changed.head(MAX_CHANGED)     # before the records are built
    data = comparison_json(cmp)
    data["changed_shown"] = len(data["changed_firms"])
    data["titles"] = {"a": run_title(cmp.runs["a"], lang), "b": run_title(cmp.runs["b"], lang)}
    data["parcels"] = _parcels(conn, data["changed_firms"])
    data["labels"] = {"classes": {**CLASSES.labels(lang), "total": "合计" if lang == "zh"
                                  else "total"},
                      "shifts": SHIFTS.labels(lang),
                      "fields": {f: FIELDS.label(f, lang) for f in PAGE_FIELDS}}
    data["style"] = style_for("class_shift").as_dict()
    return data
