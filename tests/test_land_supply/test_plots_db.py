"""Plots, contracts, information, assessments and the breach writer on a constructed town
(real PostGIS, real files): the bad inputs each give one clear line."""

from __future__ import annotations

import datetime as dt
import json

import geopandas as gpd
import pytest
import shapely

from scoring.land_status.supply.errors import StepError, SupplyError
from scoring.land_status.supply.plots import add_plot, advance, get_plot, set_info
from tests.cli_runner import run_mujun
from tests.test_land_status.builders import SRID, X0, Y0, add_parcel, add_survey, box, start

pytestmark = pytest.mark.postgis
D = dt.date.fromisoformat


@pytest.fixture
def town(db_conn):
    start(db_conn)
    add_parcel(db_conn, "P1", box(0, 0, 100, 100), supply="2005-01-01", start="2005-06-01",
               finish="2007-06-01", district="东区")
    add_parcel(db_conn, "P2", box(200, 0, 300, 100), supply="2005-01-01", district="西区")
    db_conn.execute("INSERT INTO candidate (parcel_code, kind, status, town, district, area_m2)"
                    " VALUES ('P1', 'built_unused', 'confirmed', '镇A', '东区', 10000)")
    db_conn.commit()
    return db_conn


def _polygon(tmp_path, geom, crs, name="plot.gpkg"):
    path = tmp_path / name
    gpd.GeoDataFrame({"n": [1]}, geometry=[geom], crs=crs).to_file(path)
    return path


def test_a_candidate_not_approved_is_refused(town):
    cid = town.execute("SELECT candidate_id FROM candidate").fetchone()[0]
    with pytest.raises(SupplyError, match="状态为「已确认」；只有「批准收回/盘活」"):
        add_plot(town, actor="t", candidate_id=cid)
    with pytest.raises(SupplyError, match="候选 999 不存在"):
        add_plot(town, actor="t", candidate_id=999)
    assert town.execute("SELECT count(*) FROM supply_plot").fetchone()[0] == 0


def test_a_polygon_plot_gets_its_area_town_and_parcel(town, tmp_path):
    path = _polygon(tmp_path, box(10, 10, 90, 60), SRID)
    p = add_plot(town, actor="t", polygon=path, code="XG-01", industry="34", on=D("2025-01-02"))
    assert p["area_m2"] == pytest.approx(4000.0) and p["area_mu"] == pytest.approx(6.0)
    assert p["parcel_code"] == "P1" and p["town"] == "镇A" and p["origin"] == "new"
    assert p["indicators"]["investment_wan_per_mu"] == 350
    with pytest.raises(SupplyError, match="地块编号 XG-01 已被使用"):
        add_plot(town, actor="t", polygon=path, code="XG-01")


def test_a_plot_polygon_in_the_wrong_crs_is_refused(town, tmp_path):
    # projected metres declared as longitude/latitude
    wrong = _polygon(tmp_path, box(10, 10, 90, 60), 4326, "wrong.gpkg")
    from gis.errors import CRSError

    with pytest.raises(CRSError, match=r"wrong\.gpkg.*not degrees.*--crs"):
        add_plot(town, actor="t", polygon=wrong, code="XG-02")
    assert town.execute("SELECT count(*) FROM supply_plot").fetchone()[0] == 0


def test_an_unknown_industry_is_refused_before_anything_is_written(town, tmp_path,
                                                                   monkeypatch, db_dsn, capsys):
    path = _polygon(tmp_path, box(10, 10, 90, 60), SRID)
    code, _out, err = run_mujun(["supply", "add", "--polygon", str(path), "--code", "X",
                                "--industry", "C1711", "--by", "t"], monkeypatch, db_dsn, capsys)
    assert code == 2 and "行业 C1711 不在控制指标表" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert town.execute("SELECT count(*) FROM supply_plot").fetchone()[0] == 0


