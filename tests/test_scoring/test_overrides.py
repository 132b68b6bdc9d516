"""`mujun score override`: the adjusted class with its trace, shown, exported, kept across runs."""

from __future__ import annotations

import json

import openpyxl
import psycopg
import pytest

from tests.cli_runner import fetch, mujun_process
from tests.cli_runner import run_mujun as run
from tests.test_scoring.county import Firm, load_county, make_firms, mujun

pytestmark = pytest.mark.postgis


def _rec(tax):
    return {"tax_wan": tax, "revenue_wan": 10 * tax, "electricity_kwh": 1e5}


@pytest.fixture
def scored(tmp_path, db_dsn, monkeypatch, capsys):
    """Twenty large firms scored for 2022 under Huai'an; returns (firms, occupancy run, run)."""
    fs = make_firms([Firm(f"企业{i}", True, 10.0, {2021: _rec(10 * i), 2022: _rec(11 * i)})
                     for i in range(1, 21)])
    occ = load_county(tmp_path, fs, monkeypatch, db_dsn, capsys, occupancy_year=2022)
    out = mujun(["score", "--ruleset", "jiangsu-huaian-2024", "--year", "2022",
                 "--occupancy-run", occ, "--json"], monkeypatch, db_dsn, capsys)
    return fs, occ, json.loads(out)["run_id"]


def _class(db_conn, run_id, code):
    return fetch(db_conn, "SELECT class FROM enterprise_score WHERE run_id = %s AND"
                          " credit_code = %s", (run_id, code))[0][0]


def test_override_is_explained_exported_and_kept_by_a_new_run(scored, tmp_path, db_conn,
                                                               db_dsn, monkeypatch, capsys):
    fs, occ, run1 = scored
    low = fs[0].code                                     # the lowest tax per mu: class D
    assert _class(db_conn, run1, low) == "D"
    out = mujun(["score", "override", low, "--class", "c", "--reason", "成长型企业，经联席会议研究上调一档",
                 "--by", "张三", "--approved-by", "李四", "--json"], monkeypatch, db_dsn, capsys)
    rec = json.loads(out)
    assert (rec["initial_class"], rec["class"], rec["run_id"]) == ("D", "C", run1)
    assert _class(db_conn, run1, low) == "D"             # the computed class stays as stored

    ex = json.loads(mujun(["score", "explain", low, "--json"], monkeypatch, db_dsn, capsys))
    assert (ex["initial_class"], ex["adjusted_class"], ex["final_class"]) == ("D", "C", "C")
    assert ex["override"]["decided_by"] == "张三" and ex["override"]["approved_by"] == "李四"
    text = mujun(["score", "explain", low], monkeypatch, db_dsn, capsys)
    assert "评价档次 D类（倒逼整治），调档后 C类（整治提升）" in text and "李四 批准" in text
    assert "成长型企业" in text

    xlsx = tmp_path / "scores.xlsx"
    mujun(["score", "export", "-o", xlsx], monkeypatch, db_dsn, capsys)
    ws = openpyxl.load_workbook(xlsx).active
    header = [c.value for c in ws[1]]
    rows = {r[header.index("统一社会信用代码")]: r for r in ws.iter_rows(min_row=2, values_only=True)}
    row = rows[low]
    assert row[header.index("评价等级")] == "D" and row[header.index("调整后等级")] == "C"
    assert row[header.index("最终等级")] == "C" and row[header.index("调档决定人")] == "张三"
    assert row[header.index("调档批准人")] == "李四" and "联席会议" in row[header.index("调档理由")]
    other = rows[fs[19].code]
    assert other[header.index("调整后等级")] in (None, "")
    assert other[header.index("最终等级")] == other[header.index("评价等级")]

    # a new score run of the same year keeps the adjustment visible (carry-over)
    run2 = json.loads(mujun(["score", "--ruleset", "jiangsu-huaian-2024", "--year", "2022",
                             "--occupancy-run", occ, "--json"], monkeypatch, db_dsn,
                            capsys))["run_id"]
    assert run2 != run1
    ex2 = json.loads(mujun(["score", "explain", low, "--run", run2, "--json"], monkeypatch,
                           db_dsn, capsys))
    assert ex2["run_id"] == run2 and ex2["adjusted_class"] == "C"
    assert ex2["override"]["run_id"] == run1

    # a later adjustment supersedes; the history keeps both
    mujun(["score", "override", low, "--class", "B", "--reason", "复核后再调", "--by", "王五",
           "--run", run2], monkeypatch, db_dsn, capsys)
    ex3 = json.loads(mujun(["score", "explain", low, "--json"], monkeypatch, db_dsn, capsys))
    # (the history may hold adjustments other tests of the shared sample city recorded)
    assert ex3["adjusted_class"] == "B" and [h["class"] for h in ex3["override_history"]][-2:] \
        == ["C", "B"]
    assert ex3["override"]["approved_by"] is None

    # another data year is not adjusted: its class is computed afresh
    run2021 = json.loads(mujun(["score", "--ruleset", "zhejiang-huangyan-2022", "--year",
                                "2021", "--occupancy-run", occ, "--json"], monkeypatch,
                               db_dsn, capsys))["run_id"]
    ex4 = json.loads(mujun(["score", "explain", low, "--run", run2021, "--json"], monkeypatch,
                           db_dsn, capsys))
    assert ex4["year"] == 2021 and ex4["adjusted_class"] is None
    assert ex4["final_class"] == ex4["initial_class"] and ex4["override_history"] == []


