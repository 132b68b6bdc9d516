"""The verification loop: export the queue, answer it, apply it."""

from __future__ import annotations

import json

import geopandas as gpd
import openpyxl
import shapely

from parcels.codes import make_credit_code, make_parcel_code
from parcels.importing.verification import KINDS, LABELS, header_key
from tests.cli_runner import fetch
from tests.cli_runner import run_mujun as run

CODES = [make_credit_code("9", "1", "320509", f"MC{i:04d}XY") for i in range(1, 6)]
PARCELS = [make_parcel_code("320509", 1, 9, i) for i in range(1, 4)]


def load(tmp_path, monkeypatch, db_dsn, capsys):
    gdf = gpd.GeoDataFrame({"宗地代码": PARCELS, "乡镇": ["黄桥镇", "黄桥镇", "北桥镇"]},
                           geometry=[shapely.box(500000 + 100 * i, 3460000, 500050 + 100 * i,
                                                 3460050) for i in range(3)], crs=4549)
    gdf.to_file(tmp_path / "p.gpkg")
    assert run(["import", "parcels", str(tmp_path / "p.gpkg")], monkeypatch, db_dsn, capsys)[0] == 0
    ent = tmp_path / "e.csv"
    ent.write_text("统一社会信用代码,企业名称,乡镇,税收,用电量,行业代码\n"
                   f"{CODES[0]},甲公司,黄桥镇,10,100,3311\n"
                   f"{CODES[1]},乙公司,黄桥镇,0,5000,3311\n"   # power, no tax
                   f"{CODES[2]},丙公司,黄桥镇,5,10,9988\n"     # unknown industry division
                   f"{CODES[3]},甲公司,北桥镇,1,1,3311\n",     # same name as CODES[0]
                   encoding="utf-8")
    assert run(["import", "enterprises", str(ent), "--year", "2023"], monkeypatch, db_dsn,
               capsys)[0] == 0
    lr = tmp_path / "lr.csv"
    lr.write_text("宗地代码,统一社会信用代码,权利类型\n"
                  f"{PARCELS[0]},{CODES[0]},所有\n"
                  f"{PARCELS[0]},{CODES[4]},租赁\n", encoding="utf-8")  # CODES[4] unknown firm
    assert run(["import", "land-rights", str(lr)], monkeypatch, db_dsn, capsys)[0] == 0


def answer(path, out, answers):
    """Fill answers the way a township clerk does: by the Chinese headers and sheet titles."""
    wb = openpyxl.load_workbook(path)
    for kind, match, values in answers:
        ws = wb[KINDS[kind][0]]
        header = [header_key(c.value) for c in ws[2]]
        for row in ws.iter_rows(min_row=3):
            rec = dict(zip(header, (c.value for c in row), strict=False))
            if match(rec):
                for key, value in values.items():
                    row[header.index(key)].value = value
    wb.save(out)