def test_steps_in_order_dated_and_back_with_a_reason(town, tmp_path):
    path = _polygon(tmp_path, box(10, 10, 90, 60), SRID)
    add_plot(town, actor="t", polygon=path, code="A", on=D("2025-01-01"))
    advance(town, "A", "preparation", D("2025-02-01"), actor="t")
    advance(town, "A", "assessment", D("2025-02-01"), actor="t")   # the same day is fine
    with pytest.raises(StepError, match="尚无控制指标"):
        advance(town, "A", "indicators", D("2025-03-01"), actor="t")
    with pytest.raises(StepError, match="下一步应为「指标确定」，不能直接到「公告」"):
        advance(town, "A", "announced", D("2025-03-01"), actor="t")
    with pytest.raises(StepError, match="日期 2025-01-15 早于上一步「区域评估」的日期 2025-02-01"):
        advance(town, "A", "preparation", D("2025-01-15"), actor="t", reason="评估未通过")
    with pytest.raises(StepError, match="须说明原因"):
        advance(town, "A", "preparation", D("2025-03-01"), actor="t")
    p = advance(town, "A", "preparation", D("2025-03-01"), actor="t", reason="评估未通过")
    assert p["status"] == "preparation"
    assert [e["reason"] for e in p["history"]] == [None, None, None, "评估未通过"]
    # the history is append-only
    with pytest.raises(Exception, match="append-only"):
        town.execute("UPDATE supply_plot_event SET reason = 'x'")
    town.rollback()


def test_supply_information_merges_and_removes(town, tmp_path, monkeypatch, db_dsn, capsys):
    path = _polygon(tmp_path, box(10, 10, 90, 60), SRID)
    add_plot(town, actor="t", polygon=path, code="A")
    set_info(town, "A", {"water_price": "3.2", "services": "医院 2 km"})
    p = set_info(town, "A", {"water_price": "", "power_capacity": "10000"})
    assert p["info"] == {"services": "医院 2 km", "power_capacity": "10000"}
    code, out, _ = run_mujun(["supply", "info", "--template"], monkeypatch, db_dsn, capsys)
    template = tmp_path / "info.yaml"
    template.write_text(out.replace("gas_price:", "gas_price: 3.5"), encoding="utf-8")
    code, out, err = run_mujun(["supply", "info", "A", "--file", str(template)], monkeypatch,
                               db_dsn, capsys)
    assert code == 0, err
    assert "天然气价格：3.5 元/立方米" in out and "周边公共服务配套：医院 2 km" in out
    code, _, err = run_mujun(["supply", "info", "A", "--set", "水价=3"], monkeypatch, db_dsn,
                             capsys)
    assert code == 3 and "信息项名称" in err


def test_a_contract_needs_a_transferred_plot(town, tmp_path):
    from scoring.land_status.supply.contracts import record_contract

    path = _polygon(tmp_path, box(10, 10, 90, 60), SRID)
    add_plot(town, actor="t", polygon=path, code="A", industry="34")
    with pytest.raises(SupplyError, match="出让后才能登记合同"):
        record_contract(town, "A", actor="t", start_by=D("2026-01-01"),
                        complete_by=D("2027-01-01"))
    for to in ("preparation", "assessment", "indicators", "announced", "transferred"):
        advance(town, "A", to, D("2030-01-01"), actor="t")
    bad = [({"complete_by": D("2025-01-01")}, "约定竣工日期 2025-01-01 早于约定开工日期"),
           ({"credit_code": "9132"}, "统一社会信用代码 9132 格式错误"),
           ({"far_min": 0.0}, "--far-min 应为大于 0"),
           ({"coverage_min": 40.0}, "应为 0 到 1 之间的比例"),
           ({"parcel_code": "NOPE"}, "宗地 NOPE 不在宗地库中")]
    for over, message in bad:
        args = {"start_by": D("2026-01-01"), "complete_by": D("2027-01-01"), **over}
        with pytest.raises(SupplyError, match=message):
            record_contract(town, "A", actor="t", **args)
    p = record_contract(town, "A", actor="t", start_by=D("2026-01-01"),
                        complete_by=D("2027-01-01"), credit_code=" 91350100m000100y43 ")
    assert p["contract"]["credit_code"] == "91350100M000100Y43"
    assert p["contract"]["far_min"] == 1.2          # from the plot's indicators


