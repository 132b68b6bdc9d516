"""Appeals in the review app, against the real server and database: record, take under
review, uphold or reject — only in one's own area, only with the 'appeal' permission,
every step kept in the append-only history."""

from __future__ import annotations

import re

import psycopg
import pytest

from tests.test_review.conftest import credit_code, start_session

pytestmark = pytest.mark.postgis

EAST = credit_code(1)      # 甲镇, 东区
EAST2 = credit_code(2)
WEST = credit_code(21)     # 丙镇, 西区


@pytest.fixture(scope="module")
def evaluated(review_dsn, seeded):
    """The seeded score run with a few firms evaluated (a population), so a class can be
    adjusted."""
    from gis.db.connection import connect

    with connect(review_dsn) as conn:
        conn.execute("UPDATE enterprise_score SET population = 'all' WHERE credit_code"
                     " = ANY(%s)", ([EAST, EAST2, WEST],))
        conn.commit()
    return review_dsn


def _add(session, code, **extra):
    body = {"credit_code": code, "kind": "class", "class": "B", "claim": "成长型企业，申请上调"}
    body.update(extra)
    return session.post("/api/appeals", json=body)


def test_an_official_records_reviews_and_upholds_a_class_appeal(sessions, evaluated):
    off = sessions["off_east"]
    resp = _add(off, EAST)
    assert resp.status_code == 201, resp.text
    rec = resp.json()
    aid = rec["appeal_id"]
    assert (rec["status"], rec["submitted_by"], rec["status_zh"]) == ("submitted", "off_east",
                                                                     "已受理")
    resp = off.post(f"/api/appeals/{aid}/decision",
                    json={"status": "under_review", "reason": "材料齐全"})
    assert resp.status_code == 200 and resp.json()["status"] == "under_review"
    resp = sessions["off_east2"].post(f"/api/appeals/{aid}/decision",
                                      json={"status": "upheld", "reason": "经联席会议认定",
                                            "approved_by": " 赵六 "})
    assert resp.status_code == 200, resp.text
    done = resp.json()
    assert done["status"] == "upheld" and done["override_id"] is not None
    assert [(h["status"], h["by"]) for h in done["history"]] == [
        ("submitted", "off_east"), ("under_review", "off_east"), ("upheld", "off_east2")]
    # a decided appeal stays decided
    again = off.post(f"/api/appeals/{aid}/decision", json={"status": "rejected", "reason": "x"})
    assert again.status_code == 422 and "已办结" in again.json()["error"]
    listed = off.get("/api/appeals?status=upheld&kind=class").json()
    assert aid in [a["appeal_id"] for a in listed]
    from gis.db.connection import connect

    with connect(evaluated) as conn:
        row = conn.execute("SELECT class, initial_class, decided_by, approved_by, reason"
                           " FROM class_override WHERE override_id = %s",
                           (done["override_id"],)).fetchone()
    assert row[:4] == ("B", "ABCD"[1 % 4], "off_east2", "赵六")
    assert row[4] == f"调档申诉 {aid} 成立：经联席会议认定"


def test_an_official_of_another_district_neither_sees_nor_decides(sessions, evaluated):
    east = _add(sessions["off_east"], EAST2).json()["appeal_id"]
    west = sessions["off_west"]
    assert west.get(f"/api/appeals/{east}").status_code == 404
    assert east not in [a["appeal_id"] for a in west.get("/api/appeals").json()]
    resp = west.post(f"/api/appeals/{east}/decision", json={"status": "rejected",
                                                            "reason": "不在本区"})
    assert resp.status_code == 404
    # nor record one for a firm of another district
    assert _add(west, EAST).status_code == 404
    assert _add(west, WEST).status_code == 201
    # and the east official still sees it undecided
    seen = sessions["off_east"].get(f"/api/appeals/{east}").json()
    assert seen["status"] == "submitted" and len(seen["history"]) == 1


def test_a_viewer_cannot_decide_and_a_planner_only_reads(sessions, evaluated):
    aid = _add(sessions["off_east"], EAST2).json()["appeal_id"]
    viewer, planner = sessions["viewer_east"], sessions["plan_jia"]
    assert viewer.get("/api/appeals").status_code == 403            # no 'figures'
    assert viewer.post(f"/api/appeals/{aid}/decision",
                       json={"status": "rejected", "reason": "x"}).status_code == 403
    assert _add(viewer, EAST2).status_code == 403
    assert planner.get(f"/api/appeals/{aid}").status_code == 200    # 甲镇 is the planner's
    assert planner.post(f"/api/appeals/{aid}/decision",
                        json={"status": "rejected", "reason": "x"}).status_code == 403
    assert sessions["off_east"].get(f"/api/appeals/{aid}").json()["status"] == "submitted"


def test_bad_requests_are_refused_in_chinese_or_by_the_rules(sessions, evaluated):
    off = sessions["off_east"]
    assert off.post("/api/appeals", json={"credit_code": EAST, "kind": "class"},
                    csrf=False).status_code == 403                  # no CSRF token
    resp = off.post("/api/appeals", json={"credit_code": EAST, "kind": "class", "class": "B",
                                          "claim": "a\x00b"})
    assert resp.status_code == 400 and "空字符" in resp.json()["error"]
    aid = _add(off, EAST).json()["appeal_id"]
    refused = [_add(off, EAST, **{"class": "Z"}),
               _add(off, EAST, kind="data", field="tax_wan", value=-1),
               _add(off, EAST, kind="data", field="password", value=1),
               _add(off, EAST, kind="complaint"),
               _add(off, EAST, claim=" "),
               _add(off, "12345", claim="代码不对"),
               _add(off, EAST, run_id=99999),
               off.post(f"/api/appeals/{aid}/decision", json={"status": "upheld", "reason": ""}),
               off.post(f"/api/appeals/{aid}/decision", json={"status": "submitted",
                                                              "reason": "回退"})]
    for resp in refused:
        message = resp.json()["error"]
        assert resp.status_code == 422, message
        # in Chinese, naming no command-line option or code
        assert "--" not in message and not re.search("[a-z]{3,}", message), message
    assert "不小于 0" in refused[1].json()["error"] and "税收" in refused[2].json()["error"]
    assert off.get("/api/appeals/99999999").status_code == 404


