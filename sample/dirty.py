"""Dirty copies of the sample: the inputs as a land bureau really hands them over.

``dirty/`` holds the same parcels, enterprise records and land rights as the
clean files, but the way they arrive from different departments:

``parcels.shp``
    GBK text and *no* ``.cpg`` (the encoding must be detected), Chinese field
    names of at most 10 GBK bytes, coordinates in the zone-prefixed CGCS2000
    Gauss-Krüger CRS EPSG:4528 rounded to millimetres, dates as text
    ``YYYY/MM/DD``; plus a bow-tie, a duplicated parcel code, an overlap, a
    non-standard parcel code, an empty geometry and a degenerate sliver.
``enterprises.xlsx``
    last year's records with a title row and a merged two-row header block,
    Chinese headers with units (万元, 吨标煤, 万千瓦时), malformed credit codes,
    one that fails the checksum, codes that only need normalising, a duplicate
    row, a negative and an absurd value and a missing name.
``enterprises_2023.csv``
    the first year in GBK with header synonyms and units of 元 and 千瓦时.
``land_rights.csv``
    GBK, headers 宗地代码, 统一社会信用代码, 权利类型 (所有/租赁), 份额, ...; with
    an unknown parcel, an unknown enterprise, shares above one, a lease ending
    before it starts and a malformed code.

``MANIFEST.json`` lists every planted defect (file, feature or row, kind) so
import tests can check each one is caught. Only the first towns are copied
for very large samples (``SizeSpec.dirty_max_parcels``).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from parcels.codes import make_credit_code, make_parcel_code
from sample.config import AS_OF, YEARS, stream

DIRTY_EPSG = 4528

PARCEL_FIELDS = {
    "parcel_code": "宗地代码",
    "land_use_code": "土地用途",
    "town": "镇",
    "district": "区县",
    "cert_area_m2": "证载面积",
    "supply_date": "供地日期",
    "agreed_start_date": "约定开工",
    "agreed_finish_date": "约定竣工",
    "planned_far": "容积率",
}

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

RIGHT_HEADERS = {
    "parcel_code": "宗地代码",
    "credit_code": "统一社会信用代码",
    "right_type": "权利类型",
    "share": "份额",
    "leased_land_m2": "租赁土地面积",
    "leased_floor_m2": "租赁建筑面积",
    "start_date": "起始日期",
    "end_date": "终止日期",
}


class DirtyCollector:
    """Collect towns while the city is generated, then write the dirty copies."""

    def __init__(self, folder: Path, max_parcels: int, seed: int):
        self.folder = Path(folder)
        self.max_parcels = max_parcels
        self.seed = seed
        self.parcels: list = []
        self.enterprises: list = []
        self.records: list = []
        self.rights: list = []
        self.n_parcels = 0
        self.county = None

    def add(self, town) -> None:
        """Keep a town's tables if the dirty copy is not full yet."""
        if self.n_parcels >= self.max_parcels:
            return
        if self.county is None:
            self.county = (town.plan.county_code, town.plan.cadastral_district)
        self.parcels.append(town.parcels)
        self.enterprises.append(town.enterprises)
        self.records.append(town.records)
        self.rights.append(town.rights)
        self.n_parcels += len(town.parcels)

    def write(self) -> dict[str, Path]:
        """Write all dirty files and the manifest; return their paths."""
        import geopandas as gpd

        self.folder.mkdir(parents=True, exist_ok=True)
        rng = stream(self.seed, "dirty")
        parcels = gpd.GeoDataFrame(
            pd.concat(self.parcels, ignore_index=True), crs=self.parcels[0].crs
        )
        enterprises = pd.concat(self.enterprises, ignore_index=True)
        records = pd.concat(self.records, ignore_index=True)
        rights = pd.concat(self.rights, ignore_index=True)
        defects: list[dict] = []
        paths = {
            "dirty": self.folder,
            "dirty_parcels": write_dirty_parcels(
                parcels, self.folder / "parcels.shp", rng, defects, self.county
            ),
            "dirty_enterprises": write_dirty_workbook(
                enterprises, records, self.folder / "enterprises.xlsx", rng, defects
            ),
            "dirty_enterprises_2023": write_first_year_csv(
                enterprises, records, self.folder / "enterprises_2023.csv"
            ),
            "dirty_land_rights": write_dirty_rights(
                rights, parcels, self.folder / "land_rights.csv", rng, defects, self.county
            ),
        }
        manifest = {
            "description": "Defects planted in the dirty copies of the sample city.",
            "as_of": AS_OF.isoformat(),
            "files": {
                "parcels.shp": {
                    "crs": f"EPSG:{DIRTY_EPSG}",
                    "encoding": "GBK",
                    "cpg": False,
                    "features": len(parcels) + 1,
                    "fields": PARCEL_FIELDS,
                    "date_format": "%Y/%m/%d",
                },
                "enterprises.xlsx": {
                    "year": YEARS[-1],
                    "sheet": f"{YEARS[-1]}年",
                    "header_rows": [2, 3],
                    "first_data_row": 4,
                    "units": {"money": "万元", "electricity": "万千瓦时", "energy": "吨标煤"},
                },
                "enterprises_2023.csv": {
                    "year": YEARS[0],
                    "encoding": "GBK",
                    "units": {"money": "元", "electricity": "千瓦时", "energy": "吨标煤"},
                },
                "land_rights.csv": {
                    "encoding": "GBK",
                    "right_types": {"所有": "owner", "租赁": "tenant"},
                },
            },
            "defects": defects,
        }
        manifest_path = self.folder / "MANIFEST.json"
        manifest_path.write_text(
            json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8"
        )
        paths["dirty_manifest"] = manifest_path
        return paths


