"""Huangyan 2022, by hand from the published benchmarks and weights (DOMAIN.md §2).

Through the real path: bureau files → `mujun import` → `mujun occupancy` → `mujun score`.
Every expected score below is written out from the published figures:
large firms  tax/mu ÷ 24.097 × 30 + VA/mu ÷ 136.16 × 20 + VA/tce ÷ 2.694 × 20
             + VA/t ÷ 4929.81 × 10 + VA/person ÷ 18.14 × 10 + R&D/revenue ÷ 0.0302 × 10;
small firms  tax/mu ÷ 11.5932 × 50 + tax per kWh (元/kWh) ÷ 0.2352 × 50;
a large firm without emission data gets the large firms' average score for that item.
"""

from __future__ import annotations

import json

import pytest

from tests.cli_runner import fetch
from tests.test_scoring.county import Firm, load_county, make_firms, mujun

pytestmark = pytest.mark.postgis


def _large(tax, va, energy, emissions, employees, rd, revenue, elec=3e6):
    return {"tax_wan": tax, "value_added_wan": va, "energy_tce": energy,
            "emissions_t": emissions, "employees": employees, "rd_wan": rd,
            "revenue_wan": revenue, "electricity_kwh": elec}


def _small(tax, elec, revenue=500.0):
    return {"tax_wan": tax, "electricity_kwh": elec, "revenue_wan": revenue}


FIRMS = [
    Firm("大一", True, 20.0, {2022: _large(600, 3000, 1000, 0.5, 150, 300, 10000)}),
    Firm("大二", True, 10.0, {2022: _large(150, 1000, 500, 0.4, 80, 50, 4000)}),
    Firm("大三无排放", True, 15.0, {2022: _large(300, 2400, 800, None, 100, 120, 6000)}),
    Firm("小一", False, 6.0, {2022: _small(60, 2_000_000)}),
    Firm("小二", False, 4.0, {2022: _small(20, 1_000_000)}),
    Firm("小三不足三亩", False, 2.0, {2022: _small(30, 500_000)}),
    Firm("电力公司", True, 30.0, {2022: _large(900, 5000, 2000, 1.0, 100, 10, 20000)},
         industry="D4411"),
]


def large_items(tax, va, energy, emissions, employees, rd, revenue, land_mu):
    return {
        "tax_per_mu": tax / land_mu / 24.097 * 30,
        "va_per_mu": va / land_mu / 136.16 * 20,
        "va_per_energy": va / energy / 2.694 * 20,
        "va_per_emissions": None if emissions is None else va / emissions / 4929.81 * 10,
        "labour_productivity": va / employees / 18.14 * 10,
        "rd_intensity": rd / revenue / 0.0302 * 10,
    }


def small_items(tax, elec, land_mu):
    yuan_per_kwh = tax * 10000 / elec
    return {"tax_per_mu": tax / land_mu / 11.5932 * 50,
            "tax_per_kwh": yuan_per_kwh / 0.2352 * 50}


@pytest.fixture
def scored(tmp_path, db_conn, db_dsn, monkeypatch, capsys):
    firms = make_firms([Firm(f.key, f.large, f.land_mu, f.years, f.industry) for f in FIRMS])
    occ = load_county(tmp_path, firms, monkeypatch, db_dsn, capsys, occupancy_year=2022)
    out = mujun(["score", "--ruleset", "zhejiang-huangyan-2022", "--year", "2022", "--json"],
                monkeypatch, db_dsn, capsys)
    summary = json.loads(out)
    rows = fetch(db_conn, "SELECT trim(credit_code), population, total, class, items,"
                          " rules_fired, occupancy_run, rank_county FROM enterprise_score"
                          " WHERE run_id = %s", (summary["run_id"],))
    by_key = {f.key: dict(zip(("code", "population", "total", "class", "items", "rules",
                               "occupancy_run", "rank"), r, strict=True))
              for f in firms for r in rows if r[0] == f.code}
    return firms, occ, summary, by_key


def test_large_and_small_firms_by_hand(scored):
    _firms, occ, _summary, got = scored
    l1 = large_items(600, 3000, 1000, 0.5, 150, 300, 10000, 20.0)
    l2 = large_items(150, 1000, 500, 0.4, 80, 50, 4000, 10.0)
    l3 = large_items(300, 2400, 800, None, 100, 120, 6000, 15.0)
    l3["va_per_emissions"] = (l1["va_per_emissions"] + l2["va_per_emissions"]) / 2
    for key, expected in (("大一", l1), ("大二", l2), ("大三无排放", l3)):
        row = got[key]
        assert row["population"] == "large"
        for item, score in expected.items():
            assert row["items"][item]["score"] == pytest.approx(score, rel=1e-6), (key, item)
        assert row["total"] == pytest.approx(sum(expected.values()), rel=1e-9)
        assert row["occupancy_run"] == occ
    assert got["大三无排放"]["items"]["va_per_emissions"]["rule"] == "missing:population_average"
    assert any(r["rule"] == "item" and r["item"] == "va_per_emissions"
               for r in got["大三无排放"]["rules"])
    for key, (tax, elec, mu) in {"小一": (60, 2_000_000, 6.0), "小二": (20, 1_000_000, 4.0)}.items():
        expected = small_items(tax, elec, mu)
        assert got[key]["population"] == "small"
        assert got[key]["total"] == pytest.approx(sum(expected.values()), rel=1e-9)
        assert got[key]["items"]["tax_per_kwh"]["value"] == pytest.approx(tax * 1e4 / elec)


