"""Panels 数据核查提示 (warnings of the verification loop, open first) and 土地状态线索
(land-status candidates on the firm's parcels, with their decisions)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from maps.enterprise_file.rows import rows

if TYPE_CHECKING:
    import psycopg


def warnings(conn: psycopg.Connection, code: str) -> list[dict[str, Any]]:
    """Verification items of ``code``, open first, newest first."""
    from parcels.vocabulary import VERIFICATION_STATUS

    found = rows(conn.execute(
        "SELECT item_id, kind, status, detail->>'problem' AS problem, detail->>'year' AS year,"
        " created_at, resolved_at FROM verification_item WHERE trim(credit_code) = %s"
        " ORDER BY status = 'open' DESC, created_at DESC", (code,)))
    for w in found:
        w["status_label"] = VERIFICATION_STATUS.label(w["status"])
    return found


def candidates(conn: psycopg.Connection, land: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Land-status candidates on the parcels of ``land``, with the latest decision."""
    from scoring.land_status.vocabulary import KINDS, STATUSES

    parcels = sorted({r["parcel_code"] for r in land})
    if not parcels:
        return []
    found = rows(conn.execute(
        "SELECT c.candidate_id, c.parcel_code, c.kind, c.status, c.area_m2, c.reclaimable_m2,"
        " c.priority, c.updated_at, e.actor AS decided_by, e.at AS decided_at,"
        " e.comment AS decision_comment FROM candidate c"
        " LEFT JOIN LATERAL (SELECT actor, at, comment FROM review_event"
        "   WHERE candidate_id = c.candidate_id AND action = 'decided' ORDER BY at DESC, event_id DESC LIMIT 1) e"
        "   ON true"
        " WHERE c.parcel_code = ANY(%s) ORDER BY c.candidate_id", (parcels,)))
    for c in found:
        c["kind_label"], c["status_label"] = KINDS.label(c["kind"]), STATUSES.label(c["status"])
    return found
