"""`report land-tax`: a hand-built county with a known land-tax check, in PostGIS."""

from __future__ import annotations

import json

import openpyxl
import pandas as pd
import pytest

from parcels.codes import make_credit_code
from scoring.land_tax import land_tax_table
from tests.cli_runner import run_mujun as run
from tests.test_scoring.county import MU, Firm, load_county, make_firms, mujun

pytestmark = pytest.mark.postgis


def _rec():
    return {"tax_wan": 10.0, "revenue_wan": 100.0, "electricity_kwh": 1e5}


def _tax_file(path, rows):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["统一社会信用代码", "应税面积(平方米)", "土地等级", "单位税额"])
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


@pytest.fixture
def county(tmp_path, db_conn, db_dsn, monkeypatch, capsys):
    fs = make_firms([Firm("甲", True, 10.0, {2022: _rec()}, town="东城"),
                     Firm("乙", True, 10.0, {2022: _rec()}, town="东城"),
                     Firm("丙", True, 6.0, {2022: _rec()}, town="东城"),
                     Firm("丁", True, 3.0, {2022: _rec()}, town="西城")])
    occ = load_county(tmp_path, fs, monkeypatch, db_dsn, capsys, occupancy_year=2022)
    stranger = make_credit_code("9", "1", "331003", "HY9999XY")      # taxpayer, no land
    tax = _tax_file(tmp_path / "土地使用税2022.xlsx", [
        [fs[0].code, 6666.67, "一级", 6],                  # 甲: 10 mu, agrees
        [fs[1].code, 5000, "二级", 4],                     # 乙: 10 mu, taxed on 5,000 m²
        [fs[3].code, 2000, "一级", 6],                     # 丁: 3 mu = 2,000 m², taxed on 3,000
        [fs[3].code, 1000, "二级", 4],
        [stranger, 500, "三级", 3]])                       # 丙 is not registered
    mujun(["import", "land-tax", tax, "--year", 2022], monkeypatch, db_dsn, capsys)
    return {"firms": fs, "occupancy_run": occ, "stranger": stranger}


def test_land_tax_known_answer(county, tmp_path, db_dsn, monkeypatch, capsys):
    fs = county["firms"]
    got = json.loads(mujun(["report", "land-tax", "--year", 2022, "--json"], monkeypatch,
                           db_dsn, capsys))
    assert got["occupancy_run"] == county["occupancy_run"] and got["year"] == 2022
    firms = {r["credit_code"]: r for r in got["firms"]}
    assert len(firms) == 5
    a, b, c, d = (firms[f.code] for f in fs)
    s = firms[county["stranger"]]
    assert [r["status"] for r in (a, b, c, d, s)] == \
        ["matched", "untaxed_land", "unregistered", "over_taxed", "over_taxed"]
    assert a["occupied_m2"] == pytest.approx(10 * MU, abs=0.01)
    assert [r["land_role"] for r in (a, c, s)] == ["owner", "owner", "none"]
    assert b["area_difference_m2"] == pytest.approx(10 * MU - 5000, abs=0.01)
    assert b["tax_difference_yuan"] == pytest.approx((10 * MU - 5000) * 4, abs=0.05)
    east_rate = (6666.67 * 6 + 5000 * 4) / (6666.67 + 5000)           # 丙 priced at 东城's
    assert (c["rate_source"], c["taxed_m2"]) == ("town", 0.0)
    assert c["unit_rate"] == pytest.approx(east_rate, abs=1e-4)
    assert c["tax_difference_yuan"] == pytest.approx(6 * MU * east_rate, abs=0.05)
    assert d["land_grades"] == "一级、二级" and d["taxed_m2"] == 3000
    assert d["unit_rate"] == pytest.approx(16000 / 3000, abs=1e-4)
    assert d["tax_difference_yuan"] == pytest.approx((3 * MU - 3000) * 16000 / 3000, abs=0.05)
    assert (s["name"], s["town"], s["tax_difference_yuan"]) == (None, None, -1500)
    towns = {r["town"]: r for r in got["towns"]}
    assert list(towns) == ["东城", "西城", "（未知）", "合计"]
    east = towns["东城"]
    assert (east["firms"], east["unregistered"], east["untaxed_land"], east["matched"]) == \
        (3, 1, 1, 1)
    assert east["tax_missing_yuan"] == pytest.approx(b["tax_difference_yuan"]
                                                     + c["tax_difference_yuan"], abs=0.02)
    assert towns["合计"]["tax_excess_yuan"] == pytest.approx(
        -d["tax_difference_yuan"] + 1500, abs=0.02)
    assert towns["合计"]["taxed_m2"] == pytest.approx(6666.67 + 5000 + 3000 + 500)

    # the same figures from the pure kernel on what the report read
    frame = pd.DataFrame(got["firms"])
    again = land_tax_table(frame[["credit_code", "occupied_m2"]],
                           pd.DataFrame({"credit_code": [fs[0].code, fs[1].code, fs[3].code,
                                                         fs[3].code, county["stranger"]],
                                         "land_grade": ["一级", "二级", "一级", "二级", "三级"],
                                         "taxable_area_m2": [6666.67, 5000, 2000, 1000, 500],
                                         "unit_tax": [6, 4, 6, 4, 3]}),
                           frame[["credit_code", "name", "town"]])
    assert again["tax_difference_yuan"].tolist() == pytest.approx(
        frame["tax_difference_yuan"].tolist(), abs=0.05)          # areas were rounded to 0.01

    text = mujun(["report", "land-tax", "--year", 2022], monkeypatch, db_dsn, capsys)
    assert "用地未登记纳税" in text and "东城" in text and "合计" in text and "nan" not in text


