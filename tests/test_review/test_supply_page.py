"""The supply page of the review app against the real server and database: officials and
viewers follow plots and areas in their scope; planners edit a plot's supply information
and move it on, through the supply code's functions, only in their towns; the database
refuses the same writes to anyone else (row-level security of migration 0035)."""

from __future__ import annotations

import datetime as dt

import psycopg
import pytest

from gis.crs import SQM_PER_MU
from tests.test_review.conftest import PASSWORD, SRID, login, start_session
from tests.test_review.test_browser import _login, _until, browser, page

__all__ = ["browser", "page"]     # the Chromium fixtures, shared with the map page's tests

pytestmark = pytest.mark.postgis

#: user → (role, towns)
SUPPLY_USERS = {"plan_ding": ("planner", ("丁镇",)), "off_ding": ("official", ("丁镇",)),
                "view_ding": ("viewer", ("丁镇",)), "plan_wu": ("planner", ("戊镇",))}


@pytest.fixture(scope="module")
def plots(review_dsn, seeded, server):
    """Two approved candidates made plots: one in 丁镇, one in 戊镇 (a district of their
    own, away from the other review tests' candidates), and users of those towns."""
    from gis.db.connection import connect
    from maps.review.users import add_user, grant
    from scoring.land_status.areas.store import add_area
    from scoring.land_status.lifecycle import decide
    from scoring.land_status.supply.plots import add_plot

    out = {}
    with connect(review_dsn) as conn:
        x0, y0 = conn.execute("SELECT ST_XMin(e), ST_YMax(e) FROM (SELECT ST_Extent(geom) e"
                              " FROM parcel) s").fetchone()
        for i, town in enumerate(("丁镇", "戊镇")):
            code = f"32050099{i}000GB00001"
            x, y = x0 + 300 * i, y0 + 500
            conn.execute("INSERT INTO parcel (parcel_code, geom, town, district, land_use_code)"
                         " VALUES (%s, ST_Multi(ST_MakeEnvelope(%s, %s, %s, %s, %s)), %s, '北区',"
                         " '0601')", (code, x, y, x + 120, y + 90, SRID, town))
            cid = conn.execute("INSERT INTO candidate (parcel_code, kind, town, district, area_m2)"
                               " VALUES (%s, 'inefficient', %s, '北区', 10800)"
                               " RETURNING candidate_id", (code, town)).fetchone()[0]
            for status in ("under_review", "confirmed", "approved"):
                decide(conn, cid, status=status, by="tester")
            add_area(conn, f"{town}片区", method="回收盘活", planned="2027-06", target_mu=30,
                     by="tester", candidate_ids=[cid])
            conn.commit()
            plot = add_plot(conn, actor="tester", candidate_id=cid, industry="C3311",
                            on=dt.date(2025, 1, 2))
            out[town] = {"plot_id": int(plot["plot_id"]), "candidate_id": int(cid),
                         "code": code}
        for name, (role, towns) in SUPPLY_USERS.items():
            add_user(conn, name, PASSWORD, role=role, display_name=name)
            grant(conn, name, towns=towns)
        conn.commit()
    out["sessions"] = {name: login(server, name)[0] for name in SUPPLY_USERS}
    return out


def _plot(session, plot_id):
    return session.get(f"/api/supply/plots/{plot_id}")


def test_everyone_follows_plots_and_areas_of_their_towns(plots):
    s = plots["sessions"]
    for name in ("off_ding", "view_ding", "plan_ding"):
        resp = s[name].get("/api/supply")
        assert resp.status_code == 200, resp.text
        data = resp.json()
        assert [p["code"] for p in data["plots"]] == [plots["丁镇"]["code"]], name
        assert data["plots"][0]["status_zh"] == "储备"
        assert [n["zh"] for n in data["plots"][0]["next"]] == ["前期开发"]
        assert {st["zh"]: st["n"] for st in data["steps"]}["储备"] == 1
        # the area of the town, with its approved area against the target, in words
        (area,) = data["areas"]
        assert (area["name"], area["method_zh"], area["status_zh"]) == ("丁镇片区", "回收盘活",
                                                                         "推进中")
        assert area["reclaimed_mu"] == pytest.approx(10800 / SQM_PER_MU, abs=1e-3)
    # another town's plot: not found, for reading as for writing
    assert _plot(s["off_ding"], plots["戊镇"]["plot_id"]).status_code == 404
    detail = _plot(s["view_ding"], plots["丁镇"]["plot_id"]).json()
    assert detail["code"] == plots["丁镇"]["code"]
    labels = [f["zh"] for f in detail["fields"]]
    assert "工业用水价格（元/立方米）" in labels and "周边公共服务配套" in labels
    assert any(i["zh"].startswith("容积率下限") and i["value"] == 1.2
               for i in detail["indicators"])
    page = s["view_ding"].get("/supply")
    assert page.status_code == 200 and "标准地供应与片区进展" in page.text
    assert 'id="info-save"' not in page.text          # no edit controls without 'supply'
    assert 'id="info-save"' in s["plan_ding"].get("/supply").text


