"""Panel 历年评价: per data year, the latest score run's total, initial and adjusted class
with the reason, ranks in county, town and industry, and the rule set.

The command line reads ``enterprise_score`` whole; the review app's role is granted only
its class columns there and reads total, ranks and land through the view
``enterprise_score_figures`` (migration 0029), which is empty without 'figures'.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from maps.enterprise_file.rows import rows

if TYPE_CHECKING:
    import psycopg

#: Where the score figures are read: the command line's table, the app's view.
_FIGURES = {False: "enterprise_score", True: "enterprise_score_figures"}


def history(conn: psycopg.Connection, code: str, *, app: bool = False) -> list[dict[str, Any]]:
    """The class history of ``code``, oldest year first (figures None where not visible)."""
    from psycopg import sql

    query = sql.SQL(
        "WITH runs AS (SELECT DISTINCT ON ((params->>'year')::int) run_id,"
        "   (params->>'year')::int AS year, params->>'ruleset' AS ruleset FROM run"
        "   WHERE kind = 'score' AND status = 'done'"
        "   ORDER BY (params->>'year')::int, finished_at DESC, run_id DESC),"
        " adj AS (SELECT DISTINCT ON (year) year, class, reason, decided_by, approved_by"
        "   FROM class_override WHERE credit_code = %s ORDER BY year, override_id DESC)"
        " SELECT coalesce(r.year, s.year) AS year, r.run_id, r.ruleset, s.population, f.total,"
        " s.class AS initial_class,"
        " a.class AS adjusted_class, a.reason AS adjustment_reason,"
        " a.decided_by AS adjusted_by, a.approved_by AS adjustment_approved_by,"
        " f.rank_county, f.rank_town, f.rank_industry, f.land_m2, f.rules_fired"
        " FROM runs r JOIN enterprise_score s ON s.run_id = r.run_id AND s.credit_code = %s"
        " LEFT JOIN {figures} f ON f.run_id = s.run_id AND f.credit_code = s.credit_code"
        " LEFT JOIN adj a ON a.year = coalesce(r.year, s.year) ORDER BY 1").format(
            figures=sql.Identifier(_FIGURES[app]))
    from scoring.vocabulary import TAGS

    found = rows(conn.execute(query, (code, code)))
    for r in found:
        r["final_class"] = r["adjusted_class"] or r["initial_class"]
        fired = {f.get("rule") for f in r.pop("rules_fired") or []}
        r["tags"] = [t for t in TAGS.codes() if t in fired]
        r["tag_labels"] = [TAGS.label(t) for t in r["tags"]]
    return found
