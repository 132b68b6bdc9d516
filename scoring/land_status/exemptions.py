"""Exemptions: recorded reasons (政府原因 …) that keep a parcel out of the idle kinds.

An exemption names the parcel, the reason (one of the rule set's
``exemptions.reasons``), the kinds it covers (default: both idle kinds), who recorded
it and optionally until when and on which document. It is revoked, never deleted, so
the list of exemptions is itself part of the record.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import pandas as pd

from gis.errors import DataError
from scoring.land_status.rules import IDLE_KINDS, KINDS

if TYPE_CHECKING:
    import psycopg


def add_exemption(conn: psycopg.Connection, parcel_code: str, *, reason: str, by: str,
                  kinds: tuple[str, ...] | list[str] = IDLE_KINDS, comment: str | None = None,
                  document: str | None = None, valid_until: dt.date | None = None,
                  allowed_reasons: list[str] | None = None) -> int:
    """Record an exemption (no commit); returns its id.

    Raises
    ------
    DataError
        Unknown parcel, kind or reason, or no name of who records it.
    """
    if not by or not by.strip():
        raise DataError("an exemption needs the name of who records it (--by)")
    if allowed_reasons is not None and reason not in allowed_reasons:
        raise DataError(f"unknown exemption reason {reason!r}; the rules allow: "
                        f"{', '.join(allowed_reasons)} (exemptions.reasons in the rules file)")
    bad = [k for k in kinds if k not in KINDS]
    if bad or not kinds:
        raise DataError(f"unknown kind {bad[0] if bad else '(none)'}; choose from "
                        f"{', '.join(KINDS)}")
    if conn.execute("SELECT 1 FROM parcel WHERE parcel_code = %s", (parcel_code,)).fetchone() is None:
        raise DataError(f"parcel {parcel_code!r} does not exist; check the parcel code")
    row = conn.execute(
        "INSERT INTO land_exemption (parcel_code, reason, kinds, comment, document, valid_until,"
        " created_by) VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING exemption_id",
        (parcel_code, reason, list(kinds), comment, document, valid_until, by.strip())).fetchone()
    return int(row[0])


def revoke_exemption(conn: psycopg.Connection, exemption_id: int, *, by: str) -> None:
    """Revoke an exemption (no commit); the row stays with who revoked it and when."""
    cur = conn.execute("UPDATE land_exemption SET revoked_at = now(), revoked_by = %s"
                       " WHERE exemption_id = %s AND revoked_at IS NULL", (by, int(exemption_id)))
    if cur.rowcount != 1:
        raise DataError(f"exemption {exemption_id} does not exist or is already revoked")


def list_exemptions(conn: psycopg.Connection, *, include_revoked: bool = False) -> pd.DataFrame:
    """Every exemption (in force first), with the parcel's town."""
    cur = conn.execute(
        "SELECT e.exemption_id, e.parcel_code, p.town, e.reason, e.kinds, e.comment, e.document,"
        " e.valid_until, e.created_by, e.created_at, e.revoked_at, e.revoked_by"
        " FROM land_exemption e LEFT JOIN parcel p USING (parcel_code)"
        " WHERE %s OR e.revoked_at IS NULL ORDER BY e.revoked_at IS NOT NULL, e.exemption_id",
        (include_revoked,))
    return pd.DataFrame(cur.fetchall(), columns=[d.name for d in cur.description])


def as_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """JSON-friendly rows."""
    out = []
    for r in frame.to_dict("records"):
        out.append({k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in r.items()})
    return out
