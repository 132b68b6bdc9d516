"""The enterprise file's later panels (imagery, department figures by source, policies,
appeals), the bureau's choice of panels, and `mujun enterprise sheet` (PDF read back)."""

from __future__ import annotations

import json
import re

import pytest

from tests.cli_runner import fetch
from tests.cli_runner import run_mujun as run
from tests.test_scoring.county import Firm, load_county, make_firms, mujun

pytestmark = pytest.mark.postgis

POLICY = """
name: test-enterprise-file
year: 2023
class_year: previous
period: {start: 2023-01, end: 2023-12}
items:
  energy:
    kind: energy_quota
    source: records
    rates: {A: 0.1, B: 0.05, C: -0.1, D: -0.2}
flags:
  A: [priority_land]
  B: [priority_land]
  C: [no_new_land]
  D: [no_land_auction]
"""


def _rec(tax):
    return {"tax_wan": tax, "revenue_wan": 10 * tax, "value_added_wan": 3 * tax,
            "electricity_kwh": 1e5, "energy_tce": 20.0 + tax}


@pytest.fixture
def county(tmp_path, db_conn, db_dsn, monkeypatch, capsys):
    firms = make_firms([
        Firm("东一", True, 10.0, {2021: _rec(8), 2022: _rec(10)}, town="东城"),
        Firm("东二", True, 10.0, {2021: _rec(18), 2022: _rec(20)}, town="东城"),
        Firm("西一", True, 5.0, {2021: _rec(40), 2022: _rec(50)}, town="西城"),
        Firm("电一", True, 5.0, {2022: _rec(30)}, town="西城", industry="D4411"),   # class T
    ])
    occ = load_county(tmp_path, firms, monkeypatch, db_dsn, capsys, occupancy_year=2022)
    run_id = json.loads(mujun(["score", "--ruleset", "jiangsu-huaian-2024", "--year", 2022,
                               "--occupancy-run", occ, "--json"], monkeypatch, db_dsn,
                              capsys))["run_id"]
    code = firms[0].code
    # the power company delivers electricity for 2022 later: its figure, its file
    power = tmp_path / "供电公司2022.csv"
    power.write_text("统一社会信用代码,企业名称,用电量(千瓦时)\n"
                     f"{code},东一有限公司,150000\n", encoding="utf-8")
    mujun(["import", "enterprises", power, "--year", 2022], monkeypatch, db_dsn, capsys)
    # three surveys cover the parcel: the file shows the first and the last
    for date in ("2023-06-01", "2019-04-01", "2021-05-01"):
        db_conn.execute(
            "INSERT INTO survey (survey_date, coverage, source) SELECT %s,"
            " ST_Multi(ST_Buffer(ST_Envelope(geom), 50)), %s FROM parcel WHERE parcel_code = %s",
            (date, f"{date[:4]}年航拍", firms[0].parcel))
    db_conn.commit()
    rules = tmp_path / "policy.yaml"
    rules.write_text(POLICY, encoding="utf-8")
    mujun(["policy", "apply", "--ruleset", rules, "--json"], monkeypatch, db_dsn, capsys)
    appeal = json.loads(mujun(["appeals", "add", code, "--kind", "data", "--field", "tax_wan",
                               "--value", "12", "--claim", "税务数据漏报一笔入库税款",
                               "--by", "王五", "--run", run_id, "--json"], monkeypatch, db_dsn,
                              capsys))
    mujun(["appeals", "decide", appeal["appeal_id"], "--status", "upheld", "--reason",
           "税务局核实", "--by", "李四"], monkeypatch, db_dsn, capsys)
    return {"firms": firms, "code": code, "run_id": run_id, "appeal": appeal["appeal_id"]}


