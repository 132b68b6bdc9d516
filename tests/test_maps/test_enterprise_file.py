"""`mujun enterprise show`: one firm's file on a hand-built county in PostGIS."""

from __future__ import annotations

import json

import pytest

from tests.cli_runner import run_mujun as run
from tests.test_scoring.county import Firm, load_county, make_firms, mujun

pytestmark = pytest.mark.postgis


def _rec(tax):
    return {"tax_wan": tax, "revenue_wan": 10 * tax, "value_added_wan": 3 * tax,
            "electricity_kwh": 1e5}


def test_enterprise_file_known_answers(tmp_path, db_conn, db_dsn, monkeypatch, capsys):
    firms = make_firms([
        Firm("东一", True, 10.0, {2020: _rec(5), 2021: _rec(8), 2022: _rec(10)}, town="东城"),
        Firm("东二", True, 10.0, {2020: _rec(15), 2021: _rec(18), 2022: _rec(20)}, town="东城"),
        Firm("西一", True, 5.0, {2020: _rec(35), 2021: _rec(40), 2022: _rec(50)}, town="西城",
             industry="C2614"),
    ])
    occ = load_county(tmp_path, firms, monkeypatch, db_dsn, capsys, occupancy_year=2022)
    runs = {y: json.loads(mujun(["score", "--ruleset", "jiangsu-huaian-2024", "--year", y,
                                 "--occupancy-run", occ, "--json"], monkeypatch, db_dsn,
                                capsys))["run_id"] for y in (2021, 2022)}
    code = firms[0].code
    mujun(["score", "override", code, "--class", "B", "--reason", "成长型企业", "--by", "张三",
           "--run", runs[2022]], monkeypatch, db_dsn, capsys)
    db_conn.execute("INSERT INTO verification_item (kind, item_key, credit_code, detail)"
                    " VALUES ('power_no_tax', %s, %s, '{\"problem\": \"用电量高但税收接近零\"}')",
                    (code + "|2022", code))
    db_conn.execute("INSERT INTO candidate (parcel_code, kind) VALUES (%s, 'unfinished')",
                    (firms[0].parcel,))
    db_conn.execute("INSERT INTO candidate (parcel_code, kind) VALUES (%s, 'unfinished')",
                    (firms[1].parcel,))                  # another firm's parcel: not shown
    db_conn.commit()
    rec = json.loads(mujun(["enterprise", "show", code.lower(), "--json"], monkeypatch,
                           db_dsn, capsys))
    h = rec["header"]
    assert (h["credit_code"], h["town"], h["industry_division"], h["industry_name"], h["size"]) \
        == (code, "东城", "34", "通用设备制造业", "规上")
    hist = {r["year"]: r for r in rec["history"]}
    assert sorted(hist) == [2021, 2022] and hist[2022]["run_id"] == runs[2022]
    assert hist[2022]["adjusted_class"] == "B" and hist[2022]["final_class"] == "B"
    assert hist[2022]["adjustment_reason"] == "成长型企业" and hist[2021]["adjusted_class"] is None
    assert hist[2022]["rank_county"] is not None
    per = {r["year"]: r for r in rec["per_mu"]}
    tax = per[2022]["tax_per_mu"]
    assert tax["value"] == pytest.approx(1.0, abs=1e-3)                 # 10 万元 / 10 mu
    assert tax["industry_average"] == pytest.approx(30 / 20, abs=1e-3)  # 东一 + 东二 (division 34)
    assert tax["town_average"] == pytest.approx(30 / 20, abs=1e-3)
    assert tax["change"] == pytest.approx(1.0 - 0.8, abs=1e-3)          # 2021: 8 / 10
    assert per[2022]["value_added_per_mu"]["value"] == pytest.approx(3.0, abs=1e-3)
    land = rec["land"]
    assert [(r["right"], r["parcel_code"]) for r in land] == [("自有", firms[0].parcel)]
    assert land[0]["measured_m2"] == pytest.approx(10 * 10000 / 15, rel=1e-6)
    assert [(c["parcel_code"], c["kind_label"], c["status_label"]) for c in rec["candidates"]] \
        == [(firms[0].parcel, "未竣工", "新发现")]
    assert [(w["kind"], w["status_label"]) for w in rec["warnings"]] == [("power_no_tax", "未处理")]

    text = mujun(["enterprise", "show", code], monkeypatch, db_dsn, capsys)
    assert "东一有限公司" in text and "调档为 B（成长型企业，张三）" in text and "在营" in text
    assert "1.00 / 1.50 / 1.50（+0.20）" in text
    assert "[未处理] 用电量高但税收接近零" in text and "未竣工" in text
    code_, _out, err = run(["enterprise", "show", "91330000MA00000000"], monkeypatch, db_dsn,
                           capsys)
    assert code_ == 3 and "不在数据库中" in err and "Traceback" not in err
