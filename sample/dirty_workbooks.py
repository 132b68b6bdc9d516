"""The dirty enterprise records: last year's workbook and the first year's CSV.

``enterprises.xlsx`` has a title row, a merged two-row header block, Chinese headers
with units and planted code and value defects; ``enterprises_2023.csv`` is GBK with
header synonyms and units of 元 and 千瓦时 (:mod:`sample.dirty`).
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from sample.config import AS_OF, YEARS
from sample.defects import defect

XLSX_GROUPS = (
    ("序号", None),
    ("统一社会信用代码", None),
    ("企业名称", None),
    ("行业代码", None),
    ("所属镇", None),
    ("规模以上", None),
    ("经济效益指标", "税收(万元)"),
    (None, "营业收入(万元)"),
    (None, "工业增加值(万元)"),
    (None, "研发经费(万元)"),
    (None, "年平均职工人数"),
    ("资源环境指标", "综合能耗(吨标煤)"),
    (None, "用电量(万千瓦时)"),
    (None, "主要污染物排放量(吨)"),
)

def _mangle_codes(
    picks: list[int], codes: list[str], defects: list, file: str, row_of
) -> list[str]:
    """Plant malformed, checksum-failing and merely unnormalised credit codes at ``picks``."""
    from parcels.codes import CREDIT_ALPHABET

    out = list(codes)
    short, letter_o, letter_i, checksum, lower, fullwidth = picks
    cases = [
        (short, out[short][:17], "malformed_code", "17 characters"),
        (
            letter_o,
            out[letter_o][:9] + "O" + out[letter_o][10:],
            "malformed_code",
            "letter O is not in the alphabet",
        ),
        (
            letter_i,
            out[letter_i][:11] + "I" + out[letter_i][12:],
            "malformed_code",
            "letter I is not in the alphabet",
        ),
    ]
    last = out[checksum][17]
    wrong = CREDIT_ALPHABET[(CREDIT_ALPHABET.index(last) + 1) % len(CREDIT_ALPHABET)]
    cases.append(
        (
            checksum,
            out[checksum][:17] + wrong,
            "checksum",
            "well formed, check character wrong (warn)",
        )
    )
    original = out[lower]
    cases.append(
        (
            lower,
            original[:9].lower() + " " + original[9:].lower(),
            "normalisable_code",
            f"normalises to {original}",
        )
    )
    original_fw = out[fullwidth]
    full = "".join(
        chr(ord(ch) + 0xFEE0) if ch.isascii() and ch.isalnum() else ch for ch in original_fw
    )
    cases.append((fullwidth, full, "normalisable_code", f"full-width; normalises to {original_fw}"))
    for index, value, kind, detail in cases:
        out[index] = value
        defects.append(defect(file, index, value, kind, detail, row=row_of(index)))
    return out

def write_dirty_workbook(
    enterprises: pd.DataFrame, records: pd.DataFrame, path: Path, rng, defects: list
) -> Path:
    """Last year's records as a bureau's Excel workbook (title row, merged two-row header)."""
    from openpyxl import Workbook
    from openpyxl.worksheet.cell_range import CellRange

    year = YEARS[-1]
    last = records[records["year"] == year]
    table = last.merge(enterprises, on="credit_code", how="left", sort=False)
    n = len(table)
    first_row = 4

    def row_of(i: int) -> int:
        return first_row + i

    picks = [int(i) for i in rng.choice(n, size=10, replace=False)]
    codes = _mangle_codes(
        picks[:6], table["credit_code"].tolist(), defects, "enterprises.xlsx", row_of
    )
    names = table["name"].tolist()
    electricity = (table["electricity_kwh"] / 10000.0).round(4).tolist()
    employees = table["employees"].astype(int).tolist()
    negative, absurd, missing, duplicate = picks[6:]
    electricity[negative] = -abs(electricity[negative]) - 1.0
    employees[absurd] = 9_999_999
    names[missing] = None
    for i, kind, detail, column in (
        (negative, "negative_value", "用电量(万千瓦时) < 0", "用电量(万千瓦时)"),
        (absurd, "absurd_value", "年平均职工人数 = 9999999", "年平均职工人数"),
        (missing, "missing_required", "企业名称 empty", "企业名称"),
    ):
        defects.append(
            defect("enterprises.xlsx", i, codes[i], kind, detail, row=row_of(i), column=column)
        )

    wb = Workbook(write_only=True)
    stamp = dt.datetime(AS_OF.year, AS_OF.month, AS_OF.day)
    wb.properties.created = stamp
    wb.properties.modified = stamp
    wb.properties.creator = "mujun sample"
    ws = wb.create_sheet(f"{year}年")
    ncols = len(XLSX_GROUPS)
    last_col = chr(ord("A") + ncols - 1)
    ws.merged_cells.add(CellRange(f"A1:{last_col}1"))
    for k, (_top, sub) in enumerate(XLSX_GROUPS):
        col = chr(ord("A") + k)
        if sub is None:
            ws.merged_cells.add(CellRange(f"{col}2:{col}3"))
    ws.merged_cells.add(CellRange("G2:K2"))
    ws.merged_cells.add(CellRange("L2:N2"))
    ws.append([f"{year}年度工业企业亩均效益评价基础数据"] + [None] * (ncols - 1))
    ws.append([top for top, _ in XLSX_GROUPS])
    ws.append([sub for _, sub in XLSX_GROUPS])
    large = (table["size_class"] == "large").to_numpy()
    columns = [
        table["industry_code"].tolist(),
        table["town"].tolist(),
        table["tax_wan"].tolist(),
        table["revenue_wan"].tolist(),
        table["value_added_wan"].tolist(),
        table["rd_wan"].tolist(),
        table["energy_tce"].tolist(),
        table["emissions_t"].tolist(),
    ]
    industry, town, tax, revenue, va, rd, energy, emissions = columns
    seq = 0
    for i in range(n):
        seq += 1
        row = [
            seq,
            codes[i],
            names[i],
            industry[i],
            town[i],
            "是" if large[i] else "否",
            tax[i],
            revenue[i],
            va[i],
            rd[i],
            employees[i],
            energy[i],
            electricity[i],
            emissions[i],
        ]
        ws.append(row)
        if i == duplicate:
            seq += 1
            ws.append([seq, *row[1:]])
            defects.append(
                defect(
                    "enterprises.xlsx",
                    i + 1,
                    codes[i],
                    "duplicate_row",
                    f"repeats record {i}",
                    row=row_of(i + 1),
                )
            )
    # Record indices after the duplicate shift by one: fix the ones planted later.
    for item in defects:
        shifted = item["file"] == "enterprises.xlsx" and item["kind"] != "duplicate_row"
        if shifted and item["record"] > duplicate:
            item["record"] += 1
            item["row"] += 1
    tmp = path.with_suffix(".tmp.xlsx")
    wb.save(tmp)
    _normalise_zip(tmp, path, stamp)
    tmp.unlink()
    return path

def _normalise_zip(src: Path, dst: Path, stamp: dt.datetime) -> None:
    """Rewrite a zip (xlsx) with fixed member timestamps so equal content gives equal bytes."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=stamp.timetuple()[:6])
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = info.external_attr
            data = zin.read(info.filename)
            if info.filename == "docProps/core.xml":
                # openpyxl stamps the save time as "modified"; use the creation stamp.
                data = re.sub(
                    rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                    rb"\g<1>" + stamp.strftime("%Y-%m-%dT%H:%M:%SZ").encode() + rb"\g<2>",
                    data,
                )
            zout.writestr(fixed, data)

def write_first_year_csv(enterprises: pd.DataFrame, records: pd.DataFrame, path: Path) -> Path:
    """The first year's records as a GBK CSV with header synonyms and 元/千瓦时 units."""
    first = records[records["year"] == YEARS[0]].merge(
        enterprises, on="credit_code", how="left", sort=False
    )
    table = pd.DataFrame(
        {
            "统一社会信用代码": first["credit_code"],
            "企业名称": first["name"],
            "行业代码": first["industry_code"],
            "实缴税金(元)": (first["tax_wan"] * 10000).round(0),
            "主营业务收入(元)": (first["revenue_wan"] * 10000).round(0),
            "工业增加值(元)": (first["value_added_wan"] * 10000).round(0),
            "综合能耗(吨标煤)": first["energy_tce"],
            "用电量(千瓦时)": first["electricity_kwh"],
            "研发经费(元)": (first["rd_wan"] * 10000).round(0),
            "年平均职工人数": first["employees"],
            "主要污染物排放量(吨)": first["emissions_t"],
            "规模以上": np.where(first["size_class"] == "large", "是", "否"),
        }
    )
    table.to_csv(path, index=False, encoding="gbk", lineterminator="\r\n")
    return path
