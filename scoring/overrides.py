"""Class adjustments (调档): an official changes an enterprise's class, with its trace.

Counties keep both rigidity and flexibility ("分类考核结果运用要兼顾刚性与灵活性"): a
growth-stage firm or one in a cyclical industry may be moved up or down a class by a
decision someone takes and someone approves. :func:`record_override` stores it in the
append-only ``class_override`` table (migration 0017): enterprise, data year, the score
run it was recorded against and the class that run gave, the adjusted class, the reason,
who decided, who approved, when.

**Carry-over.** An adjustment belongs to the enterprise and the *data year*, not to one
run: the latest adjustment of an enterprise and year applies to every score run of that
year, including runs made after it (a corrected figure re-scored keeps the adjustment
visible). :func:`effective_overrides` returns them for a run, and flags those whose
computed class has changed since the adjustment was recorded, so an official can look
again. A new adjustment supersedes the earlier one (nothing is updated or deleted); to
undo one, record the computed class.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from scoring.errors import OverrideError
from scoring.ruleset_model import CLASSES

if TYPE_CHECKING:
    import pandas as pd
    import psycopg

log = logging.getLogger(__name__)

#: Classes an adjustment may give (T: exempt, not ranked).
OVERRIDE_CLASSES = (*CLASSES, "T")
MAX_REASON = 2000
MAX_NAME = 200

_COLUMNS = ("override_id", "credit_code", "year", "run_id", "initial_class", "class",
            "reason", "decided_by", "approved_by", "at")


def _clean(value: str | None, what: str, limit: int, *, required: bool) -> str | None:
    """``value`` stripped, checked for length and NUL bytes (which the database refuses)."""
    text = "" if value is None else str(value).strip()
    if not text:
        if required:
            raise OverrideError(f"{what}为空；请填写（例如 --reason \"成长型企业，"
                                "经联席会议研究上调一档\"）")
        return None
    if "\x00" in text:
        raise OverrideError(f"{what}含有空字符（NUL）；请重新输入")
    if len(text) > limit:
        raise OverrideError(f"{what}长 {len(text):,} 个字符；至多 {limit:,} 个")
    return text


def record_override(conn: psycopg.Connection, credit_code: str, klass: str, *, reason: str,
                    decided_by: str, approved_by: str | None = None,
                    run_id: int | None = None) -> dict[str, Any]:
    """Record an adjusted class for an enterprise of a score run, and commit.

    Parameters
    ----------
    conn : psycopg.Connection
        Committed on success, rolled back on failure.
    credit_code : str
        The enterprise (any case and blanks; normalised).
    klass : str
        The adjusted class: A, B, C, D or T.
    reason : str
        Why (shown by ``score explain`` and exported); 1-2,000 characters.
    decided_by, approved_by : str
        Who decided and (optionally) who approved.
    run_id : int, optional
        The score run (default: the latest finished one).

    Returns
    -------
    dict
        The stored row (``override_id``, ``initial_class``, ``class``, ``at`` ...).

    Raises
    ------
    OverrideError
        Unknown class, empty reason or name, the enterprise not in the run, or it was
        not evaluated there.
    ScoreRunError
        No such score run.
    """
    from parcels.codes import normalize_credit_code
    from scoring.store import resolve_score_run

    target = str(klass).strip().upper()
    if target not in OVERRIDE_CLASSES:
        raise OverrideError(f"档次「{klass}」无效（--class）；可选："
                            f"{'、'.join(OVERRIDE_CLASSES)}")
    reason_t = _clean(reason, "调档理由（--reason）", MAX_REASON, required=True)
    by = _clean(decided_by, "调档人（--by）", MAX_NAME, required=True)
    approved = _clean(approved_by, "批准人（--approved-by）", MAX_NAME, required=False)
    code = normalize_credit_code(credit_code)
    try:
        run = resolve_score_run(conn, run_id)
        row = conn.execute(
            "SELECT year, class, population, town, district FROM enterprise_score"
            " WHERE run_id = %s AND credit_code = %s", (run, code)).fetchone()
        if row is None:
            raise OverrideError(f"企业 {code} 不在第 {run} 次评价中；`mujun score explain "
                                "信用代码` 显示其所在的评价")
        year, initial, population, town, district = row
        if population is None:
            raise OverrideError(f"企业 {code} 在第 {run} 次评价中未参评（当年没有用地或没有"
                                "企业数据），没有可调整的档次；请补正数据后重新评价")
        stored = conn.execute(
            "INSERT INTO class_override (credit_code, year, run_id, initial_class, class,"
            " reason, decided_by, approved_by, town, district)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
            " RETURNING override_id, at", (code, year, run, initial, target, reason_t, by,
                                           approved, town, district)).fetchone()
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    log.info("class of %s in %s adjusted from %s to %s by %s", code, year, initial, target, by)
    return {"override_id": stored[0], "credit_code": code, "year": int(year), "run_id": run,
            "initial_class": initial, "class": target, "reason": reason_t,
            "decided_by": by, "approved_by": approved, "at": stored[1].isoformat()}


def override_history(conn: psycopg.Connection, credit_code: str, year: int
                     ) -> list[dict[str, Any]]:
    """Every adjustment of an enterprise and year, oldest first (the last one applies)."""
    from parcels.codes import normalize_credit_code

    cur = conn.execute(
        f"SELECT {', '.join(_COLUMNS)} FROM class_override WHERE credit_code = %s"
        " AND year = %s ORDER BY override_id", (normalize_credit_code(credit_code), year))
    out = []
    for r in cur.fetchall():
        rec = dict(zip(_COLUMNS, r, strict=True))
        rec["credit_code"] = rec["credit_code"].strip()
        rec["at"] = rec["at"].isoformat()
        out.append(rec)
    return out


def effective_overrides(conn: psycopg.Connection, run_id: int) -> pd.DataFrame:
    """The adjustment in force for each enterprise of score run ``run_id``.

    The latest adjustment of the enterprise for the run's year, whichever run it was
    recorded against. Columns: ``credit_code``, ``adjusted_class``, ``override_reason``,
    ``override_by``, ``override_approved_by``, ``override_at``, ``override_run``,
    ``override_initial_class`` (the class of the run it was recorded against),
    ``override_stale`` (the computed class of ``run_id`` differs from that).
    """
    from gis.db.copy import read_frame

    frame = read_frame(
        conn, "SELECT DISTINCT ON (o.credit_code) o.credit_code, o.class AS adjusted_class,"
        " o.reason AS override_reason, o.decided_by AS override_by,"
        " o.approved_by AS override_approved_by, o.at AS override_at,"
        " o.run_id AS override_run, o.initial_class AS override_initial_class,"
        " s.class IS DISTINCT FROM o.initial_class AS override_stale"
        " FROM class_override o JOIN enterprise_score s"
        "   ON s.run_id = %s AND s.credit_code = o.credit_code AND s.year = o.year"
        " ORDER BY o.credit_code, o.override_id DESC", (run_id,))
    if len(frame):
        frame["credit_code"] = frame["credit_code"].str.strip()
    return frame


def year_overrides(conn: psycopg.Connection, year: int) -> pd.DataFrame:
    """The adjustment in force for each enterprise in data year ``year`` (latest wins).

    For scores that are not a stored run (``score --what-if``); columns as
    :func:`effective_overrides` without the run-specific ones.
    """
    from gis.db.copy import read_frame

    frame = read_frame(
        conn, "SELECT DISTINCT ON (o.credit_code) o.credit_code, o.class AS adjusted_class,"
        " o.reason AS override_reason, o.decided_by AS override_by,"
        " o.approved_by AS override_approved_by, o.at AS override_at"
        " FROM class_override o WHERE o.year = %s"
        " ORDER BY o.credit_code, o.override_id DESC", (int(year),))
    if len(frame):
        frame["credit_code"] = frame["credit_code"].str.strip()
    return frame
