"""``mujun candidates`` and ``mujun occupancy --as-of/surveys/change`` through the real entry point."""

from __future__ import annotations

import json

import openpyxl
import pytest

from tests.cli_runner import fetch, run_mujun


def _json(out):
    return json.loads(out)


def test_run_list_show_decide_and_conflict(town, monkeypatch, db_dsn, capsys):
    conn, *_ = town
    code, out, err = run_mujun(["candidates", "--as-of", "2024-12-31", "--json"], monkeypatch,
                               db_dsn, capsys)
    assert code == 0, err
    s = _json(out)
    assert s["candidates"] == 9 and s["created"] == 9 and len(s["top"]) == 9
    code, out, _ = run_mujun(["candidates", "list", "--kind", "built_unused", "--json"],
                             monkeypatch, db_dsn, capsys)
    rows = _json(out)
    assert {r["parcel_code"] for r in rows} == {"UNUSED", "NEARZERO", "NOLINK"}
    prios = [r["priority"] for r in rows]
    assert prios == sorted(prios, reverse=True)
    cid = rows[0]["candidate_id"]
    code, out, _ = run_mujun(["candidates", "show", str(cid)], monkeypatch, db_dsn, capsys)
    assert code == 0 and "建筑物存在" in out and "规则发现" in out
    # evidence in words: labelled lines with units, no raw keys or JSON
    assert "建筑占地" in out and "平方米" in out and "判定日期：2024-12-31" in out
    assert "buildings_stand" not in out and '{"' not in out and "far_min" not in out
    code, out, err = run_mujun(["candidates", "decide", str(cid), "--status", "under_review",
                                "--by", "王科长", "--expected-version", "1"],
                               monkeypatch, db_dsn, capsys)
    assert code == 0, err
    assert "第 2 版" in out
    # stale version: exit code of DecisionConflict, nothing written
    code, out, err = run_mujun(["candidates", "decide", str(cid), "--status", "confirmed",
                                "--by", "李", "--expected-version", "1"],
                               monkeypatch, db_dsn, capsys)
    assert code == 6 and "已被他人修改" in err
    code, out, err = run_mujun(["candidates", "decide", str(cid), "--status", "rejected",
                                "--by", "李"], monkeypatch, db_dsn, capsys)
    assert code == 3 and "须说明理由" in err
    # finding 7: a reason that is not a code is refused for every status, not only rejections
    code, out, err = run_mujun(["candidates", "decide", str(cid), "--status", "field_check",
                                "--reason", "随便写的理由", "--by", "李"], monkeypatch, db_dsn,
                               capsys)
    assert code == 3 and "未知的理由" in err and "已实际使用（in_use）" in err
    assert fetch(conn, "SELECT status FROM candidate WHERE candidate_id = %s", (cid,)) == [
        ("under_review",)]
    code, out, err = run_mujun(["candidates", "show", "9999"], monkeypatch, db_dsn, capsys)
    assert code == 3 and "candidate 9999 does not exist" in err


def test_exempt_command_and_list(town, monkeypatch, db_dsn, capsys):
    conn, *_ = town
    code, out, err = run_mujun(["candidates", "exempt", "IDLE", "--reason", "政府原因",
                                "--by", "张", "--comment", "规划调整中", "--json"],
                               monkeypatch, db_dsn, capsys)
    assert code == 0, err
    code, out, err = run_mujun(["candidates", "exempt", "IDLE", "--reason", "没钱", "--by", "张"],
                               monkeypatch, db_dsn, capsys)
    assert code == 3 and "unknown exemption reason '没钱'" in err
    code, out, err = run_mujun(["candidates", "exempt", "NOPE", "--reason", "政府原因",
                                "--by", "张"], monkeypatch, db_dsn, capsys)
    assert code == 3 and "parcel 'NOPE' does not exist" in err
    run_mujun(["candidates", "--as-of", "2024-12-31"], monkeypatch, db_dsn, capsys)
    kinds = {r[0] for r in fetch(conn, "SELECT kind FROM candidate WHERE parcel_code = 'IDLE'")}
    assert kinds == set()
    code, out, _ = run_mujun(["candidates", "exemptions", "--json"], monkeypatch, db_dsn, capsys)
    listed = {(r["parcel_code"], r["reason"]) for r in _json(out)}
    assert listed == {("IDLE", "政府原因"), ("EXEMPT", "政府原因")}


