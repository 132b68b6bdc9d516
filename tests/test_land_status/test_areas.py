"""Redevelopment areas (片区, issue 23) on the small sample city in the real PostGIS server,
through the real ``mujun areas`` entry point: by candidate numbers and by polygon files,
reclaimed area and progress from the decisions, "one firm, one plan" notes, exports,
row-level security, and the bad inputs an official will type."""

from __future__ import annotations

import datetime as dt
import json

import geopandas as gpd
import openpyxl
import pyogrio
import pytest
import shapely

from gis.crs import SQM_PER_MU
from tests.cli_runner import fetch, run_mujun

pytestmark = pytest.mark.postgis

AREA_TABLES = ("redevelopment_area, redevelopment_area_member, firm_plan_note,"
               " redevelopment_area_event")


@pytest.fixture(scope="module")
def city(db_dsn, tmp_path_factory):
    """(conn, srid) with the small sample city loaded, measured, scored and its
    land-status candidates found by the real rules run."""
    from gis.db.connection import connect
    from gis.db.srid import get_working_srid
    from gis.settings import load_settings
    from sample import generate_city
    from scoring.land_status.run import run_candidates
    from tests.database_state import holding_database, load_scored_city

    folder = generate_city("small", 7, tmp_path_factory.mktemp("areas") / "city", imagery=False)
    with holding_database(db_dsn):  # cleared before and after, kept meanwhile
        conn = connect(db_dsn)
        home = tmp_path_factory.mktemp("home")
        occ = load_scored_city(conn, db_dsn, folder, home)
        settings = load_settings({"dsn": db_dsn, "home": str(home)}, environ={})
        run_candidates(conn, settings, occupancy_run=occ)
        try:
            yield conn, get_working_srid(conn)
        finally:
            conn.rollback()
            conn.close()


@pytest.fixture
def areas_db(city):
    """The city with no area recorded (each test starts from none)."""
    conn, srid = city
    conn.rollback()
    conn.execute(f"TRUNCATE {AREA_TABLES} RESTART IDENTITY")
    conn.commit()
    return conn, srid


def mujun(argv, monkeypatch, db_dsn, capsys):
    return run_mujun(argv, monkeypatch, db_dsn, capsys)


def open_candidates(conn, n, *, where="TRUE"):
    """The first ``n`` open candidates with a parcel: (id, parcel_code, parcel m², status)."""
    return fetch(conn, "SELECT c.candidate_id, c.parcel_code, p.area_m2, c.status"
                       " FROM candidate c JOIN parcel p USING (parcel_code)"
                       f" WHERE c.status <> 'closed' AND {where}"
                       " ORDER BY c.candidate_id LIMIT %s", (n,))


def approve(conn, candidate_id):
    from scoring.land_status.lifecycle import decide

    path = ("under_review", "confirmed", "approved")
    (now,) = fetch(conn, "SELECT status FROM candidate WHERE candidate_id = %s",
                   (candidate_id,))[0]
    for status in path[path.index(now) + 1 if now in path else 0:]:
        decide(conn, candidate_id, status=status, by="王科长")
    conn.commit()


