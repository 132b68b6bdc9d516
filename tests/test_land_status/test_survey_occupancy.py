"""Occupancy as of a date: per parcel, the latest survey on or before it that covers it."""

from __future__ import annotations

import pytest

from gis.errors import DataError
from gis.settings import load_settings
from parcels.occupancy.run import run_occupancy
from parcels.surveys import assign_surveys, list_surveys
from tests.test_land_status.builders import add_parcel, add_survey, box, start


@pytest.fixture
def two_surveys(db_conn):
    """P1 with a building demolished between 2022 and 2024; P2 built in 2024 only;
    P3 outside the 2024 survey's coverage (rests on 2022)."""
    conn = db_conn
    start(conn)
    add_parcel(conn, "P1", box(0, 0, 100, 100))
    add_parcel(conn, "P2", box(200, 0, 300, 100))
    add_parcel(conn, "P3", box(2000, 0, 2100, 100))
    s22 = add_survey(conn, "2022-05-01", [box(10, 10, 60, 60), box(2010, 10, 2050, 50)],
                     coverage=box(-10, -10, 2200, 200))
    s24 = add_survey(conn, "2024-05-01", [box(210, 10, 240, 40)],
                     coverage=box(-10, -10, 400, 200))
    conn.commit()
    return conn, s22, s24


def _by_code(result):
    return {r.parcel_code: r for r in result.parcels.itertuples()}


def test_default_uses_the_latest_covering_survey(two_surveys, tmp_path):
    conn, s22, s24 = two_surveys
    res = run_occupancy(conn, load_settings({"home": str(tmp_path)}, environ={}))
    rows = _by_code(res)
    assert rows["P1"].built_m2 == 0.0          # demolished: the 2022 building no longer counts
    assert rows["P2"].built_m2 == pytest.approx(900.0)
    assert rows["P3"].built_m2 == pytest.approx(1600.0)   # only the 2022 survey covers it
    assert str(rows["P1"].survey_date) == "2024-05-01" and rows["P3"].survey_id == s22
    stored = dict(conn.execute("SELECT parcel_code, survey_date::text FROM occupancy"
                               " WHERE run_id = %s", (res.run_id,)).fetchall())
    assert stored == {"P1": "2024-05-01", "P2": "2024-05-01", "P3": "2022-05-01"}
    params = conn.execute("SELECT params FROM run WHERE run_id = %s", (res.run_id,)).fetchone()[0]
    assert params["surveys"] == [s22, s24] and params["as_of"] is None


def test_as_of_a_date_between_the_surveys(two_surveys, tmp_path):
    conn, s22, _s24 = two_surveys
    res = run_occupancy(conn, load_settings({"home": str(tmp_path)}, environ={}), as_of="2023-12-31")
    rows = _by_code(res)
    assert rows["P1"].built_m2 == pytest.approx(2500.0)
    assert rows["P2"].built_m2 == 0.0
    assert {r.survey_id for r in rows.values()} == {s22}
    params = conn.execute("SELECT params FROM run WHERE run_id = %s", (res.run_id,)).fetchone()[0]
    assert params["as_of"] == "2023-12-31" and params["surveys"] == [s22]


def test_survey_date_itself_is_on_or_before(two_surveys):
    conn, s22, s24 = two_surveys
    scope = assign_surveys(conn, as_of="2024-05-01")
    assert scope.surveys_used() == [s22, s24]
    scope = assign_surveys(conn, as_of="2024-04-30")
    assert scope.surveys_used() == [s22]


def test_before_every_survey_nothing_rests_on_a_survey(two_surveys, tmp_path):
    conn, *_ = two_surveys
    res = run_occupancy(conn, load_settings({"home": str(tmp_path)}, environ={}), as_of="2020-01-01")
    assert res.parcels["built_m2"].sum() == 0
    assert res.parcels["survey_id"].isna().all()
    assert res.summary["parcels_without_survey"] == 3


def test_one_survey_only(two_surveys, tmp_path):
    conn, _s22, s24 = two_surveys
    res = run_occupancy(conn, load_settings({"home": str(tmp_path)}, environ={}), survey_id=s24)
    rows = _by_code(res)
    assert rows["P3"].built_m2 == 0 and rows["P3"].survey_id is pd_na()
    assert rows["P2"].built_m2 == pytest.approx(900.0)
    with pytest.raises(DataError, match="调查 999 不存在"):
        run_occupancy(conn, load_settings({"home": str(tmp_path)}, environ={}), survey_id=999)


