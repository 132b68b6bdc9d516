"""Appeals (申诉) in the review app: list, detail, record, decide — as the app role.

The rules are :mod:`scoring.appeals`' (:func:`~scoring.appeals.check_new`,
:func:`~scoring.appeals.check_step`); this module checks with them, then writes through
the SECURITY DEFINER functions of migration 0028 (``mujun_appeal_add``,
``mujun_appeal_step``), which check the session user's permission and area and append
every step to the history. Reading goes through row-level security (``appeal_scope``):
an appeal of a firm outside the user's area does not exist for them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import psycopg

#: SQLSTATE of migration 0028 → HTTP status of the answer.
SQLSTATES = {"MJ403": 403, "MJ404": 404, "MJ409": 409, "MJ422": 422}


class AppealRefused(Exception):
    """The database refused an appeal step: ``status`` is the HTTP status to answer."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


@contextlib.contextmanager
def _in_chinese() -> Iterator[None]:
    """Answer a rule broken (:class:`scoring.errors.AppealError`) with 422 and its Chinese
    message."""
    from scoring.errors import AppealError

    try:
        yield
    except AppealError as exc:
        raise AppealRefused(422, getattr(exc, "zh", None) or str(exc)) from None


def _refusal(exc: Exception) -> AppealRefused | None:
    code = getattr(exc, "sqlstate", None)
    if code not in SQLSTATES:
        return None
    messages = {403: "您的角色不能受理或决定申诉",
                404: "在您的辖区内没有这件申诉或这家企业",
                409: "这件申诉的状态已被他人更改，请刷新后重试",
                422: "该企业在此次评价中未参评，没有可调整的类别；请受理数据申诉并重新评价"}
    return AppealRefused(SQLSTATES[code], messages[SQLSTATES[code]])


def record(conn: psycopg.Connection, body: dict[str, Any]) -> int:
    """Record a new appeal from a request body; return its id (no commit).

    ``body``: ``credit_code``, ``kind`` (data, class), ``claim``, and ``class`` or
    ``field`` and ``value``; ``run_id`` (default: the latest score run).

    Raises
    ------
    AppealRefused
        422: the appeal breaks a rule of :func:`scoring.appeals.check_new` (the message in
        Chinese); 403: no permission; 404: the firm is not in the run within the user's
        area.
    """
    import psycopg

    from parcels.codes import check_credit_code, normalize_credit_code
    from scoring.appeals import check_new
    from scoring.errors import ScoreRunError
    from scoring.store import resolve_score_run

    kind = body.get("kind")
    with _in_chinese():
        claim, klass, field, value = check_new(
            kind if isinstance(kind, str) else "", claim=_str(body.get("claim")),
            requested_class=_str(body.get("class")), field=_str(body.get("field")),
            value=body.get("value"))
    code = normalize_credit_code(_str(body.get("credit_code")) or "")
    if check_credit_code(code) == "malformed":
        raise AppealRefused(422, "统一社会信用代码应为 18 位数字或大写字母")
    run_id = body.get("run_id")
    try:
        run = resolve_score_run(conn, run_id if isinstance(run_id, int) else None)
    except ScoreRunError:
        raise AppealRefused(422, "没有这次已完成的企业综合评价，无法登记申诉") from None
    try:
        row = conn.execute("SELECT mujun_appeal_add(%s, %s, %s, %s, %s, %s, %s)",
                           (code, run, kind, claim, field, value, klass)).fetchone()
    except psycopg.Error as exc:
        refused = _refusal(exc)
        if refused is None:
            raise
        raise refused from None
    return int(row[0])


def step(conn: psycopg.Connection, appeal_id: int, body: dict[str, Any]) -> None:
    """Move an appeal to ``body["status"]`` with ``body["reason"]`` (no commit); an upheld
    class appeal's adjustment names ``body["approved_by"]`` (optional) as who approved it.

    The step is checked against the status the appeal has now (row-level security: an
    appeal outside the user's area is "not found"), then the database makes it only
    if the appeal is still in that status.

    Raises
    ------
    AppealRefused
        422: a step not allowed or an empty reason (in Chinese); 403: no permission;
        404: no such appeal in the user's area; 409: the appeal moved on meanwhile.
    """
    import psycopg

    from scoring.appeals import check_approver, check_reason, check_step

    status = body.get("status")
    with _in_chinese():
        reason = check_reason(_str(body.get("reason")))
        approved = check_approver(_str(body.get("approved_by")))
        current = status_of(conn, appeal_id)
        check_step(appeal_id, current, status if isinstance(status, str) else "")
    try:
        conn.execute("SELECT mujun_appeal_step(%s, %s, %s, %s, %s)",
                     (appeal_id, current, status, reason, approved))
    except psycopg.Error as exc:
        refused = _refusal(exc)
        if refused is None:
            raise
        raise refused from None


def status_of(conn: psycopg.Connection, appeal_id: int) -> str:
    """The status of an appeal the user may see (:class:`AppealRefused` 404 otherwise)."""
    row = conn.execute("SELECT status FROM appeal WHERE appeal_id = %s", (appeal_id,)).fetchone()
    if row is None:
        raise AppealRefused(404, "在您的辖区内没有这件申诉或这家企业")
    return row[0]


def _str(value: Any) -> str | None:
    """A body value as text (numbers too), None for anything else."""
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return None
