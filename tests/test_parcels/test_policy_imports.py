"""`mujun import accounts` and `mujun import land-tax` through the real entry point."""

from __future__ import annotations

import json
from decimal import Decimal

import openpyxl
import pytest

from parcels.codes import make_credit_code
from tests.cli_runner import fetch
from tests.cli_runner import run_mujun as run

pytestmark = pytest.mark.postgis

CODES = [make_credit_code("9", "1", "320585", f"TC{i:04d}XY") for i in range(1, 4)]
MONTHS = [f"{m}月" for m in range(1, 13)]


def _xlsx(path, header, rows):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(header)
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


@pytest.fixture
def firms(tmp_path, db_dsn, monkeypatch, capsys):
    src = tmp_path / "企业.csv"
    src.write_text("统一社会信用代码,企业名称,乡镇\n" + "".join(
        f"{c},企业{i},城厢镇\n" for i, c in enumerate(CODES, 1)), encoding="utf-8")
    code, _, err = run(["import", "enterprises", str(src), "--year", "2018"], monkeypatch,
                       db_dsn, capsys)
    assert code == 0, err
    return CODES


def _quantities(db_conn):
    return dict(((a, m), q) for a, m, q in fetch(
        db_conn, "SELECT account_no, month, quantity FROM account_quantity"))


def test_accounts_months_are_kept_exact_and_never_erased(firms, tmp_path, db_conn, db_dsn,
                                                       monkeypatch, capsys):
    first = _xlsx(tmp_path / "上半年.xlsx", ["户号", "统一社会信用代码", *MONTHS[:6]],
                  [["E1", firms[0], 1000.5, 1000.5, 0.001, 2, 3, 4]])
    code, out, err = run(["import", "accounts", str(first), "--kind", "electricity", "--year",
                          "2018", "--dry-run", "--json"], monkeypatch, db_dsn, capsys)
    assert code == 0 and json.loads(out)["dry_run"] is True, err
    assert fetch(db_conn, "SELECT count(*) FROM account_quantity") == [(0,)]
    for _ in range(2):                           # the second time: already imported
        code, out, err = run(["import", "accounts", str(first), "--kind", "electricity",
                              "--year", "2018", "--json"], monkeypatch, db_dsn, capsys)
        assert code == 0, err
    assert json.loads(out)["already_imported"] is True
    second = _xlsx(tmp_path / "下半年.xlsx", ["户号", "统一社会信用代码", *MONTHS[6:]],
                   [["E1", firms[0], 7, 8, 9, 10, 11, 12]])
    code, _, err = run(["import", "accounts", str(second), "--kind", "electricity", "--year",
                        "2018"], monkeypatch, db_dsn, capsys)
    assert code == 0, err
    q = _quantities(db_conn)
    assert len(q) == 12 and q[("E1", 1)] == Decimal("1000.500") and \
        q[("E1", 3)] == Decimal("0.001") and q[("E1", 12)] == Decimal("12")
    assert fetch(db_conn, "SELECT matched, trim(town) FROM utility_account") == \
        [(True, "城厢镇")]


def test_water_in_wan_cubic_metres_shared_accounts_and_the_verification_queue(
        firms, tmp_path, db_conn, db_dsn, monkeypatch, capsys):
    src = _xlsx(tmp_path / "用水.xlsx",
                ["户号", "统一社会信用代码", "户名", "分摊比例", "缴费方", "缴费单位信用代码",
                 "年用水量(万立方米)"],
                [["W1", firms[1], "企业2", "40%", "房东", firms[0], 1.2345],
                 ["W1", firms[0], "企业1", 0.6, "本企业", None, 1.2345],
                 ["W9", "91330000MA2XXXXX1K", "不明", None, None, None, 3]])
    code, out, err = run(["import", "accounts", str(src), "--kind", "water", "--year", "2018",
                          "--json"], monkeypatch, db_dsn, capsys)
    assert code == 0, err
    assert "verification queue" in out
    rows = fetch(db_conn, "SELECT account_no, credit_code, share, payer, trim(payer_code),"
                          " matched FROM utility_account ORDER BY account_no, share")
    assert rows == [("W1", firms[1], Decimal("0.4"), "landlord", firms[0], True),
                    ("W1", firms[0], Decimal("0.6"), "self", None, True),
                    ("W9", "91330000MA2XXXXX1K", Decimal("1"), "self", None, False)]
    assert _quantities(db_conn) == {("W1", 0): Decimal("12345"), ("W9", 0): Decimal("30000")}
    book = tmp_path / "核实.xlsx"
    code, _, err = run(["verify", "export", "-o", str(book)], monkeypatch, db_dsn, capsys)
    assert code == 0, err
    ws = openpyxl.load_workbook(book)["户号无法匹配企业"]
    assert any("W9" in str(c.value) for row in ws.iter_rows() for c in row)