def _slash_dates(values) -> list[str]:
    return [pd.Timestamp(v).strftime("%Y/%m/%d") for v in values]


def write_dirty_parcels(parcels, path: Path, rng, defects: list, county) -> Path:
    """GBK Shapefile without .cpg, EPSG:4528, with planted geometry and code defects."""
    import geopandas as gpd
    import pyogrio
    import shapely

    from sample.writers import round_coordinates

    frame = parcels.to_crs(DIRTY_EPSG)
    geoms = round_coordinates(np.asarray(frame.geometry.values, dtype=object), 3)
    codes = frame["parcel_code"].to_numpy(dtype=object).copy()
    n = len(frame)
    picks = rng.choice(np.arange(1, min(n, 200)), size=5, replace=False)
    bow, dup, overlap, odd, empty = (int(i) for i in picks)

    c = np.asarray(shapely.oriented_envelope(geoms[bow]).exterior.coords)[:4]
    geoms[bow] = shapely.Polygon([c[0], c[1], c[3], c[2]])
    defects.append(
        _defect(
            "parcels.shp", bow, codes[bow], "self_intersection", "bow-tie ring: repair or reject"
        )
    )
    codes[dup] = codes[dup - 1]
    defects.append(
        _defect("parcels.shp", dup, codes[dup], "duplicate_code", f"same code as feature {dup - 1}")
    )
    grown = shapely.buffer(geoms[overlap], 3.0, join_style="mitre")
    geoms[overlap] = grown
    defects.append(
        _defect(
            "parcels.shp",
            overlap,
            codes[overlap],
            "overlap",
            "grown by 3 m: overlaps its neighbours",
        )
    )
    codes[odd] = f"WJ-{int(rng.integers(1000, 9999))}-{odd:04d}"
    defects.append(
        _defect(
            "parcels.shp", odd, codes[odd], "code_format", "not a GB/T 37346 parcel code (warn)"
        )
    )
    geoms[empty] = None
    defects.append(
        _defect("parcels.shp", empty, codes[empty], "empty_geometry", "no geometry: reject")
    )

    table = pd.DataFrame(
        {
            "宗地代码": codes,
            "土地用途": frame["land_use_code"].to_numpy(),
            "镇": frame["town"].to_numpy(),
            "区县": frame["district"].to_numpy(),
            "证载面积": frame["cert_area_m2"].to_numpy(),
            "供地日期": _slash_dates(frame["supply_date"]),
            "约定开工": _slash_dates(frame["agreed_start_date"]),
            "约定竣工": _slash_dates(frame["agreed_finish_date"]),
            "容积率": frame["planned_far"].to_numpy(),
        }
    )
    # A degenerate sliver: three collinear points (zero area), appended last.
    x0, y0 = shapely.get_coordinates(geoms[0])[0]
    sliver = shapely.Polygon([(x0, y0), (x0 + 40.0, y0), (x0 + 20.0, y0)])
    sliver_code = make_parcel_code(county[0], county[1], 999, 99999)
    extra = table.iloc[[0]].assign(宗地代码=sliver_code)
    table = pd.concat([table, extra], ignore_index=True)
    geoms = np.append(geoms, sliver)
    defects.append(_defect("parcels.shp", n, sliver_code, "degenerate", "zero-area sliver: reject"))

    out = gpd.GeoDataFrame(table, geometry=list(geoms), crs=DIRTY_EPSG)
    for suffix in (".shp", ".shx", ".dbf", ".prj", ".cpg"):
        path.with_suffix(suffix).unlink(missing_ok=True)
    pyogrio.write_dataframe(
        out, path, encoding="GBK", promote_to_multi=False, geometry_type="Polygon"
    )
    path.with_suffix(".cpg").unlink(missing_ok=True)
    _stamp_dbf(path.with_suffix(".dbf"))
    return path


