"""Known answer, end to end: import accounts and land tax, score, adjust a class, apply policy.

Twenty large firms are scored for 2017 under Huai'an (firm 1 lowest: D; firms 2-8: C;
firms 17-20: A). The 2018 policy (classes of the previous year) is applied for
2018-04..2018-09 (6 months). Every amount below is computed by hand:

* firm 1 (D), electricity: Jan-Jun 1,000.5 kWh a month; Apr-Jun in force: 3,001.5 kWh ×
  0.10 元 = 300.15 元;
* firm 2 (C-: inside C, half of D): 12,345.678 kWh for the year, 6/12 in force:
  6,172.839 kWh × 0.05 元 = 308.64195 → 308.64 元; no sewage account: a warning;
* firm 1, sewage: 2.0 万立方米 for the year, 6/12: 10,000 m³ × 0.17 元 = 1,700.00 元;
* firm 1, land-use tax: 5,000 m² × 6.00 元 = 30,000 元 a year; surcharge 50 % × 6/12 =
  7,500.00 元; firm 20 (A): 3,333.33 m² × 4.50 元 = 14,999.985 元; relief 100 % × 6/12 =
  -7,499.9925 → -7,499.99 元;
* energy quota: firm 1 (D) used 100 tce in 2017: cut 20 % = -20 tce; firm 20 (A) used
  123.456 tce: granted 10 % = 12.346 tce;
* firm 5 (C) has 8,000 kWh for 2018: nothing as C; adjusted to D it pays 4,000 kWh ×
  0.10 = 400.00 元;
* firms 3 and 4 share one account 40/60 (firm 4, the landlord, pays): both C, nothing;
* the ledger: firm 1's sewage collected 1,700.00 元 then refunded (refundable) → 已返还;
  a refund above what was collected is refused, nothing stored.
"""

from __future__ import annotations

import json
from decimal import Decimal

import openpyxl
import pytest

from tests.cli_runner import fetch
from tests.test_scoring.county import Firm, load_county, make_firms, mujun

pytestmark = pytest.mark.postgis

POLICY = """
name: test-county-2018
year: 2018
class_year: previous
period: {start: 2018-01, end: 2018-12}
derived_classes:
  C-: {within: C, rate_of: D, factor: 0.5, members: [%(c_minus)s]}
items:
  power:
    kind: electricity
    rates: {D: 0.10}
    collector: 供电公司
  sewage:
    kind: sewage
    rates: {D: 0.17}
    refundable: true
    collector: 污水处理单位
  land_tax:
    kind: land_tax
    rates: {A: -1.0, D: 0.5}
    collector: 税务局
    borne_by: 县财政先行补贴
  energy:
    kind: energy_quota
    source: records
    rates: {A: 0.1, D: -0.2}
flags:
  D: [no_land_auction, credit_list]
"""


def _rec(i, year):
    tax = (10 if year == 2016 else 11) * i
    energy = {1: 100.0, 20: 123.456}.get(i, 50.0)
    return {"tax_wan": tax, "revenue_wan": 10 * tax, "electricity_kwh": 1e5,
            "energy_tce": energy}


def _xlsx(path, header, rows):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(header)
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


