"""Enterprise imports through the real `mujun` entry point against a real PostGIS."""

from __future__ import annotations

import json

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parcels.codes import make_credit_code
from tests.cli_runner import run_mujun as run

CODES = [make_credit_code("9", "1", "320509", f"MA{i:04d}XY") for i in range(1, 7)]


def table(conn, name, order):
    conn.rollback()
    rows = conn.execute(f"SELECT * FROM {name} ORDER BY {order}").fetchall()
    conn.rollback()
    return rows


def merged_workbook(path, rows):
    """A bureau-style sheet: title, group headers merged across, names merged down, unit row."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "2023年"
    ws.append(["2023年度工业企业亩均效益评价数据"] + [None] * 6)
    ws.merge_cells("A1:G1")
    ws.append(["统一社会信用代码", "企业名称", "行业代码", "经济指标", None, "能耗指标", None])
    ws.append([None, None, None, "实缴税金", "营业收入", "用电量", "综合能耗"])
    ws.append([None, None, None, "（元）", "（万元）", "（万千瓦时）", "（吨标准煤）"])
    for col in "ABC":
        ws.merge_cells(f"{col}2:{col}4")
    ws.merge_cells("D2:E2")
    ws.merge_cells("F2:G2")
    for r in rows:
        ws.append(r)
    wb.save(path)


def test_excel_merged_headers_and_units(tmp_path, db_conn, db_dsn, monkeypatch, capsys):
    src = tmp_path / "qiye.xlsx"
    merged_workbook(src, [
        [CODES[0], "甲机械有限公司", "C3311", 1234567.0, 5000.5, 12.5, 300],
        [CODES[1], "乙纺织有限公司", 1711, 20000, 800, 0.8, 40.25],
    ])
    code, out, err = run(["import", "enterprises", str(src), "--year", "2023", "--json"],
                         monkeypatch, db_dsn, capsys)
    assert code == 0, err
    summary = json.loads(out)
    assert summary["n_loaded"] == 2 and summary["n_inserted"] == 2
    years = table(db_conn, "enterprise_year", "credit_code")
    by_code = {r[0]: r for r in years}
    tax, revenue, _, energy, elec = by_code[CODES[0]][2:7]
    assert tax == pytest.approx(123.4567)          # 元 -> 万元
    assert revenue == pytest.approx(5000.5)
    assert elec == pytest.approx(125000.0)         # 万千瓦时 -> kWh
    assert energy == pytest.approx(300.0)
    ents = {r[0]: r for r in table(db_conn, "enterprise", "credit_code")}
    assert ents[CODES[0]][2] == "甲机械有限公司" and ents[CODES[0]][3] == "3311"
    assert ents[CODES[1]][3] == "1711"
    batch = table(db_conn, "import_batch", "batch_id")
    assert len(batch) == 1 and batch[0][1] == "enterprises" and len(batch[0][3]) == 64


def test_gbk_csv_reimport_and_dry_run(tmp_path, db_conn, db_dsn, monkeypatch, capsys):
    src = tmp_path / "tax.csv"
    text = ("统一社会信用代码,企业名称,税收(万元),用电量(千瓦时),规模以上\n"
            f"{CODES[0]},甲公司,10.5,1000,是\n{CODES[1]},乙公司,3,200,否\n")
    src.write_bytes(text.encode("gbk"))
    code, out, err = run(["import", "enterprises", str(src), "--year", "2022", "--dry-run"],
                         monkeypatch, db_dsn, capsys)
    assert code == 0, err
    assert "试运行" in out
    assert table(db_conn, "enterprise", "credit_code") == []
    assert table(db_conn, "import_batch", "batch_id") == []
    code, out, err = run(["import", "enterprises", str(src), "--year", "2022"],
                         monkeypatch, db_dsn, capsys)
    assert code == 0, err
    before = (table(db_conn, "enterprise", "credit_code"),
              table(db_conn, "enterprise_year", "credit_code"))
    sizes = {r[0]: r[5] for r in before[0]}
    assert sizes == {CODES[0]: "large", CODES[1]: "small"}
    assert before[0][0][2] == "甲公司"
    code, out, err = run(["import", "enterprises", str(src), "--year", "2022"],
                         monkeypatch, db_dsn, capsys)
    assert code == 0, err
    (batch_id,) = [b[0] for b in table(db_conn, "import_batch", "batch_id")]
    assert f"已作为批次 {batch_id} 导入过" in out
    after = (table(db_conn, "enterprise", "credit_code"),
             table(db_conn, "enterprise_year", "credit_code"))
    assert after == before
    assert len(table(db_conn, "import_batch", "batch_id")) == 1
    # the same figures in a different file: loads as a new batch, changes no row
    copy = tmp_path / "tax_copy.csv"
    copy.write_bytes(text.replace("\n", "\r\n").encode("gbk"))
    code, out, err = run(["import", "enterprises", str(copy), "--year", "2022", "--json"],
                         monkeypatch, db_dsn, capsys)
    assert code == 0, err
    summary = json.loads(out)
    assert summary["n_unchanged"] == 2 and summary["n_updated"] == 0
    assert (table(db_conn, "enterprise", "credit_code"),
            table(db_conn, "enterprise_year", "credit_code")) == before


def test_errors_reject_everything_and_partial_writes_rejects(tmp_path, db_conn, db_dsn,
                                                             monkeypatch, capsys):
    bad_check = CODES[2][:17] + ("0" if CODES[2][17] != "0" else "1")
    src = tmp_path / "mixed.csv"
    src.write_text(
        "统一社会信用代码,企业名称,营业收入,用电量,年平均职工人数,行业代码\n"
        f"{CODES[0]},好公司,100,10,5,3311\n"          # row 2 fine
        "91320509MA0001XYZZ,坏代码公司,1,1,1,3311\n"   # row 3 malformed (Z)
        f"{bad_check},校验位公司,1,1,1,9999\n"        # row 4 checksum + unknown industry: warnings
        f"{CODES[3]},负数公司,-5,1,1,3311\n"          # row 5 negative revenue
        f"{CODES[4]},,1,1,1,3311\n"                   # row 6 missing name
        f"{CODES[5]},荒唐公司,1,1e15,1,3311\n"        # row 7 absurd electricity
        f"{CODES[0]},好公司,100,10,5,3311\n"          # row 8 exact duplicate of row 2: warning
        f"{CODES[1]},重复甲,1,1,1,3311\n"
        f"{CODES[1]},重复乙,2,1,1,3311\n",            # row 10 duplicate code, other figures
        encoding="utf-8")
    code, out, err = run(["import", "enterprises", str(src), "--year", "2023"],
                         monkeypatch, db_dsn, capsys)
    assert code == 3
    assert "未写入任何数据" in err
    assert "第 3 行" in err and "malformed" in err
    assert table(db_conn, "enterprise", "credit_code") == []
    assert table(db_conn, "import_batch", "batch_id") == []

    rejects = tmp_path / "rej.csv"
    monkeypatch.chdir(tmp_path)  # rejects go to the working directory
    code, out, err = run(["import", "enterprises", str(src), "--year", "2023", "--accept-partial",
                          "--rejects", str(rejects), "--json"], monkeypatch, db_dsn, capsys)
    assert code == 0, err
    summary = json.loads(out)
    assert summary["n_rejected"] == 5
    lines = rejects.read_text(encoding="utf-8-sig").splitlines()
    rejected_rows = {int(line.split(",")[0]) for line in lines[1:]
                     if line.split(",")[1] == "错误"}
    assert rejected_rows == {3, 5, 6, 7, 10}
    codes = {r[0]: r[1] for r in table(db_conn, "enterprise", "credit_code")}
    assert codes == {CODES[0]: True, bad_check: False, CODES[1]: True}
    checks = summary["by_check"]
    assert checks["credit_code_checksum"] == 1 and checks["industry_code"] == 1
    assert checks["duplicate_row"] == 1 and checks["duplicate_credit_code"] == 1
    assert checks["absurd_value"] == 1 and checks["negative_value"] == 1
    batch = table(db_conn, "import_batch", "batch_id")
    assert batch[0][7:10] == (9, 3, 5)  # n_read, n_loaded (row 8 is a repeat), n_rejected


def test_empty_and_headerless_files(tmp_path, db_conn, db_dsn, monkeypatch, capsys):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    code, _, err = run(["import", "enterprises", str(empty), "--year", "2023"],
                       monkeypatch, db_dsn, capsys)
    assert code == 3 and "empty" in err
    only_header = tmp_path / "hdr.csv"
    only_header.write_text("统一社会信用代码,企业名称\n")
    code, _, err = run(["import", "enterprises", str(only_header), "--year", "2023"],
                       monkeypatch, db_dsn, capsys)
    assert code == 3 and "no data rows" in err
    nohdr = tmp_path / "nohdr.csv"
    nohdr.write_text("a,b\n1,2\n")
    code, _, err = run(["import", "enterprises", str(nohdr), "--year", "2023"],
                       monkeypatch, db_dsn, capsys)
    assert code == 2 and "credit_code" in err and "mapping" in err
    assert table(db_conn, "import_batch", "batch_id") == []


def test_mapping_file(tmp_path, db_conn, db_dsn, monkeypatch, capsys):
    src = tmp_path / "odd.csv"
    src.write_text(f"代码X,户名,电力消耗\n{CODES[0]},丙公司,7\n", encoding="utf-8")
    mapping = tmp_path / "m.yaml"
    mapping.write_text("columns:\n  credit_code: 代码X\n  electricity_kwh: 电力消耗\n"
                       "units:\n  electricity_kwh: 万千瓦时\n", encoding="utf-8")
    code, _out, err = run(["import", "enterprises", str(src), "--year", "2021", "--mapping",
                          str(mapping)], monkeypatch, db_dsn, capsys)
    assert code == 0, err
    rows = table(db_conn, "enterprise_year", "credit_code")
    assert rows[0][6] == pytest.approx(70000.0)


CELLS = st.one_of(
    st.none(), st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=6), st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-10**16, max_value=10**16), st.sampled_from(["-", "无", "1,234", "１２", "1e400"]),
)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cells=st.lists(st.tuples(st.sampled_from([0, 1, 2, 3, 4, 5]), CELLS), min_size=1,
                      max_size=6))
def test_bad_cells_never_half_write(cells, tmp_path_factory, db_conn, db_dsn, monkeypatch,
                                    capsys):
    """Whatever lands in the cells, the import succeeds or leaves the tables as they were."""
    base = tmp_path_factory.mktemp("hyp") / "seed.csv"
    base.write_text(f"统一社会信用代码,企业名称,税收\n{CODES[5]},种子公司,1\n", encoding="utf-8")
    code, _, err = run(["import", "enterprises", str(base), "--year", "2020"],
                       monkeypatch, db_dsn, capsys)
    assert code == 0 or "导入过" in err
    rows = [[CODES[0], "甲", 1, 2, 3, 4], [CODES[1], "乙", 5, 6, 7, 8]]
    for col, value in cells:
        rows[hash(str(value)) % 2][col] = value
    src = tmp_path_factory.mktemp("hyp") / "bad.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["统一社会信用代码", "企业名称", "税收(万元)", "营业收入", "用电量", "年平均职工人数"])
    for r in rows:
        ws.append(r)
    wb.save(src)
    before = (table(db_conn, "enterprise", "credit_code"),
              table(db_conn, "enterprise_year", "credit_code, year"),
              table(db_conn, "import_batch", "batch_id"))
    code, out, err = run(["import", "enterprises", str(src), "--year", "2020"],
                         monkeypatch, db_dsn, capsys)
    after = (table(db_conn, "enterprise", "credit_code"),
             table(db_conn, "enterprise_year", "credit_code, year"),
             table(db_conn, "import_batch", "batch_id"))
    if code == 0 and "导入过" in out:  # the same workbook bytes as an earlier example
        assert after == before
    elif code == 0:
        assert len(after[2]) == len(before[2]) + 1
    else:
        assert code in (2, 3), err
        assert err.startswith("mujun: error:") and "Traceback" not in err
        assert after == before
