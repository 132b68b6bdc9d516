"""The comparison page of the review app, on the real server: roles, district scope, data.

Two score runs are added to the seeded review database (30 firms in three towns of two
districts): run B moves every third firm one class down. Each user's answer is checked
against the comparison computed here, in Python, over the firms of the user's area
only; viewers and technicians are refused; one official uses the page in Chromium.
"""

from __future__ import annotations

import json
from collections import Counter
from urllib.parse import urlparse

import pytest

from tests.test_review.conftest import TOWNS, credit_code
from tests.test_review.test_browser import _login, _until, browser  # noqa: F401

pytestmark = pytest.mark.postgis

DISTRICT = {town: district for district, town in TOWNS}
ORDER = "ABCD"
POINTS = {"A": 40.0, "B": 30.0, "C": 20.0, "D": 10.0}


def _firms() -> list[dict]:
    out = []
    n = 0
    for t, (district, town) in enumerate(TOWNS):
        for _k in range(10):
            n += 1
            a = ORDER[n % 4]
            b = ORDER[min(3, n % 4 + 1)] if n % 3 == 0 else a
            out.append({"code": credit_code(n), "town": town, "district": district, "a": a,
                        "b": b, "tax": 10.0 + n, "n": n, "t": t})
    return out


@pytest.fixture(scope="module")
def runs(review_dsn, seeded):
    """Score runs A and B (removed at the end of the module)."""
    from gis.db.connection import connect

    firms = _firms()
    ids = []
    with connect(review_dsn) as admin:
        for side, ruleset in (("a", "对比甲"), ("b", "对比乙")):
            run = admin.execute(
                "INSERT INTO run (kind, code_version, status, params, finished_at) VALUES"
                " ('score', 'test', 'done', %s, now()) RETURNING run_id",
                (json.dumps({"ruleset": ruleset, "year": 2024}),)).fetchone()[0]
            ids.append(run)
            for f in firms:
                pts = POINTS[f[side]]
                items = {"tax_per_mu": {"score": pts, "label": "亩均税收"},
                         "growth": {"score": 5.0 + f["n"] % 2, "label": "税收增长"}}
                admin.execute(
                    "INSERT INTO enterprise_score (run_id, credit_code, year, ruleset, class,"
                    " total, town, district, name, industry_division, land_m2, items,"
                    " population) VALUES (%s, %s, 2024, %s, %s, %s, %s, %s, %s, '34', 6000,"
                    " %s, 'large')",
                    (run, f["code"], ruleset, f[side], pts + 5, f["town"], f["district"],
                     f"测试企业{f['n']}", json.dumps(items)))
        admin.commit()
        # the tax the page sums is the stored one (other modules of the shared seeded city
        # may have changed a firm's figures, e.g. an upheld data appeal)
        stored = dict(admin.execute(
            "SELECT credit_code, tax_wan FROM enterprise_year WHERE year = 2024"
            " AND credit_code = ANY(%s)", ([f["code"] for f in firms],)).fetchall())
        for f in firms:
            f["tax"] = stored.get(f["code"]) or 0.0
        try:
            yield {"a": ids[0], "b": ids[1], "firms": firms}
        finally:
            admin.rollback()
            admin.execute("DELETE FROM enterprise_score WHERE run_id = ANY(%s)", (ids,))
            admin.execute("DELETE FROM run WHERE run_id = ANY(%s)", (ids,))
            admin.commit()


def _expected(firms: list[dict]) -> dict:
    matrix = Counter((f["a"], f["b"]) for f in firms)
    changed = {f["code"] for f in firms if f["a"] != f["b"]}
    per_town = Counter(f["town"] for f in firms)
    down = Counter(f["town"] for f in firms if f["a"] != f["b"])
    tax = Counter()
    for f in firms:
        tax[f["b"]] += f["tax"]
    return {"matrix": matrix, "changed": changed, "towns": per_town, "down": down,
            "tax_b": tax, "firms": len(firms)}


def _check(got: dict, firms: list[dict]) -> None:
    want = _expected(firms)
    assert got["firms"] == want["firms"]
    for (a, b), n in want["matrix"].items():
        assert got["matrix"][a][b] == n, (a, b)
    assert got["matrix"]["total"]["total"] == want["firms"]
    assert {r["credit_code"] for r in got["changed_firms"]} == want["changed"]
    assert all(r["shift"] == "down" and r["item_1"] == "亩均税收" and r["points_1"] == -10.0
               for r in got["changed_firms"])
    towns = {r["town"]: r for r in got["by_town"]}
    assert set(towns) == set(want["towns"])
    for town, n in want["towns"].items():
        assert towns[town]["firms"] == n and towns[town]["down"] == want["down"][town]
    by_class = {r["class"]: r for r in got["by_class"]}
    for k, v in want["tax_b"].items():
        assert by_class[k]["tax_b"] == pytest.approx(v)
        assert by_class[k]["land_b"] == pytest.approx(
            sum(1 for f in firms if f["b"] == k) * 6000 / (10000 / 15), rel=1e-6)
    # the map: the parcels of the changed firms, in the user's area only
    mapped = {f["properties"]["credit_code"] for f in got["parcels"]["features"]}
    assert mapped == want["changed"]
    assert {f["properties"]["shift"] for f in got["parcels"]["features"]} <= {"down"}


