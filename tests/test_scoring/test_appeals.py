"""`mujun appeals`: submitted → under review → upheld / rejected, with effects and history."""

from __future__ import annotations

import json

import pytest

from tests.cli_runner import fetch
from tests.cli_runner import run_mujun as run
from tests.test_scoring.county import Firm, load_county, make_firms, mujun

pytestmark = pytest.mark.postgis


def _rec(tax):
    return {"tax_wan": tax, "revenue_wan": 10 * tax, "electricity_kwh": 1e5}


@pytest.fixture
def scored(tmp_path, db_dsn, monkeypatch, capsys):
    fs = make_firms([Firm(f"企业{i}", True, 10.0, {2021: _rec(10 * i), 2022: _rec(11 * i)})
                     for i in range(1, 21)])
    occ = load_county(tmp_path, fs, monkeypatch, db_dsn, capsys, occupancy_year=2022)
    out = mujun(["score", "--ruleset", "jiangsu-huaian-2024", "--year", "2022",
                 "--occupancy-run", occ, "--json"], monkeypatch, db_dsn, capsys)
    return fs, occ, json.loads(out)["run_id"]


def test_a_class_appeal_upheld_becomes_an_adjustment(scored, db_conn, db_dsn, monkeypatch,
                                                     capsys):
    fs, _, run_id = scored
    low = fs[0].code                                     # class D
    rec = json.loads(mujun(["appeals", "add", low, "--kind", "class", "--class", "C",
                            "--claim", "受疫情影响停产三个月", "--by", "王五", "--json"],
                           monkeypatch, db_dsn, capsys))
    aid = str(rec["appeal_id"])
    assert (rec["status"], rec["run_id"]) == ("submitted", run_id)
    mujun(["appeals", "decide", aid, "--status", "under_review", "--reason", "材料齐全",
           "--by", "李四"], monkeypatch, db_dsn, capsys)
    text = mujun(["appeals", "decide", aid, "--status", "upheld", "--reason", "经联席会议认定",
                  "--by", "李四", "--approved-by", "赵六"], monkeypatch, db_dsn, capsys)
    assert "已调档为 C 类" in text
    ex = json.loads(mujun(["score", "explain", low, "--json"], monkeypatch, db_dsn, capsys))
    assert (ex["initial_class"], ex["adjusted_class"]) == ("D", "C")
    assert ex["override"]["reason"].startswith(f"调档申诉 {aid} 成立")
    rec = json.loads(mujun(["appeals", "list", "--status", "upheld", "--json"], monkeypatch,
                           db_dsn, capsys))[0]
    assert rec["override_id"] is not None and rec["decided_by"] == "李四"
    steps = fetch(db_conn, "SELECT status, by_name FROM appeal_event WHERE appeal_id = %s"
                           " ORDER BY event_id", (int(aid),))
    assert steps == [("submitted", "王五"), ("under_review", "李四"), ("upheld", "李四")]
    # a decided appeal stays decided; the history cannot be rewritten
    code, _, err = run(["appeals", "decide", aid, "--status", "rejected", "--reason", "x",
                        "--by", "y"], monkeypatch, db_dsn, capsys)
    assert code == 3 and "已办结，不能再改" in err and "Traceback" not in err
    import psycopg

    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        db_conn.execute("DELETE FROM appeal_event")
    db_conn.rollback()


def test_a_data_appeal_upheld_changes_the_figure_and_the_next_score(
        scored, db_conn, db_dsn, monkeypatch, capsys):
    fs, occ, _ = scored
    low = fs[0].code
    rec = json.loads(mujun(["appeals", "add", low, "--kind", "data", "--field", "tax_wan",
                            "--value", "500", "--claim", "税务数据漏报一笔入库税款",
                            "--by", "王五", "--json"], monkeypatch, db_dsn, capsys))
    mujun(["appeals", "decide", str(rec["appeal_id"]), "--status", "upheld", "--reason",
           "税务局核实", "--by", "李四"], monkeypatch, db_dsn, capsys)
    assert fetch(db_conn, "SELECT tax_wan FROM enterprise_year WHERE credit_code = %s AND"
                          " year = 2022", (low,)) == [(500.0,)]
    out = mujun(["score", "--ruleset", "jiangsu-huaian-2024", "--year", "2022",
                 "--occupancy-run", occ, "--json"], monkeypatch, db_dsn, capsys)
    again = json.loads(out)["run_id"]
    assert fetch(db_conn, "SELECT class FROM enterprise_score WHERE run_id = %s AND"
                          " credit_code = %s", (again, low)) == [("A",)]
    # a rejected appeal changes nothing
    rec = json.loads(mujun(["appeals", "add", fs[1].code, "--kind", "class", "--class", "A",
                            "--claim", "认为分类偏低", "--by", "王五", "--json"], monkeypatch,
                           db_dsn, capsys))
    mujun(["appeals", "decide", str(rec["appeal_id"]), "--status", "rejected", "--reason",
           "数据无误", "--by", "李四"], monkeypatch, db_dsn, capsys)
    assert fetch(db_conn, "SELECT count(*) FROM class_override") == [(0,)]


@pytest.mark.parametrize("args, words", [
    (["--kind", "class", "--claim", "c", "--by", "b"], "调档申诉须写明申请的类别：A、B、C、D、T（--class）"),
    (["--kind", "data", "--field", "tax_wan", "--claim", "c", "--by", "b"], "申诉数值应为不小于 0 的数，单位 万元（--value）"),
    (["--kind", "class", "--class", "B", "--claim", " ", "--by", "b"], "申诉事由为空，请填写（--claim）"),
])
def test_bad_appeals_get_one_clear_line(args, words, scored, db_dsn, monkeypatch, capsys):
    fs, _, _ = scored
    code, _, err = run(["appeals", "add", fs[0].code, *args], monkeypatch, db_dsn, capsys)
    assert code == 3 and words in err and "Traceback" not in err
