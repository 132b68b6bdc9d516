"""Security of the review app: sessions, CSRF, RLS under the app role, injection,
headers, login rate limiting, photos."""

from __future__ import annotations

import io
import re

import httpx
import pytest

from tests.test_review.conftest import PASSWORD, login, start_session

pytestmark = pytest.mark.postgis

INJECTIONS = ["' OR '1'='1", "1; DROP TABLE candidate; --", "東区' UNION SELECT password_hash"
              " FROM app_user --", "%' OR 1=1 --", "\\x00", "') OR true --", "1e309"]


def test_no_session(server, seeded):
    client = httpx.Client(follow_redirects=False)
    page = client.get(server + "/")
    assert page.status_code == 303 and page.headers["location"] == "/login"
    cid = seeded["东区"][0]
    for path in ("/api/me", "/api/candidates", f"/api/candidates/{cid}", "/api/options",
                 "/tiles/parcels/16/1/1.mvt", "/api/export.xlsx",
                 f"/api/candidates/{cid}/snapshot/before.svg"):
        assert client.get(server + path).status_code == 401, path
    resp = client.post(server + f"/api/candidates/{cid}/decision",
                       json={"status": "under_review", "version": 1})
    assert resp.status_code == 401
    forged = httpx.Client(cookies={"mujun_session": "x" * 43})
    assert forged.get(server + "/api/me").status_code == 401


def test_csrf_is_required_on_every_state_change(sessions, seeded):
    s = sessions["off_east"]
    cid = seeded["东区"][10]
    body = {"status": "under_review", "version": 1}
    for headers in ({}, {"X-CSRF-Token": "wrong"}, {"X-CSRF-Token": sessions["admin"].csrf}):
        resp = s.post(f"/api/candidates/{cid}/decision", json=body, csrf=False, headers=headers)
        assert resp.status_code == 403 and "CSRF" in resp.json()["error"]
        assert s.post("/api/decisions", json={"items": [{"candidate_id": cid, "version": 1}],
                                              "status": "under_review"},
                      csrf=False, headers=headers).status_code == 403
        assert sessions["tech_east"].post(f"/api/candidates/{cid}/notes", data={"note": "x"},
                                          csrf=False, headers=headers).status_code == 403
    cross = s.post(f"/api/candidates/{cid}/decision", json=body,
                   headers={"Origin": "http://evil.example"})
    assert cross.status_code == 403
    assert s.post("/logout", csrf=False).status_code == 403
    assert s.get(f"/api/candidates/{cid}").json()["status"] == "new"
    # the login form has its own token
    fresh = httpx.Client()
    fresh.get(s.base + "/login")
    resp = fresh.post(s.base + "/login", data={"username": "admin", "password": PASSWORD})
    assert resp.status_code == 403


@pytest.mark.parametrize("payload", INJECTIONS)
def test_injection_strings_in_every_parameter(sessions, seeded, review_dsn, payload):
    from gis.db.connection import connect

    with connect(review_dsn) as conn:
        users_before = conn.execute("SELECT count(*) FROM app_user").fetchone()[0]
    s = sessions["off_east"]
    for name in ("kind", "town", "status", "class", "min_area", "max_area", "sort", "bbox",
                 "limit", "offset"):
        resp = s.get("/api/candidates", params={name: payload})
        assert resp.status_code in (200, 400), (name, resp.status_code, resp.text)
        if resp.status_code == 200:
            assert name == "town" and resp.json()["total"] == 0
        assert s.get("/api/candidates.geojson",
                     params={"bbox": "120,31,121,32", name: payload}).status_code in (200, 400)
        assert s.get("/api/export.xlsx", params={name: payload}).status_code in (200, 400)
    from urllib.parse import quote

    assert s.get("/api/candidates/" + quote(payload, safe="")).status_code == 404
    assert s.get("/api/photos/" + payload.replace("/", "")).status_code == 404
    resp = s.post(f"/api/candidates/{seeded['东区'][11]}/decision",
                  json={"status": payload, "version": 1, "reason": payload, "comment": payload})
    assert resp.status_code in (404, 409, 422)
    with connect(review_dsn) as conn:
        assert conn.execute("SELECT count(*) FROM candidate").fetchone()[0] == 30
        assert conn.execute("SELECT count(*) FROM app_user").fetchone()[0] == users_before


