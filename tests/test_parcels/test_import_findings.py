"""Findings of the county-scale trial (issue 19): each one a file that used to load wrongly."""

from __future__ import annotations

import json

import openpyxl
import pandas as pd

from parcels.codes import make_credit_code
from tests.cli_runner import run_mujun as run

CODES = [make_credit_code("9", "1", "320509", f"MF{i:04d}XY") for i in range(1, 6)]


def _truncate(conn):
    conn.rollback()
    conn.execute("TRUNCATE enterprise, enterprise_year, enterprise_name_history, import_batch, "
                 "verification_item RESTART IDENTITY CASCADE")
    conn.commit()


def test_formula_without_value_is_refused_naming_the_cells(tmp_path, db_conn, db_dsn,
                                                           monkeypatch, capsys):
    """Finding 5: a formula cell without a stored value read as blank and kept the old figure."""
    _truncate(db_conn)
    first = tmp_path / "qiye2024.csv"
    first.write_text(f"统一社会信用代码,企业名称,实缴税金(万元)\n{CODES[0]},甲公司,100\n",
                     encoding="utf-8")
    code, _, err = run(["import", "enterprises", str(first), "--year", "2024"],
                       monkeypatch, db_dsn, capsys)
    assert code == 0, err
    src = tmp_path / "qiye2024_new.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "2024年"
    ws.append(["统一社会信用代码", "企业名称", "实缴税金(万元)", "营业收入(万元)"])
    ws.append([CODES[0], "甲公司", "=D2*0.05", 4000])  # openpyxl stores no computed value
    wb.save(src)
    code, _, err = run(["import", "enterprises", str(src), "--year", "2024"],
                       monkeypatch, db_dsn, capsys)
    assert code == 3, err
    assert "2024年" in err and "C2" in err and "formulas without a computed value" in err
    db_conn.rollback()
    assert db_conn.execute("SELECT tax_wan, revenue_wan FROM enterprise_year").fetchall() == \
        [(100.0, None)]


def test_rename_is_reported_and_the_earlier_name_kept(tmp_path, db_conn, db_dsn, monkeypatch,
                                                      capsys):
    """Finding 6: a rename was applied but counted as unchanged, and the old name was lost."""
    _truncate(db_conn)
    a = tmp_path / "a.csv"
    a.write_text(f"统一社会信用代码,企业名称,实缴税金(万元)\n{CODES[0]},旧名称有限公司,100\n"
                 f"{CODES[1]},乙公司,5\n", encoding="utf-8")
    b = tmp_path / "b.csv"
    b.write_text(f"统一社会信用代码,企业名称,实缴税金(万元)\n{CODES[0]},新名称有限公司,100\n"
                 f"{CODES[1]},乙公司,5\n", encoding="utf-8")
    assert run(["import", "enterprises", str(a), "--year", "2024"], monkeypatch, db_dsn,
               capsys)[0] == 0
    code, out, err = run(["import", "enterprises", str(b), "--year", "2024"], monkeypatch,
                         db_dsn, capsys)
    assert code == 0, err
    assert "更改 1、未变 1" in out
    assert "旧名称有限公司 → 新名称有限公司" in out and "renamed" in out
    db_conn.rollback()
    assert db_conn.execute("SELECT name FROM enterprise WHERE credit_code = %s",
                           (CODES[0],)).fetchone()[0] == "新名称有限公司"
    history = db_conn.execute(
        "SELECT trim(h.credit_code), h.name, s.source, r.source "
        "FROM enterprise_name_history h JOIN import_batch s ON s.batch_id = h.batch_id "
        "JOIN import_batch r ON r.batch_id = h.replaced_by_batch_id").fetchall()
    assert history == [(CODES[0], "旧名称有限公司", str(a), str(b))]


def test_verify_apply_refuses_a_workbook_that_is_not_a_verification_workbook(
        tmp_path, db_conn, db_dsn, monkeypatch, capsys):
    """Finding 25: any workbook answered "read 0 rows" with exit 0."""
    src = tmp_path / "企业名单.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = "Sheet1"
    wb.active.append(["统一社会信用代码", "企业名称"])
    wb.save(src)
    code, _, err = run(["verify", "apply", str(src)], monkeypatch, db_dsn, capsys)
    assert code == 3
    assert "企业名单.xlsx" in err and "not a verification workbook" in err
    assert "Sheet1" in err and "企业无用地" in err
    assert len(err.strip().splitlines()) == 1