def test_later_panels_known_answers(county, db_conn, db_dsn, monkeypatch, capsys):
    code = county["code"]
    rec = json.loads(mujun(["enterprise", "show", code, "--json"], monkeypatch, db_dsn, capsys))
    assert rec["panels"] == ["header", "history", "per_mu", "land", "imagery", "figures",
                             "warnings", "candidates", "policies", "appeals"]
    [img] = rec["imagery"]
    assert (img["parcel_code"], img["n_surveys"]) == (county["firms"][0].parcel, 3)
    assert [(s["which"], s["date"], s["source"]) for s in img["surveys"]] == \
        [("first", "2019-04-01", "2019年航拍"), ("last", "2023-06-01", "2023年航拍")]
    fig = {(r["year"], r["field"]): r for r in rec["figures"]}
    # electricity came with the power company's file, tax with the appeal's correction,
    # revenue with the 2022 workbook; each with its department and import date
    assert (fig[2022, "electricity_kwh"]["source_name"], fig[2022, "electricity_kwh"]["value"],
            fig[2022, "electricity_kwh"]["department_label"]) == \
        ("供电公司2022.csv", 150000.0, "供电部门")
    assert (fig[2022, "tax_wan"]["source_name"], fig[2022, "tax_wan"]["value"],
            fig[2022, "tax_wan"]["department_label"]) == \
        (f"申诉 {county['appeal']} 更正", 12.0, "税务部门")
    assert (fig[2022, "revenue_wan"]["source_name"], fig[2022, "revenue_wan"]["department_label"]) \
        == ("enterprises_2022.xlsx", "统计部门")
    assert fig[2021, "electricity_kwh"]["source_name"] == "enterprises_2021.xlsx"
    batches = dict(fetch(db_conn, "SELECT batch_id, finished_at::date::text FROM import_batch"))
    assert all(r["imported_at"][:10] == batches[r["batch_id"]] for r in rec["figures"])
    stored = dict(fetch(db_conn, "SELECT year, electricity_kwh FROM enterprise_year"
                                 " WHERE credit_code = %s", (code,)))
    assert {y: fig[y, "electricity_kwh"]["value"] for y in stored} == stored
    [pol] = rec["policies"]
    klass = fetch(db_conn, "SELECT class FROM policy_enterprise WHERE credit_code = %s",
                  (code,))[0][0]
    assert pol["class"] == klass and pol["lines"][0]["kind_label"] == "用能指标"
    assert pol["lines"][0]["quota"] == float(fetch(
        db_conn, "SELECT quota FROM policy_line WHERE credit_code = %s", (code,))[0][0])
    [appeal] = rec["appeals"]
    assert (appeal["kind_label"], appeal["status_label"], appeal["field_label"],
            appeal["claimed_value"]) == ("数据申诉", "申诉成立", "税收", 12.0)

    text = mujun(["enterprise", "show", code], monkeypatch, db_dsn, capsys)
    assert "第一次 2019-04-01（2019年航拍）；最近一次 2023-06-01（2023年航拍），共 3 次调查" in text
    assert re.search(r"2022年 供电部门 供电公司2022\.csv（批次 \d+，\d{4}-\d\d-\d\d）：用电量 "
                     r"150,000\.00 千瓦时", text)
    assert "数据申诉：税收 申报为 12.00；税务数据漏报一笔入库税款（申诉成立：税务局核实）" in text


def test_tags_of_the_latest_run(county, db_dsn, monkeypatch, capsys):
    power_plant = county["firms"][3].code
    rec = json.loads(mujun(["enterprise", "show", power_plant, "--json"], monkeypatch, db_dsn,
                           capsys))
    [year] = rec["history"]
    assert (year["initial_class"], year["tags"], year["tag_labels"]) == \
        ("T", ["class_t"], ["暂不评价（T类）"])
    assert rec["header"]["tags"] == ["暂不评价（T类）"]
    text = mujun(["enterprise", "show", power_plant], monkeypatch, db_dsn, capsys)
    assert "规上、暂不评价（T类）" in text.splitlines()[1]
    plain = json.loads(mujun(["enterprise", "show", county["code"], "--json"], monkeypatch,
                             db_dsn, capsys))
    assert plain["header"]["tags"] == [] and plain["history"][0]["tags"] == []