def _stamp_dbf(dbf: Path) -> None:
    """Set the DBF's last-update date to AS_OF and its language driver byte to 0 (unknown)."""
    with dbf.open("r+b") as fh:
        fh.seek(1)
        fh.write(bytes([AS_OF.year - 1900, AS_OF.month, AS_OF.day]))
        fh.seek(29)
        fh.write(b"\x00")


def _defect(file: str, index: int, key: str, kind: str, detail: str, **extra) -> dict:
    item = {"file": file, "kind": kind, "detail": detail, "key": key}
    if file.endswith(".shp"):
        item["feature"] = int(index)
    else:
        item["record"] = int(index)
    item.update(extra)
    return item


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
        defects.append(_defect(file, index, value, kind, detail, row=row_of(index)))
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
            _defect("enterprises.xlsx", i, codes[i], kind, detail, row=row_of(i), column=column)
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
                _defect(
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


def write_dirty_rights(
    rights: pd.DataFrame, parcels, path: Path, rng, defects: list, county
) -> Path:
    """Land rights as a GBK CSV with Chinese headers and planted defects."""
    table = rights.copy()
    table["right_type"] = table["right_type"].map({"owner": "所有", "tenant": "租赁"})
    for col in ("start_date", "end_date"):
        table[col] = pd.to_datetime(table[col]).dt.strftime("%Y-%m-%d")
    table = table.astype(object).where(table.notna(), None)
    owners = table.index[table["right_type"] == "所有"].to_numpy()
    tenants = table.index[table["right_type"] == "租赁"].to_numpy()
    n = len(table)

    def line(i: int) -> int:
        return i + 2  # header is line 1

    extra = []
    template_owner = table.loc[owners[0]].to_dict()
    unknown_parcel = dict(template_owner)
    unknown_parcel["parcel_code"] = make_parcel_code(county[0], county[1], 998, 1)
    extra.append((unknown_parcel, "unknown_parcel", "parcel code not in the parcel layer"))
    unknown_ent = dict(template_owner)
    unknown_ent["parcel_code"] = table.loc[owners[1], "parcel_code"]
    unknown_ent["credit_code"] = make_credit_code("9", "1", county[0], "MB000001")
    unknown_ent["share"] = None
    unknown_ent["right_type"] = "租赁"
    unknown_ent["leased_land_m2"] = 500.0
    extra.append((unknown_ent, "unknown_enterprise", "valid credit code of no known enterprise"))
    single = table.loc[owners[2]].to_dict()
    second_owner = dict(single, credit_code=table.loc[owners[3], "credit_code"], share=0.2)
    extra.append(
        (second_owner, "share_sum", f"owner shares of {single['parcel_code']} add up to 1.2")
    )
    if len(tenants):
        bad = table.loc[tenants[0]].to_dict()
        bad["start_date"], bad["end_date"] = bad["end_date"], bad["start_date"]
        bad["credit_code"] = table.loc[owners[4], "credit_code"]
        extra.append((bad, "end_before_start", "lease ends before it starts"))
    malformed = dict(table.loc[owners[5]].to_dict())
    malformed["credit_code"] = malformed["credit_code"][:16]
    malformed["right_type"] = "租赁"
    malformed["share"] = None
    malformed["leased_floor_m2"] = 300.0
    extra.append((malformed, "malformed_code", "16-character credit code"))
    rows = [table]
    for k, (record, kind, detail) in enumerate(extra):
        record = {key: record[key] for key in RIGHT_HEADERS}
        rows.append(pd.DataFrame([record]))
        defects.append(
            _defect(
                "land_rights.csv",
                n + k,
                f"{record['parcel_code']}/{record['credit_code']}",
                kind,
                detail,
                row=line(n + k),
            )
        )
    out = pd.concat(rows, ignore_index=True).rename(columns=RIGHT_HEADERS)
    out.to_csv(path, index=False, encoding="gbk", lineterminator="\r\n")
    return path
