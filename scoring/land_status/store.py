"""Reading candidates back: the ranked list, one candidate with its history, runs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from gis.errors import DataError
from scoring.errors import CandidateNotFound
from scoring.land_status.lifecycle import STATUSES
from scoring.land_status.rules import KINDS

if TYPE_CHECKING:
    import psycopg

LIST_COLUMNS = ("candidate_id", "parcel_code", "kind", "kinds", "reasons", "status", "town", "district", "area_m2",
                "reclaimable_m2", "certainty", "priority", "version", "run_id", "created_at",
                "updated_at", "closed_reason")


def _frame(conn: psycopg.Connection, query: str, params: Any = None) -> pd.DataFrame:
    cur = conn.execute(query, params)
    return pd.DataFrame(cur.fetchall(), columns=[d.name for d in cur.description])


def list_candidates(conn: psycopg.Connection, *, kind: str | None = None,
                    town: str | None = None, status: str | None = None,
                    include_closed: bool = False, evidence: bool = False) -> pd.DataFrame:
    """Candidates ranked by priority (highest first), filtered.

    Parameters
    ----------
    kind, town, status : str, optional
        Filters (``kind``: candidates carrying it, primary or not); an unknown kind or
        status raises :class:`DataError` listing the valid ones.
    include_closed : bool
        Also closed candidates (always when ``status='closed'``).
    evidence : bool
        Add the ``evidence`` and ``rules`` columns.
    """
    if kind is not None and kind not in KINDS:
        raise DataError(f"unknown kind {kind!r}; choose one of {', '.join(KINDS)}")
    if status is not None and status not in STATUSES:
        raise DataError(f"unknown status {status!r}; choose one of {', '.join(STATUSES)}")
    cols = ", ".join(LIST_COLUMNS) + (", evidence, rules" if evidence else "")
    return _frame(
        conn,
        f"SELECT {cols} FROM candidate"
        " WHERE (%(kind)s::text IS NULL OR %(kind)s = ANY (kinds))"
        " AND (%(town)s::text IS NULL OR town = %(town)s)"
        " AND (%(status)s::text IS NULL OR status = %(status)s)"
        " AND (%(closed)s OR status <> 'closed' OR %(status)s::text = 'closed')"
        " ORDER BY priority DESC NULLS LAST, candidate_id",
        {"kind": kind, "town": town, "status": status, "closed": include_closed})


def get_candidate(conn: psycopg.Connection, candidate_id: int) -> dict[str, Any]:
    """One candidate with its evidence, rules and decision history (oldest first)."""
    from scoring.land_status.lifecycle import history

    frame = _frame(conn, "SELECT * FROM candidate WHERE candidate_id = %s",
                   (int(candidate_id),))
    if len(frame) == 0:
        raise CandidateNotFound(f"candidate {candidate_id} does not exist; "
                                "`mujun candidates list` shows the ids")
    out = frame.iloc[0].to_dict()
    out["history"] = history(conn, candidate_id)
    return out


def latest_run(conn: psycopg.Connection) -> dict[str, Any] | None:
    """The latest finished candidates run: id, params and summary."""
    row = conn.execute("SELECT run_id, params, summary FROM run WHERE kind = 'candidates'"
                       " AND status = 'done' ORDER BY run_id DESC LIMIT 1").fetchone()
    return {"run_id": row[0], "params": row[1], "summary": row[2]} if row else None
