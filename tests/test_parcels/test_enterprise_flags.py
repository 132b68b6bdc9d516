"""The yearly flags of an enterprise file: 规上/规下 of each year and 高新技术企业, stored
per year, kept by deliveries that do not carry them, and shown as the firm's tags."""

from __future__ import annotations

import json

import pandas as pd

from parcels.codes import make_credit_code
from tests.cli_runner import run_mujun as run
from tests.database_state import truncate_all as _truncate_all

CODES = [make_credit_code("9", "1", "320509", f"HT{i:04d}XY") for i in range(1, 4)]


def _csv(path, frame):
    frame.to_csv(path, index=False, encoding="utf-8")
    return str(path)


def test_flags_per_year_kept_and_shown_as_tags(tmp_path, db_conn, db_dsn, monkeypatch, capsys):
    _truncate_all(db_conn)
    db_conn.commit()
    y2023 = _csv(tmp_path / "2023.csv", pd.DataFrame({
        "统一社会信用代码": CODES, "企业名称": ["甲", "乙", "丙"],
        "规模以上": ["否", "否", "是"], "高新技术企业": ["否", "是", ""], "税收": [1, 2, 3]}))
    y2024 = _csv(tmp_path / "2024.csv", pd.DataFrame({
        "统一社会信用代码": CODES, "企业名称": ["甲", "乙", "丙"],
        "规模以上": ["是", "否", "是"], "高新技术企业": ["是", "", "否"], "税收": [4, 5, 6]}))
    for path, year in ((y2023, "2023"), (y2024, "2024")):
        code, _, err = run(["import", "enterprises", path, "--year", year], monkeypatch, db_dsn,
                           capsys)
        assert code == 0, err
    # a tax-only delivery of 2024 keeps the flags it does not carry
    tax = _csv(tmp_path / "tax.csv", pd.DataFrame({"统一社会信用代码": CODES, "企业名称": ["甲", "乙", "丙"],
                                                   "税收": [7, 8, 9]}))
    code, _, err = run(["import", "enterprises", tax, "--year", "2024"], monkeypatch, db_dsn,
                       capsys)
    assert code == 0, err
    rows = db_conn.execute("SELECT trim(credit_code), year, size_class, high_tech, tax_wan"
                           " FROM enterprise_year ORDER BY 1, 2").fetchall()
    db_conn.rollback()
    assert rows == [(CODES[0], 2023, "small", False, 1.0), (CODES[0], 2024, "large", True, 7.0),
                    (CODES[1], 2023, "small", True, 2.0), (CODES[1], 2024, "small", None, 8.0),
                    (CODES[2], 2023, "large", None, 3.0), (CODES[2], 2024, "large", False, 9.0)]
    tags = {}
    for c in CODES:
        code, out, err = run(["enterprise", "show", c, "--json"], monkeypatch, db_dsn, capsys)
        assert code == 0, err
        tags[c] = json.loads(out)["header"]["tags"]
    assert tags == {CODES[0]: ["高新技术企业", "当年首次升规上"],   # up from 规下 in 2023
                    CODES[1]: [],                # 2024's cell was empty: not known that year
                    CODES[2]: []}                                   # 规上 both years
    code, out, _ = run(["enterprise", "show", CODES[0]], monkeypatch, db_dsn, capsys)
    assert "高新技术企业、当年首次升规上" in out


def test_an_unreadable_flag_is_refused_with_its_row(tmp_path, db_conn, db_dsn, monkeypatch,
                                                    capsys):
    _truncate_all(db_conn)
    db_conn.commit()
    bad = _csv(tmp_path / "bad.csv", pd.DataFrame({
        "统一社会信用代码": CODES[:2], "企业名称": ["甲", "乙"], "高新技术企业": ["是", "也许"]}))
    code, _, err = run(["import", "enterprises", bad, "--year", "2024"], monkeypatch, db_dsn,
                       capsys)
    assert code == 3 and "第 3 行" in err and "高新技术企业 flag '也许'" in err
    assert db_conn.execute("SELECT count(*) FROM enterprise_year").fetchone()[0] == 0
    db_conn.rollback()
