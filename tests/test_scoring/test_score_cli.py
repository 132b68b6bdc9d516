"""`mujun score` end to end: two years under Huai'an, adjustments, warnings into the queue."""

from __future__ import annotations

import json

import openpyxl
import pytest

from parcels.codes import make_credit_code
from tests.cli_runner import fetch
from tests.cli_runner import run_mujun as run
from tests.test_scoring.county import Firm, load_county, make_firms, mujun
from tests.zh_text import english_words

#: Rule-set names (codes the user types) that stand in the text views.
PRESETS = ("jiangsu", "huaian", "zhejiang", "huangyan", "anhui", "jingde")

pytestmark = pytest.mark.postgis


def rec(tax, revenue, elec, **more):
    return {"tax_wan": tax, "revenue_wan": revenue, "electricity_kwh": elec, **more}


def firms():
    return make_firms([
        Firm("甲", True, 10.0, {2021: rec(100, 2000, 1e6), 2022: rec(120, 2200, 1.1e6)},
             park="经济开发区"),
        Firm("乙", True, 20.0, {2021: rec(80, 3000, 2e6), 2022: rec(90, 3100, 2e6)},
             park="经济开发区"),
        Firm("丙", True, 5.0, {2021: rec(50, 500, 5e5), 2022: rec(60, 600, 5e5)}),
        Firm("丁否决", True, 8.0, {2021: rec(90, 900, 8e5), 2022: rec(95, 950, 8e5)}),
        Firm("戊跳变", True, 6.0, {2021: rec(10, 300, 3e5), 2022: rec(200, 320, 3e5)}),
        Firm("己有电无税", False, 4.0, {2021: rec(5, 100, 3e6), 2022: rec(0.5, 100, 3e6)}),
        Firm("庚零电", False, 5.0, {2021: rec(8, 120, 1e5), 2022: rec(9, 130, 0)}),
        Firm("辛高税", False, 3.0, {2021: rec(40, 150, 2e5), 2022: rec(2000, 160, 2e5)}),
        Firm("壬无数据", False, 4.0, {2021: rec(30, 150, 2e5)}),
        Firm("癸新办", False, 5.0, {2022: rec(30, 150, 2e5)}, established="2021-08-01",
             park="高新区"),
        Firm("子在建", True, 12.0, {2021: rec(1, 10, 1e4), 2022: rec(5, 50, 5e4)},
             supply_date="2021-03-01"),
    ])


@pytest.fixture
def county(tmp_path, db_conn, db_dsn, monkeypatch, capsys):
    fs = firms()
    occ = load_county(tmp_path, fs, monkeypatch, db_dsn, capsys, occupancy_year=2022)
    # a firm with records but no land, and a holder of land without records
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["统一社会信用代码", "企业名称", "规模以上", "税收(万元)", "用电量(千瓦时)"])
    ws.append([make_credit_code("9", "1", "331003", "NL0001XY"), "无地公司", "否", 12, 50000])
    nol = tmp_path / "noland.xlsx"
    wb.save(nol)
    mujun(["import", "enterprises", nol, "--year", "2022"], monkeypatch, db_dsn, capsys)
    return fs, occ


def _adjustments(path, fs):
    path.write_text("统一社会信用代码,类型,分值,原因\n"
                    f"{fs[3].code},一票否决,,安全生产事故\n"
                    f"{fs[0].code},加分,5,高新技术企业\n"
                    f"{fs[2].code},暂不评价,,搬迁企业\n", encoding="gbk")
    return path