def test_assessments_are_imported_and_inherited_with_their_validity(town, tmp_path,
                                                                    monkeypatch, db_dsn, capsys):
    path = _polygon(tmp_path, box(10, 10, 90, 60), SRID)
    add_plot(town, actor="t", polygon=path, code="A")
    area = box(-50, -50, 400, 200)
    layer = gpd.GeoDataFrame({
        "评估事项": ["环评", "地质灾害危险性评估", "洪评", "水保"],
        "评估结论": ["符合", "危险性小", "可行", "可行"],
        "有效期至": ["2030-12-31", "2024-12-31", None, None]},
        geometry=[area, area, area, box(1000, 1000, 1100, 1100)], crs=SRID)
    src = tmp_path / "区域评估.gpkg"
    layer.to_file(src)
    code, out, err = run_mujun(["import", "assessments", str(src), "--dry-run"], monkeypatch,
                               db_dsn, capsys)
    assert code == 0, err
    assert town.execute("SELECT count(*) FROM area_assessment").fetchone()[0] == 0
    code, out, err = run_mujun(["import", "assessments", str(src)], monkeypatch, db_dsn, capsys)
    assert code == 0, err
    p = get_plot(town, "A", on=D("2025-06-30"))
    got = {a["topic"]: a["state"] for a in p["assessments"]}
    assert got == {"environment": "valid", "geohazard": "expired", "flood": "valid"}
    code, out, err = run_mujun(["supply", "show", "A", "--date", "2025-06-30"], monkeypatch,
                               db_dsn, capsys)
    assert "地质灾害危险性评估：危险性小，有效期至 2024-12-31（已过期）" in out


def test_an_assessment_layer_with_a_bad_row_loads_nothing(town, tmp_path, monkeypatch, db_dsn,
                                                          capsys):
    layer = gpd.GeoDataFrame({"评估事项": ["环评", "风水"], "评估结论": ["符合", "好"]},
                             geometry=[box(0, 0, 10, 10), box(0, 0, 10, 10)], crs=SRID)
    src = tmp_path / "bad.gpkg"
    layer.to_file(src)
    code, _, err = run_mujun(["import", "assessments", str(src)], monkeypatch, db_dsn, capsys)
    assert code == 3 and "未写入任何数据：1 个要素有错误" in err and "洪水影响评价" in err
    assert "--accept-partial" in err and "Traceback" not in err
    assert town.execute("SELECT count(*) FROM area_assessment").fetchone()[0] == 0
    # wrong CRS: metres declared as degrees
    layer = gpd.GeoDataFrame({"评估事项": ["环评"], "评估结论": ["符合"]},
                             geometry=[box(0, 0, 10, 10)], crs=4326)
    layer.to_file(tmp_path / "deg.gpkg")
    code, _out, err = run_mujun(["import", "assessments", str(tmp_path / "deg.gpkg")],
                               monkeypatch, db_dsn, capsys)
    assert code == 3 and "Traceback" not in err


def test_export_writes_a_layer_and_never_over_a_file(town, tmp_path, monkeypatch, db_dsn,
                                                     capsys):
    path = _polygon(tmp_path, box(10, 10, 90, 60), SRID)
    add_plot(town, actor="t", polygon=path, code="A", industry="34")
    out_path = tmp_path / "plots.gpkg"
    code, _, err = run_mujun(["supply", "export", "-o", str(out_path)], monkeypatch, db_dsn,
                             capsys)
    assert code == 0, err
    back = gpd.read_file(out_path)
    assert back.loc[0, "status"] == "储备" and back.loc[0, "far_min"] == 1.2
    assert back.crs.to_epsg() == SRID
    code, _, err = run_mujun(["supply", "export", "-o", str(out_path)], monkeypatch, db_dsn,
                             capsys)
    assert code == 4
    code, out, _ = run_mujun(["supply", "list", "--json"], monkeypatch, db_dsn, capsys)
    assert json.loads(out)["by_status"]["reserve"] == 1


