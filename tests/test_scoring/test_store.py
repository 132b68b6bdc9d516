"""The Scores contract: enterprise_score rows per run, latest_score_run, warnings, cascade."""

from __future__ import annotations

import pandas as pd
import pytest

from gis.db.runs import finish_run, start_run
from scoring.errors import ScoreRunError
from scoring.store import (
    latest_score_run,
    load_scores,
    load_warnings,
    previous_year_run,
    resolve_score_run,
    save_scores,
)

CODE = "91330003MA2XXXXX1K"


def _row(year, total, klass):
    return {"credit_code": CODE, "year": year, "ruleset": "zhejiang-huangyan-2022",
            "population": "large", "name": "甲公司", "town": "东镇", "district": None,
            "industry_division": "34", "land_m2": 6666.7, "total": total, "class": klass,
            "rank_county": 1, "rank_town": 1, "rank_industry": 1,
            "indicators": {"tax_per_mu": 30.0}, "items": {"tax_per_mu": {"score": 37.3}},
            "rules_fired": [{"rule": "population", "detail": "large"}], "occupancy_run": None,
            "prev_run": None, "prev_total": None, "prev_class": None}


def _score_run(conn, year, total, klass):
    run_id = start_run(conn, "score", {"ruleset": "zhejiang-huangyan-2022", "year": year,
                                       "occupancy_run": None})
    warnings = pd.DataFrame([{"credit_code": CODE, "year": year, "kind": "zero_electricity",
                              "town": "东镇", "detail": {"electricity_kwh": 0}}])
    save_scores(conn, run_id, pd.DataFrame([_row(year, total, klass)]), warnings)
    finish_run(conn, run_id, summary={"enterprises": 1})
    return run_id


@pytest.mark.postgis
def test_runs_rows_latest_and_cascade(db_conn):
    assert latest_score_run(db_conn) is None
    with pytest.raises(ScoreRunError, match="尚无亩均效益评价"):
        resolve_score_run(db_conn)
    r1 = _score_run(db_conn, 2021, 80.0, "B")
    r2 = _score_run(db_conn, 2022, 101.5, "A")
    db_conn.commit()
    assert latest_score_run(db_conn) == r2
    assert latest_score_run(db_conn, 2021) == r1
    assert latest_score_run(db_conn, 2020) is None
    assert previous_year_run(db_conn, 2022, "zhejiang-huangyan-2022") == r1
    rows = load_scores(db_conn, r2)
    assert rows.loc[0, "credit_code"] == CODE and rows.loc[0, "class"] == "A"
    assert rows.loc[0, "indicators"] == {"tax_per_mu": 30.0}
    assert load_warnings(db_conn, r2)["kind"].tolist() == ["zero_electricity"]
    db_conn.execute("DELETE FROM run WHERE run_id = %s", (r2,))
    assert db_conn.execute("SELECT count(*) FROM enterprise_score").fetchone()[0] == 1
    assert db_conn.execute("SELECT count(*) FROM score_warning").fetchone()[0] == 1


@pytest.mark.postgis
def test_class_check_and_missing_run_refused(db_conn):
    import psycopg

    from gis.db.copy import copy_frame

    bad = pd.DataFrame([{**_row(2022, 1.0, "E"), "run_id": 999}])
    with pytest.raises(Exception, match=r"class_check|does not exist"):
        copy_frame(db_conn, "enterprise_score", bad)
    db_conn.rollback()
    for kind in ("zero_electricity", "tax_per_mu_high", "records_no_land", "land_no_records",
                 "yoy_jump"):
        db_conn.execute("INSERT INTO verification_item (kind, item_key) VALUES (%s, 'k')", (kind,))
    with pytest.raises(psycopg.errors.CheckViolation):
        db_conn.execute("INSERT INTO verification_item (kind, item_key) VALUES ('nonsense', 'k')")