def test_duplicate_credit_codes_are_not_called_parcel_codes(tmp_path, db_conn, db_dsn,
                                                             monkeypatch, capsys):
    """Finding 26: duplicate credit codes were summarised as "duplicate parcel codes"."""
    _truncate(db_conn)
    src = tmp_path / "dup.csv"
    pd.DataFrame({"统一社会信用代码": [CODES[2], CODES[2]], "企业名称": ["甲", "乙"],
                  "实缴税金(万元)": [1, 2]}).to_csv(src, index=False)
    code, _, err = run(["import", "enterprises", str(src), "--year", "2024"], monkeypatch,
                       db_dsn, capsys)
    assert code == 3
    assert "parcel" not in err and "宗地代码" not in err
    assert "统一社会信用代码重复且数据不同 1 处" in err
    code, out, _ = run(["import", "enterprises", str(src), "--year", "2024", "--json",
                        "--accept-partial", "--rejects", str(tmp_path / "r.csv")],
                       monkeypatch, db_dsn, capsys)
    assert code == 0
    assert json.loads(out)["by_check"] == {"duplicate_credit_code": 1}


def _utf8_shapefile(path, towns, encoding="UTF-8"):
    import geopandas as gpd
    import shapely
    from pyproj import Transformer

    from parcels.codes import make_parcel_code

    x, y = Transformer.from_crs(4326, 4549, always_xy=True).transform(120.6, 31.3)
    gdf = gpd.GeoDataFrame(
        {"ZDDM": [make_parcel_code("320509", 1, 3, i + 1) for i in range(len(towns))],
         "TOWN": towns},
        geometry=[shapely.box(x + 100 * i, y, x + 100 * i + 50, y + 50)
                  for i in range(len(towns))], crs=4549)
    gdf.to_file(path, encoding=encoding)
    path.with_suffix(".cpg").unlink(missing_ok=True)
    return path


def test_utf8_shapefile_declared_gbk_is_refused_as_mojibake(tmp_path, db_conn, db_dsn,
                                                            monkeypatch, capsys):
    """Finding 3: --encoding gbk on UTF-8 stored 测试镇 as 娴嬭瘯闀 (last byte dropped), exit 0."""
    db_conn.rollback()
    db_conn.execute("TRUNCATE parcel, import_batch, mujun_setting RESTART IDENTITY CASCADE")
    db_conn.commit()
    src = _utf8_shapefile(tmp_path / "zongdi.shp", ["测试镇", "盛泽镇"])
    code, _, err = run(["import", "parcels", str(src), "--encoding", "gbk"], monkeypatch, db_dsn,
                       capsys)
    assert code == 3, err
    assert "UTF-8" in err and "娴嬭瘯闀" in err and "zongdi.shp" in err
    db_conn.rollback()
    assert db_conn.execute("SELECT count(*) FROM parcel").fetchone()[0] == 0
    code, _, err = run(["import", "parcels", str(src), "--encoding", "UTF-8"], monkeypatch,
                       db_dsn, capsys)
    assert code == 0, err
    db_conn.rollback()
    assert {r[0] for r in db_conn.execute("SELECT town FROM parcel")} == {"测试镇", "盛泽镇"}


def test_gbk_shapefile_declared_utf8_names_the_likely_encoding(tmp_path, db_dsn, monkeypatch,
                                                               capsys):
    src = _utf8_shapefile(tmp_path / "gbk.shp", ["测试镇"], encoding="GBK")
    code, _, err = run(["import", "parcels", str(src), "--encoding", "utf-8"], monkeypatch,
                       db_dsn, capsys)
    assert code == 3 and "GB18030 (GBK)" in err and "--encoding GB18030" in err


def test_utf8_table_declared_gbk_is_refused(tmp_path, db_dsn, monkeypatch, capsys):
    src = tmp_path / "qiye.csv"
    src.write_text(f"统一社会信用代码,企业名称\n{CODES[3]},测试镇甲公司\n", encoding="utf-8")
    code, _, err = run(["import", "enterprises", str(src), "--year", "2024", "--encoding", "gbk"],
                       monkeypatch, db_dsn, capsys)
    assert code == 3 and "UTF-8" in err and "乱码" in err
