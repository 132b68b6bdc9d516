"""Redevelopment areas change over time (issue 23): candidates join and leave, an area is
renamed and closed; every change is an append-only event with who and when, shown by
``mujun areas show``; nothing is deleted. A constructed town in the real PostGIS server,
through the real ``mujun areas`` entry point, bad inputs included."""

from __future__ import annotations

import hashlib
import secrets

import psycopg
import pytest

from tests.cli_runner import run_mujun
from tests.test_land_status.builders import add_parcel, box, start

pytestmark = pytest.mark.postgis


@pytest.fixture
def town(db_conn):
    """Five parcels with one open candidate each (towns 镇A and 镇B), one closed one."""
    start(db_conn)
    for i in range(6):
        add_parcel(db_conn, f"P{i}", box(200 * i, 0, 200 * i + 100, 100),
                   town="镇A" if i < 3 else "镇B", supply="2010-01-01")
    for i in range(6):
        db_conn.execute("INSERT INTO candidate (parcel_code, kind, status, town, district,"
                        " area_m2, closed_reason) VALUES (%s, 'idle_not_started', %s, %s,"
                        " '区', 10000, %s)",
                        (f"P{i}", "closed" if i == 5 else "new", "镇A" if i < 3 else "镇B",
                         "已开工" if i == 5 else None))
    db_conn.commit()
    ids = [r[0] for r in db_conn.execute("SELECT candidate_id FROM candidate"
                                         " ORDER BY parcel_code").fetchall()]
    return db_conn, ids


def mujun(argv, monkeypatch, db_dsn, capsys):
    return run_mujun(argv, monkeypatch, db_dsn, capsys)


def _add(name, ids, monkeypatch, db_dsn, capsys):
    code, _, err = mujun(["areas", "add", name, "--candidates", ",".join(map(str, ids)),
                          "--method", "回收盘活", "--planned", "2027-06", "--target-mu", "20",
                          "--by", "张三"], monkeypatch, db_dsn, capsys)
    assert code == 0, err


def test_candidates_join_leave_rename_close_with_history(town, monkeypatch, db_dsn, capsys):
    conn, ids = town
    _add("城东片区", ids[:2], monkeypatch, db_dsn, capsys)
    code, out, err = mujun(["areas", "add-candidates", "城东片区", str(ids[2]), "--by", "李四"],
                           monkeypatch, db_dsn, capsys)
    assert code == 0 and "加入候选" in out and "现有 3 宗" in out, err
    # the outline grew to cover the new parcel
    covers = conn.execute("SELECT ST_Covers(a.geom, p.geom) FROM redevelopment_area a,"
                          " parcel p WHERE p.parcel_code = 'P2'").fetchone()[0]
    assert covers
    code, out, err = mujun(["areas", "remove-candidates", "城东片区", str(ids[0]), "--reason",
                            "企业已自行改造", "--by", "李四"], monkeypatch, db_dsn, capsys)
    assert code == 0 and "现有 2 宗" in out, err
    code, out, err = mujun(["areas", "rename", "城东片区", "城东工业片区", "--by", "王五"],
                           monkeypatch, db_dsn, capsys)
    assert code == 0 and "更名为「城东工业片区」" in out, err
    code, out, err = mujun(["areas", "show", "城东工业片区", "--json"], monkeypatch, db_dsn,
                           capsys)
    import json

    shown = json.loads(out)
    assert [m["candidate_id"] for m in shown["members"]] == ids[1:3]
    assert [(e["action"], e["actor"]) for e in shown["history"]] == [
        ("created", "张三"), ("added", "李四"), ("removed", "李四"), ("renamed", "王五")]
    assert shown["history"][2]["reason"] == "企业已自行改造"
    # close: stays listed with its candidates, status 已关闭, candidates free again
    code, out, err = mujun(["areas", "close", "城东工业片区", "--reason", "规划调整，并入新区",
                            "--by", "王五"], monkeypatch, db_dsn, capsys)
    assert code == 0 and "已关闭（保留历史）" in out and "关闭原因：规划调整" in out, err
    code, out, err = mujun(["areas", "list"], monkeypatch, db_dsn, capsys)
    assert "城东工业片区" in out and "已关闭（保留历史）" in out
    code, out, err = mujun(["areas", "show", "城东工业片区"], monkeypatch, db_dsn, capsys)
    assert code == 0, err
    for words in ("变更记录", "设立片区", "加入候选", "移出候选", "原因：企业已自行改造",
                  "「城东片区」→「城东工业片区」", "关闭片区", "原因：规划调整，并入新区",
                  "已移出的候选"):
        assert words in out, words
    assert f"{ids[1]:>6}  P1" in out           # members at closing are still shown
    # the candidates of a closed area may join another area
    _add("新区", ids[1:3], monkeypatch, db_dsn, capsys)
    # nothing was deleted: 3 stays of the first area + 2 of the second
    assert conn.execute("SELECT count(*) FROM redevelopment_area_member").fetchone() == (5,)
    # the history is append-only
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
        conn.execute("DELETE FROM redevelopment_area_event")
    conn.rollback()


