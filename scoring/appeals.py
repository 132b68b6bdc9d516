"""Appeals (申诉) against a score run: data appeals and class appeals, and their decisions.

A firm may say a figure is wrong (数据申诉: the field and the value it claims) or that its
class is (调档申诉: the class it asks for). Officials record the appeal (:func:`add_appeal`),
take it under review and decide it (:func:`decide_appeal`): submitted → under review →
upheld or rejected, with who and why, every step kept in the append-only
``appeal_event`` (migration 0025). An upheld class appeal becomes a class adjustment
(:func:`scoring.overrides.record_override`, the appeal named in its reason); an upheld data
appeal writes the corrected figure to ``enterprise_year`` in a verification batch — the
next score run of the year uses it (and the adjustment of a class appeal carries over).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from scoring.errors import AppealError
from scoring.policy.terms import label

if TYPE_CHECKING:
    import psycopg

log = logging.getLogger(__name__)

KINDS = ("data", "class")
STATUSES = ("submitted", "under_review", "upheld", "rejected")
#: Figures a data appeal may correct (enterprise_year columns) and their units.
FIELDS = {"tax_wan": "万元", "revenue_wan": "万元", "value_added_wan": "万元",
          "energy_tce": "吨标准煤", "electricity_kwh": "千瓦时", "rd_wan": "万元",
          "employees": "人", "emissions_t": "吨"}
#: Allowed steps: from status -> to statuses.
STEPS = {"submitted": ("under_review", "upheld", "rejected"),
         "under_review": ("upheld", "rejected")}
_COLUMNS = ("appeal_id", "credit_code", "year", "run_id", "kind", "claim", "field",
            "claimed_value", "requested_class", "status", "submitted_by", "submitted_at",
            "decision", "decided_by", "decided_at", "override_id", "batch_id", "town")


def _refusal(zh: str, option: str | None = None) -> AppealError:
    """An :class:`AppealError` in Chinese: the command line's message names the option
    to give (``（--class）``); ``zh``, the review app's, leaves it out."""
    exc = AppealError(zh + (f"（{option}）" if option else ""))
    exc.zh = zh
    return exc


#: What a text is, for the app's messages.
_WHAT_ZH = {"claim": "申诉事由", "reason": "处理理由", "approved-by": "审批人", "by": "经办人"}


def _text(value: str | None, what: str, *, required: bool = True, limit: int = 2000
          ) -> str | None:
    text = "" if value is None else str(value).strip()
    option = next((f"--{k}" for k in _WHAT_ZH if f"--{k}" in what), None)
    zh = _WHAT_ZH[option[2:]] if option else "文字"
    if not text:
        if required:
            raise _refusal(f"{zh}为空，请填写", option)
        return None
    if "\x00" in text or len(text) > limit:
        raise _refusal(f"{zh}超过 {limit:,} 个字符或含有空字符", option)
    return text


def check_new(kind: str, *, claim: str | None, requested_class: str | None = None,
              field: str | None = None, value: float | None = None
              ) -> tuple[str, str | None, str | None, float | None]:
    """Check a new appeal; return ``(claim, requested_class, field, value)`` cleaned.

    The one set of rules for appeals from the command line and from the review app
    (which stores them through ``mujun_appeal_add``, migration 0028).

    Raises
    ------
    AppealError
        Unknown kind, class or field; a data appeal without field and value; a class
        appeal without the class asked for; an empty claim.

    Examples
    --------
    >>> check_new("class", claim=" 成长型企业 ", requested_class="b")
    ('成长型企业', 'B', None, None)
    """
    import math

    from scoring.overrides import OVERRIDE_CLASSES

    if kind not in KINDS:
        raise _refusal("申诉类型应为" + "或".join(label("appeal.kind", k) for k in KINDS),
                       "--kind " + "|".join(KINDS))
    claim_t = _text(claim, "--claim")
    if kind == "class":
        requested_class = str(requested_class or "").strip().upper()
        if requested_class not in OVERRIDE_CLASSES:
            raise _refusal("调档申诉须写明申请的类别：" + "、".join(OVERRIDE_CLASSES),
                           "--class")
        return claim_t, requested_class, None, None
    if field not in FIELDS:
        raise _refusal("数据申诉须写明申诉指标（" + "、".join(
            label("appeal.field", f) for f in FIELDS) + "）及申诉数值",
                       "--field " + "|".join(FIELDS) + "，--value")
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        number = math.nan
    if not math.isfinite(number) or number < 0:
        raise _refusal(f"申诉数值应为不小于 0 的数，单位 {FIELDS[field]}", "--value")
    return claim_t, None, field, number