def test_thresholds_t_and_classes(scored):
    _firms, _occ, summary, got = scored
    assert got["小三不足三亩"]["population"] is None and got["小三不足三亩"]["class"] is None
    assert "below 3 mu" in json.dumps(got["小三不足三亩"]["rules"], ensure_ascii=False)
    assert got["电力公司"]["class"] == "T" and got["电力公司"]["total"] is None
    assert "division 44" in json.dumps(got["电力公司"]["rules"])
    large = sorted((got[k] for k in ("大一", "大二", "大三无排放")), key=lambda r: -r["total"])
    # 3 ranked large firms, quotas 20/40/30/10 %: boundaries round(0.6)=1, round(1.8)=2, round(2.7)=3
    assert [r["class"] for r in large] == ["A", "B", "C"]
    assert [r["rank"] for r in large] == [1, 2, 3]
    assert summary["classes"]["T"] == 1


def test_explain_and_exports(scored, tmp_path, db_dsn, monkeypatch, capsys):
    import openpyxl
    import pyogrio

    firms, _occ, _summary, got = scored
    code = got["大三无排放"]["code"]
    out = mujun(["score", "explain", code, "--year", "2022"], monkeypatch, db_dsn, capsys)
    # the rule details in the vocabulary's words: the item's label and its rule, the class
    # rule, the tenant rule and area basis of the occupancy run
    assert "指标得分［单位排放增加值］：缺数据取同类平均得分" in out
    assert "定档：按比例定档（" in out and "排序" in out
    assert "租赁分摊规则 " in out and "面积口径 实测面积" in out
    assert not any(w in out for w in ("va_per_emissions", "missing:", "tenant rule", "quota (",
                                      "occupancy run"))
    assert "4,929.8100" in out and firms[2].parcel in out
    rec = json.loads(mujun(["score", "explain", code, "--json"], monkeypatch, db_dsn, capsys))
    assert rec["land"]["parcels"][0]["right_type"] == "owner"
    xlsx = tmp_path / "scores.xlsx"
    mujun(["score", "export", "-o", xlsx], monkeypatch, db_dsn, capsys)
    ws = openpyxl.load_workbook(xlsx).active
    header = [c.value for c in ws[1]]
    assert "统一社会信用代码" in header and "评价等级" in header and "亩均税收(万元/mu)" in header
    assert ws.max_row == 1 + len(firms)
    gpkg = tmp_path / "scores.gpkg"
    mujun(["score", "export", "-o", gpkg], monkeypatch, db_dsn, capsys)
    layer = pyogrio.read_dataframe(gpkg, layer="scores")
    assert set(layer["parcel_code"]) == {f.parcel for f in firms}
    assert {"total", "class", "rank_county", "change", "occupancy_run"} <= set(layer.columns)
    import sqlite3

    styled = tmp_path / "styled.gpkg"   # `mujun export scores` (maps) adds the class style
    mujun(["export", "scores", "-o", styled], monkeypatch, db_dsn, capsys)
    assert len(pyogrio.read_dataframe(styled, layer="scores")) == len(layer)
    with sqlite3.connect(styled) as db:  # the QGIS class style, through maps' styler
        style = db.execute("SELECT styleQML FROM layer_styles WHERE f_table_name = 'scores'"
                           " AND useAsDefault").fetchone()
    assert style is not None and "评价等级" in style[0]
    csv = tmp_path / "scores.csv"  # tables: one row per enterprise, no geometry
    mujun(["score", "export", "-o", csv], monkeypatch, db_dsn, capsys)
    table = __import__("pandas").read_csv(csv, encoding="utf-8-sig")
    assert len(table) == len(firms) and "wkt" not in table and "score_tax_per_mu" in table
    public = tmp_path / "public.csv"  # indicator values and item scores are confidential
    mujun(["export", "scores", "-o", public, "--desensitize"], monkeypatch, db_dsn, capsys)
    masked = __import__("pandas").read_csv(public, encoding="utf-8-sig")
    assert "class" in masked and not {"tax_per_mu", "score_tax_per_mu", "total"} & set(masked)
    code_exists, _, err = __import__("tests.cli_runner", fromlist=["run_mujun"]).run_mujun(
        ["score", "export", "-o", str(gpkg)], monkeypatch, db_dsn, capsys)
    assert code_exists == 4 and "--overwrite" in err
    text = mujun(["score", "summary", "--by", "town", "--json"], monkeypatch, db_dsn, capsys)
    town = json.loads(text)[0]
    assert town["enterprises"] == len(firms) and town["T"] == 1
    assert town["A"] + town["B"] + town["C"] + town["D"] + town["T"] == 6