def test_huaian_two_years_adjustments_and_explain(county, tmp_path, db_conn, db_dsn,
                                                  monkeypatch, capsys):
    fs, occ = county
    adj = _adjustments(tmp_path / "调整.csv", fs)
    out = mujun(["score", "--ruleset", "jiangsu-huaian-2024", "--year", "2022",
                 "--occupancy-run", occ, "--adjustments", adj, "--json"],
                monkeypatch, db_dsn, capsys)
    s = json.loads(out)
    bench = s["populations"]["large"]["benchmarks"]["tax_per_mu"]
    # 2 × the 2021 mean tax per mu of the large firms scored (甲 乙 戊; 丙 exempt, 丁 vetoed)
    prev = [100 / 10, 80 / 20, 10 / 6, 90 / 8]          # 丁 is vetoed, not exempt: in the mean
    assert bench["value"] == pytest.approx(2 * sum(prev) / len(prev))
    rows = {r[0]: r[1:] for r in fetch(
        db_conn, "SELECT trim(credit_code), class, total, rules_fired FROM enterprise_score"
                 " WHERE run_id = %s", (s["run_id"],))}
    assert rows[fs[3].code][0] == "D" and "安全生产事故" in json.dumps(rows[fs[3].code][2],
                                                                 ensure_ascii=False)
    assert rows[fs[2].code][0] == "T" and rows[fs[2].code][1] is None
    assert rows[fs[8].code][0] is None and "no annual records" in json.dumps(rows[fs[8].code][2])
    # land supplied in March 2021 is within its 3-year construction period at the end of 2022
    assert rows[fs[10].code][0] == "T"
    assert "construction period" in json.dumps(rows[fs[10].code][2])
    text = mujun(["score", "explain", fs[0].code], monkeypatch, db_dsn, capsys)
    assert "加减分：加分 5 分：高新技术企业" in text and "上年同类企业平均值" in text
    assert "bonus" not in text                             # the stored record's English stays inside
    # the same year again with another rule set; change since the previous year's run
    mujun(["score", "--ruleset", "zhejiang-huangyan-2022", "--year", "2021"], monkeypatch,
          db_dsn, capsys)
    out = mujun(["score", "--ruleset", "zhejiang-huangyan-2022", "--year", "2022", "--json"],
                monkeypatch, db_dsn, capsys)
    run22 = json.loads(out)
    assert run22["previous_run"] is not None
    change = fetch(db_conn, "SELECT prev_run, prev_total, total FROM enterprise_score"
                            " WHERE run_id = %s AND credit_code = %s", (run22["run_id"], fs[1].code))
    assert change[0][0] == run22["previous_run"] and change[0][1] is not None
    # a firm registered in August 2021 produces < 2 years by the end of 2022: class T
    young = fetch(db_conn, "SELECT class, rules_fired FROM enterprise_score WHERE run_id = %s"
                           " AND credit_code = %s", (run22["run_id"], fs[9].code))
    assert young[0][0] == "T" and "established 2021-08-01" in json.dumps(young[0][1])
    parks = {r["park"]: r for r in json.loads(mujun(["score", "summary", "--by", "park",
                                                     "--json"], monkeypatch, db_dsn, capsys))}
    assert parks["经济开发区"]["enterprises"] == 2 and parks["高新区"]["T"] == 1
    assert parks["经济开发区"]["tax_per_mu"] == pytest.approx((120 + 90) / 30)
    assert parks["经济开发区"]["land_mu"] == pytest.approx(30.0)
    runs = json.loads(mujun(["score", "runs", "--json"], monkeypatch, db_dsn, capsys))
    assert [r["params"]["year"] for r in runs] == [2022, 2021, 2022]
    # the text views an official reads: Chinese, classes and units from the vocabulary
    text = mujun(["score", "summary", "--by", "park"], monkeypatch, db_dsn, capsys)
    assert text.startswith("园区\t企业数（家）\t参评用地（亩）\t税收（万元）\t亩均税收（万元/亩）")
    assert english_words(text) == []
    text = mujun(["score", "runs"], monkeypatch, db_dsn, capsys)
    assert "已完成" in text and english_words(text, PRESETS) == []
    text = mujun(["score", "explain", fs[1].code], monkeypatch, db_dsn, capsys)
    head, _rules = text.split("适用的规则：")
    assert "档次 " in head and "指标\t数值\t单位\t基准值\t权重\t得分\t计分方式" in head
    assert english_words(head, PRESETS) == []
    text = mujun(["score", "check", "anhui-jingde-2022"], monkeypatch, db_dsn, capsys)
    assert "规则有效" in text and "权重" in text


def test_warnings_reach_the_verification_queue(county, tmp_path, db_conn, db_dsn, monkeypatch,
                                               capsys):
    fs, _occ = county
    out = mujun(["score", "--ruleset", "zhejiang-huangyan-2022", "--year", "2022", "--json"],
                monkeypatch, db_dsn, capsys)
    warn = json.loads(out)["warnings"]
    text = mujun(["score", "--ruleset", "zhejiang-huangyan-2022", "--year", "2022"],
                 monkeypatch, db_dsn, capsys)
    assert "亩均效益评价 第" in text and "A类（优先发展）" in text
    assert "数据警告（已列入乡镇核实）：" in text and "同比突变 2 项" in text
    assert english_words(text, PRESETS) == []
    assert warn["land_no_records"] == 1 and warn["power_no_tax"] == 1
    assert warn["zero_electricity"] == 1 and warn["tax_per_mu_high"] == 1
    assert warn["records_no_land"] == 1 and warn["yoy_jump"] == 2   # 戊 tax ×20, 辛 tax ×50
    stored = dict(fetch(db_conn, "SELECT kind, count(*) FROM verification_item GROUP BY kind"))
    assert stored["zero_electricity"] == 1 and stored["yoy_jump"] == 2
    queue = tmp_path / "queue.xlsx"
    out = mujun(["verify", "export", "-o", queue, "--json"], monkeypatch, db_dsn, capsys)
    items = json.loads(out)["items"]
    assert items["yoy_jump"] == 2 and items["tax_per_mu_high"] == 1
    assert items["power_no_tax"] >= 1
    from parcels.importing.verification import KINDS, header_key

    wb = openpyxl.load_workbook(queue)
    ws = wb[KINDS["yoy_jump"][0]]  # sheets and headers are Chinese; header_key reads them
    header = [header_key(c.value) for c in ws[2]]
    for row in ws.iter_rows(min_row=3):
        r = dict(zip(header, (c.value for c in row), strict=False))
        if r["credit_code"] == fs[4].code:
            row[header.index("tax_wan")].value = 20.0     # the township's corrected figure
        else:
            row[header.index("action")].value = "dismiss"
    answered = tmp_path / "answered.xlsx"
    wb.save(answered)
    mujun(["verify", "apply", answered], monkeypatch, db_dsn, capsys)
    assert fetch(db_conn, "SELECT tax_wan FROM enterprise_year WHERE credit_code = %s"
                          " AND year = 2022", (fs[4].code,)) == [(20.0,)]
    out = mujun(["score", "--ruleset", "zhejiang-huangyan-2022", "--year", "2022", "--json"],
                monkeypatch, db_dsn, capsys)
    assert json.loads(out)["warnings"]["yoy_jump"] == 1