def test_injection_in_login_fields(server):
    _session, resp = login(server, "admin' --", "x' OR '1'='1")
    assert resp.status_code == 401


def test_another_district_as_the_app_role_returns_no_rows(app_conn_factory, review_dsn, seeded):
    from gis.db.connection import connect

    east = seeded["东区"]
    with connect(review_dsn) as admin, app_conn_factory() as app:
        assert app.execute("SELECT count(*) FROM candidate").fetchone()[0] == 0  # no session
        start_session(app, admin, "off_west")
        q = "SELECT candidate_id FROM candidate WHERE candidate_id = ANY (%s)"
        assert app.execute(q, (east,)).fetchall() == []
        assert app.execute("SELECT count(*) FROM parcel WHERE district = '东区'").fetchone()[0] == 0
        assert app.execute("SELECT count(*) FROM candidate").fetchone()[0] == 10
        app.rollback()
        start_session(app, admin, "off_east")
        assert len(app.execute(q, (east,)).fetchall()) == len(east)
        # a forged user id does not help: identity comes from a live session token
        app.execute("SELECT set_config('mujun.session', 'forged', false)")
        assert app.execute(q, (east,)).fetchall() == []


def test_viewer_gets_no_figures_from_the_database(app_conn_factory, review_dsn):
    from gis.db.connection import connect

    with connect(review_dsn) as admin, app_conn_factory() as app:
        start_session(app, admin, "viewer_east")
        assert app.execute("SELECT count(*) FROM enterprise_year").fetchone()[0] == 0
        app.rollback()
        start_session(app, admin, "off_east")
        assert app.execute("SELECT count(*) FROM enterprise_year").fetchone()[0] > 0
        app.rollback()
        import psycopg

        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            app.execute("SELECT total FROM enterprise_score")


def test_security_headers_and_cookies(server):
    client = httpx.Client(follow_redirects=False)
    page = client.get(server + "/login")
    csp = page.headers["content-security-policy"]
    script_src = re.search(r"script-src ([^;]*)", csp).group(1)
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp and script_src == "'self'"
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "same-origin"
    assert "server" not in page.headers
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    resp = client.post(server + "/login", data={"username": "admin", "password": PASSWORD,
                                                "csrf": token})
    cookie = resp.headers["set-cookie"]
    assert "mujun_session=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    index = client.get(server + "/")
    assert index.status_code == 200 and index.headers["cache-control"] == "no-store"
    assert "<script>" not in index.text and " on" not in re.sub(r"\s+", " ", index.text).replace(
        " only", "")
    # every page resource is local: no page makes an external request
    for url in re.findall(r'(?:src|href)="([^"]+)"', index.text):
        assert url.startswith("/"), url
        if url.startswith(("/static/", "/vendor/")):
            assert client.get(server + url).status_code == 200, url
    assert client.get(server + "/vendor/leaflet/../../package.json").status_code == 404


def test_logout_and_disable_end_sessions(server, review_dsn):
    from gis.db.connection import connect
    from maps.review.users import add_user, set_active

    with connect(review_dsn) as conn:
        add_user(conn, "temp_user", PASSWORD, role="viewer")
        conn.commit()
    s, resp = login(server, "temp_user")
    assert resp.status_code == 303 and s.get("/api/me").status_code == 200
    cookie = s.client.cookies.get("mujun_session")
    assert s.client.post(server + "/logout", data={"csrf": s.csrf}).status_code == 303
    assert httpx.get(server + "/api/me", cookies={"mujun_session": cookie}).status_code == 401
    s, resp = login(server, "temp_user")
    assert s.get("/api/me").status_code == 200
    with connect(review_dsn) as conn:
        set_active(conn, "temp_user", False)
        conn.commit()
    assert s.get("/api/me").status_code == 401
    assert login(server, "temp_user")[1].status_code == 401


