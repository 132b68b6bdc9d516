"""`mujun user` and the database role of the review app (migration 0011, gis.db.roles)."""

from __future__ import annotations

import json

import psycopg
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.cli_runner import fetch, run_mujun
from tests.zh_text import english_words

PW = "a-long-enough-password"


def _add(monkeypatch, db_dsn, capsys, name, *extra, password=PW):
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO(password + "\n"))
    return run_mujun(["user", "add", name, "--password-stdin", *extra], monkeypatch, db_dsn,
                     capsys)


def test_add_list_grant_disable(monkeypatch, db_dsn, db_conn, capsys):
    code, _out, err = _add(monkeypatch, db_dsn, capsys, "li.ming", "--role", "official",
                           "--district", "东区", "--town", "丙镇")
    assert code == 0, err
    code, out, err = run_mujun(["user", "list", "--json"], monkeypatch, db_dsn, capsys)
    assert code == 0, err
    users = json.loads(out)
    assert users == [{**users[0], "username": "li.ming", "role": "official", "active": True,
                      "districts": ["东区"], "towns": ["丙镇"], "everywhere": False}]
    assert "argon2" not in out and PW not in out
    code, out, _ = run_mujun(["user", "list"], monkeypatch, db_dsn, capsys)
    assert "审核人员" in out and "区县 东区" in out and "在用" in out
    assert english_words(out, ("ming",)) == []
    stored = fetch(db_conn, "SELECT password_hash FROM app_user")[0][0]
    assert stored.startswith("$argon2id$") and PW not in stored

    code, out, err = run_mujun(["user", "grant", "li.ming", "--role", "viewer", "--revoke",
                                "--district", "东区", "--json"], monkeypatch, db_dsn, capsys)
    assert code == 0, err
    info = json.loads(out)
    assert (info["role"], info["districts"], info["towns"]) == ("viewer", [], ["丙镇"])

    code, _out, err = run_mujun(["user", "disable", "li.ming"], monkeypatch, db_dsn, capsys)
    assert code == 0, err
    assert fetch(db_conn, "SELECT active FROM app_user")[0][0] is False
    actions = [r[0] for r in fetch(db_conn, "SELECT action FROM app_audit ORDER BY audit_id")]
    assert actions == ["user_add", "user_grant", "user_grant", "user_disable"]


def test_passwd_replaces_hash_and_ends_sessions(monkeypatch, db_dsn, db_conn, capsys):
    assert _add(monkeypatch, db_dsn, capsys, "wang", "--role", "viewer")[0] == 0
    before = fetch(db_conn, "SELECT password_hash FROM app_user")[0][0]
    db_conn.execute("INSERT INTO app_session (token_hash, user_id, csrf_token, expires_at)"
                    " SELECT '\\x00'::bytea, user_id, 'x', now() + interval '1 hour'"
                    " FROM app_user")
    db_conn.commit()
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("another-good-password\n"))
    code, _out, err = run_mujun(["user", "passwd", "wang", "--password-stdin"], monkeypatch,
                                db_dsn, capsys)
    assert code == 0, err
    after = fetch(db_conn, "SELECT password_hash FROM app_user")[0][0]
    assert after != before
    from maps.review.passwords import verify_password

    assert verify_password(after, "another-good-password")
    assert not verify_password(after, PW)
    assert fetch(db_conn, "SELECT count(*) FROM app_session")[0][0] == 0


@pytest.mark.parametrize(("args", "password", "message"), [
    (["--role", "viewer"], "short", "至少需要 10 个字符"),
    (["--role", "viewer"], "aaaaaaaaaa", "同一个字符的重复"),
    (["--role", "viewer"], "1234567890", "最常见的弱密码"),
    (["--role", "viewer"], "Password2024!", "最常见的弱密码"),
    (["--role", "viewer"], "9876543210", "最常见的弱密码"),
    (["--role", "viewer"], "abcdefghijkl", "连续的数字、字母"),
    (["--role", "viewer"], "asdfghjkl", "至少需要 10 个字符"),
    (["--role", "viewer"], "POIUYTREWQ", "连续的数字、字母"),
    (["--role", "viewer"], "zhaozhaozhao", "用户名（zhao）"),
    (["--role", "viewer"], "Zhao20242024", "用户名（zhao）"),
    (["--role", "viewer"], "xyzxyzxyzxyz", "“xyz”的重复"),
    (["--role", "boss"], PW, "Invalid value for '--role'"),
])
def test_bad_input_is_refused(monkeypatch, db_dsn, db_conn, capsys, args, password, message):
    code, _out, err = _add(monkeypatch, db_dsn, capsys, "zhao", *args, password=password)
    assert code != 0 and message in err
    assert fetch(db_conn, "SELECT count(*) FROM app_user")[0][0] == 0


def test_passwd_refuses_weak_passwords_too(monkeypatch, db_dsn, db_conn, capsys):
    assert _add(monkeypatch, db_dsn, capsys, "qian", "--role", "viewer")[0] == 0
    before = fetch(db_conn, "SELECT password_hash FROM app_user")[0][0]
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("qianqianqian\n"))
    code, _out, err = run_mujun(["user", "passwd", "qian", "--password-stdin"], monkeypatch,
                                db_dsn, capsys)
    assert code == 3 and "用户名（qian）" in err and len(err.strip().splitlines()) == 1
    assert fetch(db_conn, "SELECT password_hash FROM app_user")[0][0] == before


_ROWS = ("1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm", "abcdefghijklmnopqrstuvwxyz")


@given(row=st.sampled_from(_ROWS), start=st.integers(0, 40), length=st.integers(10, 30),
       backwards=st.booleans(), upper=st.booleans())