@pytest.mark.parametrize("user,area", [("admin", None), ("off_east", ("district", "东区")),
                                       ("off_west", ("district", "西区")),
                                       ("plan_jia", ("town", "甲镇"))])
def test_the_page_compares_the_firms_of_the_users_area(user, area, runs, sessions):
    s = sessions[user]
    firms = [f for f in runs["firms"] if area is None
             or (f["district"] if area[0] == "district" else f["town"]) == area[1]]
    assert s.get("/compare").status_code == 200
    listed = s.get("/api/compare/runs").json()
    assert {runs["a"], runs["b"]} <= {r["run_id"] for r in listed}
    resp = s.get(f"/api/compare?a={runs['a']}&b={runs['b']}")
    assert resp.status_code == 200, resp.text
    got = resp.json()
    _check(got, firms)
    outside = {f["code"] for f in runs["firms"]} - {f["code"] for f in firms}
    assert not any(code in resp.text for code in outside)       # nothing of other areas
    assert got["labels"]["shifts"]["down"] == "降档"             # the vocabulary's words
    assert got["titles"]["a"].startswith(f"运行 {runs['a']}")


@pytest.mark.parametrize("user", ["viewer_east", "tech_east"])
def test_roles_without_figures_are_refused(user, runs, sessions):
    s = sessions[user]
    for path in ("/compare", "/api/compare/runs", f"/api/compare?a={runs['a']}&b={runs['b']}"):
        resp = s.get(path)
        assert resp.status_code == 403, (path, resp.status_code)
        assert "测试企业" not in resp.text and "亩均税收" not in resp.text


def test_bad_requests_and_no_session(runs, sessions, server):
    import httpx

    s = sessions["off_east"]
    for query, status in (("a=abc&b=1", 400), (f"a={runs['a']}", 400),
                          (f"a={runs['a']}&b=999999999", 404), ("a=-1&b=2", 400)):
        resp = s.get(f"/api/compare?{query}")
        assert resp.status_code == status, (query, resp.text)
        error = resp.json()["error"]
        assert any("\u4e00" <= ch <= "\u9fff" for ch in error) and "Traceback" not in error
    assert httpx.get(server + "/compare", follow_redirects=False).status_code == 303
    assert httpx.get(server + f"/api/compare?a={runs['a']}&b={runs['b']}").status_code == 401


def test_the_app_role_reads_score_figures_only_through_the_scoped_view(app_conn_factory,
                                                                     review_dsn, runs):
    import psycopg

    from gis.db.connection import connect
    from tests.test_review.conftest import start_session

    q = ("SELECT count(*) FROM enterprise_score_figures WHERE run_id = %s"
         " AND items ? 'tax_per_mu' AND land_m2 > 0 AND total > 0")
    with connect(review_dsn) as admin, app_conn_factory() as app:
        assert app.execute(q, (runs["b"],)).fetchone()[0] == 0          # no session
        app.rollback()
        for user, n in (("off_east", 20), ("off_west", 10), ("plan_jia", 10),
                        ("admin", 30), ("viewer_east", 0), ("tech_east", 0)):
            start_session(app, admin, user)
            assert app.execute(q, (runs["b"],)).fetchone()[0] == n, user
            app.rollback()
        start_session(app, admin, "off_east")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):   # the table stays closed
            app.execute("SELECT total, items FROM enterprise_score")


@pytest.mark.browser
def test_an_official_compares_two_runs_in_chromium(runs, server, browser):  # noqa: F811
    context = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(45_000)
    outside, problems = [], []
    host = urlparse(server).netloc
    page.on("request", lambda r: outside.append(r.url)
            if urlparse(r.url).netloc not in (host, "") else None)
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.outside, page.problems = outside, problems
    try:
        _login(page, server, "off_east")
        page.click("#compare-link")
        page.wait_for_selector("body#compare[data-ready='1']", state="attached")
        page.select_option("#run-a", str(runs["a"]))
        page.select_option("#run-b", str(runs["b"]))
        page.click("#compare-submit")
        page.wait_for_selector("body[data-loaded='1']", state="attached")
        east = [f for f in runs["firms"] if f["district"] == "东区"]
        want = _expected(east)
        assert "档次变化 {:,} 家".format(len(want["changed"])) in \
            page.inner_text("#compare-summary")
        rows = page.locator("#compare-changed tbody tr")
        assert rows.count() == len(want["changed"])
        assert "降档" in rows.first.inner_text() and "亩均税收" in rows.first.inner_text()
        # the matrix cell A→B holds the firms that moved from A to B
        header = page.locator("#compare-matrix thead th").all_inner_texts()
        row_a = page.locator("#compare-matrix tbody tr").first.locator("td").all_inner_texts()
        assert row_a[header.index("B") - 1] == str(want["matrix"][("A", "B")])
        towns = page.inner_text("#compare-by-town")
        assert "甲镇" in towns and "丙镇" not in towns
        # the map draws one polygon per changed firm's parcel, with the vocabulary's legend
        _until(lambda: page.locator("#compare-map path.leaflet-interactive").count()
               == len(want["changed"]))
        assert "降档" in page.inner_text("#compare-legend")
        assert outside == [] and problems == [], (outside, problems)
    finally:
        context.close()
