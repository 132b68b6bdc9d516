"""An appeal upheld in the review app (as the app role, through migration 0028's
functions) becomes the class adjustment `mujun score explain` shows."""

from __future__ import annotations

import json

import psycopg
import pytest

from tests.test_scoring.county import Firm, load_county, make_firms, mujun

pytestmark = pytest.mark.postgis


def _rec(tax):
    return {"tax_wan": tax, "revenue_wan": 10 * tax, "electricity_kwh": 1e5}


def test_a_class_appeal_upheld_in_the_app_is_explained(tmp_path, db_conn, db_dsn, monkeypatch,
                                                        capsys):
    from gis.db.connection import connect
    from gis.db.roles import app_dsn
    from gis.settings import load_settings
    from maps.review.appeals import record, step
    from maps.review.auth import new_token, token_hash
    from maps.review.users import add_user, grant

    fs = make_firms([Firm(f"企业{i}", True, 10.0, {2021: _rec(10 * i), 2022: _rec(11 * i)})
                     for i in range(1, 21)])
    occ = load_county(tmp_path, fs, monkeypatch, db_dsn, capsys, occupancy_year=2022)
    run_id = json.loads(mujun(["score", "--ruleset", "jiangsu-huaian-2024", "--year", "2022",
                               "--occupancy-run", occ, "--json"], monkeypatch, db_dsn,
                              capsys))["run_id"]
    low = fs[0].code
    town, klass = db_conn.execute("SELECT town, class FROM enterprise_score WHERE run_id = %s"
                                  " AND credit_code = %s", (run_id, low)).fetchone()
    assert klass == "D"
    add_user(db_conn, "appeal_official", "appeal-test-password", role="official")
    grant(db_conn, "appeal_official", towns=(town,))
    add_user(db_conn, "appeal_elsewhere", "appeal-test-password", role="official")
    grant(db_conn, "appeal_elsewhere", towns=("别的镇",))
    sessions = {}
    for name in ("appeal_official", "appeal_elsewhere"):
        sessions[name] = new_token()
        db_conn.execute("INSERT INTO app_session (token_hash, user_id, csrf_token, expires_at)"
                        " SELECT %s, user_id, 'x', now() + interval '1 hour' FROM app_user"
                        " WHERE username = %s", (token_hash(sessions[name]), name))
    db_conn.commit()
    dsn = app_dsn(db_conn, load_settings({"dsn": db_dsn}))

    def as_user(name):
        conn = connect(dsn)
        conn.execute("SELECT set_config('mujun.session', %s, false)", (sessions[name],))
        return conn

    from maps.review.appeals import AppealRefused

    with as_user("appeal_elsewhere") as other:
        with pytest.raises(AppealRefused) as refused:
            record(other, {"credit_code": low, "kind": "class", "class": "C",
                           "claim": "不在本镇"})
        assert refused.value.status == 404
    with as_user("appeal_official") as app:
        aid = record(app, {"credit_code": low, "kind": "class", "class": "C",
                           "claim": "受疫情影响停产三个月", "run_id": run_id})
        app.commit()
        step(app, aid, {"status": "under_review", "reason": "材料齐全"})
        app.commit()
        step(app, aid, {"status": "upheld", "reason": "经联席会议认定"})
        app.commit()
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            app.execute("DELETE FROM appeal_event")
        app.rollback()
    ex = json.loads(mujun(["score", "explain", low, "--json"], monkeypatch, db_dsn, capsys))
    assert (ex["initial_class"], ex["adjusted_class"]) == ("D", "C")
    assert ex["override"]["reason"] == f"调档申诉 {aid} 成立：经联席会议认定"
    assert ex["override"]["decided_by"] == "appeal_official"
    steps = db_conn.execute("SELECT status, by_name FROM appeal_event WHERE appeal_id = %s"
                            " ORDER BY event_id", (aid,)).fetchall()
    assert steps == [("submitted", "appeal_official"), ("under_review", "appeal_official"),
                     ("upheld", "appeal_official")]
    text = mujun(["appeals", "list", "--json"], monkeypatch, db_dsn, capsys)
    assert json.loads(text)[0]["override_id"] is not None