@pytest.mark.parametrize(("argv", "message"), [
    (["add-candidates", "A", "{c1}", "--by", "x"], "已在另一个未关闭的片区中"),
    (["add-candidates", "A", "{c0}", "--by", "x"], "已在片区「A」中"),
    (["add-candidates", "A", "{closed}", "--by", "x"], "已关闭"),
    (["add-candidates", "A", "99999", "--by", "x"], "候选 99999 不存在"),
    (["add-candidates", "A", "abc", "--by", "x"], "「abc」不是候选编号"),
    (["add-candidates", "无此片区", "{c2}", "--by", "x"], "没有名称或编号为「无此片区」的片区"),
    (["remove-candidates", "A", "{c2}", "--reason", "r", "--by", "x"], "不在片区「A」中"),
    (["remove-candidates", "A", "{c0}", "--reason", "  ", "--by", "x"], "须说明原因"),
    (["rename", "A", "B", "--by", "x"], "已被片区"),
    (["rename", "A", "A", "--by", "x"], "片区已名为「A」"),
    (["close", "A", "--reason", "", "--by", "x"], "须说明原因"),
    (["add-candidates", "C", "{c2}", "--by", "x"], "不能再变更"),
    (["rename", "C", "D", "--by", "x"], "不能再变更"),
    (["close", "C", "--reason", "again", "--by", "x"], "不能再变更"),
])
def test_bad_changes_are_refused_in_one_line_and_nothing_written(town, argv, message,
                                                                 monkeypatch, db_dsn, capsys):
    conn, ids = town
    _add("A", [ids[0]], monkeypatch, db_dsn, capsys)
    _add("B", [ids[1]], monkeypatch, db_dsn, capsys)
    _add("C", [ids[3]], monkeypatch, db_dsn, capsys)
    code, _, err = mujun(["areas", "close", "C", "--reason", "撤销", "--by", "x"],
                         monkeypatch, db_dsn, capsys)
    assert code == 0, err
    before = conn.execute("SELECT (SELECT count(*) FROM redevelopment_area_event),"
                          " (SELECT count(*) FROM redevelopment_area_member WHERE left_at"
                          " IS NULL), (SELECT string_agg(name, ',' ORDER BY area_id)"
                          " FROM redevelopment_area)").fetchone()
    keys = {"c0": ids[0], "c1": ids[1], "c2": ids[2], "closed": ids[5]}
    code, _, err = mujun(["areas", *[a.format(**keys) for a in argv]], monkeypatch, db_dsn,
                         capsys)
    assert code == 3 and message in err, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    after = conn.execute("SELECT (SELECT count(*) FROM redevelopment_area_event),"
                         " (SELECT count(*) FROM redevelopment_area_member WHERE left_at"
                         " IS NULL), (SELECT string_agg(name, ',' ORDER BY area_id)"
                         " FROM redevelopment_area)").fetchone()
    assert after == before


def test_one_open_area_per_candidate_is_also_the_database_s_rule(town):
    conn, ids = town
    from scoring.land_status.areas.store import add_area

    aid = add_area(conn, "A", method="upgrade", planned="2027-01", target_mu=1, by="x",
                   candidate_ids=[ids[0]])["area_id"]
    with pytest.raises(psycopg.errors.UniqueViolation):
        conn.execute("INSERT INTO redevelopment_area_member (area_id, candidate_id)"
                     " VALUES (%s, %s)", (aid, ids[0]))
    conn.rollback()


def test_app_role_sees_the_history_of_its_areas_only(town, db_dsn):
    from gis.db.connection import connect
    from gis.db.roles import app_dsn
    from gis.settings import load_settings
    from scoring.land_status.areas.changes import rename_area
    from scoring.land_status.areas.store import add_area

    conn, ids = town
    a = add_area(conn, "甲", method="upgrade", planned="2027-01", target_mu=1, by="x",
                 candidate_ids=[ids[0]])["area_id"]
    add_area(conn, "乙", method="upgrade", planned="2027-01", target_mu=1, by="x",
             candidate_ids=[ids[3]])
    rename_area(conn, "甲", "甲区", by="y")
    conn.execute("INSERT INTO app_user (username, role, password_hash) VALUES"
                 " ('area_hist', 'viewer', '$argon2id$v=19$m=1,t=1,p=1$c2FsdA$aGFzaA')")
    conn.execute("INSERT INTO app_user_scope (user_id, town) SELECT user_id, '镇A'"
                 " FROM app_user WHERE username = 'area_hist'")
    token = secrets.token_urlsafe(32)
    conn.execute("INSERT INTO app_session (token_hash, user_id, csrf_token, expires_at)"
                 " SELECT %s, user_id, 'x', now() + interval '1 hour' FROM app_user"
                 " WHERE username = 'area_hist'", (hashlib.sha256(token.encode()).digest(),))
    conn.commit()
    with connect(db_dsn) as admin:
        dsn = app_dsn(admin, load_settings({"dsn": db_dsn}))
    with connect(dsn) as app:
        app.execute("SELECT set_config('mujun.session', %s, false)", (token,))
        app.commit()
        seen = app.execute("SELECT area_id, action FROM redevelopment_area_event"
                           " ORDER BY event_id").fetchall()
        assert seen == [(a, "created"), (a, "renamed")]
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            app.execute("INSERT INTO redevelopment_area_event (area_id, action, actor)"
                        " VALUES (%s, 'closed', 'area_hist')", (a,))
        app.rollback()
