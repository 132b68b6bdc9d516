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

from collections.abc import Sequence
from typing import TYPE_CHECKING

from gis.errors import DataError
from scoring.errors import CandidateNotFound, DecisionConflict
from scoring.land_status.vocabulary import REASONS
from scoring.land_status.vocabulary import STATUSES as STATUS_TERMS

if TYPE_CHECKING:
    import psycopg

#: Every status, in lifecycle order (the ``land_status.status`` vocabulary).
STATUSES = STATUS_TERMS.codes()

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

#: Statuses that need a reason code (one of the ``land_status.reason`` vocabulary).
NEEDS_REASON = ("rejected",)


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
    gis.errors.DataError: 候选当前为新发现（new），不能改为批准收回/盘活（approved）；可改为：审核中（under_review）、待实地核查（field_check）、已否决（rejected）
    """
    STATUS_TERMS.check(status, what="状态")
    allowed = allowed_transitions(current)
    if status not in allowed:
        hint = (f"可改为：{'、'.join(f'{STATUS_TERMS.label(a)}（{a}）' for a in allowed)}"
                if allowed else "该状态已是最终状态")
        raise DataError(f"候选当前为{STATUS_TERMS.label(current)}（{current}），不能改为"
                        f"{STATUS_TERMS.label(status)}（{status}）；{hint}")
    check_reason(status, reason)


def check_reason(status: str, reason: str | None) -> None:
    """Raise :class:`~gis.errors.DataError` unless ``reason`` is a known code (any status),
    and present when ``status`` needs one.

    Examples
    --------
    >>> check_reason("confirmed", None)
    >>> check_reason("confirmed", "in_use")
    >>> check_reason("confirmed", "because")
    Traceback (most recent call last):
    ...
    gis.errors.DataError: 未知的理由「because」；可选：已实际使用（in_use）、正在建设（under_construction）、政府原因（government_cause）、仍在开发期限内（development_period）、数据错误（data_error）、界址错误（boundary_error）、已处置（disposed）、其他（请在意见中说明）（other）
    """
    if reason is None:
        if status in NEEDS_REASON:
            raise DataError(f"决定为{STATUS_TERMS.label(status)}须说明理由，可选："
                            f"{REASONS.choices()}")
        return
    REASONS.check(reason, what="理由")


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
        Reason code, one of the ``land_status.reason`` vocabulary (required for
        ``rejected``; checked for every status).
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
        raise DataError("决定须写明决定人（--by）")
    check_reason(status, reason)
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
            f"候选 {candidate_id} 在您查看后已被他人修改（您看到的是第 {expected_version} 版，"
            f"现为第 {version} 版），请刷新后重新决定",
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


def decide_many(conn: psycopg.Connection, items: Sequence[tuple[int, int | None]], *,
                status: str, by: str, reason: str | None = None, comment: str | None = None,
                ) -> list[dict]:
    """Decide on several candidates at once, all or nothing (no commit).

    The rows are locked first, in one statement and in the order of their ids, so two
    officials deciding overlapping lists at the same time never deadlock: the second
    waits for the first, then finds the versions it saw are stale and gets
    :class:`DecisionConflict` (the web app answers 409).

    Parameters
    ----------
    items : sequence of (candidate_id, expected_version)
        ``expected_version`` None skips the version check for that candidate.
    status, by, reason, comment
        As for :func:`decide`, the same for every candidate.

    Returns
    -------
    list of dict
        ``{candidate_id, status, version}`` per item, in the order given.

    Raises
    ------
    CandidateNotFound, DecisionConflict, DataError
        As :func:`decide`; nothing is changed then (the caller rolls back).
    """
    from gis.db.connection import translate_errors

    ids = [int(cid) for cid, _ in items]
    if len(set(ids)) != len(ids):
        raise DataError("同一次决定中一个候选出现了两次")
    if not by or not str(by).strip():
        raise DataError("决定须写明决定人（--by）")
    STATUS_TERMS.check(status, what="状态")
    check_reason(status, reason)
    with translate_errors("deciding on several candidates"):
        conn.execute("SELECT candidate_id FROM candidate WHERE candidate_id = ANY (%s)"
                     " ORDER BY candidate_id FOR UPDATE", (ids,)).fetchall()
    return [{"candidate_id": cid, "status": status,
             "version": decide(conn, cid, status=status, by=by, reason=reason,
                               comment=comment, expected_version=version)}
            for cid, version in ((int(c), v) for c, v in items)]


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
        raise DataError(f"候选 {candidate_id} 已是{STATUS_TERMS.label('closed')}状态")
    new = conn.execute(
        "UPDATE candidate SET status = 'closed', closed_reason = %s, run_id = %s"
        " WHERE candidate_id = %s RETURNING version",
        (reason, run_id, int(candidate_id)),
    ).fetchone()
    _record(conn, candidate_id, actor=by, action="closed", from_status=str(row[0]),
            to_status="closed", comment=reason, run_id=run_id)
    assert new is not None
    return int(new[0])


def reopen(conn: psycopg.Connection, candidate_id: int, *, reason: str, by: str) -> str:
    """Undo a closing (no commit): the candidate gets back the status it had when it was
    closed (e.g. 批准收回/盘活 when its land's transfer is undone); returns that status.

    Raises
    ------
    DataError
        The candidate is not closed, or its parcel has another open candidate meanwhile
        (a later rules run found it again): decide on that one instead.
    """
    row = conn.execute(
        "SELECT status, parcel_code, kind FROM candidate WHERE candidate_id = %s FOR UPDATE",
        (int(candidate_id),)).fetchone()
    if row is None:
        raise CandidateNotFound(f"候选 {candidate_id} 不存在")
    status, parcel, kind = row
    if status != "closed":
        raise DataError(f"候选 {candidate_id} 未关闭（当前「{STATUS_TERMS.label(status)}」），无需恢复")
    other = conn.execute(
        "SELECT candidate_id FROM candidate WHERE parcel_code = %s AND status <> 'closed'"
        " AND candidate_id <> %s AND (kind = 'approved_unsupplied') = (%s = 'approved_unsupplied')",
        (parcel, int(candidate_id), kind)).fetchone()
    if other is not None:
        raise DataError(f"宗地 {parcel} 已有新的候选 {other[0]}（规则再次认定），原候选 "
                        f"{candidate_id} 不能恢复；请对候选 {other[0]} 作出决定")
    before = conn.execute(
        "SELECT from_status FROM review_event WHERE candidate_id = %s AND action = 'closed'"
        " ORDER BY event_id DESC LIMIT 1", (int(candidate_id),)).fetchone()
    back = before[0] if before and before[0] and before[0] != "closed" else "under_review"
    conn.execute("UPDATE candidate SET status = %s, closed_reason = NULL WHERE candidate_id = %s",
                 (back, int(candidate_id)))
    _record(conn, candidate_id, actor=by, action="reopened", from_status="closed",
            to_status=back, comment=reason)
    return back


def history(conn: psycopg.Connection, candidate_id: int) -> list[dict]:
    """The candidate's events, oldest first, as dicts — with the events of the candidates
    merged into it (migration 0027: the same parcel under another kind; ``candidate_id``
    says whose event it was)."""
    cur = conn.execute(
        "SELECT event_id, at, actor, action, from_status, to_status, reason_code, comment, run_id,"
        " candidate_id FROM review_event WHERE candidate_id = %(id)s OR candidate_id IN"
        " (SELECT candidate_id FROM candidate WHERE merged_into = %(id)s) ORDER BY event_id",
        {"id": int(candidate_id)},
    )
    cols = [d.name for d in cur.description]
    return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]