def test_the_history_is_append_only(scored, db_conn, db_dsn, monkeypatch, capsys):
    fs, _occ, _run = scored
    mujun(["score", "override", fs[1].code, "--class", "A", "--reason", "r", "--by", "x"],
          monkeypatch, db_dsn, capsys)
    db_conn.rollback()
    for sql in ("UPDATE class_override SET class = 'D'", "DELETE FROM class_override"):
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
            db_conn.execute(sql)
        db_conn.rollback()
    assert fetch(db_conn, "SELECT class FROM class_override")[0][0] == "A"


def test_bad_overrides_get_one_clear_line(scored, db_conn, db_dsn, monkeypatch, capsys):
    fs, _occ, run1 = scored
    code = fs[2].code
    cases = [
        (["--class", "E", "--reason", "r", "--by", "x"], 2, "'E' is not one of"),
        (["--class", "A", "--reason", "  ", "--by", "x"], 3, "调档理由（--reason）为空"),
        (["--class", "A", "--reason", "r", "--by", "x\x00y"], 3, "空字符（NUL）"),
        (["--class", "A", "--reason", "r", "--by", "x", "--run", str(run1 + 99)], 3,
         f"第 {run1 + 99} 次运行不是亩均效益评价（--run）"),
    ]
    for args, exit_code, needle in cases:
        code_, _out, err = run(["score", "override", code, *args], monkeypatch, db_dsn, capsys)
        assert code_ == exit_code and needle in err and "Traceback" not in err, err
    code_, _out, err = run(["score", "override", "91331003NOTHERE0XY", "--class", "A",
                            "--reason", "r", "--by", "x"], monkeypatch, db_dsn, capsys)
    assert code_ == 3 and f"不在第 {run1} 次评价中" in err
    assert fetch(db_conn, "SELECT count(*) FROM class_override")[0][0] == 0


def test_override_through_the_console_script(scored, db_dsn, db_conn):
    fs, _occ, run1 = scored
    proc = mujun_process("score", "override", fs[3].code, "--class", "T", "--reason",
                         "搬迁过渡期", "--by", "赵六", "--run", str(run1), dsn=db_dsn)
    assert proc.returncode == 0, proc.stderr
    assert "由 赵六 调整为 T类（暂不评价）" in proc.stdout
    assert fetch(db_conn, "SELECT class, decided_by, run_id FROM class_override") == [
        ("T", "赵六", run1)]
