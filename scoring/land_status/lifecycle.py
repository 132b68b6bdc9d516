"""The lifecycle of a candidate and the one function that decides on it.

::

    new ──► under_review ──► confirmed ──► approved (for reclamation)
     │          │  ▲  │
     │          │  │  └──► rejected (with a reason code)
     └──────────┴► field_check ──► confirmed / rejected / under_review

Confirmed and rejected candidates may be reopened (back to ``under_review``).
``closed`` is not a decision: a rules run closes a candidate whose conditions no
longer hold, with the reason (:func:`close`). Every change writes one row of the
append-only ``review_event`` table in the same transaction; the caller commits.

``mujun candidates decide`` and the review web app both call :func:`decide`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gis.errors import DataError
from scoring.errors import CandidateNotFound, DecisionConflict

if TYPE_CHECKING:
    import psycopg

#: Every status, in lifecycle order.
STATUSES = ("new", "under_review", "confirmed", "rejected", "field_check", "approved", "closed")

#: Statuses a reviewer may move a candidate to, from each status.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "new": ("under_review", "field_check", "rejected"),
    "under_review": ("confirmed", "rejected", "field_check"),
    "field_check": ("under_review", "confirmed", "rejected"),
    "confirmed": ("approved", "under_review"),
    "rejected": ("under_review",),
    "approved": (),
    "closed": (),
}

#: Reason codes for a rejection (code → what it means, in the bureau's words).
REJECT_REASONS: dict[str, str] = {
    "in_use": "已实际使用 (in use: buildings or activity not seen in the data)",
    "under_construction": "正在建设 (construction under way since the survey)",
    "government_cause": "政府原因 (delay caused by government: planning change, demolition)",
    "development_period": "仍在开发期限内 (still inside the agreed development period)",
    "data_error": "数据错误 (wrong parcel, dates or footprints)",
    "boundary_error": "界址错误 (boundary or registration error)",
    "disposed": "已处置 (already disposed of: recovered, sold or re-planned)",
    "other": "其他 (other: say why in the comment)",
}

#: Statuses that need a reason code (from :data:`REJECT_REASONS`).
NEEDS_REASON = ("rejected",)

#: Chinese labels for reports and sheets.
STATUS_LABELS = {
    "new": "新发现", "under_review": "审核中", "confirmed": "已确认", "rejected": "已否决",
    "field_check": "待实地核查", "approved": "批准收回/盘活", "closed": "已关闭",
}


def allowed_transitions(status: str) -> tuple[str, ...]:
    """Statuses a reviewer may choose from ``status`` (empty for final ones)."""
    return TRANSITIONS.get(status, ())


def check_transition(current: str, status: str, reason: str | None) -> None:
    """Raise :class:`~gis.errors.DataError` unless ``current → status`` is allowed.

    Examples
    --------
    >>> check_transition("new", "under_review", None)
    >>> check_transition("under_review", "rejected", "in_use")
    >>> check_transition("new", "approved", None)
    Traceback (most recent call last):
    ...
    gis.errors.DataError: a candidate that is new cannot become approved; allowed: under_review, field_check, rejected
    """
    if status not in STATUSES:
        raise DataError(f"unknown status {status!r}; choose one of {', '.join(STATUSES[:-1])}")
    allowed = allowed_transitions(current)
    if status not in allowed:
        hint = f"allowed: {', '.join(allowed)}" if allowed else "it is final"
        raise DataError(f"a candidate that is {current} cannot become {status}; {hint}")
    if status in NEEDS_REASON:
        if not reason:
            raise DataError(f"a {status} decision needs a reason code: one of "
                            f"{', '.join(REJECT_REASONS)}")
        if reason not in REJECT_REASONS:
            raise DataError(f"unknown reason code {reason!r}; choose one of "
                            f"{', '.join(REJECT_REASONS)}")


def _record(conn: psycopg.Connection, candidate_id: int, *, actor: str, action: str,
            from_status: str | None, to_status: str | None, reason: str | None = None,
            comment: str | None = None, run_id: int | None = None) -> None:
    conn.execute(
        "INSERT INTO review_event (candidate_id, actor, action, from_status, to_status,"
        " reason_code, comment, run_id) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
        (int(candidate_id), actor, action, from_status, to_status, reason, comment, run_id),
    )


def decide(conn: psycopg.Connection, candidate_id: int, *, status: str, by: str,
           reason: str | None = None, comment: str | None = None,
           expected_version: int | None = None) -> int:
    """Move a candidate to ``status`` and record the decision (no commit).

    Parameters
    ----------
    conn : psycopg.Connection
        The caller's connection; the update and its ``review_event`` are written in its
        current transaction, which the caller commits.
    candidate_id : int
    status : str
        One of :func:`allowed_transitions` of the candidate's current status.
    by : str
        Who decides (user name); recorded as the event's actor.
    reason : str, optional
        Reason code (required for ``rejected``: one of :data:`REJECT_REASONS`).
    comment : str, optional
        Free text kept with the event.
    expected_version : int, optional
        The version the caller showed to the reviewer; a different current version
        raises :class:`DecisionConflict` (someone else decided, or a run refreshed it).

    Returns
    -------
    int
        The candidate's new version.

    Raises
    ------
    CandidateNotFound
        No candidate has this id.
    DecisionConflict
        ``expected_version`` is stale.
    DataError
        The lifecycle does not allow the transition, or a reason is missing or unknown.
    """
    from gis.db.connection import translate_errors

    if not by or not str(by).strip():
        raise DataError("a decision needs the name of who decides (--by)")
    with translate_errors(f"deciding on candidate {candidate_id}"):
        row = conn.execute(
            "SELECT status, version FROM candidate WHERE candidate_id = %s FOR UPDATE",
            (int(candidate_id),),
        ).fetchone()
    if row is None:
        raise CandidateNotFound(f"candidate {candidate_id} does not exist; "
                                "`mujun candidates list` shows the ids")
    current, version = str(row[0]), int(row[1])
    if expected_version is not None and int(expected_version) != version:
        raise DecisionConflict(
            f"candidate {candidate_id} changed since you read it (version {expected_version}, "
            f"now {version}); reload it and decide again",
            candidate_id=int(candidate_id), expected=int(expected_version), actual=version,
        )
    check_transition(current, status, reason)
    with translate_errors(f"deciding on candidate {candidate_id}"):
        new = conn.execute(
            "UPDATE candidate SET status = %s WHERE candidate_id = %s RETURNING version",
            (status, int(candidate_id)),
        ).fetchone()
        _record(conn, candidate_id, actor=str(by).strip(), action="decided",
                from_status=current, to_status=status, reason=reason, comment=comment)
    assert new is not None
    return int(new[0])


def close(conn: psycopg.Connection, candidate_id: int, *, reason: str, run_id: int | None,
          by: str = "system") -> int:
    """Close a candidate whose conditions no longer hold (no commit); returns the new version.

    The row stays, with ``closed_reason``; the event records the status it had.
    """
    row = conn.execute(
        "SELECT status FROM candidate WHERE candidate_id = %s FOR UPDATE", (int(candidate_id),),
    ).fetchone()
    if row is None:
        raise CandidateNotFound(f"candidate {candidate_id} does not exist")
    if row[0] == "closed":
        raise DataError(f"candidate {candidate_id} is already closed")
    new = conn.execute(
        "UPDATE candidate SET status = 'closed', closed_reason = %s, run_id = %s"
        " WHERE candidate_id = %s RETURNING version",
        (reason, run_id, int(candidate_id)),
    ).fetchone()
    _record(conn, candidate_id, actor=by, action="closed", from_status=str(row[0]),
            to_status="closed", comment=reason, run_id=run_id)
    assert new is not None
    return int(new[0])


def history(conn: psycopg.Connection, candidate_id: int) -> list[dict]:
    """The candidate's events, oldest first, as dicts."""
    cur = conn.execute(
        "SELECT event_id, at, actor, action, from_status, to_status, reason_code, comment, run_id"
        " FROM review_event WHERE candidate_id = %s ORDER BY event_id", (int(candidate_id),),
    )
    cols = [d.name for d in cur.description]
    return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]
