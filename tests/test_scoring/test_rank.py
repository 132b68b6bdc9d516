"""`score rank`: a hand-built county with known per-mu figures and coverage, in PostGIS."""

from __future__ import annotations

import json

import pytest

from tests.cli_runner import fetch
from tests.cli_runner import run_mujun as run
from tests.test_scoring.county import Firm, load_county, make_firms, mujun

pytestmark = pytest.mark.postgis


def _rec(tax):
    return {"tax_wan": tax, "revenue_wan": 10 * tax, "electricity_kwh": 1e5}


def test_rank_known_answer_with_coverage(tmp_path, db_conn, db_dsn, monkeypatch, capsys):
    firms = make_firms([
        Firm("东一", True, 10.0, {2021: _rec(8), 2022: _rec(10)}, town="东城"),
        Firm("东二", True, 10.0, {2021: _rec(18), 2022: _rec(20)}, town="东城"),
        Firm("东三", True, 10.0, {2021: _rec(28), 2022: _rec(30)}, town="东城"),
        Firm("东四", True, 20.0, {2021: _rec(5)}, town="东城"),      # holds land, no 2022 records
        Firm("西一", True, 5.0, {2021: _rec(40), 2022: _rec(50)}, town="西城"),
        Firm("西二", True, 5.0, {2021: _rec(4), 2022: _rec(5)}, town="西城"),
        Firm("西三", True, 8.0, {2021: _rec(5)}, town="西城"),       # on residential land
    ])
    occ = load_county(tmp_path, firms, monkeypatch, db_dsn, capsys, occupancy_year=2022)
    db_conn.execute("UPDATE parcel SET land_use_code = CASE WHEN parcel_code = %s"
                    " THEN '0701' ELSE '0601' END", (firms[6].parcel,))
    db_conn.commit()
    run_id = json.loads(mujun(["score", "--ruleset", "jiangsu-huaian-2024", "--year", "2022",
                               "--occupancy-run", occ, "--json"], monkeypatch, db_dsn,
                              capsys))["run_id"]
    mujun(["score", "override", firms[5].code, "--class", "A", "--reason", "试验", "--by", "张三"],
          monkeypatch, db_dsn, capsys)
    classes = dict(fetch(db_conn, "SELECT trim(credit_code), class FROM enterprise_score"
                                  " WHERE run_id = %s AND population IS NOT NULL", (run_id,)))
    assert len(classes) == 5 and firms[3].code not in classes
    classes[firms[5].code] = "A"                   # the adjustment wins

    got = json.loads(mujun(["score", "rank", "--by", "town", "--json"], monkeypatch, db_dsn,
                           capsys))
    assert got["run_id"] == run_id and got["by"] == "town"
    rows = {r["group"]: r for r in got["groups"]}
    east, west = rows["东城"], rows["西城"]
    assert [r["group"] for r in got["groups"]] == ["西城", "东城"]        # 5.5 > 2.0 万元/mu
    assert (west["rank"], east["rank"]) == (1, 2)
    assert east["tax_per_mu"] == pytest.approx(60 / 30) and east["revenue_per_mu"] == \
        pytest.approx(600 / 30)
    assert west["tax_per_mu"] == pytest.approx(55 / 10)
    assert (east["evaluated"], east["land_holders"], east["firm_coverage"]) == (3, 4, 0.75)
    assert east["industrial_land_mu"] == pytest.approx(50, abs=1e-3)
    assert east["land_evaluated_mu"] == pytest.approx(30, abs=1e-3)
    assert east["land_coverage"] == pytest.approx(0.6, abs=1e-4)
    # 西三's parcel is residential: neither a holder of industrial land nor industrial land
    assert (west["evaluated"], west["land_holders"], west["firm_coverage"]) == (2, 2, 1.0)
    assert west["industrial_land_mu"] == pytest.approx(10, abs=1e-3)
    assert east["value_added_per_mu"] is None                   # not recorded
    for town, idx in (("东城", [0, 1, 2]), ("西城", [4, 5])):
        ks = [classes[firms[i].code] for i in idx]
        for k in "ABCDT":
            assert rows[town][f"share_{k}"] == pytest.approx(ks.count(k) / len(ks), abs=1e-4)

    text = mujun(["score", "rank"], monkeypatch, db_dsn, capsys)
    assert "西城" in text and "75.0%" in text and "60.0%" in text and "企业覆盖" in text
    code, _out, err = run(["score", "rank", "--by", "village"], monkeypatch, db_dsn, capsys)
    assert code == 2 and "village" in err


def test_compare_and_rank_name_a_missing_run(db_conn, db_dsn, monkeypatch, capsys):
    for argv in (["score", "compare", "998", "999"], ["score", "rank", "--run", "999"]):
        code, _out, err = run(argv, monkeypatch, db_dsn, capsys)
        assert code == 3 and "不是亩均效益评价" in err and "Traceback" not in err
    code, _out, err = run(["score", "rank"], monkeypatch, db_dsn, capsys)
    assert code == 3 and "尚无亩均效益评价" in err
