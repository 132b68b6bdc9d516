"""Decisions through the app: lifecycle, audit trail, bulk, the lost-update race."""

from __future__ import annotations

import threading

import psycopg
import pytest

pytestmark = pytest.mark.postgis


def _decide(session, cid, status, version, **extra):
    return session.post(f"/api/candidates/{cid}/decision",
                        json={"status": status, "version": version, **extra})


def test_decide_writes_history_with_the_user_as_actor(sessions, seeded, review_dsn):
    from gis.db.connection import connect

    cid = seeded["东区"][2]
    s = sessions["off_east"]
    d = s.get(f"/api/candidates/{cid}").json()
    assert d["status"] == "new" and "under_review" in d["allowed"]
    resp = _decide(s, cid, "under_review", d["version"], comment="先看一下")
    assert resp.status_code == 200, resp.text
    assert resp.json()["version"] == d["version"] + 1
    resp = _decide(s, cid, "rejected", d["version"] + 1, reason="in_use", comment="已投产")
    assert resp.status_code == 200, resp.text
    history = s.get(f"/api/candidates/{cid}").json()["history"]
    assert [(h["actor"], h["to_status"], h["reason_code"], h["comment"]) for h in history][-2:] == [
        ("off_east", "under_review", None, "先看一下"), ("off_east", "rejected", "in_use", "已投产")]
    with connect(review_dsn) as conn:
        rows = conn.execute("SELECT actor, to_status FROM review_event WHERE candidate_id = %s"
                            " ORDER BY event_id", (cid,)).fetchall()
    assert rows[-1] == ("off_east", "rejected")


def test_lifecycle_refusals(sessions, seeded):
    cid = seeded["东区"][3]
    s = sessions["off_east"]
    v = s.get(f"/api/candidates/{cid}").json()["version"]
    resp = _decide(s, cid, "approved", v)               # new → approved is not allowed
    assert resp.status_code == 422 and "不能改为批准收回/盘活" in resp.json()["error"]
    assert _decide(s, cid, "under_review", v).status_code == 200
    resp = _decide(s, cid, "rejected", v + 1)           # a rejection needs a reason code
    assert resp.status_code == 422 and "须说明理由" in resp.json()["error"]
    resp = _decide(s, cid, "rejected", v + 1, reason="because")
    assert resp.status_code == 422 and "未知的理由" in resp.json()["error"]
    assert _decide(s, cid, "under_review", "1").status_code == 400   # version must be a number
    resp = s.post(f"/api/candidates/{cid}/decision", content=b"status=x",
                  headers={"content-type": "application/x-www-form-urlencoded"})
    assert resp.status_code == 415


def test_roles_and_districts(sessions, seeded):
    east, west = seeded["东区"][4], seeded["西区"][0]
    for name in ("viewer_east", "tech_east", "plan_jia"):
        assert _decide(sessions[name], east, "under_review", 1).status_code == 403
    # another district's candidate does not exist for this user
    assert sessions["off_west"].get(f"/api/candidates/{east}").status_code == 404
    assert _decide(sessions["off_west"], east, "under_review", 1).status_code == 404
    assert sessions["off_east"].get(f"/api/candidates/{west}").status_code == 404
    assert sessions["off_east"].get(f"/api/candidates/{west}/snapshot/after.svg").status_code == 404
    assert sessions["admin"].get(f"/api/candidates/{west}").status_code == 200


