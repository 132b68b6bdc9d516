"""Everyday enterprise workbooks: legacy .xls with merged Chinese headers, registration status."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import xlwt

from parcels.codes import make_credit_code
from tests.cli_runner import fetch
from tests.cli_runner import run_mujun as run

CODES = [make_credit_code("9", "1", "320509", f"MX{i:04d}XY") for i in range(1, 6)]


def xls_workbook(path, rows):
    """A bureau .xls: a merged title, group headers merged across, names merged down, units."""
    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet("2023年度")
    date_style = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    ws.write_merge(0, 0, 0, 7, "2023年度规上工业企业亩均效益数据")
    for col, name in enumerate(["统一社会信用代码", "企业名称", "登记状态", "成立日期", "注销日期"]):
        ws.write_merge(1, 2, col, col, name)
    ws.write_merge(1, 1, 5, 7, "经济指标")
    ws.write(2, 5, "实缴税金（元）")
    ws.write(2, 6, "营业收入（万元）")
    ws.write(2, 7, "用电量（万千瓦时）")
    for r, row in enumerate(rows, start=3):
        for c, value in enumerate(row):
            if isinstance(value, dt.date):
                ws.write(r, c, value, date_style)
            elif value is not None:
                ws.write(r, c, value)
    wb.save(str(path))
    return path


def test_xls_with_merged_chinese_headers_units_and_status(tmp_path, db_conn, db_dsn,
                                                          monkeypatch, capsys):
    src = xls_workbook(tmp_path / "qiye.xls", [
        [CODES[0], "甲机械有限公司", "存续（在营、开业、在册）", dt.date(2008, 3, 1), None,
         1234567.0, 5000.5, 12.5],
        [CODES[1], "乙纺织有限公司", "注销", dt.date(2001, 1, 15), dt.date(2023, 9, 30),
         20000, 800, 0.8],
        [CODES[2], "丙化工有限公司", "迁出", "2015-06-01", None, 0, 10, 1],
        [CODES[3], "丁电子有限公司", "停业", None, None, 5, 6, 7],
    ])
    code, out, err = run(["import", "enterprises", str(src), "--year", "2023", "--json"],
                         monkeypatch, db_dsn, capsys)
    assert code == 0, err
    summary = json.loads(out)
    assert summary["sheet"] == "2023年度" and summary["n_loaded"] == 4
    rows = fetch(db_conn, "SELECT e.credit_code, status, established_date, deregistered_date, "
                          "tax_wan, revenue_wan, electricity_kwh FROM enterprise e "
                          "JOIN enterprise_year y USING (credit_code) ORDER BY 1")
    assert [r[1] for r in rows] == ["active", "deregistered", "relocated", "stopped"]
    assert rows[0][2:4] == (dt.date(2008, 3, 1), None)
    assert rows[1][3] == dt.date(2023, 9, 30)
    assert rows[2][2] == dt.date(2015, 6, 1)
    assert rows[0][4] == pytest.approx(123.4567)     # 元 -> 万元
    assert rows[0][5] == pytest.approx(5000.5)
    assert rows[0][6] == pytest.approx(125000.0)     # 万千瓦时 -> kWh


def test_unknown_status_word_is_an_error_naming_row_and_value(tmp_path, db_conn, db_dsn,
                                                              monkeypatch, capsys):
    src = tmp_path / "qiye.csv"
    src.write_text("统一社会信用代码,企业名称,经营状态\n"
                   f"{CODES[0]},甲,在业\n{CODES[1]},乙,破产清算\n", encoding="gbk")
    code, _, err = run(["import", "enterprises", str(src), "--year", "2023"], monkeypatch,
                       db_dsn, capsys)
    assert code == 3 and "第 3 行" in err and "'破产清算'" in err and "存续" in err
    assert fetch(db_conn, "SELECT count(*) FROM enterprise") == [(0,)]


def test_status_update_keeps_figures_of_other_deliveries(tmp_path, db_conn, db_dsn, monkeypatch,
                                                         capsys):
    figures = tmp_path / "figures.csv"
    figures.write_text(f"统一社会信用代码,企业名称,行业代码,税收\n{CODES[0]},甲,3311,10\n",
                       encoding="utf-8")
    status = tmp_path / "market.csv"  # the market regulator's register: status only
    status.write_text(f"统一社会信用代码,企业名称,登记状态,注销日期\n{CODES[0]},甲,吊销,2023-12-01\n"
                      f"{CODES[4]},戊,,\n", encoding="utf-8")  # a new firm, status left blank
    for src in (figures, status):
        code, _, err = run(["import", "enterprises", str(src), "--year", "2023"], monkeypatch,
                           db_dsn, capsys)
        assert code == 0, err
    assert fetch(db_conn, "SELECT industry_code, status, deregistered_date, tax_wan FROM "
                          "enterprise JOIN enterprise_year USING (credit_code) ORDER BY 1") == \
        [("3311", "deregistered", dt.date(2023, 12, 1), 10.0), (None, "active", None, None)]
    # a later register with the cell left blank keeps the stored status
    again = tmp_path / "market2.csv"
    again.write_text(f"统一社会信用代码,企业名称,登记状态\n{CODES[0]},甲,\n", encoding="utf-8")
    code, _, err = run(["import", "enterprises", str(again), "--year", "2023"], monkeypatch,
                       db_dsn, capsys)
    assert code == 0, err
    assert fetch(db_conn, "SELECT status FROM enterprise WHERE credit_code = %s",
                 (CODES[0],)) == [("deregistered",)]