@pytest.mark.parametrize("row, words", [
    (["E1", "9132058XBADCODE", 1], "is malformed"),
    (["E1", CODES[0], -5], "negative quantity"),
    (["", CODES[0], 5], "户号 (account number) is empty"),
])
def test_bad_account_rows_write_nothing(row, words, firms, tmp_path, db_conn, db_dsn,
                                        monkeypatch, capsys):
    src = _xlsx(tmp_path / "bad.xlsx", ["户号", "统一社会信用代码", "年用电量"],
                [["E0", firms[1], 10], row])
    code, _, err = run(["import", "accounts", str(src), "--kind", "electricity", "--year",
                        "2018"], monkeypatch, db_dsn, capsys)
    assert code == 3 and words in err and "Traceback" not in err
    assert fetch(db_conn, "SELECT count(*) FROM utility_account") == [(0,)]


def test_shares_above_one_and_a_landlord_without_code(firms, tmp_path, db_conn, db_dsn,
                                                      monkeypatch, capsys):
    for rows, words in (
            ([["E1", firms[0], 0.7, None, None, 1], ["E1", firms[1], 0.5, None, None, 1]],
             "add up to 1.2"),
            ([["E1", firms[0], 0.5, None, None, 1], ["E1", firms[1], 0.5, None, None, 2]],
             "one account, one quantity"),
            ([["E1", firms[1], 0.5, "房东", None, 1]], "landlord's credit code")):
        src = _xlsx(tmp_path / "shares.xlsx", ["户号", "统一社会信用代码", "分摊比例", "缴费方",
                                               "缴费单位信用代码", "年用电量"], rows)
        code, _, err = run(["import", "accounts", str(src), "--kind", "electricity",
                            "--year", "2018"], monkeypatch, db_dsn, capsys)
        assert code == 3 and "Traceback" not in err
        code, out, _ = run(["import", "accounts", str(src), "--kind", "electricity", "--year",
                            "2018", "--dry-run", "--accept-partial", "--json"], monkeypatch,
                           db_dsn, capsys)
        issues = " ".join(i["message"] for i in json.loads(out)["issues"])
        assert words in issues
    assert fetch(db_conn, "SELECT count(*) FROM utility_account") == [(0,)]


def test_land_tax_in_mu_and_bad_unit_tax(firms, tmp_path, db_conn, db_dsn, monkeypatch,
                                         capsys):
    src = _xlsx(tmp_path / "土地税.xlsx", ["统一社会信用代码", "应税面积(亩)", "土地等级",
                                            "单位税额"],
                [[firms[0], 3, "二级", 6], [firms[1], 1500.5, None, 4.5]])
    code, _, err = run(["import", "land-tax", str(src), "--year", "2018"], monkeypatch,
                       db_dsn, capsys)
    assert code == 0, err
    assert fetch(db_conn, "SELECT trim(credit_code), land_grade, taxable_area_m2, unit_tax,"
                          " town FROM land_tax_base ORDER BY credit_code") == [
        (firms[0], "二级", Decimal("2000.00"), Decimal("6.00"), "城厢镇"),
        (firms[1], "", Decimal("1000333.33"), Decimal("4.50"), "城厢镇")]
    bad = _xlsx(tmp_path / "bad.xlsx", ["统一社会信用代码", "应税面积", "单位税额"],
                [[firms[2], 100, 600]])
    code, _, err = run(["import", "land-tax", str(bad), "--year", "2018"], monkeypatch,
                       db_dsn, capsys)
    assert code == 3 and "unit tax 600" in err and "第 2 行" in err