def test_only_planners_of_the_town_edit(plots):
    s = plots["sessions"]
    pid = plots["丁镇"]["plot_id"]
    version = _plot(s["plan_ding"], pid).json()["version"]
    body = {"values": {"water_price": "3.2", "services": "医院 2 公里"}, "version": version}
    for name in ("off_ding", "view_ding"):           # no 'supply' permission
        assert s[name].post(f"/api/supply/plots/{pid}/info", json=body).status_code == 403
    resp = s["plan_wu"].post(f"/api/supply/plots/{pid}/info", json=body)   # other town
    assert resp.status_code == 404
    resp = s["plan_ding"].post(f"/api/supply/plots/{pid}/info", json=body, csrf=False)
    assert resp.status_code == 403                   # no CSRF token
    resp = s["plan_ding"].post(f"/api/supply/plots/{pid}/info", json=body)
    assert resp.status_code == 200, resp.text
    saved = {f["key"]: f["value"] for f in resp.json()["fields"]}
    assert saved["water_price"] == "3.2" and saved["services"] == "医院 2 公里"
    # the version read before is stale now
    again = s["plan_ding"].post(f"/api/supply/plots/{pid}/info", json=body)
    assert again.status_code == 409 and "已被他人修改" in again.json()["error"]
    bad = s["plan_ding"].post(f"/api/supply/plots/{pid}/info",
                              json={"values": {"bad key!": "x"},
                                    "version": resp.json()["version"]})
    assert bad.status_code == 422 and "无效" in bad.json()["error"]


def test_planner_moves_a_plot_on_and_transfer_closes_its_candidate(plots, review_dsn):
    from gis.db.connection import connect

    s = plots["sessions"]["plan_ding"]
    pid = plots["丁镇"]["plot_id"]
    steps = [("preparation", "2025-02-01"), ("assessment", "2025-03-01"),
             ("indicators", "2025-04-01"), ("announced", "2025-05-01")]
    for to, day in steps:
        version = _plot(s, pid).json()["version"]
        resp = s.post(f"/api/supply/plots/{pid}/step",
                      json={"to": to, "date": day, "document": f"文号-{to}", "version": version})
        assert resp.status_code == 200, resp.text
    # the supply code decides what a valid step is: skipping 出让 is refused, in Chinese
    version = _plot(s, pid).json()["version"]
    resp = s.post(f"/api/supply/plots/{pid}/step",
                  json={"to": "contracted", "date": "2025-06-01", "version": version})
    assert resp.status_code == 422 and "下一步应为「出让」" in resp.json()["error"]
    resp = s.post(f"/api/supply/plots/{pid}/step",
                  json={"to": "transferred", "date": "2025-06-01", "document": "出让-1",
                        "version": version})
    assert resp.status_code == 200, resp.text
    plot = resp.json()
    assert plot["status"] == "transferred"
    assert [(h["to_status"], h["actor"]) for h in plot["history"]][-1] == ("transferred",
                                                                            "plan_ding")
    with connect(review_dsn) as conn:
        status, reason = conn.execute("SELECT status, closed_reason FROM candidate"
                                      " WHERE candidate_id = %s",
                                      (plots["丁镇"]["candidate_id"],)).fetchone()
        actor = conn.execute("SELECT actor FROM review_event WHERE candidate_id = %s"
                             " AND action = 'closed'",
                             (plots["丁镇"]["candidate_id"],)).fetchone()[0]
    assert status == "closed" and "出让" in reason and actor == "plan_ding"
    # the transfer is undone: going back before 出让 gives the candidate its approval back,
    # as the planner (row-level security of migration 0036)
    version = _plot(s, pid).json()["version"]
    resp = s.post(f"/api/supply/plots/{pid}/step",
                  json={"to": "announced", "date": "2025-07-01", "reason": "竞得人放弃",
                        "version": version})
    assert resp.status_code == 200, resp.text
    with connect(review_dsn) as conn:
        status = conn.execute("SELECT status FROM candidate WHERE candidate_id = %s",
                              (plots["丁镇"]["candidate_id"],)).fetchone()[0]
        event = conn.execute("SELECT actor, to_status FROM review_event WHERE candidate_id = %s"
                             " AND action = 'reopened'",
                             (plots["丁镇"]["candidate_id"],)).fetchone()
    assert status == "approved" and event == ("plan_ding", "approved")
    version = _plot(s, pid).json()["version"]
    resp = s.post(f"/api/supply/plots/{pid}/step",
                  json={"to": "transferred", "date": "2025-08-01", "document": "出让-2",
                        "version": version})
    assert resp.status_code == 200, resp.text


