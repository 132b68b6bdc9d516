"""Logins (issue 19): sessions only through the password-checking function (finding 12),
throttling per user name and client address instead of lockouts, and the client address
taken from X-Forwarded-For only behind a trusted proxy (finding 14)."""

from __future__ import annotations

import re
import time

import httpx
import psycopg
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from tests.test_review.conftest import PASSWORD, login, serving, start_session

pytestmark = pytest.mark.postgis


def _user(review_dsn, name: str, role: str = "official") -> str:
    from gis.db.connection import connect
    from maps.review.users import add_user, grant

    with connect(review_dsn) as conn:
        if not conn.execute("SELECT 1 FROM app_user WHERE username = %s", (name,)).fetchone():
            add_user(conn, name, PASSWORD, role=role)
            grant(conn, name, districts=("东区",))
            conn.commit()
    return name


def _try(base: str, username: str, password: str, forwarded_for: str | None = None):
    """One login through the form, optionally as if relayed by a proxy."""
    client = httpx.Client(timeout=30, follow_redirects=False)
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    page = client.get(base + "/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    return client.post(base + "/login", headers=headers,
                       data={"username": username, "password": password, "csrf": token})


@pytest.fixture(scope="module")
def proxied_server(review_dsn, seeded):
    """`mujun serve` configured to trust 127.0.0.1 as its reverse proxy."""
    with serving(review_dsn, env={"MUJUN_TRUSTED_PROXIES": "127.0.0.1"}) as base:
        yield base


# ------------------------------------------------------------------- finding 12
def test_the_app_role_cannot_open_a_session_without_the_password(app_conn_factory, review_dsn,
                                                                  seeded):
    from gis.db.connection import connect
    from maps.review.auth import new_token, token_hash

    with connect(review_dsn) as admin, app_conn_factory() as app:
        uid = admin.execute("SELECT user_id FROM app_user WHERE username = 'admin'").fetchone()[0]
        admin.rollback()
        token = new_token()
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            app.execute("INSERT INTO app_session (token_hash, user_id, csrf_token, expires_at)"
                        " VALUES (%s, %s, 'x', now() + interval '1 hour')",
                        (token_hash(token), uid))
        app.rollback()
        start_session(app, admin, "viewer_east")
        for statement in (f"UPDATE app_session SET user_id = {uid}",
                          "DELETE FROM app_session",
                          "SELECT * FROM mujun_login_hash('admin')",
                          "INSERT INTO login_attempt (username, ok) VALUES ('admin', true)",
                          "SELECT * FROM login_attempt",
                          "SELECT * FROM login_throttle"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                app.execute(statement)
            app.rollback()
        # the login function refuses a made-up hash and opens nothing
        app.execute("SELECT set_config('mujun.session', '', false)")
        wait, params, chars = app.execute(
            "SELECT * FROM mujun_login_begin('admin', '192.0.2.77')").fetchone()
        assert wait == 0 and params.startswith("$argon2id$") and params.count("$") == 4
        forged = params + "$" + "A" * chars
        outcome = app.execute("SELECT outcome FROM mujun_login_finish('admin', '192.0.2.77', %s,"
                              " %s, %s, 1.0)", (forged, token_hash(token), new_token())
                              ).fetchone()[0]
        app.commit()
        assert outcome == "refused"
        assert admin.execute("SELECT count(*) FROM app_session WHERE token_hash = %s",
                             (token_hash(token),)).fetchone()[0] == 0
        # an unknown name gets parameters of the same shape, the same each time
        again = [app.execute("SELECT params, hash_chars FROM mujun_login_begin('nobody_x', '')"
                             ).fetchone() for _ in range(2)]
        assert again[0] == again[1] and again[0][0].count("$") == 4 and again[0][1] == chars
        app.rollback()


def test_login_still_opens_a_working_session(server, seeded):
    session, resp = login(server, "off_east")
    assert resp.status_code == 303
    assert session.get("/api/me").json()["username"] == "off_east"


# ------------------------------------------------------------------- finding 14
def test_failures_from_one_address_do_not_lock_its_office_out(server, review_dsn, seeded):
    """20 failed logins from one (NAT) address, for many names: colleagues still log in."""
    for i in range(20):
        assert _try(server, f"guess{i % 7}", "wrong-password-x").status_code in (401, 429)
    colleague = _user(review_dsn, "office_mate")
    assert _try(server, colleague, PASSWORD).status_code == 303


def test_an_official_cannot_be_locked_out_by_someone_else(proxied_server, review_dsn):
    """Failures from an attacker's address throttle that address only, with growing waits."""
    victim = _user(review_dsn, "named_official")
    attacker, office = "203.0.113.9", "198.51.100.7"
    for _ in range(3):   # the first three failures are answered at once
        assert _try(proxied_server, victim, "not-the-password", attacker).status_code == 401
    waits = []
    for _ in range(3):
        early = _try(proxied_server, victim, "not-the-password", attacker)
        assert early.status_code == 429
        waits.append(int(early.headers["retry-after"]))
        time.sleep(waits[-1] + 0.1)
        assert _try(proxied_server, victim, "not-the-password", attacker).status_code == 401
    assert waits == [1, 2, 4]
    # even the right password is not checked from the throttled address ...
    assert _try(proxied_server, victim, PASSWORD, attacker).status_code == 429
    # ... but the official, from the office, logs in at once
    assert _try(proxied_server, victim, PASSWORD, office).status_code == 303
    from gis.db.connection import connect

    with connect(review_dsn) as conn:
        clients = {r[0] for r in conn.execute(
            "SELECT client FROM login_attempt WHERE username = %s", (victim,))}
    assert clients == {attacker, office}


def test_forwarded_for_is_ignored_without_a_trusted_proxy(server, review_dsn):
    """On a server that trusts no proxy, a client cannot escape throttling by naming
    another address in X-Forwarded-For."""
    name = _user(review_dsn, "xff_probe")
    for i in range(3):
        resp = _try(server, name, "not-the-password", f"192.0.2.{i + 1}")
        assert resp.status_code == 401
    assert _try(server, name, "not-the-password", "192.0.2.200").status_code == 429


def test_a_trusted_proxy_is_needed_for_the_header(server, proxied_server, review_dsn):
    from gis.db.connection import connect

    name = _user(review_dsn, "audit_probe")
    assert _try(proxied_server, name, PASSWORD, "10.20.30.40").status_code == 303
    assert _try(server, name, PASSWORD, "10.20.30.41").status_code == 303
    with connect(review_dsn) as conn:
        clients = [r[0] for r in conn.execute(
            "SELECT client FROM app_audit WHERE actor = %s AND action = 'login'"
            " ORDER BY audit_id", (name,))]
    assert clients == ["10.20.30.40", "127.0.0.1"]


_ip = st.ip_addresses(v=4).map(str)


@given(claimed=st.lists(_ip, max_size=4), real=_ip, proxies=st.lists(
    st.sampled_from(["10.9.0.1", "10.9.0.2"]), min_size=1, max_size=3))
def test_client_address_cannot_be_chosen_by_the_client(claimed, real, proxies):
    """Whatever a client writes into X-Forwarded-For, behind a chain of trusted proxies
    the address is the one the first proxy saw."""
    from maps.review.auth import client_address, parse_networks

    trusted = parse_networks("10.9.0.0/24")
    assume(not real.startswith("10.9.0."))
    header = ", ".join([*claimed, real, *proxies[:-1]])
    assert client_address(proxies[-1], header, trusted) == real
    assert client_address(real, header, trusted) == real          # not via a proxy
    assert client_address(proxies[-1], header, ()) == proxies[-1]  # no proxy configured