def test_a_breach_joins_the_parcels_open_candidate_and_leaves_it_again(town):
    """One candidate per parcel: the breach is one more kind; when kept, the kind leaves."""
    import pandas as pd

    from scoring.land_status.external import sync_external

    cid = town.execute("SELECT candidate_id FROM candidate").fetchone()[0]
    found = pd.DataFrame([{
        "parcel_code": "P1", "town": "镇A", "district": "东区", "area_m2": 1e4, "priority": 1.0,
        "reasons": ["contract_breach", "late_start"],
        "rules": [{"rule": "late_start", "kind": "contract_breach", "passed": True}],
        "evidence": {"plot": "A"}}])
    own = ["contract_breach", "late_start"]
    counts = sync_external(town, "contract_breach", found, checked={"P1"}, own_reasons=own,
                           run_id=None)
    assert counts["joined"] == 1 and counts["created"] == 0
    row = town.execute("SELECT candidate_id, kind, kinds, reasons, evidence, status"
                       " FROM candidate WHERE status <> 'closed'").fetchall()
    assert row == [(cid, "built_unused", ["built_unused", "contract_breach"],
                    ["built_unused", "contract_breach", "late_start"],
                    {"contract": {"plot": "A"}}, "confirmed")]
    counts = sync_external(town, "contract_breach", found.iloc[:0], checked={"P1"},
                           own_reasons=own, run_id=None)
    assert counts["left"] == 1
    assert town.execute("SELECT kinds, reasons, evidence FROM candidate").fetchone() == (
        ["built_unused"], ["built_unused"], {})
    # on a parcel without an open candidate the breach opens one; kept again, it closes
    found.loc[0, "parcel_code"] = "P2"
    assert sync_external(town, "contract_breach", found, checked={"P2"}, own_reasons=own,
                         run_id=None)["created"] == 1
    assert sync_external(town, "contract_breach", found.iloc[:0], checked={"P2"},
                         own_reasons=own, run_id=None)["closed"] == 1
    town.rollback()


def test_the_check_reports_nothing_without_a_survey_after_the_date(town, tmp_path):
    """A missing survey is never a breach; a survey after the date showing a building is
    a start, an empty one a late start."""
    from gis.settings import load_settings
    from scoring.land_status.supply.check import check_contracts
    from scoring.land_status.supply.contracts import record_contract

    path = _polygon(tmp_path, shapely.box(X0 + 200, Y0, X0 + 300, Y0 + 100), SRID)
    add_plot(town, actor="t", polygon=path, code="A", industry="34", on=D("2025-01-01"))
    for to, day in (("preparation", "2025-01-02"), ("assessment", "2025-01-03"),
                    ("indicators", "2025-01-04"), ("announced", "2025-01-05"),
                    ("transferred", "2025-01-06")):
        advance(town, "A", to, D(day), actor="t")
    record_contract(town, "A", actor="t", start_by=D("2025-06-01"), complete_by=D("2026-06-01"))
    settings = load_settings({"home": str(tmp_path)}, environ={})
    add_survey(town, "2025-03-01", [box(0, 0, 50, 50)])
    town.commit()
    assert check_contracts(town, settings, as_of="2025-09-01").summary["checked"] == 0
    add_survey(town, "2025-08-01", [box(210, 10, 260, 60)])      # a building on P2
    town.commit()
    res = check_contracts(town, settings, as_of="2025-09-01")
    assert res.summary["checked"] == 1 and res.summary["breaches"] == 0