@pytest.fixture
def county(tmp_path, db_dsn, monkeypatch, capsys):
    fs = make_firms([Firm(f"企业{i}", True, 10.0, {2016: _rec(i, 2016), 2017: _rec(i, 2017)})
                     for i in range(1, 21)])
    occ = load_county(tmp_path, fs, monkeypatch, db_dsn, capsys, occupancy_year=2017)
    out = mujun(["score", "--ruleset", "jiangsu-huaian-2024", "--year", "2017",
                 "--occupancy-run", occ, "--json"], monkeypatch, db_dsn, capsys)
    c = {i: fs[i - 1].code for i in range(1, 21)}
    months = [f"{m}月" for m in range(1, 13)]
    power = _xlsx(tmp_path / "电力户号2018.xlsx",
                  ["户号", "统一社会信用代码", "户名", "分摊比例", "缴费方", "缴费单位信用代码",
                   *months, "年用量(千瓦时)"],
                  [["E1", c[1], "企业1", None, None, None, *([1000.5] * 6), *([None] * 6),
                    None],
                   ["E2", c[2], "企业2", None, None, None, *([None] * 12), 12345.678],
                   ["E3", c[3], "企业3", 0.4, "房东", c[4], *([None] * 12), 5000],
                   ["E3", c[4], "企业4", 0.6, None, None, *([None] * 12), 5000],
                   ["E5", c[5], "企业5", None, None, None, *([None] * 12), 8000],
                   ["E9", "91330000MA2XXXXX1K", "不明企业", None, None, None,
                    *([None] * 12), 100]])
    sewage = _xlsx(tmp_path / "污水户号2018.xlsx", ["户号", "统一社会信用代码", "年用量(万立方米)"],
                   [["W1", c[1], 2.0]])
    tax = _xlsx(tmp_path / "土地使用税2018.xlsx",
                ["统一社会信用代码", "应税面积(平方米)", "土地等级", "单位税额"],
                [[c[1], 5000, "二级", 6], [c[20], 3333.33, "三级", 4.5]])
    return {"firms": fs, "codes": c, "score_run": json.loads(out)["run_id"], "power": power,
            "sewage": sewage, "tax": tax}


def _lines(db_conn, run_id):
    rows = fetch(db_conn, "SELECT trim(credit_code), item, class, base, rate, months,"
                          " amount_fen, quota FROM policy_line WHERE run_id = %s", (run_id,))
    return {(r[0], r[1]): r[2:] for r in rows}