def test_a_bureau_chooses_the_panels(county, db_dsn, monkeypatch, capsys, tmp_path):
    code = county["code"]
    monkeypatch.setenv("MUJUN_ENTERPRISE_PANELS", "land,history")
    rec = json.loads(mujun(["enterprise", "show", code, "--json"], monkeypatch, db_dsn, capsys))
    assert rec["panels"] == ["header", "history", "land"]
    assert set(rec) == {"panels", "header", "history", "land"}
    text = mujun(["enterprise", "show", code], monkeypatch, db_dsn, capsys)
    assert "历年评价" in text and "土地" in text and "部门数据" not in text
    settings = tmp_path / "settings.yaml"
    settings.write_text("enterprise_panels: [land, taxes, 影像]\n", encoding="utf-8")
    monkeypatch.delenv("MUJUN_ENTERPRISE_PANELS")
    monkeypatch.setenv("MUJUN_SETTINGS", str(settings))
    for args in (["enterprise", "show", code], ["enterprise", "sheet", code, "-o",
                                               str(tmp_path / "x.pdf")]):
        status, _out, err = run(args, monkeypatch, db_dsn, capsys)
        assert status != 0 and "Traceback" not in err
        assert "未知的栏目：taxes、影像" in err and "imagery（影像）" in err, err
    assert not (tmp_path / "x.pdf").exists()


def test_sheet_pdf_figures_equal_the_database(county, db_conn, db_dsn, monkeypatch, capsys,
                                              tmp_path):
    from pypdf import PdfReader

    code = county["code"]
    out = tmp_path / "一企一档.pdf"
    res = json.loads(mujun(["enterprise", "sheet", code, "-o", out, "--json"], monkeypatch,
                           db_dsn, capsys))
    assert res["images"] == 2 and out.exists()
    reader = PdfReader(out)
    text = "".join(p.extract_text() for p in reader.pages)
    data = out.read_bytes()
    assert b"NotoSansCJK" in data and re.search(rb"/FontFile[23]", data)   # embedded (subset)
    compact = re.sub(r"[\s\x00]+", "", text)
    for year, tax, elec, revenue in fetch(
            db_conn, "SELECT year, tax_wan, electricity_kwh, revenue_wan FROM enterprise_year"
                     " WHERE credit_code = %s", (code,)):
        for value in (tax, elec, revenue):
            assert f"{value:,.2f}" in compact, (year, value)
    name, = fetch(db_conn, "SELECT name FROM enterprise WHERE credit_code = %s", (code,))[0]
    total, rank = fetch(db_conn, "SELECT total, rank_county FROM enterprise_score"
                                 " WHERE run_id = %s AND credit_code = %s",
                        (county["run_id"], code))[0]
    assert name in compact and code in compact and f"{total:,.2f}" in compact
    assert f"{rank}/" in compact
    assert "供电公司2022.csv" in compact and "申诉成立" in compact and "用能指标" in compact
    # both surveys drawn (here without image or footprints: the same picture, stored once)
    assert sum(len(p.images) for p in reader.pages) == 1
    assert sum(p.get_contents().get_data().count(b" Do") for p in reader.pages) == 2
    # never overwritten without --overwrite; with it, replaced
    status, _o, err = run(["enterprise", "sheet", code, "-o", str(out)], monkeypatch, db_dsn,
                          capsys)
    assert status != 0 and "--overwrite" in err
    mujun(["enterprise", "sheet", code, "-o", out, "--overwrite"], monkeypatch, db_dsn, capsys)
    status, _o, err = run(["enterprise", "sheet", code, "-o", str(tmp_path / "a.docx")],
                          monkeypatch, db_dsn, capsys)
    assert status != 0 and ".pdf" in err and "Traceback" not in err