def test_area_by_numbers_reclaimed_and_progress(areas_db, monkeypatch, db_dsn, capsys):
    conn, _ = areas_db
    rows = open_candidates(conn, 4, where="c.status = 'new'")
    assert len(rows) == 4
    ids = [r[0] for r in rows]
    target = round(2 * sum(r[2] for r in rows) / SQM_PER_MU, 1)
    code, out, err = mujun(["areas", "add", "城东片区", "--candidates", f"{ids[0]},{ids[1]}",
                            "--candidates", str(ids[2]), "--candidates", str(ids[3]),
                            "--method", "回收盘活", "--planned", "2027-06", "--target-mu", str(target),
                            "--by", "规划科", "--json"], monkeypatch, db_dsn, capsys)
    assert code == 0, err
    made = json.loads(out)
    assert made["method"] == "reclaim" and made["candidates"] == sorted(ids)
    # nothing approved yet: not started, nothing reclaimed
    code, out, err = mujun(["areas", "show", "城东片区", "--json"], monkeypatch, db_dsn, capsys)
    assert code == 0, err
    a = json.loads(out)
    assert a["status"] == "not_started" and a["reclaimed_mu"] == 0 and a["progress"] == []
    assert a["candidates_mu"] == pytest.approx(sum(r[2] for r in rows) / SQM_PER_MU, abs=1e-4)
    # two approved for reclamation: their parcels' area in mu, dated by the decisions
    approve(conn, ids[0])
    approve(conn, ids[2])
    code, out, err = mujun(["areas", "show", str(made["area_id"]), "--json"], monkeypatch,
                           db_dsn, capsys)
    a = json.loads(out)
    want = (rows[0][2] + rows[2][2]) / SQM_PER_MU
    assert a["reclaimed_mu"] == pytest.approx(want, abs=1e-4)
    assert a["n_approved"] == 2 and a["status"] == "in_progress"
    assert a["done_share"] == pytest.approx(want / target, abs=1e-4)
    today = dt.date.today().isoformat()
    assert [(p["date"], p["n_approved"]) for p in a["progress"]] == [(today, 2)]
    assert a["progress"][-1]["cumulative_mu"] == pytest.approx(want, abs=1e-4)
    decisions = {m["candidate_id"]: m["status"] for m in a["members"]}
    assert decisions[ids[0]] == decisions[ids[2]] == "approved"
    # the text names the method, the status and the units in Chinese
    code, out, _ = mujun(["areas", "show", "城东片区"], monkeypatch, db_dsn, capsys)
    assert "回收盘活" in out and "推进中" in out and "亩" in out and "批准收回/盘活" in out
    assert "reclaim" not in out and "in_progress" not in out
    # past the planned month without the target: overdue; a small target: met
    code, out, _ = mujun(["areas", "list", "--as-of", "2027-07-01", "--json"], monkeypatch,
                         db_dsn, capsys)
    assert json.loads(out)[0]["status"] == "overdue"
    conn.execute("UPDATE redevelopment_area SET target_mu = %s", (want,))
    conn.commit()
    code, out, _ = mujun(["areas", "list", "--json"], monkeypatch, db_dsn, capsys)
    assert json.loads(out)[0]["status"] == "target_met"


def _polygon_file(path, geom, crs):
    gpd.GeoDataFrame({"name": ["片区"]}, geometry=[geom], crs=crs).to_file(path)
    return path


def test_area_by_polygon_in_any_crs(areas_db, tmp_path, monkeypatch, db_dsn, capsys):
    conn, srid = areas_db
    rows = fetch(conn, "SELECT c.candidate_id, ST_AsBinary(p.geom) FROM candidate c"
                       " JOIN parcel p USING (parcel_code) WHERE c.status <> 'closed'"
                       " ORDER BY c.candidate_id LIMIT 3")
    parcels = [shapely.from_wkb(bytes(r[1])) for r in rows]
    outline = shapely.union_all(parcels).convex_hull.buffer(1)
    inside = fetch(conn, "SELECT c.candidate_id FROM candidate c JOIN parcel p USING"
                         " (parcel_code) WHERE c.status <> 'closed' AND"
                         " ST_Area(ST_Intersection(p.geom, ST_GeomFromWKB(%s, %s)))"
                         " >= 0.5 * p.area_m2 ORDER BY 1", (shapely.to_wkb(outline), srid))
    want = [r[0] for r in inside]
    assert {r[0] for r in rows} <= set(want)
    # the same outline in lon/lat (CGCS2000 geographic): reprojected, same candidates
    lonlat = gpd.GeoSeries([outline], crs=srid).to_crs(4490).iloc[0]
    path = _polygon_file(tmp_path / "outline.geojson", lonlat, 4490)
    code, out, err = mujun(["areas", "add", "园区北片", "--polygon", str(path), "--method",
                            "集聚入园", "--planned", "2026年12月", "--target-mu", "12.5",
                            "--by", "规划科", "--json"], monkeypatch, db_dsn, capsys)
    assert code == 0, err
    assert json.loads(out)["candidates"] == want
    stored = fetch(conn, "SELECT method, planned, target_mu, source IS NOT NULL,"
                         " ST_Area(geom) FROM redevelopment_area")
    assert stored[0][:4] == ("cluster", dt.date(2026, 12, 1), 12.5, True)
    assert stored[0][4] == pytest.approx(outline.area, rel=1e-3)