def test_land_tax_file_and_errors(county, tmp_path, db_dsn, monkeypatch, capsys):
    out = tmp_path / "核查.xlsx"
    mujun(["report", "land-tax", "--year", 2022, "-o", out], monkeypatch, db_dsn, capsys)
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames[:3] == ["土地使用税核查", "各镇街合计", "说明"]
    ws = wb["土地使用税核查"]
    header = [c.value for c in ws[1]]
    assert header[:5] == ["统一社会信用代码", "企业名称", "镇街", "核查结果", "用地方式"]
    assert {ws.cell(r, 5).value for r in range(2, 7)} == {"自有", "无占地"}
    assert "税额差（元/年，正为少征）" in header and ws.max_row == 6
    assert {ws.cell(r, 4).value for r in range(2, 7)} == \
        {"相符", "占地大于计税面积（少征）", "用地未登记纳税", "计税面积大于占地（多征）"}
    assert [c.value for c in wb["各镇街合计"]["A"]][-1] == "合计"

    code, _o, err = run(["report", "land-tax", "--year", "2022", "-o", str(out)], monkeypatch,
                        db_dsn, capsys)
    assert code != 0 and "Traceback" not in err and "核查.xlsx" in err
    code, _o, err = run(["report", "land-tax", "--year", "2022", "-o", str(tmp_path / "a.pdf")],
                        monkeypatch, db_dsn, capsys)
    assert code != 0 and ".xlsx" in err and "Traceback" not in err
    code, _o, err = run(["report", "land-tax", "--year", "2021"], monkeypatch, db_dsn, capsys)
    assert code == 3 and "没有2021年的占地测算结果" in err and "Traceback" not in err


def test_land_tax_without_tax_base(tmp_path, db_conn, db_dsn, monkeypatch, capsys):
    fs = make_firms([Firm("甲", True, 10.0, {2022: _rec()})])
    load_county(tmp_path, fs, monkeypatch, db_dsn, capsys, occupancy_year=2022)
    code, _o, err = run(["report", "land-tax", "--year", "2022"], monkeypatch, db_dsn, capsys)
    assert code == 3 and "土地使用税计税数据" in err and "Traceback" not in err