def test_two_officials_at_once_get_a_conflict(sessions, seeded, review_dsn):
    from gis.db.connection import connect

    cid = seeded["东区"][5]
    a, b = sessions["off_east"], sessions["off_east2"]
    version = a.get(f"/api/candidates/{cid}").json()["version"]
    assert b.get(f"/api/candidates/{cid}").json()["version"] == version
    results = {}
    barrier = threading.Barrier(2)

    def go(name, session, status):
        barrier.wait()
        results[name] = _decide(session, cid, status, version, comment=name)

    threads = [threading.Thread(target=go, args=("a", a, "under_review")),
               threading.Thread(target=go, args=("b", b, "field_check"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    codes = sorted(r.status_code for r in results.values())
    assert codes == [200, 409], {k: (r.status_code, r.text) for k, r in results.items()}
    loser = next(r for r in results.values() if r.status_code == 409)
    assert "已被他人修改" in loser.json()["error"]
    with connect(review_dsn) as conn:
        n = conn.execute("SELECT count(*) FROM review_event WHERE candidate_id = %s"
                         " AND action = 'decided'", (cid,)).fetchone()[0]
    assert n == 1   # the loser wrote nothing


def test_bulk_is_all_or_nothing(sessions, seeded):
    s = sessions["off_east"]
    ids = seeded["东区"][6:9]
    items = [{"candidate_id": c, "version": s.get(f"/api/candidates/{c}").json()["version"]}
             for c in ids]
    stale = [dict(items[0]), dict(items[1], version=items[1]["version"] + 5)]
    resp = s.post("/api/decisions", json={"items": stale, "status": "under_review"})
    assert resp.status_code == 409
    assert s.get(f"/api/candidates/{ids[0]}").json()["status"] == "new"   # rolled back
    resp = s.post("/api/decisions", json={"items": items, "status": "field_check",
                                          "comment": "批量"})
    assert resp.status_code == 200, resp.text
    assert [s.get(f"/api/candidates/{c}").json()["status"] for c in ids] == ["field_check"] * 3
    out_of_scope = [{"candidate_id": seeded["西区"][1], "version": 1}]
    assert s.post("/api/decisions", json={"items": out_of_scope,
                                          "status": "under_review"}).status_code == 404


def test_audit_rows_cannot_be_changed_by_the_app_role(app_conn_factory, review_dsn, seeded):
    from gis.db.connection import connect
    from tests.test_review.conftest import start_session

    with connect(review_dsn) as admin, app_conn_factory() as app:
        start_session(app, admin, "admin")
        assert app.execute("SELECT count(*) FROM review_event").fetchone()[0] > 0
        app.commit()
        for statement in ("UPDATE review_event SET comment = 'x'", "DELETE FROM review_event",
                          "TRUNCATE review_event", "UPDATE app_audit SET actor = 'x'",
                          "DELETE FROM app_audit", "DELETE FROM login_attempt",
                          "UPDATE candidate SET priority = 0",
                          "INSERT INTO review_event (candidate_id, actor, action)"
                          " SELECT candidate_id, 'someone_else', 'decided' FROM candidate LIMIT 1"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                app.execute(statement)
            app.rollback()
            app.execute("SELECT set_config('mujun.session', %s, false)",
                        (app.execute("SHOW mujun.session").fetchone()[0],))


def test_reason_codes_are_checked_for_every_status(sessions, seeded, review_dsn):
    """Finding 7: a reason that is not a code of the vocabulary is refused for any status."""
    from gis.db.connection import connect

    cid = seeded["东区"][9]
    s = sessions["off_east"]
    v = s.get(f"/api/candidates/{cid}").json()["version"]
    for status in ("under_review", "field_check"):
        resp = _decide(s, cid, status, v, reason="<script>随便写</script>")
        assert resp.status_code == 422, resp.text
        assert "未知的理由" in resp.json()["error"]
    resp = s.post("/api/decisions", json={"items": [{"candidate_id": cid, "version": v}],
                                          "status": "under_review", "reason": "whatever"})
    assert resp.status_code == 422 and "未知的理由" in resp.json()["error"]
    resp = _decide(s, cid, "under_review", v, reason="data_error")   # a known code is kept
    assert resp.status_code == 200, resp.text
    with connect(review_dsn) as conn:
        reasons = [r[0] for r in conn.execute(
            "SELECT reason_code FROM review_event WHERE candidate_id = %s AND action = 'decided'"
            " ORDER BY event_id", (cid,))]
    assert reasons == ["data_error"]


def test_bulk_decisions_in_opposite_order_never_deadlock(sessions, seeded):
    """Finding 20: two officials bulk-deciding overlapping lists in opposite order at once.

    Before, each request locked its candidates one by one in the order given: they met
    in the middle and PostgreSQL killed one as a deadlock (500). Now the rows are locked
    in id order: the second waits, finds stale versions and gets 409 in Chinese.
    """
    a, b = sessions["admin"], sessions["off_west"]
    ids = seeded["西区"][3:10]
    status = "under_review"
    for round_ in range(6):
        items = [{"candidate_id": c, "version": a.get(f"/api/candidates/{c}").json()["version"]}
                 for c in ids]
        results = {}
        barrier = threading.Barrier(2)

        def go(name, session, order, items=items, status=status, results=results,
               barrier=barrier):
            barrier.wait()
            results[name] = session.post("/api/decisions", json={"items": order,
                                                                 "status": status})

        threads = [threading.Thread(target=go, args=("a", a, items)),
                   threading.Thread(target=go, args=("b", b, items[::-1]))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        codes = sorted(r.status_code for r in results.values())
        assert codes == [200, 409], (round_, {k: (r.status_code, r.text[:300])
                                             for k, r in results.items()})
        loser = next(r for r in results.values() if r.status_code == 409)
        assert "已被他人修改" in loser.json()["error"]
        status = "field_check" if status == "under_review" else "under_review"