def test_polygon_in_a_wrong_crs_is_refused(areas_db, tmp_path, monkeypatch, db_dsn, capsys):
    conn, srid = areas_db
    (wkb,) = fetch(conn, "SELECT ST_AsBinary(ST_Envelope(ST_Extent(geom))) FROM parcel")[0]
    box = shapely.from_wkb(bytes(wkb))
    # metres declared as degrees (a wrong .prj): refused, naming the file
    path = _polygon_file(tmp_path / "wrong.gpkg", box, 4326)
    code, _, err = mujun(["areas", "add", "错坐标", "--polygon", str(path), "--method",
                            "改造提升", "--planned", "2027-01", "--target-mu", "5", "--by", "x"],
                           monkeypatch, db_dsn, capsys)
    assert code == 3 and "wrong.gpkg" in err and "Traceback" not in err
    # a projected CRS of another zone: lands far from the parcels, refused
    other = 4546 if srid != 4546 else 4549
    path = _polygon_file(tmp_path / "zone.gpkg", box, other)
    code, _, err = mujun(["areas", "add", "错分带", "--polygon", str(path), "--method",
                            "改造提升", "--planned", "2027-01", "--target-mu", "5", "--by", "x"],
                           monkeypatch, db_dsn, capsys)
    assert code == 3 and "zone.gpkg" in err and "Traceback" not in err
    # no CRS at all
    path = tmp_path / "nocrs.geojson"
    with pytest.warns(UserWarning, match="crs"):
        gpd.GeoDataFrame(geometry=[box]).to_file(path)
    path.write_text(path.read_text(encoding="utf-8").replace('"crs"', '"_crs"'),
                    encoding="utf-8")
    code, _, err = mujun(["areas", "add", "无坐标系", "--polygon", str(path), "--method",
                            "改造提升", "--planned", "2027-01", "--target-mu", "5", "--by", "x"],
                           monkeypatch, db_dsn, capsys)
    assert code == 3 and "Traceback" not in err
    assert fetch(conn, "SELECT count(*) FROM redevelopment_area") == [(0,)]


@pytest.mark.parametrize(("change", "message"), [
    ({"--candidates": "99999"}, "候选 99999 不存在"),
    ({"--candidates": "abc"}, "is not a candidate number"),
    ({"--method": "拆除重建"}, "改造提升、兼并重组、回收盘活、集聚入园、关停退出"),
    ({"--target-mu": "0"}, "must be an area above 0 亩"),
    ({"--target-mu": "-3"}, "must be an area above 0 亩"),
    ({"--target-mu": "nan"}, "must be an area above 0 亩"),
    ({"--planned": "2027-13"}, "is not a month"),
    ({"--planned": "明年"}, "is not a month"),
])
def test_bad_input_is_refused_and_nothing_written(areas_db, change, message, monkeypatch,
                                                  db_dsn, capsys):
    conn, _ = areas_db
    (cid,) = open_candidates(conn, 1)[0][:1]
    opts = {"--candidates": str(cid), "--method": "改造提升", "--planned": "2027-06",
            "--target-mu": "10", "--by": "x"} | change
    argv = ["areas", "add", "测试片区"] + [v for kv in opts.items() for v in kv]
    code, out, err = mujun(argv, monkeypatch, db_dsn, capsys)
    assert code == 3, (out, err)
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert fetch(conn, "SELECT count(*) FROM redevelopment_area") == [(0,)]


def test_duplicate_name_closed_and_shared_candidates(areas_db, monkeypatch, db_dsn, capsys):
    conn, _ = areas_db
    (a, _, _, _), (b, _, _, _) = open_candidates(conn, 2)
    base = ["--method", "兼并重组", "--planned", "2027-06", "--target-mu", "10", "--by", "x"]
    code, _, err = mujun(["areas", "add", "西区", "--candidates", str(a), *base], monkeypatch,
                         db_dsn, capsys)
    assert code == 0, err
    code, _, err = mujun(["areas", "add", "西区", "--candidates", str(b), *base], monkeypatch,
                         db_dsn, capsys)
    assert code == 3 and "an area named '西区' exists" in err
    code, _, err = mujun(["areas", "add", "南区", "--candidates", f"{a},{b}", *base],
                         monkeypatch, db_dsn, capsys)
    assert code == 3 and f"候选 {a}（西区） 已在另一个未关闭的片区中" in err
    closed = fetch(conn, "SELECT candidate_id FROM candidate WHERE status = 'closed' LIMIT 1")
    if not closed:   # the sample's run closes none: close one as a later run would
        closed = [(b,)]
        conn.execute("UPDATE candidate SET status = 'closed', closed_reason = 'test'"
                     " WHERE candidate_id = %s", (b,))
        conn.commit()
    code, _, err = mujun(["areas", "add", "北区", "--candidates", str(closed[0][0]), *base],
                         monkeypatch, db_dsn, capsys)
    assert code == 3 and "已关闭" in err
    code, _, err = mujun(["areas", "add", "东区", *base], monkeypatch, db_dsn, capsys)
    assert code == 3 and "--candidates" in err and "--polygon" in err
    code, _, err = mujun(["areas", "show", "没有这个片区"], monkeypatch, db_dsn, capsys)
    assert code == 3 and "没有名称或编号为「没有这个片区」的片区" in err
    assert fetch(conn, "SELECT name FROM redevelopment_area") == [("西区",)]
    if closed == [(b,)]:
        conn.execute("UPDATE candidate SET status = 'new', closed_reason = NULL"
                     " WHERE candidate_id = %s", (b,))
        conn.commit()