def test_the_database_refuses_the_same_writes(plots, review_dsn, app_conn_factory):
    """Row-level security, as the app role: only a planner of the plot's town may change it,
    and only in their own name."""
    from gis.db.connection import connect

    wu = plots["戊镇"]["plot_id"]
    with connect(review_dsn) as admin, app_conn_factory() as app:
        for name, changed in (("off_ding", 0), ("plan_ding", 0), ("plan_wu", 1)):
            start_session(app, admin, name)
            app.commit()
            n = app.execute("UPDATE supply_plot SET info = info || '{\"x\": \"1\"}'"
                            " WHERE plot_id = %s", (wu,)).rowcount
            app.rollback()
            assert n == changed, name
        start_session(app, admin, "plan_wu")
        app.commit()
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            app.execute("INSERT INTO supply_plot_event (plot_id, to_status, on_date, actor)"
                        " VALUES (%s, 'preparation', '2025-02-01', 'someone_else')", (wu,))
        app.rollback()
        with pytest.raises(psycopg.errors.InsufficientPrivilege):   # no such column grant
            app.execute("UPDATE supply_plot SET area_m2 = 1 WHERE plot_id = %s", (wu,))
        app.rollback()
        # a candidate that is no plot's cannot be closed through the supply policy
        other = admin.execute("SELECT candidate_id FROM candidate WHERE town = '丙镇'"
                              " ORDER BY candidate_id DESC LIMIT 1").fetchone()[0]
        n = app.execute("UPDATE candidate SET status = 'closed', closed_reason = 'x'"
                        " WHERE candidate_id = %s", (other,)).rowcount
        app.rollback()
        assert n == 0


@pytest.mark.browser
def test_planner_edits_and_advances_in_chromium(plots, page, server):
    """In headless Chromium: the planner of 戊镇 opens the supply page from the map page,
    fills a supply-information field, saves, and moves the plot on; no request leaves the
    app and the Content Security Policy is never violated."""
    _login(page, server, "plan_wu")
    page.click("#supply-open")
    page.wait_for_selector("body[data-ready='1']", state="attached")
    rows = page.locator("#plot-list tbody tr.plot-row")
    assert rows.count() == 1 and rows.first.inner_text().startswith(plots["戊镇"]["code"])
    rows.first.click()
    page.wait_for_selector("#plot-detail:not([hidden]) input[name='power_price']")
    assert "储备" in page.inner_text("#plot-status")
    page.fill("input[name='power_price']", "0.62")
    page.click("#info-save")
    page.wait_for_selector("#supply-message.ok")
    assert page.inner_text("#supply-message") == "已保存"
    assert page.input_value("input[name='power_price']") == "0.62"
    page.select_option("#step-to", "preparation")
    page.fill("#step-date", "2025-02-03")
    page.fill("#step-document", "前期-001")
    page.click("#step-submit")
    _until(lambda: "前期开发" in page.inner_text("#plot-status"))
    assert "储备 → 前期开发" in page.inner_text("#plot-history")
    assert "前期-001" in page.inner_text("#plot-history")
    assert not page.outside, page.outside
    assert not page.problems, page.problems