def check_step(appeal_id: int, current: str, status: str) -> None:
    """Refuse a step the state machine (:data:`STEPS`) does not allow.

    Raises
    ------
    AppealError
        ``status`` is not reachable from ``current`` (a decided appeal stays decided).

    Examples
    --------
    >>> check_step(1, "submitted", "under_review")
    >>> check_step(1, "upheld", "rejected")
    Traceback (most recent call last):
    ...
    scoring.errors.AppealError: 申诉 1 现为“申诉成立”，已办结，不能再改
    """
    if status not in STEPS.get(current, ()):
        allowed = STEPS.get(current)
        zh = (f"申诉 {appeal_id} 现为“{label('appeal.status', current)}”，" + (
            "只能改为" + "、".join(f"“{label('appeal.status', s)}”" for s in allowed)
            if allowed else "已办结，不能再改"))
        raise _refusal(zh)


def check_reason(reason: str | None) -> str:
    """The reason of a step, stripped (:class:`AppealError` if empty, too long or with NUL)."""
    return _text(reason, "--reason")


def check_approver(name: str | None) -> str | None:
    """Who approved an upheld class appeal's adjustment, stripped (None when not given)."""
    return _text(name, "--approved-by", required=False, limit=200)


def add_appeal(conn: psycopg.Connection, credit_code: str, kind: str, *, claim: str,
               by: str, requested_class: str | None = None, field: str | None = None,
               value: float | None = None, run_id: int | None = None) -> dict[str, Any]:
    """Record an appeal against a score run (default: the latest) and commit.

    Raises
    ------
    AppealError
        Unknown kind, class or field; a data appeal without field and value; a class
        appeal without the class asked for; the firm not in the run.
    """
    from parcels.codes import normalize_credit_code
    from scoring.store import resolve_score_run

    claim_t, requested_class, field, value = check_new(kind, claim=claim,
                                                       requested_class=requested_class,
                                                       field=field, value=value)
    by_t = _text(by, "--by", limit=200)
    code = normalize_credit_code(credit_code)
    try:
        run = resolve_score_run(conn, run_id)
        row = conn.execute("SELECT year, town, district FROM enterprise_score"
                           " WHERE run_id = %s AND credit_code = %s", (run, code)).fetchone()
        if row is None:
            raise AppealError(f"企业 {code} 不在第 {run} 次评价中")
        appeal_id = conn.execute(
            "INSERT INTO appeal (credit_code, year, run_id, kind, claim, field, claimed_value,"
            " requested_class, submitted_by, town, district) VALUES"
            " (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING appeal_id",
            (code, row[0], run, kind, claim_t, field, value, requested_class, by_t, row[1],
             row[2])).fetchone()[0]
        conn.execute("INSERT INTO appeal_event (appeal_id, status, by_name, reason)"
                     " VALUES (%s, 'submitted', %s, %s)", (appeal_id, by_t, claim_t))
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    return get_appeal(conn, appeal_id)


def get_appeal(conn: psycopg.Connection, appeal_id: int) -> dict[str, Any]:
    """One appeal with its history (oldest step first)."""
    row = conn.execute(f"SELECT {', '.join(_COLUMNS)} FROM appeal WHERE appeal_id = %s",
                       (appeal_id,)).fetchone()
    if row is None:
        raise AppealError(f"申诉 {appeal_id} 不存在；`mujun appeals list` 列出全部申诉")
    rec = _record(row)
    rec["history"] = [{"status": s, "by": b, "reason": r, "at": a.isoformat()}
                      for s, b, r, a in conn.execute(
                          "SELECT status, by_name, reason, at FROM appeal_event"
                          " WHERE appeal_id = %s ORDER BY event_id", (appeal_id,)).fetchall()]
    return rec


def _record(row: tuple) -> dict[str, Any]:
    rec = dict(zip(_COLUMNS, row, strict=True))
    rec["credit_code"] = rec["credit_code"].strip()
    for k in ("submitted_at", "decided_at"):
        rec[k] = rec[k].isoformat() if rec[k] else None
    rec["status_zh"] = label("appeal.status", rec["status"])
    rec["kind_zh"] = label("appeal.kind", rec["kind"])
    return rec