def _area_with_firms(conn):
    """An area of candidates whose parcels are held by firms, and the firms needing a plan."""
    from scoring.land_status.areas.model import firms_to_plan
    from scoring.land_status.areas.store import add_area, holders

    rows = fetch(conn, "SELECT DISTINCT c.candidate_id FROM candidate c JOIN land_right r"
                       " USING (parcel_code) WHERE c.status <> 'closed' ORDER BY 1 LIMIT 25")
    made = add_area(conn, "低效企业片区", method="改造提升", planned="2027-06", target_mu=50,
                    by="x", candidate_ids=[r[0] for r in rows])
    conn.commit()
    firms = firms_to_plan(holders(conn, [made["area_id"]]))
    return made, firms


def test_one_firm_one_plan_notes(areas_db, monkeypatch, db_dsn, capsys):
    conn, _ = areas_db
    made, firms = _area_with_firms(conn)
    assert len(firms) > 0, "the sample's candidates should include class-D or inefficient firms"
    # every firm listed is class D or holds inefficient land, by the database's own answer
    for f in firms.to_dict("records"):
        assert f["reasons"], f
    firm = firms["credit_code"].iloc[0]
    code, out, err = mujun(["areas", "plan", "低效企业片区", firm, "--text",
                            "2026 年底前完成技改，容积率提高到 1.2", "--by", "经信局张"],
                           monkeypatch, db_dsn, capsys)
    assert code == 0, err
    code, out, err = mujun(["areas", "plan", str(made["area_id"]), firm, "--text",
                            "改为兼并重组", "--by", "经信局李"], monkeypatch, db_dsn, capsys)
    assert code == 0, err
    code, out, _ = mujun(["areas", "show", "低效企业片区", "--json"], monkeypatch, db_dsn, capsys)
    a = json.loads(out)
    listed = {f["credit_code"]: f for f in a["firms"]}
    assert [n["author"] for n in listed[firm]["notes"]] == ["经信局张", "经信局李"]
    assert a["firms_planned"] == 1 and a["firms_to_plan"] == len(firms)
    # a firm that is not in the area: refused, the firms that are listed
    code, _, err = mujun(["areas", "plan", "低效企业片区", "91320000000000000X", "--text", "x",
                          "--by", "y"], monkeypatch, db_dsn, capsys)
    assert code == 3 and "not one of area" in err and firm in err
    code, _, err = mujun(["areas", "plan", "低效企业片区", firm, "--text", "  ", "--by", "y"],
                         monkeypatch, db_dsn, capsys)
    assert code == 3 and "--text" in err
    # append-only: the record of a plan cannot be edited or deleted
    import psycopg

    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("UPDATE firm_plan_note SET note = 'changed'")
    conn.rollback()
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("DELETE FROM firm_plan_note")
    conn.rollback()


def test_export_gpkg_xlsx_shp(areas_db, tmp_path, monkeypatch, db_dsn, capsys):
    conn, _ = areas_db
    made, firms = _area_with_firms(conn)
    approve(conn, made["candidates"][0])
    gpkg = tmp_path / "areas.gpkg"
    code, _out, err = mujun(["areas", "export", "-o", str(gpkg)], monkeypatch, db_dsn, capsys)
    assert code == 0, err
    assert {n for n, _ in pyogrio.list_layers(gpkg)} >= {"areas", "area_candidates"}
    layer = gpd.read_file(gpkg, layer="areas")
    assert layer["method"].tolist() == ["改造提升"] and layer["status"].tolist() == ["推进中"]
    members = gpd.read_file(gpkg, layer="area_candidates")
    assert sorted(members["candidate_id"]) == made["candidates"]
    # never overwritten without --overwrite
    code, _, err = mujun(["areas", "export", "-o", str(gpkg)], monkeypatch, db_dsn, capsys)
    assert code == 4 and "--overwrite" in err
    code, _, err = mujun(["areas", "export", "-o", str(gpkg), "--overwrite"], monkeypatch,
                         db_dsn, capsys)
    assert code == 0, err
    xlsx = tmp_path / "areas.xlsx"
    code, _, err = mujun(["areas", "export", "-o", str(xlsx)], monkeypatch, db_dsn, capsys)
    assert code == 0, err
    wb = openpyxl.load_workbook(xlsx, read_only=True)
    assert wb.sheetnames[:4] == ["片区", "片区候选宗地", "进展（按批准日期）", "一企一策"]
    headers = [c.value for c in next(wb["片区"].iter_rows(max_row=1))]
    assert "目标面积（亩）" in headers and "盘活方式" in headers
    plans = list(wb["一企一策"].iter_rows(values_only=True))
    assert len(plans) - 1 == len(firms)
    shp = tmp_path / "areas.shp"
    code, _, err = mujun(["areas", "export", "-o", str(shp)], monkeypatch, db_dsn, capsys)
    assert code == 0, err and shp.exists()
    code, _, err = mujun(["areas", "export", "-o", str(tmp_path / "a.kml")], monkeypatch,
                         db_dsn, capsys)
    assert code == 3 and ".gpkg, .shp, .xlsx" in err