def test_policy_known_answer(county, tmp_path, db_conn, db_dsn, monkeypatch, capsys):
    c = county["codes"]
    for kind, path in (("electricity", county["power"]), ("sewage", county["sewage"])):
        out = json.loads(mujun(["import", "accounts", path, "--kind", kind, "--year", 2018,
                                "--json"], monkeypatch, db_dsn, capsys))
        assert out["n_loaded"] >= 1
    mujun(["import", "land-tax", county["tax"], "--year", 2018], monkeypatch, db_dsn, capsys)
    # the unmatched account is listed for the townships
    assert fetch(db_conn, "SELECT matched FROM utility_account WHERE account_no = 'E9'") \
        == [(False,)]
    rules = tmp_path / "county-2018.yaml"
    rules.write_text(POLICY % {"c_minus": c[2]}, encoding="utf-8")
    out = json.loads(mujun(["policy", "apply", "--ruleset", rules, "--period",
                            "2018-04:2018-09", "--json"], monkeypatch, db_dsn, capsys))
    assert out["score_run"] == county["score_run"] and out["class_year"] == 2017
    by_line = {(r["credit_code"], r["item"]): r for r in out["lines"]}
    assert by_line[(c[2], "power")]["amount_yuan"] == "308.64"
    assert by_line[(c[2], "power")]["base"] == "6172.839"
    lines = _lines(db_conn, out["run_id"])
    fen = {k: v[4] for k, v in lines.items()}
    assert fen[(c[1], "power")] == 30015
    assert lines[(c[1], "power")][:4] == ("D", Decimal("3001.5"), Decimal("0.1"), 6)
    assert lines[(c[2], "power")][0] == "C-" and fen[(c[2], "power")] == 30864
    assert lines[(c[2], "power")][2] == Decimal("0.05")       # half of D
    assert fen[(c[1], "sewage")] == 170000
    assert fen[(c[1], "land_tax")] == 750000
    assert fen[(c[20], "land_tax")] == -749999
    assert lines[(c[1], "energy")][5] == Decimal("-20")
    assert lines[(c[20], "energy")][5] == Decimal("12.346")
    assert (c[5], "power") not in lines and (c[3], "power") not in lines
    # firm 2 (C-) has no sewage account: the line is there, without an amount, with a warning
    assert fen[(c[2], "sewage")] is None
    warn = fetch(db_conn, "SELECT warnings, flags FROM policy_enterprise WHERE run_id = %s"
                          " AND credit_code = %s", (out["run_id"], c[2]))[0]
    assert {"item": "sewage", "code": "no_account"} in warn[0]
    flags = fetch(db_conn, "SELECT flags FROM policy_enterprise WHERE run_id = %s AND"
                           " credit_code = %s", (out["run_id"], c[1]))[0][0]
    assert flags == ["no_land_auction", "credit_list"]

    # an official moves firm 5 from C to D: the next policy run charges it
    mujun(["score", "override", c[5], "--class", "D", "--reason", "数据核实后下调",
           "--by", "张三"], monkeypatch, db_dsn, capsys)
    again = json.loads(mujun(["policy", "apply", "--ruleset", rules, "--period",
                              "2018-04:2018-09", "--json"], monkeypatch, db_dsn, capsys))
    lines2 = _lines(db_conn, again["run_id"])
    assert lines2[(c[5], "power")][0] == "D" and lines2[(c[5], "power")][4] == 40000
    assert again["adjusted"] == 1

    # the collecting bodies report: sewage collected then refunded (refundable), relief granted
    run2 = str(again["run_id"])
    too_much = tmp_path / "返还超额.csv"
    too_much.write_text("统一社会信用代码,项目,季度,状态,金额(元)\n"
                        f"{c[1]},sewage,2018Q3,已征收,1700.00\n"
                        f"{c[1]},sewage,2018Q4,已返还,1700.01\n", encoding="utf-8")
    from tests.cli_runner import run_mujun

    code, _, err = run_mujun(["policy", "record", str(too_much)], monkeypatch, db_dsn, capsys)
    assert code == 3 and "第 3 行" in err and "1700.01" in err and "Traceback" not in err
    assert fetch(db_conn, "SELECT count(*) FROM policy_record")[0][0] == 0
    done = tmp_path / "征收返还2018.csv"
    done.write_text("统一社会信用代码,项目,季度,状态,金额(元),备注\n"
                    f"{c[1]},差别化污水处理费,2018年第三季度,已征收,1700.00,\n"
                    f"{c[1]},sewage,2018Q4,已返还,1700.00,整改达标返还\n"
                    f"{c[20]},land_tax,2018Q4,已兑现,7499.99,\n", encoding="utf-8")
    mujun(["policy", "record", done, "--run", run2], monkeypatch, db_dsn, capsys)
    ledger = json.loads(mujun(["policy", "ledger", "--json"], monkeypatch, db_dsn, capsys))
    by = {(r["credit_code"], r["item"]): r for r in ledger["lines"]}
    sew = by[(c[1], "sewage")]
    assert (sew["status"], sew["status_label"]) == ("refunded", "已返还")
    assert (sew["amount_yuan"], sew["collected_yuan"], sew["refunded_yuan"]) == \
        ("1700.00", "1700.00", "1700.00")
    assert by[(c[20], "land_tax")]["status"] == "granted"
    assert by[(c[20], "land_tax")]["amount_yuan"] == "-7499.99"
    assert by[(c[1], "power")]["status"] == "notified"
    text = mujun(["policy", "ledger", "--enterprise", c[1]], monkeypatch, db_dsn, capsys)
    assert "已返还" in text and "已告知" in text and c[20] not in text
    groups = json.loads(mujun(["policy", "summary", "--json"], monkeypatch, db_dsn,
                              capsys))["groups"]
    g = {r["group"]: r for r in groups}
    # C+D: 300.15 + 308.64 + 400.00 + 1,700.00 + 7,500.00 元 of surcharges
    assert g["C+D"]["surcharge_wan"] == "1.0209" and g["A+B"]["relief_wan"] == "0.7500"
    # quotas cut: firm 1 (D) 20 tce, firm 5 (D after adjustment) 20 % of 50 = 10 tce,
    # firm 2 (C-, half of D) 10 % of 50 = 5 tce
    # granted: firm 20 12.346 tce, firms 17-19 (A) 10 % of 50 = 5 tce each
    assert g["C+D"]["quota_cut"] == "35.000" and g["A+B"]["quota_granted"] == "27.346"
    assert g["C+D"]["refunded_wan"] == "0.1700"

    # the notification lists for the power company and the credit office
    power = tmp_path / "供电公司告知清单.xlsx"
    mujun(["policy", "export", "-o", power, "--for", "power"], monkeypatch, db_dsn, capsys)
    ws = openpyxl.load_workbook(power).active
    header = [c.value for c in ws[1]]
    assert {"统一社会信用代码", "执行等级", "户号", "计费基数", "金额（元）", "征收或兑现单位"} <= set(header)
    rows = {r[header.index("统一社会信用代码")]: r for r in ws.iter_rows(min_row=2, values_only=True)}
    assert set(rows) == {c[1], c[2], c[5]}                  # D, C- and the adjusted firm
    assert rows[c[1]][header.index("金额（元）")] == "300.15"
    assert rows[c[1]][header.index("户号")] == "E1"
    assert rows[c[2]][header.index("执行等级")] == "C-"
    assert rows[c[5]][header.index("是否调档")] == "是"
    assert rows[c[1]][header.index("缴费方")] == "本企业"
    tax = tmp_path / "税务局.xlsx"
    mujun(["policy", "export", "-o", tax, "--for", "tax"], monkeypatch, db_dsn, capsys)
    ws = openpyxl.load_workbook(tax).active
    header = [c.value for c in ws[1]]
    rows = {r[header.index("统一社会信用代码")]: r for r in ws.iter_rows(min_row=2, values_only=True)}
    assert rows[c[20]][header.index("金额（元）")] == "-7499.99"
    assert rows[c[20]][header.index("减免资金承担")] == "县财政先行补贴"
    credit = tmp_path / "信用办.xlsx"
    mujun(["policy", "export", "-o", credit, "--for", "credit"], monkeypatch, db_dsn, capsys)
    ws = openpyxl.load_workbook(credit).active
    header = [c.value for c in ws[1]]
    rows = {r[header.index("统一社会信用代码")]: r for r in ws.iter_rows(min_row=2, values_only=True)}
    assert rows[c[1]][header.index("资格限制或优先")] == "不得参与工业用地竞买、推送信用办"
    assert len(rows) == 20

    # the policy map: firm 1's parcel is surcharged, firm 20's relieved
    page = tmp_path / "policy.html"
    info = json.loads(mujun(["map", "policy", "-o", page, "--json"], monkeypatch, db_dsn,
                            capsys))
    assert info["external_requests"] == []
    html = page.read_text(encoding="utf-8")
    assert "差别化加价" in html and "减免或奖励" in html and "7499.99" in html

    # the text outputs officials read are Chinese
    text = mujun(["policy", "apply", "--ruleset", rules, "--period", "2018-04:2018-09"],
                 monkeypatch, db_dsn, capsys)
    assert "差别化电价（power）" in text and "D 类 2 家 700.15 元" in text
    assert "无水电气户号（应征收却无用量）" in text
    text = mujun(["policy", "summary", "--by", "town"], monkeypatch, db_dsn, capsys)
    assert "C+D类（加价、压减）" in text and "东城街道" in text
    text = mujun(["policy", "check", rules], monkeypatch, db_dsn, capsys)
    assert "减免资金承担：县财政先行补贴" in text and "可返还" in text
    assert len(mujun(["policy", "runs"], monkeypatch, db_dsn, capsys).splitlines()) == 3