def pd_na():
    import pandas as pd

    return pd.NA


def test_bad_date_is_a_clear_error(two_surveys, tmp_path):
    conn, *_ = two_surveys
    with pytest.raises(DataError, match="'2024-13-01' is not a date; write it as YYYY-MM-DD"):
        run_occupancy(conn, load_settings({"home": str(tmp_path)}, environ={}), as_of="2024-13-01")


@pytest.mark.parametrize("engine", ["postgis", "dask"])
def test_every_engine_selects_surveys_like_the_vector_engine(two_surveys, tmp_path, engine):
    """Formerly refused ("cannot choose among 2 surveys per parcel yet")."""
    conn, _s22, s24 = two_surveys
    settings = load_settings({"home": str(tmp_path)}, environ={})
    for selection in ({}, {"as_of": "2023-12-31"}, {"survey_id": s24}):
        want = _by_code(run_occupancy(conn, settings, **selection))
        got = _by_code(run_occupancy(conn, settings, engine=engine, **selection))
        for code, row in want.items():
            assert got[code].built_m2 == pytest.approx(row.built_m2, rel=1e-9), (code, selection)
            assert got[code].survey_id is row.survey_id or got[code].survey_id == row.survey_id
            assert got[code].survey_date == row.survey_date
    assert _by_code(run_occupancy(conn, settings, engine=engine))["P1"].built_m2 == 0.0


def test_postgis_engine_with_a_single_survey_gives_the_same_rows(db_conn, tmp_path):
    conn = db_conn
    start(conn)
    add_parcel(conn, "P1", box(0, 0, 100, 100))
    add_survey(conn, "2024-05-01", [box(10, 10, 60, 60), box(99, 10, 140, 50)])
    conn.commit()
    settings = load_settings({"home": str(tmp_path)}, environ={})
    a = run_occupancy(conn, settings, engine="postgis").parcels
    b = run_occupancy(conn, settings, engine="vector").parcels
    assert a["built_m2"].tolist() == pytest.approx(b["built_m2"].tolist())
    assert str(a["survey_date"].iloc[0]) == "2024-05-01"


def test_without_surveys_every_footprint_counts_as_before(db_conn, tmp_path):
    conn = db_conn
    start(conn)
    add_parcel(conn, "P1", box(0, 0, 100, 100))
    conn.execute("INSERT INTO footprint (geom) VALUES (ST_Multi(ST_GeomFromText(%s, 4549)))",
                 (box(10, 10, 20, 20).wkt,))
    conn.commit()
    res = run_occupancy(conn, load_settings({"home": str(tmp_path)}, environ={}))
    assert res.parcels["built_m2"].tolist() == pytest.approx([100.0])
    assert res.summary["legacy_all_footprints"] is True
    with pytest.raises(DataError, match="尚未登记任何调查"):
        run_occupancy(conn, load_settings({"home": str(tmp_path)}, environ={}), as_of="2024-01-01")


def test_list_surveys(two_surveys):
    conn, s22, s24 = two_surveys
    frame = list_surveys(conn)
    assert frame["survey_id"].tolist() == [s22, s24]
    assert frame["footprints"].tolist() == [2, 1]


def test_a_parcel_partly_outside_every_survey_rests_on_the_one_covering_part(db_conn, tmp_path):
    conn = db_conn
    start(conn)
    add_parcel(conn, "EDGE", box(0, 0, 100, 100))
    add_parcel(conn, "OUT", box(500, 0, 600, 100))
    full = add_survey(conn, "2022-05-01", [box(10, 10, 30, 30)], coverage=box(-10, -10, 200, 200))
    part = add_survey(conn, "2024-05-01", [box(10, 10, 40, 40)], coverage=box(50, -10, 200, 200))
    conn.commit()
    scope = assign_surveys(conn)
    # a survey covering EDGE whole wins over a newer one covering half of it
    assert scope.survey_of(scope.parcel_ids).tolist().count(full) == 1
    res = run_occupancy(conn, load_settings({"home": str(tmp_path)}, environ={}),
                        survey_id=part)
    rows = _by_code(res)
    assert rows["EDGE"].survey_id == part and rows["EDGE"].built_m2 == pytest.approx(900.0)
    assert res.summary["parcels_partly_covered"] == 1
    assert pd_na() is rows["OUT"].survey_id