def test_export_then_apply(tmp_path, db_conn, db_dsn, monkeypatch, capsys):
    load(tmp_path, monkeypatch, db_dsn, capsys)
    queue = tmp_path / "queue.xlsx"
    code, out, err = run(["verify", "export", "-o", str(queue), "--json"], monkeypatch, db_dsn,
                         capsys)
    assert code == 0, err
    items = json.loads(out)["items"]
    assert items == {"enterprise_no_land": 3, "parcel_no_holder": 2, "unknown_code": 2,
                     "power_no_tax": 1, "duplicate": 2, "account_unmatched": 0}
    code, _, err = run(["verify", "export", "-o", str(queue)], monkeypatch, db_dsn, capsys)
    assert code == 4  # never overwrite without --overwrite
    code, out, _ = run(["verify", "export", "--town", "北桥镇", "-o", str(tmp_path / "b.xlsx"),
                        "--json"], monkeypatch, db_dsn, capsys)
    assert json.loads(out)["items"]["parcel_no_holder"] == 1
    assert fetch(db_conn, "SELECT count(*) FROM verification_item") == [(10,)]  # ids reused

    bad = tmp_path / "bad.xlsx"
    answer(queue, bad, [("parcel_no_holder", lambda r: r["parcel_code"] == PARCELS[1],
                         {"holder_credit_code": "NOT-A-CODE"})])
    code, _, err = run(["verify", "apply", str(bad)], monkeypatch, db_dsn, capsys)
    assert code == 3 and "parcel_no_holder row" in err and "malformed" in err
    assert fetch(db_conn, "SELECT count(*) FROM verification_item WHERE status <> 'open'") == [(0,)]

    good = tmp_path / "resolved.xlsx"
    answer(queue, good, [
        ("parcel_no_holder", lambda r: r["parcel_code"] == PARCELS[1], {"holder_credit_code": CODES[1]}),
        ("unknown_code", lambda r: r["credit_code"] == CODES[4],
         {"corrected_credit_code": CODES[2]}),
        ("unknown_code", lambda r: r["credit_code"] == CODES[2] and r["parcel_code"] is None,
         {"corrected_industry_code": "3312"}),
        ("power_no_tax", lambda r: True, {"tax_wan": 12.5}),
        ("duplicate", lambda r: r["credit_code"] == CODES[3], {"action": "dismiss"}),
    ])
    code, out, err = run(["verify", "apply", str(good), "--json"], monkeypatch, db_dsn, capsys)
    assert code == 0, err
    assert json.loads(out)["n_loaded"] == 5
    assert fetch(db_conn, f"SELECT right_type FROM land_right WHERE parcel_code = '{PARCELS[1]}' "
                          f"AND credit_code = '{CODES[1]}'") == [("owner",)]
    assert fetch(db_conn, f"SELECT count(*) FROM land_right WHERE credit_code = '{CODES[4]}'") \
        == [(0,)]
    assert fetch(db_conn, f"SELECT industry_code FROM enterprise WHERE credit_code = '{CODES[2]}'") \
        == [("3312",)]
    assert fetch(db_conn, f"SELECT tax_wan FROM enterprise_year WHERE credit_code = '{CODES[1]}'") \
        == [(12.5,)]
    assert fetch(db_conn, "SELECT status, count(*) FROM verification_item GROUP BY 1 ORDER BY 1") \
        == [("dismissed", 1), ("open", 5), ("resolved", 4)]
    assert fetch(db_conn, "SELECT kind, n_loaded FROM import_batch WHERE kind = 'verification'") \
        == [("verification", 5)]
    code, out, _ = run(["verify", "apply", str(good)], monkeypatch, db_dsn, capsys)
    assert code == 0 and "导入过" in out


def test_workbook_speaks_chinese_and_survives_an_office_edit(tmp_path, db_conn, db_dsn,
                                                             monkeypatch, capsys):
    load(tmp_path, monkeypatch, db_dsn, capsys)
    queue = tmp_path / "queue.xlsx"
    assert run(["verify", "export", "-o", str(queue)], monkeypatch, db_dsn, capsys)[0] == 0
    wb = openpyxl.load_workbook(queue)
    assert "宗地无权利人" in wb.sheetnames and "parcel_no_holder" not in wb.sheetnames
    visible = [c.value for c in wb["宗地无权利人"][2]]
    assert visible[:5] == ["编号", "乡镇", "统一社会信用代码", "宗地代码", "问题"]
    assert all(not str(v).isascii() for v in visible)
    # what an Excel/WPS session does: retype a header with a line break and half-width
    # brackets, add a helper column, write the item number as text, answer in Chinese
    ws = wb["宗地无权利人"]
    header = [header_key(c.value) for c in ws[2]]
    ws.cell(2, header.index("holder_credit_code") + 1).value = "权利人统一社会\n信用代码"
    ws.cell(2, len(header) + 1).value = "核实人"
    target = next(r for r in ws.iter_rows(min_row=3) if r[header.index("parcel_code")].value
                  == PARCELS[1])
    target[header.index("item_id")].value = f" {target[header.index('item_id')].value} "
    target[header.index("holder_credit_code")].value = CODES[1]
    target[len(header)].value = "张三"
    dup = wb["疑似重复"]
    dheader = [header_key(c.value) for c in dup[2]]
    dup.cell(3, dheader.index("action") + 1).value = "忽略"
    wb.save(tmp_path / "edited.xlsx")
    code, out, err = run(["verify", "apply", str(tmp_path / "edited.xlsx"), "--json"],
                         monkeypatch, db_dsn, capsys)
    assert code == 0, err
    assert json.loads(out)["n_loaded"] == 2
    assert fetch(db_conn, "SELECT credit_code FROM land_right WHERE parcel_code = %s "
                          "AND right_type = 'owner'", (PARCELS[1],)) == [(CODES[1],)]
    assert fetch(db_conn, "SELECT status, count(*) FROM verification_item WHERE status <> 'open' "
                          "GROUP BY 1 ORDER BY 1") == [("dismissed", 1), ("resolved", 1)]
    assert set(LABELS) >= {k for _, answers in KINDS.values() for k in answers}