def test_runs_along_a_row_are_refused(row, start, length, backwards, upper):
    from gis.errors import DataError
    from maps.review.passwords import check_rule

    ring = (row[::-1] if backwards else row) * 8
    run = ring[start % len(row):][:length]
    with pytest.raises(DataError, match="请换"):
        check_rule(run.upper() if upper else run)


@given(char=st.characters(blacklist_categories=("Zs", "Cc", "Cs")), n=st.integers(10, 40))
def test_one_repeated_character_is_refused(char, n):
    from gis.errors import DataError
    from maps.review.passwords import check_rule

    with pytest.raises(DataError, match="请换"):
        check_rule(char * n)


@given(st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=0x9FFF,
                                      blacklist_categories=("Cs", "Cc", "Zs", "Zl", "Zp")), min_size=16, max_size=40))
def test_long_varied_passwords_pass(text):
    from hypothesis import assume

    from maps.review.passwords import _is_sequence, _repeated_unit, check_rule

    assume(len(set(text)) >= 8 and _repeated_unit(text.lower()) is None
           and not _is_sequence(text.lower()))
    check_rule(text, username="someone")


def test_bad_and_duplicate_names(monkeypatch, db_dsn, db_conn, capsys):
    code, _out, err = _add(monkeypatch, db_dsn, capsys, "bad name'; --", "--role", "viewer")
    assert code == 3 and "不可用" in err
    assert _add(monkeypatch, db_dsn, capsys, "zhou", "--role", "viewer")[0] == 0
    code, _out, err = _add(monkeypatch, db_dsn, capsys, "zhou", "--role", "admin")
    assert code == 3 and "已存在" in err
    code, _out, err = run_mujun(["user", "passwd", "nobody", "--password-stdin"], monkeypatch,
                                db_dsn, capsys)
    assert code == 3 and "没有用户「nobody」" in err


def test_role_permissions_match_the_database(db_conn):
    from maps.review.permissions import PERMISSIONS, ROLE_PERMISSIONS

    for role, perms in ROLE_PERMISSIONS.items():
        for perm in PERMISSIONS:
            in_db = db_conn.execute("SELECT mujun_role_can(%s, %s)", (role, perm)).fetchone()[0]
            assert in_db == (perm in perms), (role, perm)


def test_app_role_is_restricted_and_logs_in(db_conn, db_dsn):
    from gis.db.roles import APP_ROLE, app_dsn, check_restricted
    from gis.errors import ConfigError
    from gis.settings import load_settings

    dsn = app_dsn(db_conn, load_settings({"dsn": db_dsn}))
    assert "password=" not in dsn
    with psycopg.connect(dsn) as app:
        assert app.execute("SELECT current_user").fetchone()[0] == APP_ROLE
        check_restricted(app)
        # no session: row-level security shows no parcel, and the app cannot write users
        assert app.execute("SELECT count(*) FROM parcel").fetchone()[0] == 0
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            app.execute("SELECT password_hash FROM app_user")
        app.rollback()
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            app.execute("UPDATE app_user SET role = 'admin'")
        app.rollback()
        app.execute("INSERT INTO app_audit (actor, action) VALUES ('x', 'test')")
        app.commit()
        for statement in ("UPDATE app_audit SET actor = 'y'", "DELETE FROM app_audit",
                          "TRUNCATE app_audit"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                app.execute(statement)
            app.rollback()
    with pytest.raises(ConfigError, match="superuser"):
        check_restricted(db_conn)


def test_scram_verifier_known_answer():
    # RFC 7677 test vector: user "user", password "pencil", salt W22ZaJ0SNY7soEsUEjb6gQ==
    import base64

    from gis.db.roles import scram_verifier

    v = scram_verifier("pencil", salt=base64.b64decode("W22ZaJ0SNY7soEsUEjb6gQ=="))
    _, keys = v.split("$", 1)[1].split("$")
    stored, server = keys.split(":")
    # ServerSignature in the RFC derives from ServerKey; check the published ServerKey
    # through its signature: HMAC(ServerKey, AuthMessage) = 6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=
    import hashlib
    import hmac

    auth = (b"n=user,r=rOprNGfwEbeRWgbNEkqO,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
            b"s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0")
    sig = hmac.new(base64.b64decode(server), auth, hashlib.sha256).digest()
    assert base64.b64encode(sig).decode() == "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="
    assert len(base64.b64decode(stored)) == 32


def test_restored_database_gets_the_app_grants_back(db_conn, db_dsn):
    """pg_restore --no-privileges (mujun db restore) drops grants; serving re-applies them."""
    from gis.db.roles import app_dsn, app_grant_statements
    from gis.settings import load_settings

    assert any("mujun_login_hash" in s and "FROM PUBLIC" in s for s in app_grant_statements())
    db_conn.execute("REVOKE ALL ON parcel, candidate, review_event FROM mujun_app")
    db_conn.execute("GRANT EXECUTE ON FUNCTION mujun_login_hash(text) TO PUBLIC")
    db_conn.commit()
    dsn = app_dsn(db_conn, load_settings({"dsn": db_dsn}))
    with psycopg.connect(dsn) as app:
        assert app.execute("SELECT count(*) FROM candidate").fetchone()[0] == 0
        assert app.execute("SELECT count(*) FROM parcel").fetchone()[0] == 0
    db_conn.rollback()
    acl = db_conn.execute("SELECT proacl::text[] FROM pg_proc WHERE proname = 'mujun_login_hash'"
                          ).fetchone()[0]
    assert not any(entry.startswith("=") for entry in acl), acl   # PUBLIC lost EXECUTE again