def _png(size=(40, 30)) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def test_field_note_with_photo(sessions, seeded):
    cid = seeded["东区"][13]
    tech = sessions["tech_east"]
    resp = tech.post(f"/api/candidates/{cid}/notes", data={"note": "厂房空置，大门上锁"},
                     files=[("photo", ("site.png", _png(), "image/png"))])
    assert resp.status_code == 201, resp.text
    key = resp.json()["photos"][0]
    assert len(key) >= 32
    notes = sessions["off_east"].get(f"/api/candidates/{cid}").json()["notes"]
    assert notes[-1]["note"] == "厂房空置，大门上锁" and notes[-1]["author"] == "tech_east"
    photo = sessions["off_east"].get(f"/api/photos/{key}")
    assert photo.status_code == 200 and photo.headers["content-type"] == "image/png"
    assert photo.content.startswith(b"\x89PNG") and "sandbox" in photo.headers[
        "content-security-policy"]
    assert sessions["off_west"].get(f"/api/photos/{key}").status_code == 404
    assert sessions["viewer_east"].post(f"/api/candidates/{cid}/notes",
                                        data={"note": "x"}).status_code == 403
    assert tech.post(f"/api/candidates/{seeded['西区'][2]}/notes",
                     data={"note": "x"}).status_code == 404


@pytest.mark.parametrize(("name", "data", "status", "message"), [
    ("evil.png", b"<html><script>alert(1)</script></html>", 422, "not a JPEG, PNG or WebP"),
    ("fake.jpg", b"\xff\xd8\xff" + b"garbage" * 100, 422, "cannot be read"),
    ("big.png", b"\x89PNG\r\n\x1a\n" + b"0" * (9 * 2**20), 413, "超过上限"),
    ("pic.svg", b'<svg xmlns="http://www.w3.org/2000/svg"/>', 422, "not a JPEG"),
])
def test_bad_photos_are_refused(sessions, seeded, review_dsn, name, data, status, message):
    from gis.db.connection import connect

    cid = seeded["东区"][14]
    resp = sessions["tech_east"].post(f"/api/candidates/{cid}/notes", data={"note": "x"},
                                      files=[("photo", (name, data, "image/png"))])
    assert resp.status_code == status, resp.text[:200]
    assert message in resp.text
    with connect(review_dsn) as conn:
        assert conn.execute("SELECT count(*) FROM field_note WHERE candidate_id = %s",
                            (cid,)).fetchone()[0] == 0


def test_spatial_queries_use_their_index_under_rls(app_conn_factory, review_dsn, seeded):
    """With PostGIS's && marked LEAKPROOF, a tile's bounding box uses the GiST index ahead
    of the row-level-security policy instead of scanning every parcel."""
    from gis.db.connection import connect

    with connect(review_dsn) as admin, app_conn_factory() as app:
        start_session(app, admin, "off_east")
        app.execute("SET enable_seqscan = off")  # a 30-parcel table: ask what is possible
        plan = "\n".join(r[0] for r in app.execute(
            "EXPLAIN SELECT parcel_code FROM parcel"
            " WHERE geom && ST_Transform(ST_TileEnvelope(16, 54723, 26746), 4549)"))
        assert "parcel_geom_idx" in plan, plan


def _sample_url(path: str, cid: int) -> str:
    return (path.replace("{candidate_id:int}", str(cid)).replace("{which}", "before")
            .replace("{key}", "x" * 32).replace("{fmt}", "xlsx").replace("{layer}", "parcels")
            .replace("{z:int}/{x:int}/{y:int}", "16/54723/26746").replace("{survey_id:int}", "1")
            .replace("{appeal_id:int}", "1").replace("{plot_id:int}", "1"))


def test_every_route_checks_session_and_role(server, sessions, seeded):
    """Each route of maps.review.app.ROUTES: no session → 401 (pages: redirect); a role
    without the route's permission → 403."""
    from maps.review.app import ROUTES
    from maps.review.permissions import ROLE_PERMISSIONS

    cid = seeded["东区"][16]
    anonymous = httpx.Client(follow_redirects=False)
    checked = 0
    for path, _endpoint, methods, permission in ROUTES:
        if permission == "-":
            continue
        url = _sample_url(path, cid)
        for method in methods:
            resp = anonymous.request(method, server + url)
            assert resp.status_code in (401, 303, 403), (method, url, resp.status_code)
            if resp.status_code == 303:
                assert resp.headers["location"] == "/login"
            for name in ("viewer_east", "tech_east", "plan_jia"):
                role = name.split("_")[0].replace("off", "official")
                role = {"plan": "planner", "tech": "technician"}.get(role, role)
                if permission in ROLE_PERMISSIONS[role]:
                    continue
                s = sessions[name]
                kw = {"json": {}} if method == "POST" and "notes" not in url else {}
                resp = (s.post(url, **kw) if method == "POST" else s.get(url))
                assert resp.status_code == 403, (name, method, url, resp.status_code)
                checked += 1
    assert checked >= 8