def test_an_upheld_data_appeal_writes_the_figure_in_a_verification_batch(sessions, evaluated):
    off = sessions["off_east"]
    aid = _add(off, EAST2, kind="data", field="tax_wan", value="123.5",
               claim="漏报入库税款").json()["appeal_id"]
    done = off.post(f"/api/appeals/{aid}/decision", json={"status": "upheld",
                                                          "reason": "税务局核实"}).json()
    assert done["batch_id"] is not None and done["override_id"] is None
    from gis.db.connection import connect

    with connect(evaluated) as conn:
        assert conn.execute("SELECT e.tax_wan, b.kind FROM enterprise_year e JOIN import_batch b"
                            " USING (batch_id) WHERE credit_code = %s AND year = 2024",
                            (EAST2,)).fetchone() == (123.5, "verification")


def test_the_app_role_writes_appeals_only_through_the_functions(app_conn_factory, review_dsn,
                                                                 sessions, evaluated):
    from gis.db.connection import connect

    aid = _add(sessions["off_east"], EAST).json()["appeal_id"]
    with connect(review_dsn) as admin, app_conn_factory() as app:
        start_session(app, admin, "off_east")
        for statement in ("INSERT INTO appeal_event (appeal_id, status, by_name) VALUES"
                          f" ({aid}, 'upheld', 'x')",
                          f"UPDATE appeal SET status = 'upheld' WHERE appeal_id = {aid}",
                          f"DELETE FROM appeal_event WHERE appeal_id = {aid}",
                          "INSERT INTO class_override (credit_code, year, run_id, class,"
                          f" reason, decided_by) VALUES ('{EAST}', 2024, 1, 'A', 'r', 'x')"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                app.execute(statement)
            app.rollback()
            start_session(app, admin, "off_east")
        # a step from a status the appeal no longer has is refused (someone was quicker)
        app.execute("SELECT mujun_appeal_step(%s, 'submitted', 'under_review', '受理')", (aid,))
        with pytest.raises(psycopg.Error) as caught:
            app.execute("SELECT mujun_appeal_step(%s, 'submitted', 'rejected', '迟到')", (aid,))
        assert caught.value.sqlstate == "MJ409"
        app.rollback()
        # without a session nothing is written, and nothing is seen
        app.execute("SELECT set_config('mujun.session', '', false)")
        with pytest.raises(psycopg.Error) as caught:
            app.execute("SELECT mujun_appeal_step(%s, 'submitted', 'rejected', 'x')", (aid,))
        assert caught.value.sqlstate == "MJ403"
        app.rollback()
        assert app.execute("SELECT count(*) FROM appeal").fetchone() == (0,)
    # the owner cannot rewrite the history either
    with connect(review_dsn) as admin:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            admin.execute("UPDATE appeal_event SET reason = 'x' WHERE appeal_id = %s", (aid,))
        admin.rollback()
        assert [s for (s,) in admin.execute("SELECT status FROM appeal_event WHERE"
                                            " appeal_id = %s ORDER BY event_id", (aid,))] \
            == ["submitted"]


def test_a_class_appeal_of_a_firm_not_evaluated_cannot_be_upheld(sessions, evaluated):
    off = sessions["off_east"]
    aid = _add(off, credit_code(4)).json()["appeal_id"]     # no population in the run
    resp = off.post(f"/api/appeals/{aid}/decision", json={"status": "upheld", "reason": "认定"})
    assert resp.status_code == 422 and "未参评" in resp.json()["error"]
    seen = off.get(f"/api/appeals/{aid}").json()               # nothing half-written
    assert (seen["status"], seen["override_id"], len(seen["history"])) == ("submitted", None, 1)
    assert off.post(f"/api/appeals/{aid}/decision",
                    json={"status": "rejected", "reason": "未参评，请提数据申诉"}).status_code == 200


def test_two_officials_deciding_at_once_one_wins(sessions, evaluated):
    from concurrent.futures import ThreadPoolExecutor

    aid = _add(sessions["off_east"], EAST).json()["appeal_id"]
    moves = [(sessions["off_east"], "upheld"), (sessions["off_east2"], "rejected")]
    with ThreadPoolExecutor(2) as pool:
        codes = sorted(pool.map(lambda m: m[0].post(
            f"/api/appeals/{aid}/decision", json={"status": m[1], "reason": "同时处理"}
        ).status_code, moves))
    assert codes[0] == 200 and codes[1] in (409, 422), codes
    history = sessions["off_east"].get(f"/api/appeals/{aid}").json()["history"]
    assert [h["status"] for h in history][:1] == ["submitted"] and len(history) == 2


def test_an_oversized_claim_is_refused_before_it_is_read(sessions, evaluated):
    resp = _add(sessions["off_east"], EAST, claim="长" * (2 * 2**20))
    assert resp.status_code == 413