def test_report_workbook_has_chinese_headers_and_ranks(town, monkeypatch, db_dsn, capsys,
                                                       tmp_path):
    run_mujun(["candidates", "--as-of", "2024-12-31"], monkeypatch, db_dsn, capsys)
    out_path = tmp_path / "candidates.xlsx"
    code, _, err = run_mujun(["candidates", "report", "-o", str(out_path)], monkeypatch,
                               db_dsn, capsys)
    assert code == 0, err
    wb = openpyxl.load_workbook(out_path)
    ws = wb["候选地块"]
    header = [c.value for c in ws[1]]
    # headers from maps' field table (the one writer of every export)
    assert header[:5] == ["排名", "候选编号", "宗地代码", "候选类型", "类型名称"]
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert len(rows) == 9
    prio = header.index("优先级")
    assert [r[prio] for r in rows] == sorted((r[prio] for r in rows), reverse=True)
    kinds = {r[header.index("类型名称")] for r in rows}
    assert "闲置土地（未动工）" in kinds and "建而未用" in kinds
    mu = header.index("实测面积（亩）")
    assert rows[0][mu] == pytest.approx(15.0)
    assert "豁免" in wb.sheetnames and "字段说明" in wb.sheetnames
    only = tmp_path / "built_unused.xlsx"
    code, _, err = run_mujun(["candidates", "report", "-o", str(only), "--kind", "built_unused"],
                             monkeypatch, db_dsn, capsys)
    assert code == 0, err
    ws = openpyxl.load_workbook(only)["候选地块"]
    kept = list(ws.iter_rows(min_row=2, values_only=True))
    assert 0 < len(kept) < len(rows) and {r[header.index("类型名称")] for r in kept} == {"建而未用"}
    assert [r[0] for r in kept] == list(range(1, len(kept) + 1))
    # never over an existing file without --overwrite
    code, _, _ = run_mujun(["candidates", "report", "-o", str(out_path)], monkeypatch,
                               db_dsn, capsys)
    assert code == 4
    code, _out, err = run_mujun(["candidates", "report", "-o", str(tmp_path / "x.csv")],
                               monkeypatch, db_dsn, capsys)
    assert code == 3 and "*.xlsx" in err


@pytest.mark.parametrize("suffix", ["html", "pdf"])
def test_sheet_before_and_after(town, monkeypatch, db_dsn, capsys, tmp_path, suffix):
    conn, *_ = town
    run_mujun(["candidates", "--as-of", "2024-12-31"], monkeypatch, db_dsn, capsys)
    cid = fetch(conn, "SELECT candidate_id FROM candidate WHERE parcel_code = 'STALLED'")[0][0]
    path = tmp_path / f"sheet.{suffix}"
    code, out, err = run_mujun(["candidates", "sheet", str(cid), "-o", str(path), "--json"],
                               monkeypatch, db_dsn, capsys)
    assert code == 0, err
    info = _json(out)
    assert info["surveys"] == ["2023-05-01", "2024-09-01"]      # before and after
    data = path.read_bytes()
    if suffix == "pdf":
        assert data.startswith(b"%PDF-") and data.count(b"/Type /Page\n") + data.count(
            b"/Type /Page>") + data.count(b"/Type /Page ") >= 1
        assert b"NotoSansCJK" in data or b"Noto" in data
    else:
        text = data.decode("utf-8")
        assert "土地利用状况核查表" in text and "STALLED" in text
        assert "data:image/png;base64," in text and "http" not in text.replace(
            "http-equiv", "")
        assert "期间无新增建设" in text and "处理记录" in text
        # the evidence in words, as the app and `candidates show` say it
        assert "期间新增建筑" in text and "平方米" in text and "规则发现" in text
        assert "no_growth_m2" not in text and "far_min" not in text


def test_occupancy_surveys_as_of_and_change(town, monkeypatch, db_dsn, capsys):
    conn, sid1, sid2 = town
    code, out, _ = run_mujun(["occupancy", "surveys", "--json"], monkeypatch, db_dsn, capsys)
    assert [r["survey_id"] for r in _json(out)] == [sid1, sid2]
    code, out, err = run_mujun(["occupancy", "--as-of", "2023-12-31", "--json"], monkeypatch,
                               db_dsn, capsys)
    assert code == 0, err
    s = _json(out)
    assert s["surveys"] == [sid1] and s["as_of"] == "2023-12-31"
    code, out, err = run_mujun(["occupancy", "change", str(sid1), str(sid2), "--json"],
                               monkeypatch, db_dsn, capsys)
    assert code == 0, err
    c = _json(out)
    assert c["n_demolished"] == 1 and c["n_expanded"] == 1
    stored = dict(fetch(conn, "SELECT parcel_code, demolished_m2 FROM survey_change"
                              " WHERE demolished_m2 > 0"))
    assert stored == {"DEMOL": pytest.approx(6400.0)}
    code, out, err = run_mujun(["occupancy", "change", str(sid2), str(sid1)], monkeypatch,
                               db_dsn, capsys)
    assert code == 3 and "请先写较早的调查" in err


