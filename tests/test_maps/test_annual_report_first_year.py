"""`mujun report annual` in a county's first year: no previous run, no policy, no land
survey, no tax base — the report says so part by part, and its figures are the run's."""

from __future__ import annotations

import json

import pytest

from tests.cli_runner import run_mujun
from tests.pdf_text import pdf_text
from tests.test_scoring.county import Firm, load_county, make_firms, mujun

pytestmark = pytest.mark.postgis


def _rec(tax):
    return {"tax_wan": tax, "revenue_wan": 10 * tax, "value_added_wan": 2 * tax,
            "electricity_kwh": 1e5}


@pytest.fixture
def first_year(tmp_path, db_conn, db_dsn, monkeypatch, capsys):
    firms = make_firms([Firm(f"企业{i}", True, 10.0, {2022: _rec(10.0 * i)},
                             town="东城" if i <= 6 else "西城") for i in range(1, 11)])
    occ = load_county(tmp_path, firms, monkeypatch, db_dsn, capsys, occupancy_year=2022)
    run = json.loads(mujun(["score", "--ruleset", "zhejiang-huangyan-2022", "--year", 2022,
                            "--occupancy-run", occ, "--json"], monkeypatch, db_dsn,
                           capsys))["run_id"]
    return {"run": run, "occ": occ}


def test_first_year_report_says_which_parts_have_no_data(first_year, tmp_path, db_conn,
                                                         db_dsn, monkeypatch, capsys):
    out = tmp_path / "年度报告.pdf"
    info = json.loads(mujun(["report", "annual", "--year", 2022, "-o", out, "--no-map",
                             "--json"], monkeypatch, db_dsn, capsys))
    assert info["score_run"] == first_year["run"] and info["previous_run"] is None
    assert info["policy_run"] is None and info["candidates_run"] is None
    assert info["trend_years"] == [2022]
    assert set(info["notes"]) == {"previous", "trends", "parks", "park_land", "land_status",
                                  "policy", "land_tax", "map"}
    # the known answer: ten firms of 10 mu each, tax 10 … 100 万元 → 550 万元 on 100 mu
    assert info["totals"]["evaluated"] == 10
    assert info["totals"]["land_mu"] == pytest.approx(100.0, abs=1e-3)
    assert info["totals"]["tax_per_mu"] == pytest.approx(5.5, abs=1e-4)
    text = pdf_text(out).replace("\n", "").replace(" ", "")
    for words in ("2022年度共有10家企业参加", "用地100.00亩", "税收550.00万元",
                  "营业收入（产值）5,500.00万元", "工业增加值1,100.00万元",
                  "亩均税收5.50万元/亩",
                  "没有2021年的评价运行，无法与上年比较",
                  "本部分无数据：没有2022年的土地状况识别运行",
                  f"本部分无数据：没有依据评价运行{first_year['run']}的分类结果执行的政策运行",
                  "本部分无数据：没有2022年的土地使用税计税数据",
                  "本部分无数据：没有标注所属园区的工业用地宗地",
                  f"本年度评价运行{first_year['run']}"):
        assert words in text, words
    # the towns: 东城 holds firms 1-6 (210 万元 on 60 mu), 西城 firms 7-10 (340 on 40)
    assert "1西城" in text and "8.50" in text and "2东城" in text and "3.50" in text


def test_year_without_a_score_run_names_the_years_that_have_one(first_year, tmp_path,
                                                                db_dsn, monkeypatch, capsys):
    code, _, err = run_mujun(["report", "annual", "--year", "2021", "-o",
                              str(tmp_path / "r.docx")], monkeypatch, db_dsn, capsys)
    assert code == 3 and "Traceback" not in err
    assert "没有2021年的评价运行" in err and f"2022年（运行 {first_year['run']}）" in err
    assert not (tmp_path / "r.docx").exists()
    code, _, err = run_mujun(["report", "annual", "--year", "2022", "-o",
                              str(tmp_path / "r.odt")], monkeypatch, db_dsn, capsys)
    assert code == 3 and ".docx" in err and "Traceback" not in err