def test_the_candidates_run_checks_the_contracts_on_its_own_runs(town, tmp_path, monkeypatch,
                                                                  db_dsn, capsys):
    """`mujun candidates` runs the registered contract checks after the rules: a survey
    after the start date showing the plot's parcel empty is a breach."""
    from scoring.land_status.supply.contracts import record_contract

    path = _polygon(tmp_path, shapely.box(X0 + 200, Y0, X0 + 300, Y0 + 100), SRID)
    add_plot(town, actor="t", polygon=path, code="A", industry="34", on=D("2025-01-01"))
    add_survey(town, "2025-03-01", [box(0, 0, 50, 50)])
    town.commit()
    code, out, err = run_mujun(["candidates", "--as-of", "2025-09-01", "--json"], monkeypatch,
                               db_dsn, capsys)
    assert code == 0, err
    assert json.loads(out)["checks"]["contracts"] == {"contracts": 0}   # none yet: no run
    for to in ("preparation", "assessment", "indicators", "announced", "transferred"):
        advance(town, "A", to, D("2025-01-06"), actor="t")
    record_contract(town, "A", actor="t", start_by=D("2025-06-01"), complete_by=D("2026-06-01"))
    add_survey(town, "2025-08-01", [box(0, 0, 50, 50)])             # P2 still empty
    town.commit()
    code, out, err = run_mujun(["candidates", "--as-of", "2025-09-01"], monkeypatch, db_dsn,
                               capsys)
    assert code == 0, err
    assert "违约 1 份（候选新建 1" in out
    code, out, err = run_mujun(["candidates", "--as-of", "2025-09-01", "--json"], monkeypatch,
                               db_dsn, capsys)
    s = json.loads(out)
    assert s["checks"]["contracts"]["occupancy_run"] == s["occupancy_run"]
    assert town.execute("SELECT kinds, reasons FROM candidate WHERE parcel_code = 'P2'"
                        " AND status <> 'closed'").fetchall() == [
        (["contract_breach"], ["contract_breach", "late_start"])]


def test_partial_assessment_loads_keep_the_good_features_and_list_the_others(
        town, tmp_path, monkeypatch, db_dsn, capsys):
    layer = gpd.GeoDataFrame({
        "评估事项": ["环评", "风水", "洪评"], "评估结论": ["符合", "好", "可行"],
        "生效日期": ["2024-01-01", None, "2025-01-01"],
        "有效期至": ["2029-12-31", None, "2024-01-01"]},
        geometry=[box(0, 0, 10, 10)] * 3, crs=SRID)
    src = tmp_path / "partial.gpkg"
    layer.to_file(src)
    rejects = tmp_path / "rejects.csv"
    code, _, err = run_mujun(["import", "assessments", str(src), "--accept-partial",
                              "--rejects", str(rejects)], monkeypatch, db_dsn, capsys)
    assert code == 0, err
    assert town.execute("SELECT topic FROM area_assessment").fetchall() == [("environment",)]
    text = rejects.read_text(encoding="utf-8")
    assert "评估事项无法识别" in text and "有效期截止早于生效日期" in text


def test_indicators_are_fixed_once_the_plot_is_announced(town, tmp_path):
    from scoring.land_status.supply.plots import set_indicators

    path = _polygon(tmp_path, box(10, 10, 90, 60), SRID)
    add_plot(town, actor="t", polygon=path, code="A", on=D("2025-01-01"))
    assert set_indicators(town, "A", "C3399")["indicators"]["industry"] == "33"
    for to in ("preparation", "assessment", "indicators", "announced"):
        advance(town, "A", to, D("2025-02-01"), actor="t")
    with pytest.raises(StepError, match="已「公告」，控制指标不能再改"):
        set_indicators(town, "A", "34")
    assert get_plot(town, "A")["indicators"]["far_min"] == 1.2