def test_bad_inputs_are_named(county, tmp_path, db_dsn, monkeypatch, capsys):
    fs, _occ = county
    bad = tmp_path / "county.yaml"
    bad.write_text("name: x\nindicators:\n  t: {formula: tax_wan / land_mu, unit: 万元/亩}\n"
                   "populations:\n  large:\n    items:\n      t: {weight: 100, benchmark: 10,"
                   " missing: maybe}\nclasses: {method: quota, quotas: {A: 1}}\n",
                   encoding="utf-8")
    code, _, err = run(["score", "--ruleset", str(bad), "--year", "2022"], monkeypatch, db_dsn,
                       capsys)
    assert code == 2 and f"{bad}, line 7, populations.large.items.t.missing" in err
    badadj = tmp_path / "adj.csv"
    badadj.write_text("统一社会信用代码,类型,分值\n91331003HY0001XY7X,加分,\n", encoding="utf-8")
    code, _, err = run(["score", "--ruleset", "jiangsu-huaian-2024", "--year", "2022",
                        "--adjustments", str(badadj)], monkeypatch, db_dsn, capsys)
    assert code == 3 and "adj.csv, 第 2 行" in err
    code, _, err = run(["score", "--ruleset", "jiangsu-huaian-2024", "--year", "2022",
                        "--occupancy-run", "999"], monkeypatch, db_dsn, capsys)
    assert code == 3 and "第 999 次运行不是占地测算" in err
    code, _, err = run(["score", "--ruleset", "zhejiang-huangyan-2022", "--year", "2030"],
                       monkeypatch, db_dsn, capsys)
    assert code == 3 and "没有 2030 年的企业数据（--year）" in err
    code, _, err = run(["score", "explain", fs[0].code], monkeypatch, db_dsn, capsys)
    assert code == 3 and "尚无亩均效益评价" in err
    listing = mujun(["score", "rulesets"], monkeypatch, db_dsn, capsys)
    assert "zhejiang-huangyan-2022" in listing and "template" in listing
    assert "规则有效" in mujun(["score", "check", "anhui-jingde-2022"], monkeypatch, db_dsn, capsys)


def test_tenants_merged_with_their_holder_share_its_result(tmp_path, db_conn, db_dsn,
                                                          monkeypatch, capsys):
    fs = make_firms([
        Firm("房东", True, 10.0, {2022: rec(100, 1000, 1e6)}),
        Firm("租户", False, 1.0, {2022: rec(50, 400, 5e5)}),
        Firm("其他", True, 10.0, {2022: rec(120, 1100, 1e6)}),
    ])
    monkeypatch.setenv("MUJUN_TENANT_RULE", "merge_with_holder")
    paths_dir = tmp_path / "files"
    paths_dir.mkdir()
    from tests.test_scoring.county import write_files

    paths = write_files(paths_dir, fs)
    rights = paths["land_rights"][0]
    # the tenant leases part of the holder's parcel; its own parcel row is dropped
    lines = rights.read_text(encoding="utf-8").splitlines()
    lines = [ln for ln in lines if fs[1].code not in ln] + [f"{fs[0].parcel},{fs[1].code},租赁"]
    rights.write_text("\n".join(lines) + "\n", encoding="utf-8")
    mujun(["import", "parcels", paths["parcels"][0]], monkeypatch, db_dsn, capsys)
    for year, p in paths["enterprises"]:
        mujun(["import", "enterprises", p, "--year", year], monkeypatch, db_dsn, capsys)
    mujun(["import", "land-rights", rights], monkeypatch, db_dsn, capsys)
    mujun(["occupancy", "--year", 2022], monkeypatch, db_dsn, capsys)
    out = mujun(["score", "--ruleset", "zhejiang-huangyan-2022", "--year", "2022", "--json"],
                monkeypatch, db_dsn, capsys)
    rows = {r[0]: r[1:] for r in fetch(
        db_conn, "SELECT trim(credit_code), population, total, class, items, rules_fired"
                 " FROM enterprise_score WHERE run_id = %s", (json.loads(out)["run_id"],))}
    holder, tenant = rows[fs[0].code], rows[fs[1].code]
    # the holder's tax per mu includes the tenant's tax: (100 + 50) / 10 mu
    assert holder[3]["tax_per_mu"]["value"] == pytest.approx(15.0)
    assert tenant[:3] == holder[:3]
    assert "shares the result of " + fs[0].code in json.dumps(tenant[4])
