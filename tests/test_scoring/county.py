"""A small county written as bureau files and loaded through the real `mujun` commands.

Each firm gets one rectangular parcel of an exact area in mu (EPSG:4549, metres), a
row in the enterprise workbook (Chinese headers, 万元 / 吨标煤 / 千瓦时) for each year it
has records, and an owner row in the land-rights table. ``load_county`` imports the
parcels, enterprises and land rights with the CLI and runs `mujun occupancy`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import geopandas as gpd
import openpyxl
import shapely

from parcels.codes import make_credit_code, make_parcel_code
from tests.cli_runner import run_mujun as run

MU = 10000.0 / 15.0
X0, Y0 = 500_000.0, 3_450_000.0          # CGCS2000 / 3-degree GK CM 120E (EPSG:4549)

HEADERS = ["统一社会信用代码", "企业名称", "行业代码", "规模以上", "乡镇", "成立日期", "税收(万元)",
           "营业收入(万元)", "工业增加值(万元)", "综合能耗(吨标煤)", "用电量(千瓦时)",
           "研发经费(万元)", "年平均职工人数", "主要污染物排放量(吨)"]
FIELDS = ["tax_wan", "revenue_wan", "value_added_wan", "energy_tce", "electricity_kwh",
          "rd_wan", "employees", "emissions_t"]


@dataclass
class Firm:
    """One enterprise on its own parcel; ``years`` maps year -> annual fields."""

    key: str
    large: bool
    land_mu: float
    years: dict[int, dict[str, float | None]]
    industry: str = "C3411"
    town: str = "东城街道"
    supply_date: str | None = "2010-05-01"
    park: str | None = None
    established: str | None = None
    code: str = field(init=False)
    parcel: str = field(init=False)


def make_firms(firms: list[Firm]) -> list[Firm]:
    """Give each firm a valid credit code and parcel code (in list order)."""
    for i, f in enumerate(firms, start=1):
        f.code = make_credit_code("9", "1", "331003", f"HY{i:04d}XY")
        f.parcel = make_parcel_code("331003", 1, 1, i)
    return firms


def write_files(tmp_path, firms: list[Firm]) -> dict[str, list]:
    """Write parcels.gpkg, enterprises_<year>.xlsx and land_rights.csv; return the paths."""
    geoms, codes, towns, supply, parks = [], [], [], [], []
    for i, f in enumerate(firms):
        w = 100.0
        h = f.land_mu * MU / w
        x = X0 + i * 150.0
        geoms.append(shapely.box(x, Y0, x + w, Y0 + h))
        codes.append(f.parcel)
        towns.append(f.town)
        supply.append(f.supply_date)
        parks.append(f.park)
    parcels = gpd.GeoDataFrame({"宗地代码": codes, "乡镇": towns, "供地日期": supply,
                                "所属园区": parks}, geometry=geoms, crs=4549)
    ppath = tmp_path / "parcels.gpkg"
    parcels.to_file(ppath)
    years = sorted({y for f in firms for y in f.years})
    epaths = []
    for y in years:
        wb = openpyxl.Workbook()
        ws = wb.active
        ws.append(HEADERS)
        for f in firms:
            if y not in f.years:
                continue
            rec = f.years[y]
            ws.append([f.code, f"{f.key}有限公司", f.industry, "是" if f.large else "否", f.town,
                       f.established]
                      + [rec.get(k) for k in FIELDS])
        p = tmp_path / f"enterprises_{y}.xlsx"
        wb.save(p)
        epaths.append((y, p))
    rpath = tmp_path / "land_rights.csv"
    rpath.write_text("宗地代码,统一社会信用代码,权利类型\n"
                     + "".join(f"{f.parcel},{f.code},所有\n" for f in firms), encoding="utf-8")
    return {"parcels": [ppath], "enterprises": epaths, "land_rights": [rpath]}


def mujun(args, monkeypatch, db_dsn, capsys) -> str:
    """Run a command that must succeed; return its stdout."""
    code, out, err = run([str(a) for a in args], monkeypatch, db_dsn, capsys)
    assert code == 0, f"mujun {' '.join(map(str, args))} failed ({code}): {err}"
    return out


def load_county(tmp_path, firms: list[Firm], monkeypatch, db_dsn, capsys, *,
                occupancy_year: int) -> int:
    """Import everything with the CLI and run occupancy; return the occupancy run id."""
    paths = write_files(tmp_path, firms)
    mujun(["import", "parcels", paths["parcels"][0]], monkeypatch, db_dsn, capsys)
    for year, p in paths["enterprises"]:
        mujun(["import", "enterprises", p, "--year", year], monkeypatch, db_dsn, capsys)
    mujun(["import", "land-rights", paths["land_rights"][0]], monkeypatch, db_dsn, capsys)
    out = mujun(["occupancy", "--year", occupancy_year, "--json"], monkeypatch, db_dsn, capsys)
    return int(json.loads(out)["run_id"])