def test_empty_database_runs_and_lists_nothing(db_conn, monkeypatch, db_dsn, capsys):
    code, out, err = run_mujun(["candidates", "--json"], monkeypatch, db_dsn, capsys)
    assert code == 0, err
    assert _json(out)["candidates"] == 0
    code, out, _ = run_mujun(["candidates", "list"], monkeypatch, db_dsn, capsys)
    assert code == 0 and "没有候选地块" in out
    code, out, err = run_mujun(["candidates", "--rules", "/nonexistent.yaml"], monkeypatch,
                               db_dsn, capsys)
    assert code == 2


def test_sheet_of_an_idle_parcel_shows_the_earlier_survey_too(town, monkeypatch, db_dsn,
                                                               capsys, tmp_path):
    conn, *_ = town
    run_mujun(["candidates", "--as-of", "2024-12-31"], monkeypatch, db_dsn, capsys)
    cid = fetch(conn, "SELECT candidate_id FROM candidate WHERE parcel_code = 'DEMOL'")[0][0]
    code, out, err = run_mujun(["candidates", "sheet", str(cid), "-o",
                                str(tmp_path / "s.html"), "--json"], monkeypatch, db_dsn,
                               capsys)
    assert code == 0, err
    assert _json(out)["surveys"] == ["2023-05-01", "2024-09-01"]   # the demolished building


def test_one_candidate_with_two_kinds_through_the_cli(town, monkeypatch, db_dsn, capsys,
                                                      tmp_path):
    conn, *_ = town
    # INEFF's firm deregistered: built-unused and inefficient on one parcel
    conn.execute("UPDATE enterprise SET status = 'deregistered' WHERE credit_code IN ("
                 "SELECT credit_code FROM land_right WHERE parcel_code = 'INEFF')")
    conn.commit()
    code, out, err = run_mujun(["candidates", "--as-of", "2024-12-31", "--json"], monkeypatch,
                               db_dsn, capsys)
    assert code == 0, err
    s = _json(out)
    assert s["candidates"] == 9 and s["by_kind"]["built_unused"] == 4
    assert s["by_kind"]["inefficient"] == 0 and s["with_kind"]["inefficient"] == 1
    assert s["by_reason"]["far_below_agreed"] == 1 and s["by_reason"]["built_unused"] == 4
    code, out, err = run_mujun(["candidates", "--as-of", "2024-12-31"], monkeypatch, db_dsn,
                               capsys)
    assert code == 0 and "按理由：" in out and "用而未尽（容积率远低于约定） 1" in out
    # listed under either kind, once
    for kind in ("inefficient", "built_unused"):
        code, out, _ = run_mujun(["candidates", "list", "--kind", kind, "--json"],
                                 monkeypatch, db_dsn, capsys)
        assert [r["parcel_code"] for r in _json(out)].count("INEFF") == 1
    cid = fetch(conn, "SELECT candidate_id FROM candidate WHERE parcel_code = 'INEFF'")[0][0]
    code, out, _ = run_mujun(["candidates", "show", str(cid)], monkeypatch, db_dsn, capsys)
    assert code == 0
    assert "判定为「建而未用」（另有：低效用地）所检验的规则" in out
    assert ("认定类型与原因：建而未用；低效用地：建筑系数低于控制指标、容积率低于行业控制指标、"
            "用而未尽（容积率远低于约定）") in out
    assert out.index("「建而未用」建筑物存在") < out.index("「低效用地」容积率低于行业控制指标")
    # the report: every kind, primary first, and the reasons in words
    path = tmp_path / "c.xlsx"
    code, out, err = run_mujun(["candidates", "report", "-o", str(path)], monkeypatch, db_dsn,
                               capsys)
    assert code == 0, err
    ws = openpyxl.load_workbook(path)["候选地块"]
    header = [c.value for c in ws[1]]
    row = next(r for r in ws.iter_rows(min_row=2, values_only=True)
               if r[header.index("宗地代码")] == "INEFF")
    assert row[header.index("全部类型（主类型在前）")] == "建而未用、低效用地"
    assert "用而未尽" in row[header.index("低效原因")]