def list_appeals(conn: psycopg.Connection, *, status: str | None = None,
                 credit_code: str | None = None, kind: str | None = None,
                 limit: int | None = None) -> list[dict[str, Any]]:
    """Appeals, newest first, optionally of one status, enterprise or kind (at most
    ``limit``)."""
    from parcels.codes import normalize_credit_code

    if status is not None and status not in STATUSES:
        raise AppealError(f"申诉状态「{status}」无效（--status）；可选："
                          f"{'、'.join(STATUSES)}")
    if kind is not None and kind not in KINDS:
        raise AppealError(f"申诉类型「{kind}」无效（--kind）；可选：{'、'.join(KINDS)}")
    code = normalize_credit_code(credit_code) if credit_code else None
    rows = conn.execute(
        f"SELECT {', '.join(_COLUMNS)} FROM appeal WHERE (%s::text IS NULL OR status = %s)"
        " AND (%s::text IS NULL OR credit_code = %s) AND (%s::text IS NULL OR kind = %s)"
        " ORDER BY appeal_id DESC LIMIT %s",
        (status, status, code, code, kind, kind, limit)).fetchall()
    return [_record(r) for r in rows]


def decide_appeal(conn: psycopg.Connection, appeal_id: int, status: str, *, reason: str,
                  by: str, approved_by: str | None = None) -> dict[str, Any]:
    """Move an appeal to ``status`` (under_review, upheld, rejected), with effects; commit.

    Raises
    ------
    AppealError
        Unknown appeal, a step not allowed from its status (a decided appeal stays
        decided), an empty reason.
    """
    reason_t = check_reason(reason)
    by_t = _text(by, "--by", limit=200)
    try:
        row = conn.execute(f"SELECT {', '.join(_COLUMNS)} FROM appeal WHERE appeal_id = %s"
                           " FOR UPDATE", (appeal_id,)).fetchone()
        if row is None:
            raise AppealError(f"申诉 {appeal_id} 不存在；`mujun appeals list` 列出全部申诉")
        rec = _record(row)
        check_step(appeal_id, rec["status"], status)
        override_id = batch_id = None
        if status == "upheld" and rec["kind"] == "class":
            scored = conn.execute("SELECT population FROM enterprise_score WHERE run_id = %s"
                                  " AND credit_code = %s", (rec["run_id"], rec["credit_code"])
                                  ).fetchone()
            if scored is None or scored[0] is None:
                raise AppealError(f"企业 {rec['credit_code']} 在第 {rec['run_id']} 次评价中"
                                  "未参评，没有可调整的档次；请改为支持数据申诉并重新评价")
        if status == "upheld" and rec["kind"] == "data":
            batch_id = _correct_figure(conn, rec, by_t, reason_t)
        if status in ("upheld", "rejected"):
            conn.execute("UPDATE appeal SET status = %s, decision = %s, decided_by = %s,"
                         " decided_at = now(), batch_id = %s WHERE appeal_id = %s",
                         (status, reason_t, by_t, batch_id, appeal_id))
        else:
            conn.execute("UPDATE appeal SET status = %s WHERE appeal_id = %s",
                         (status, appeal_id))
        conn.execute("INSERT INTO appeal_event (appeal_id, status, by_name, reason)"
                     " VALUES (%s, %s, %s, %s)", (appeal_id, status, by_t, reason_t))
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    if status == "upheld" and rec["kind"] == "class":
        from scoring.overrides import record_override

        over = record_override(conn, rec["credit_code"], rec["requested_class"],
                               reason=f"调档申诉 {appeal_id} 成立：{reason_t}", decided_by=by_t,
                               approved_by=approved_by, run_id=rec["run_id"])
        override_id = over["override_id"]
        conn.execute("UPDATE appeal SET override_id = %s WHERE appeal_id = %s",
                     (override_id, appeal_id))
        conn.commit()
    log.info("appeal %d: %s by %s", appeal_id, status, by_t)
    return get_appeal(conn, appeal_id)


def _correct_figure(conn: psycopg.Connection, rec: dict[str, Any], by: str,
                    reason: str) -> int:
    """Write an upheld data appeal's figure to ``enterprise_year`` in a verification batch."""
    from psycopg import sql

    from gis.db.batches import finish_batch, start_batch

    batch = start_batch(conn, "verification", f"appeal {rec['appeal_id']}",
                        params={"appeal_id": rec["appeal_id"], "by": by, "reason": reason,
                                "field": rec["field"], "value": rec["claimed_value"]})
    value = int(rec["claimed_value"]) if rec["field"] == "employees" else rec["claimed_value"]
    conn.execute(sql.SQL(
        "INSERT INTO enterprise_year (credit_code, year, {f}, batch_id) VALUES (%s, %s, %s, %s)"
        " ON CONFLICT (credit_code, year) DO UPDATE SET {f} = EXCLUDED.{f},"
        " batch_id = EXCLUDED.batch_id").format(f=sql.Identifier(rec["field"])),
        (rec["credit_code"], rec["year"], value, batch))
    finish_batch(conn, batch, n_read=1, n_loaded=1)
    return batch
