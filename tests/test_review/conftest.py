"""Fixtures of the review-app tests: a database of their own, seeded with a small town
layout, users of every role, and the real server (uvicorn on 127.0.0.1, random port).

The review tests use their own database (not ``db_conn``'s, which is truncated after
every test) so the seeded candidates and users live for the whole session.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import socket
import subprocess
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PASSWORD = "review-test-password"
SRID = 4549
#: user name → (role, districts, towns, everywhere)
USERS = {
    "admin": ("admin", (), (), True),
    "off_east": ("official", ("东区",), (), False),
    "off_east2": ("official", ("东区",), (), False),
    "off_west": ("official", ("西区",), (), False),
    "viewer_east": ("viewer", ("东区",), (), False),
    "tech_east": ("technician", ("东区",), (), False),
    "plan_jia": ("planner", (), ("甲镇",), False),
}
TOWNS = (("东区", "甲镇"), ("东区", "乙镇"), ("西区", "丙镇"))
KINDS = ("idle_not_started", "idle_stalled", "unfinished", "inefficient", "built_unused",
         "approved_unsupplied")


def credit_code(i: int) -> str:
    """A valid 18-character unified social credit code (GB 32100-2015 check character)."""
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    weights = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
    body = f"913205{i:011d}"[:17]
    total = sum(alphabet.index(c) * w for c, w in zip(body, weights, strict=True))
    return body + alphabet[(31 - total % 31) % 31]


def seed(conn) -> dict:
    """Parcels, enterprises, a score run, two surveys with footprints, and candidates.

    Returns the candidate ids per district.
    """
    from pyproj import Transformer

    from gis.db.srid import set_working_srid
    from maps.review.users import add_user, grant

    set_working_srid(conn, SRID)
    to_gk = Transformer.from_crs(4326, SRID, always_xy=True)
    x0, y0 = to_gk.transform(120.60, 31.20)
    batch = conn.execute("INSERT INTO import_batch (kind, source) VALUES ('sample', 'review-test')"
                         " RETURNING batch_id").fetchone()[0]
    run = conn.execute("INSERT INTO run (kind, code_version, status, params) VALUES"
                       " ('score', 'test', 'done', '{}') RETURNING run_id").fetchone()[0]
    ids: dict[str, list[int]] = {"东区": [], "西区": []}
    s1 = conn.execute(
        "INSERT INTO survey (survey_date, coverage, source) VALUES ('2022-05-01',"
        " ST_Multi(ST_MakeEnvelope(%s, %s, %s, %s, %s)), 'test') RETURNING survey_id",
        (x0 - 1000, y0 - 1000, x0 + 5000, y0 + 5000, SRID)).fetchone()[0]
    s2 = conn.execute(
        "INSERT INTO survey (survey_date, coverage, source) VALUES ('2024-05-01',"
        " ST_Multi(ST_MakeEnvelope(%s, %s, %s, %s, %s)), 'test') RETURNING survey_id",
        (x0 - 1000, y0 - 1000, x0 + 5000, y0 + 5000, SRID)).fetchone()[0]
    n = 0
    for t, (district, town) in enumerate(TOWNS):
        for k in range(10):
            n += 1
            code = f"320500{t:03d}000GB{n:05d}"
            x, y = x0 + k * 150, y0 + t * 150
            conn.execute(
                "INSERT INTO parcel (parcel_code, geom, town, district, land_use_code, batch_id,"
                " supply_date) VALUES (%s, ST_Multi(ST_MakeEnvelope(%s, %s, %s, %s, %s)), %s, %s,"
                " '0601', %s, '2018-01-01')",
                (code, x, y, x + 100, y + 80, SRID, town, district, batch))
            cc = credit_code(n)
            conn.execute("INSERT INTO enterprise (credit_code, name, town, batch_id) VALUES"
                         " (%s, %s, %s, %s)", (cc, f"测试企业{n}", town, batch))
            conn.execute("INSERT INTO enterprise_year (credit_code, year, tax_wan, revenue_wan)"
                         " VALUES (%s, 2024, %s, %s)", (cc, 10.0 + n, 100.0 + 3 * n))
            conn.execute("INSERT INTO land_right (parcel_code, credit_code, right_type, share)"
                         " VALUES (%s, %s, 'owner', 1.0)", (code, cc))
            conn.execute(
                "INSERT INTO enterprise_score (run_id, credit_code, year, ruleset, class, total,"
                " town, district) VALUES (%s, %s, 2024, 'test', %s, %s, %s, %s)",
                (run, cc, "ABCD"[n % 4], 50.0 + n, town, district))
            for survey, w in ((s1, 40), (s2, 10 + (k % 3) * 30)):
                conn.execute(
                    "INSERT INTO footprint (geom, survey_id, batch_id, image_date) VALUES"
                    " (ST_Multi(ST_MakeEnvelope(%s, %s, %s, %s, %s)), %s, %s, '2024-05-01')",
                    (x + 10, y + 10, x + 10 + w, y + 50, SRID, survey, batch))
            cid = conn.execute(
                "INSERT INTO candidate (parcel_code, kind, town, district, area_m2,"
                " reclaimable_m2, certainty, priority, evidence, rules) VALUES"
                " (%s, %s, %s, %s, 8000, %s, 0.8, %s, %s, %s) RETURNING candidate_id",
                (code, KINDS[n % len(KINDS)], town, district, 1000.0 * (1 + k % 5),
                 float((n * 37) % 100), json.dumps(
                     {"coverage": 0.12, "years_since_supply": 6,
                      "enterprises": [{"credit_code": cc, "class": "D", "tax_wan": 12.5,
                                       "tax_per_mu": 1.04, "electricity_kwh": 2293.0}]}),
                 json.dumps([{"rule": "coverage_below_control", "value": 0.12,
                              "threshold": 0.3, "passed": True},
                             {"rule": "tax_per_mu_below", "value": 0.28, "threshold": 0.5,
                              "passed": True}]))).fetchone()[0]
            ids[district].append(int(cid))
    for name, (role, districts, towns, everywhere) in USERS.items():
        add_user(conn, name, PASSWORD, role=role, display_name=name)
        grant(conn, name, districts=districts, towns=towns, everywhere=everywhere)
    conn.commit()
    return ids


@pytest.fixture(scope="session")
def review_dsn(pg_settings):
    """A migrated, seeded database of the review tests (dropped at the end)."""
    from psycopg import sql
    from psycopg.conninfo import make_conninfo

    from gis.db.connection import connect
    from gis.db.migrations import migrate
    from gis.db.roles import mark_leakproof
    from tests.conftest import _server_dsn

    server = _server_dsn(pg_settings)
    name = f"mujun_test_{os.getpid()}_{secrets.token_hex(3)}"
    with connect(server, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8'")
                      .format(sql.Identifier(name)))
    dsn = make_conninfo(server, dbname=name)
    try:
        with connect(dsn) as conn:
            migrate(conn)
            mark_leakproof(conn)   # as the local cluster's owner set-up does
            conn.commit()
        yield dsn
    finally:
        with connect(server, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
                          .format(sql.Identifier(name)))


@pytest.fixture(scope="session")
def seeded(review_dsn) -> dict:
    """Candidate ids per district of the seeded database."""
    from gis.db.connection import connect

    with connect(review_dsn) as conn:
        return seed(conn)


#: Base URL of a running test server → the pid of its `mujun serve` process.
SERVER_PIDS: dict[str, int] = {}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serving(dsn: str, env: dict[str, str] | None = None):
    """Run `mujun serve` on 127.0.0.1 (random port) against ``dsn``; yields its base URL."""
    import httpx

    from tests.cli_runner import mujun_popen

    port = _free_port()
    log = open(Path(os.environ.get("TMPDIR", "/tmp")) / f"mujun-review-{port}.log", "w+")  # noqa: SIM115
    proc = mujun_popen("serve", "--port", str(port), dsn=dsn, env=env, cwd=REPO, stdout=log,
                       stderr=subprocess.STDOUT, text=False)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        if proc.poll() is not None:
            log.seek(0)
            pytest.fail(f"mujun serve exited with {proc.returncode}:\n{log.read()[-3000:]}")
        try:
            if httpx.get(base + "/login", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            proc.kill()
            log.seek(0)
            pytest.fail(f"mujun serve did not answer within 60 s:\n{log.read()[-3000:]}")
        time.sleep(0.2)
    SERVER_PIDS[base] = proc.pid
    try:
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="session")
def server(review_dsn, seeded):
    """Base URL of `mujun serve` running on 127.0.0.1 against the seeded database."""
    with serving(review_dsn) as base:
        yield base


class Session:
    """An httpx client logged in as one user, with its CSRF token."""

    def __init__(self, base: str, client, csrf: str | None):
        self.base, self.client, self.csrf = base, client, csrf

    def get(self, path, **kw):
        return self.client.get(self.base + path, **kw)

    def post(self, path, *, csrf=True, **kw):
        headers = dict(kw.pop("headers", {}) or {})
        if csrf and self.csrf:
            headers["X-CSRF-Token"] = self.csrf
        return self.client.post(self.base + path, headers=headers, **kw)


def login(base: str, username: str, password: str = PASSWORD):
    """Log in through the login form; returns (Session, the login response)."""
    import httpx

    client = httpx.Client(timeout=30, follow_redirects=False)
    page = client.get(base + "/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    resp = client.post(base + "/login", data={"username": username, "password": password,
                                              "csrf": token})
    csrf = None
    if resp.status_code == 303:
        index = client.get(base + "/")
        csrf = re.search(r'data-csrf="([^"]+)"', index.text).group(1)
    return Session(base, client, csrf), resp


@pytest.fixture(scope="session")
def sessions(server) -> dict[str, Session]:
    """One logged-in session per seeded user."""
    out = {}
    for name in USERS:
        session, resp = login(server, name)
        assert resp.status_code == 303, (name, resp.status_code, resp.text[:300])
        out[name] = session
    return out


@pytest.fixture(scope="session")
def app_conn_factory(review_dsn, pg_settings):
    """Open a connection as the restricted app role (the role `mujun serve` uses)."""
    from gis.db.connection import connect
    from gis.db.roles import app_dsn
    from gis.settings import load_settings

    with connect(review_dsn) as admin:
        dsn = app_dsn(admin, load_settings({"dsn": review_dsn}))
    return lambda: connect(dsn)


def start_session(app_conn, admin_conn, username: str) -> str:
    """Create a live session for ``username`` (as the owner) and set it on ``app_conn``."""
    from maps.review.auth import new_token, token_hash

    token = new_token()
    admin_conn.execute(
        "INSERT INTO app_session (token_hash, user_id, csrf_token, expires_at)"
        " SELECT %s, user_id, 'x', now() + interval '1 hour' FROM app_user WHERE username = %s",
        (token_hash(token), username))
    admin_conn.commit()
    app_conn.execute("SELECT set_config('mujun.session', %s, false)", (token,))
    return token

