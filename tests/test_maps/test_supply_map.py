"""``mujun map supply`` on the small sample city: a candidate approved, grouped into an
area, supplied again as a standard-land plot with a contract and a breach found; an
area-wide assessment over it. The map's layers, popups and legends say so in Chinese,
the page works offline in Chromium and the figure is drawn."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from gis.crs import SQM_PER_MU
from maps.make import make_map
from maps.web.kinds import MapOptions, build_spec
from tests.cli_runner import run_mujun
from tests.test_maps.test_web_maps import chrome, not_blank, open_and_check, pixels

__all__ = ["chrome"]          # the browser fixture, shared with the other map pages

pytestmark = [pytest.mark.postgis]

STEPS = [("preparation", "2025-07-10"), ("assessment", "2025-07-20"),
         ("indicators", "2025-08-01"), ("announced", "2025-08-15"),
         ("transferred", "2025-09-01"), ("contracted", "2025-09-10")]


@pytest.fixture(scope="module")
def supplied(city_db):
    """The city with one candidate carried to a contracted plot, an area and an assessment."""
    from scoring.land_status.areas.store import add_area
    from scoring.land_status.lifecycle import decide
    from scoring.land_status.supply.contracts import record_contract
    from scoring.land_status.supply.plots import add_plot, advance

    conn, dsn, _ = city_db
    rows = conn.execute("SELECT candidate_id, parcel_code, status FROM candidate"
                        " WHERE status IN ('confirmed', 'new') ORDER BY candidate_id").fetchall()
    cid, parcel, _ = next(r for r in rows if r[2] == "confirmed")
    others = [r[0] for r in rows if r[0] != cid][:3]
    decide(conn, cid, status="approved", by="official")
    conn.commit()
    area = add_area(conn, "高新园片区", method="回收盘活", planned="2027-06", target_mu=500,
                    by="planner", candidate_ids=[cid, *others])
    conn.commit()
    add_plot(conn, actor="planner", candidate_id=cid, industry="C3311", park="高新园",
             on=dt.date(2025, 7, 1))
    for to, day in STEPS:
        advance(conn, parcel, to, dt.date.fromisoformat(day), actor="planner",
                document=f"文号-{to}")
    record_contract(conn, parcel, actor="planner", start_by=dt.date(2025, 12, 31),
                    complete_by=dt.date(2027, 12, 31), contract_no="合同-001", holder="某公司")
    # the next contract check found a late start: a breach candidate on the parcel
    conn.execute("INSERT INTO candidate (parcel_code, kind, status, town, district, area_m2)"
                 " SELECT parcel_code, 'contract_breach', 'new', town, district, area_m2"
                 " FROM parcel WHERE parcel_code = %s", (parcel,))
    conn.execute("INSERT INTO area_assessment (topic, title, conclusion, valid_until, geom)"
                 " SELECT 'geohazard', '地灾评估', '适宜建设', '2030-12-31',"
                 " ST_Multi(ST_Buffer(geom, 50)) FROM parcel WHERE parcel_code = %s",
                 (parcel,))
    conn.commit()
    area_m2 = conn.execute("SELECT area_m2 FROM parcel WHERE parcel_code = %s",
                           (parcel,)).fetchone()[0]
    return {"conn": conn, "dsn": dsn, "cid": cid, "parcel": parcel, "area": area,
            "area_m2": area_m2}


def _layer(spec, layer_id):
    return next(layer for layer in spec.layers if layer.id == layer_id)


def test_layers_popups_and_legends(supplied):
    spec = build_spec(supplied["conn"], "supply", MapOptions())
    assert [layer.id for layer in spec.layers] == ["plots", "contracts", "pipeline", "areas",
                                                   "assessments"]
    plots = _layer(spec, "plots")
    row = dict(zip(plots.labels, plots.rows[0], strict=True))
    # the plot: its status, area in mu, indicators with units, assessment, contract state
    assert row["地块编号"] == supplied["parcel"] and row["状态"] == "合同"
    assert row["面积（亩）"] == pytest.approx(supplied["area_m2"] / SQM_PER_MU, abs=0.01)
    assert row["容积率下限"] == 1.2 and "固定资产投资强度（万元/亩）" in row
    assert row["评估事项"] == "地质灾害危险性评估：有效"
    assert row["合同履约"] == "发现违约线索（违约候选待处理）"
    assert "合同-001" in plots.rows[0]
    # the pipeline: the candidate is supplied again; the legend counts each stage
    pipe = _layer(spec, "pipeline")
    stage = {str(r[0]): r[2] for r in pipe.rows}
    assert stage[str(supplied["cid"])] == "已再供应（标准地出让）"
    note = next(lg["note"] for lg in spec.legends if lg["title"] == "从候选到供应")
    assert "已再供应（标准地出让） 1" in note and "→" in note
    # the area: reclaimed = the approved parcel, status in words
    areas = _layer(spec, "areas")
    arow = dict(zip(areas.labels, areas.rows[0], strict=True))
    assert arow["盘活方式"] == "回收盘活" and arow["进展状态"] == "推进中"
    assert arow["已批准收回/盘活面积（亩）"] == pytest.approx(
        supplied["area_m2"] / SQM_PER_MU, abs=0.01)
    legend_titles = [lg["title"] for lg in spec.legends]
    assert legend_titles == ["标准地供应状态", "合同履约", "从候选到供应", "片区进展",
                             "区域评估事项"]
    for lg in spec.legends:       # legends in words, never codes
        for _, label in lg["rows"]:
            assert not label.isascii(), label


@pytest.mark.browser
def test_page_offline_in_chromium_and_figure(supplied, chrome, tmp_path):
    out = tmp_path / "supply.html"
    info = make_map(supplied["conn"], "supply", out)
    assert info["external_requests"] == []
    text, _, _ = open_and_check(chrome, out, tmp_path, "supply")
    assert "标准地" in out.read_text(encoding="utf-8")
    assert any("\u4e00" <= ch <= "\u9fff" for ch in text)
    png = tmp_path / "figure" / "supply.png"
    png.parent.mkdir()
    make_map(supplied["conn"], "supply", png, dpi=100)
    assert not_blank(pixels(png.read_bytes()))


def test_command_line(supplied, tmp_path, monkeypatch, capsys):
    out = tmp_path / "supply.html"
    code, stdout, err = run_mujun(["map", "supply", "-o", str(out), "--json"], monkeypatch,
                                  supplied["dsn"], capsys)
    assert code == 0, err
    assert json.loads(stdout)["kind"] == "supply" and out.exists()
    code, _, err = run_mujun(["map", "supply", "-o", str(out)], monkeypatch, supplied["dsn"],
                             capsys)
    assert code == 4 and "--overwrite" in err
