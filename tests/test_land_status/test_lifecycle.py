"""The candidate lifecycle: allowed transitions, reasons, optimistic locking, append-only history."""

from __future__ import annotations

import psycopg
import pytest

from gis.errors import DataError
from scoring.errors import CandidateNotFound, DecisionConflict
from scoring.land_status import lifecycle


def _candidate(conn, parcel_code="P1", kind="idle_not_started") -> int:
    row = conn.execute(
        "INSERT INTO candidate (parcel_code, kind, evidence) VALUES (%s, %s, '{}')"
        " RETURNING candidate_id", (parcel_code, kind)).fetchone()
    conn.commit()
    return int(row[0])


def _status_version(conn, cid):
    return conn.execute("SELECT status, version FROM candidate WHERE candidate_id = %s",
                        (cid,)).fetchone()


def test_full_path_to_approval_records_each_step(db_conn):
    cid = _candidate(db_conn)
    v = lifecycle.decide(db_conn, cid, status="under_review", by="王科长")
    v = lifecycle.decide(db_conn, cid, status="field_check", by="王科长", comment="去现场看",
                         expected_version=v)
    v = lifecycle.decide(db_conn, cid, status="confirmed", by="李局", expected_version=v)
    v = lifecycle.decide(db_conn, cid, status="approved", by="李局", expected_version=v)
    db_conn.commit()
    assert _status_version(db_conn, cid) == ("approved", v)
    assert v == 5
    events = lifecycle.history(db_conn, cid)
    assert [(e["from_status"], e["to_status"]) for e in events] == [
        ("new", "under_review"), ("under_review", "field_check"),
        ("field_check", "confirmed"), ("confirmed", "approved")]
    assert events[1]["comment"] == "去现场看" and events[2]["actor"] == "李局"


@pytest.mark.parametrize("current,target", [
    ("new", "approved"), ("new", "confirmed"), ("approved", "under_review"),
    ("rejected", "approved"), ("under_review", "new"), ("under_review", "closed")])
def test_transitions_the_lifecycle_does_not_allow(db_conn, current, target):
    cid = _candidate(db_conn)
    db_conn.execute("UPDATE candidate SET status = %s WHERE candidate_id = %s", (current, cid))
    db_conn.commit()
    before = _status_version(db_conn, cid)
    with pytest.raises(DataError, match=f"不能改为.*（{target}）"):
        lifecycle.decide(db_conn, cid, status=target, by="x", reason="other")
    db_conn.rollback()
    assert _status_version(db_conn, cid) == before
    assert lifecycle.history(db_conn, cid) == []


def test_rejection_needs_a_known_reason_code(db_conn):
    cid = _candidate(db_conn)
    lifecycle.decide(db_conn, cid, status="under_review", by="a")
    with pytest.raises(DataError, match="须说明理由"):
        lifecycle.decide(db_conn, cid, status="rejected", by="a")
    with pytest.raises(DataError, match="未知的理由「busy」"):
        lifecycle.decide(db_conn, cid, status="rejected", by="a", reason="busy")
    lifecycle.decide(db_conn, cid, status="rejected", by="a", reason="in_use")
    db_conn.commit()
    assert lifecycle.history(db_conn, cid)[-1]["reason_code"] == "in_use"
    # a rejected candidate can be reopened
    lifecycle.decide(db_conn, cid, status="under_review", by="b")


def test_stale_version_is_a_conflict_and_changes_nothing(db_conn):
    cid = _candidate(db_conn)
    v1 = _status_version(db_conn, cid)[1]
    lifecycle.decide(db_conn, cid, status="under_review", by="a", expected_version=v1)
    db_conn.commit()
    with pytest.raises(DecisionConflict) as info:
        lifecycle.decide(db_conn, cid, status="field_check", by="b", expected_version=v1)
    assert info.value.expected == v1 and info.value.actual == v1 + 1
    db_conn.rollback()
    assert _status_version(db_conn, cid) == ("under_review", v1 + 1)
    assert len(lifecycle.history(db_conn, cid)) == 1


def test_two_connections_racing_one_wins(db_conn, db_dsn):
    """The row lock serialises deciders: the second sees the first's version and conflicts."""
    from gis.db.connection import connect

    cid = _candidate(db_conn)
    other = connect(db_dsn)
    try:
        lifecycle.decide(db_conn, cid, status="under_review", by="a", expected_version=1)
        db_conn.commit()
        with pytest.raises(DecisionConflict):
            lifecycle.decide(other, cid, status="field_check", by="b", expected_version=1)
        other.rollback()
    finally:
        other.close()


def test_unknown_candidate_and_missing_actor(db_conn):
    with pytest.raises(CandidateNotFound, match="candidate 99 does not exist"):
        lifecycle.decide(db_conn, 99, status="under_review", by="a")
    cid = _candidate(db_conn)
    with pytest.raises(DataError, match="决定人"):
        lifecycle.decide(db_conn, cid, status="under_review", by="  ")


