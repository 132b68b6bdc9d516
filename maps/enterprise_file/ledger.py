"""Panels 差别化政策 (the policy ledger: per policy run, the class in force, the flags and
each item with its amount or quota and its ledger status) and 申诉 (appeals with their
decision).

For the review app's role the database leaves out what needs 'figures' (policy lines
with their amounts, appeals; migrations 0023, 0028).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from maps.enterprise_file.rows import rows

if TYPE_CHECKING:
    import psycopg


def policies(conn: psycopg.Connection, code: str) -> list[dict[str, Any]]:
    """Per policy run of ``code`` (newest first): class, flags, items with amounts."""
    from scoring.policy.terms import label

    runs = rows(conn.execute(
        "SELECT p.run_id, r.params->>'ruleset' AS ruleset, r.params->>'period' AS period,"
        " r.finished_at, p.score_class, p.class, p.adjusted, p.exempt_reason, p.flags"
        " FROM policy_enterprise p JOIN run r USING (run_id)"
        " WHERE p.credit_code = %s AND r.status = 'done' ORDER BY p.run_id DESC", (code,)))
    for run in runs:
        run["flag_labels"] = [label("policy.flag", f) for f in run["flags"] or []]
        lines = rows(conn.execute(
            "SELECT l.item, l.kind, l.base, l.base_unit, l.rate, l.months,"
            " l.amount_fen, l.quota, l.collector, l.refundable, r.status AS ledger_status,"
            " r.quarter AS ledger_quarter"
            " FROM policy_line l LEFT JOIN LATERAL (SELECT status, quarter FROM policy_record"
            "   WHERE run_id = l.run_id AND credit_code = l.credit_code AND item = l.item"
            "   ORDER BY record_id DESC LIMIT 1) r ON true"
            " WHERE l.run_id = %s AND l.credit_code = %s ORDER BY l.item",
            (run["run_id"], code)))
        for line in lines:
            line["kind_label"] = label("policy.item", line["kind"])
            line["amount_yuan"] = None if line["amount_fen"] is None else line["amount_fen"] / 100
            line["status_label"] = label("policy.status", line["ledger_status"] or "notified")
        run["lines"] = lines
    return runs


def appeals(conn: psycopg.Connection, code: str) -> list[dict[str, Any]]:
    """Appeals of ``code``, newest first, with their labels."""
    from scoring.policy.terms import label

    found = rows(conn.execute(
        "SELECT appeal_id, year, run_id, kind, claim, field, claimed_value, requested_class,"
        " status, submitted_by, submitted_at, decision, decided_by, decided_at"
        " FROM appeal WHERE credit_code = %s ORDER BY appeal_id DESC", (code,)))
    for a in found:
        a["kind_label"] = label("appeal.kind", a["kind"])
        a["status_label"] = label("appeal.status", a["status"])
        a["field_label"] = label("appeal.field", a["field"]) if a["field"] else None
    return found