def test_app_role_sees_areas_of_its_towns_only(areas_db, db_dsn):
    """Row-level security: an area is visible when one of its candidates is in scope."""
    import hashlib
    import secrets

    from gis.db.connection import connect
    from gis.db.roles import app_dsn
    from gis.settings import load_settings
    from scoring.land_status.areas.store import add_area

    conn, _ = areas_db
    towns = [r[0] for r in fetch(conn, "SELECT DISTINCT town FROM candidate WHERE status <>"
                                       " 'closed' AND town IS NOT NULL ORDER BY 1")]
    assert len(towns) >= 2
    made = {}
    for town in towns[:2]:
        (cid,) = fetch(conn, "SELECT candidate_id FROM candidate WHERE town = %s AND status"
                             " <> 'closed' ORDER BY 1 LIMIT 1", (town,))[0]
        made[town] = add_area(conn, f"{town}片区", method="关停退出", planned="2027-01",
                              target_mu=5, by="x", candidate_ids=[cid])["area_id"]
        conn.commit()
    conn.execute("INSERT INTO app_user (username, role, password_hash) VALUES"
                 " ('area_viewer', 'official', '$argon2id$v=19$m=1,t=1,p=1$c2FsdA$aGFzaA')"
                 " ON CONFLICT (username) DO NOTHING")
    conn.execute("DELETE FROM app_user_scope WHERE user_id = (SELECT user_id FROM app_user"
                 " WHERE username = 'area_viewer')")
    conn.execute("INSERT INTO app_user_scope (user_id, town) SELECT user_id, %s FROM app_user"
                 " WHERE username = 'area_viewer'", (towns[0],))
    token = secrets.token_urlsafe(32)
    conn.execute("INSERT INTO app_session (token_hash, user_id, csrf_token, expires_at)"
                 " SELECT %s, user_id, 'x', now() + interval '1 hour' FROM app_user"
                 " WHERE username = 'area_viewer'", (hashlib.sha256(token.encode()).digest(),))
    conn.execute("INSERT INTO firm_plan_note (area_id, credit_code, author, note) VALUES"
                 " (%s, '913200000000000001', 'x', 'a'), (%s, '913200000000000002', 'x', 'b')",
                 (made[towns[0]], made[towns[1]]))
    conn.commit()
    with connect(db_dsn) as admin:
        dsn = app_dsn(admin, load_settings({"dsn": db_dsn}))
    with connect(dsn) as app:
        app.execute("SELECT set_config('mujun.session', %s, false)", (token,))
        app.commit()        # a rolled-back transaction would undo the setting
        seen = app.execute("SELECT area_id FROM redevelopment_area").fetchall()
        assert seen == [(made[towns[0]],)]
        notes = app.execute("SELECT note FROM firm_plan_note").fetchall()
        assert notes == [("a",)]
        assert app.execute("SELECT count(*) FROM redevelopment_area_member").fetchone() == (1,)
        app.rollback()
        # a note in an area out of scope, or in another's name, is refused
        import psycopg

        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            app.execute("INSERT INTO firm_plan_note (area_id, credit_code, author, note)"
                        " VALUES (%s, '913200000000000002', 'area_viewer', 'x')",
                        (made[towns[1]],))
        app.rollback()
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            app.execute("INSERT INTO firm_plan_note (area_id, credit_code, author, note)"
                        " VALUES (%s, '913200000000000001', 'someone_else', 'x')",
                        (made[towns[0]],))
        app.rollback()
        app.execute("INSERT INTO firm_plan_note (area_id, credit_code, author, note)"
                    " VALUES (%s, '913200000000000001', 'area_viewer', 'ok')",
                    (made[towns[0]],))
        app.commit()