def test_review_events_are_append_only(db_conn):
    cid = _candidate(db_conn)
    lifecycle.decide(db_conn, cid, status="under_review", by="a")
    db_conn.commit()
    for stmt in ("UPDATE review_event SET actor = 'forger'", "DELETE FROM review_event"):
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
            db_conn.execute(stmt)
        db_conn.rollback()
    # candidates with history cannot be deleted either
    with pytest.raises(psycopg.errors.ForeignKeyViolation):
        db_conn.execute("DELETE FROM candidate WHERE candidate_id = %s", (cid,))
    db_conn.rollback()
    assert len(lifecycle.history(db_conn, cid)) == 1


def test_truncate_refused_for_a_role_that_does_not_own_the_table(db_conn):
    db_conn.execute("DROP ROLE IF EXISTS mujun_test_reviewer")
    db_conn.execute("CREATE ROLE mujun_test_reviewer")
    db_conn.execute("GRANT TRUNCATE, SELECT ON review_event TO mujun_test_reviewer")
    db_conn.execute("SET ROLE mujun_test_reviewer")
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
        db_conn.execute("TRUNCATE review_event")
    db_conn.rollback()


def test_close_keeps_the_row_with_its_reason(db_conn):
    cid = _candidate(db_conn)
    lifecycle.close(db_conn, cid, reason="coverage 45 % on survey 2025-06-30", run_id=None)
    db_conn.commit()
    row = db_conn.execute("SELECT status, closed_reason FROM candidate WHERE candidate_id = %s",
                          (cid,)).fetchone()
    assert row == ("closed", "coverage 45 % on survey 2025-06-30")
    with pytest.raises(DataError, match="最终状态"):
        lifecycle.decide(db_conn, cid, status="under_review", by="a")
    # a new open candidate for the same parcel and kind may now exist; two open may not
    _candidate(db_conn)
    with pytest.raises(psycopg.errors.UniqueViolation):
        _candidate(db_conn)
    db_conn.rollback()


def test_version_is_bumped_only_when_something_visible_changes(db_conn):
    cid = _candidate(db_conn)
    db_conn.execute("INSERT INTO run (kind, code_version) VALUES ('candidates', 't')")
    db_conn.execute("UPDATE candidate SET run_id = (SELECT max(run_id) FROM run)")
    assert _status_version(db_conn, cid)[1] == 1
    db_conn.execute("UPDATE candidate SET evidence = '{\"coverage\": 0.1}'")
    assert _status_version(db_conn, cid)[1] == 2


@pytest.mark.parametrize("status", ["under_review", "field_check"])
def test_a_reason_must_be_a_known_code_for_every_status(db_conn, status):
    """Finding 7: any text was stored as the reason of a decision other than a rejection."""
    cid = _candidate(db_conn)
    with pytest.raises(DataError, match="未知的理由「anything」"):
        lifecycle.decide(db_conn, cid, status=status, by="a", reason="anything")
    db_conn.rollback()
    assert lifecycle.history(db_conn, cid) == []
    lifecycle.decide(db_conn, cid, status=status, by="a", reason="data_error")
    db_conn.commit()
    assert lifecycle.history(db_conn, cid)[-1]["reason_code"] == "data_error"


def test_bulk_decisions_lock_in_id_order_and_the_second_conflicts(db_conn, db_dsn):
    """Finding 20: overlapping lists in opposite order wait for each other, never deadlock."""
    import threading

    from gis.db.connection import connect

    ids = [_candidate(db_conn, f"P{i}") for i in range(6)]
    first = lifecycle.decide_many(db_conn, [(c, 1) for c in ids], status="under_review",
                                  by="a")
    assert [r["version"] for r in first] == [2] * 6
    outcome = {}

    def second():
        with connect(db_dsn) as other:
            try:
                lifecycle.decide_many(other, [(c, 1) for c in reversed(ids)],
                                      status="field_check", by="b")
                other.commit()
                outcome["result"] = "decided"
            except DecisionConflict as exc:
                other.rollback()
                outcome["result"] = str(exc)
            except psycopg.Error as exc:   # a deadlock would land here
                outcome["result"] = repr(exc)

    thread = threading.Thread(target=second)
    thread.start()
    thread.join(1.0)
    assert thread.is_alive()          # waiting for the first transaction's locks
    db_conn.commit()
    thread.join(30)
    assert "已被他人修改" in outcome["result"], outcome
    assert {_status_version(db_conn, c) for c in ids} == {("under_review", 2)}


def test_bulk_decisions_refuse_a_duplicate_and_a_bad_reason_before_locking(db_conn):
    ids = [_candidate(db_conn, f"Q{i}") for i in range(2)]
    with pytest.raises(DataError, match="出现了两次"):
        lifecycle.decide_many(db_conn, [(ids[0], 1), (ids[0], 1)], status="under_review", by="a")
    with pytest.raises(DataError, match="未知的理由"):
        lifecycle.decide_many(db_conn, [(c, 1) for c in ids], status="under_review", by="a",
                              reason="because")
