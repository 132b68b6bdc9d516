"""copy_frame / read_frame against a real PostGIS: round trips, types, failures."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gis.db.batches import find_batch_by_sha, finish_batch, start_batch
from gis.db.copy import copy_frame, encode_geometries, read_frame
from gis.db.runs import finish_run, start_run
from gis.db.srid import get_working_srid, set_working_srid
from gis.errors import DatabaseError, DataError

SRID = 4549  # CGCS2000 / 3-degree GK CM 120E


def parcels_frame() -> gpd.GeoDataFrame:
    holed = shapely.Polygon([(0, 0), (100, 0), (100, 100), (0, 100)],
                            [[(10, 10), (20, 10), (20, 20), (10, 20)]])
    multi = shapely.MultiPolygon([shapely.box(200, 0, 210, 10), shapely.box(220, 0, 230, 10)])
    return gpd.GeoDataFrame(
        {
            "parcel_code": ["320506001001GB00001", "城南镇\t第2号\\地块\n", "C-3"],
            "cert_area_m2": [9900.0, np.nan, 25.5],
            "land_use_code": ["0601", None, "0602"],
            "supply_date": pd.to_datetime(["2015-06-30", None, "1999-12-31"]),
            "agreed_start_date": [dt.date(2016, 1, 1), None, dt.date(2000, 2, 29)],
            "planned_far": [1.2, None, 0.0],
            "town": ["城南镇", "开发区", None],
            "attrs": [{"来源": "不动产登记", "n": 3}, {}, {"nested": {"a": [1, 2]}}],
            "source_fid": [1, 2, None],
        },
        geometry=[holed, multi, shapely.box(0, 200, 5, 205)],
        crs=f"EPSG:{SRID}",
    ).rename_geometry("geom")


@pytest.mark.parametrize("fmt", ["text", "binary"])
def test_round_trip_keeps_geometry_nulls_dates_and_chinese_text(db_conn, fmt):
    frame = parcels_frame()
    assert copy_frame(db_conn, "parcel", frame, format=fmt) == 3
    db_conn.commit()
    back = read_frame(db_conn, "SELECT * FROM parcel ORDER BY parcel_id")
    assert isinstance(back, gpd.GeoDataFrame)
    assert back.crs.to_epsg() == SRID
    assert list(back["parcel_code"]) == list(frame["parcel_code"])
    # every geometry is stored as MultiPolygon and equals the input exactly
    assert set(back.geom_type) == {"MultiPolygon"}
    assert all(shapely.equals_exact(back.geometry.values, frame.geometry.values, tolerance=0)
               | shapely.equals(back.geometry.values, frame.geometry.values))
    np.testing.assert_allclose(back["area_m2"], frame.area, rtol=1e-12)
    assert back.loc[1, "cert_area_m2"] != back.loc[1, "cert_area_m2"]  # NaN -> NULL -> NaN
    assert back["land_use_code"].tolist() == ["0601", None, "0602"]
    assert back["supply_date"].tolist()[0] == pd.Timestamp("2015-06-30")
    assert pd.isna(back["supply_date"].iloc[1])
    assert back["agreed_start_date"].iloc[2] == pd.Timestamp("2000-02-29")
    assert back["town"].tolist() == ["城南镇", "开发区", None]
    assert back["attrs"].tolist() == [{"来源": "不动产登记", "n": 3}, {}, {"nested": {"a": [1, 2]}}]
    assert back["source_fid"].tolist()[:2] == [1, 2]
    assert pd.isna(back["source_fid"].iloc[2])
    nulls = db_conn.execute(
        "SELECT count(*) FILTER (WHERE cert_area_m2 IS NULL), count(*) FILTER "
        "(WHERE planned_far IS NULL), count(*) FILTER (WHERE supply_date IS NULL) FROM parcel"
    ).fetchone()
    assert nulls == (1, 1, 1)


def test_failed_copy_inside_a_transaction_leaves_the_table_unchanged(db_conn):
    frame = parcels_frame()
    copy_frame(db_conn, "parcel", frame.iloc[:1])
    db_conn.commit()
    # second load repeats parcel 0's code in its last row: unique violation mid-COPY
    bad = pd.concat([frame.iloc[1:], frame.iloc[:1]], ignore_index=True)
    with pytest.raises(DatabaseError, match="parcel"):
        copy_frame(db_conn, "parcel", bad)
    db_conn.rollback()
    codes = [r[0] for r in db_conn.execute("SELECT parcel_code FROM parcel").fetchall()]
    assert codes == [frame["parcel_code"].iloc[0]]


def test_footprints_polygons_are_promoted_and_z_dropped(db_conn):
    geoms = [shapely.Polygon([(0, 0, 5), (10, 0, 5), (10, 10, 5), (0, 10, 5)]),
             shapely.box(20, 20, 30, 30)]
    frame = gpd.GeoDataFrame({"height_m": [12.5, np.nan], "storeys": [4, None],
                              "image_date": [dt.date(2024, 5, 1), None], "method": ["ndsm", "survey"]},
                             geometry=geoms, crs=SRID).rename_geometry("geom")
    copy_frame(db_conn, "footprint", frame)
    rows = db_conn.execute("SELECT GeometryType(geom), ST_NDims(geom), ST_SRID(geom), height_m, "
                           "storeys, area_m2 FROM footprint ORDER BY footprint_id").fetchall()
    assert rows[0][:3] == ("MULTIPOLYGON", 2, SRID)
    assert rows[0][3] == pytest.approx(12.5) and rows[0][4] == 4
    assert rows[1][3] is None and rows[1][4] is None
    assert rows[1][5] == pytest.approx(100.0)


def test_wrong_geometry_type_is_a_data_error_naming_the_row(db_conn):
    frame = gpd.GeoDataFrame({"parcel_code": ["a", "b"]},
                             geometry=[shapely.box(0, 0, 1, 1), shapely.LineString([(0, 0), (1, 1)])],
                             crs=SRID).rename_geometry("geom")
    with pytest.raises(DataError, match=r"row 1, a LINESTRING"):
        copy_frame(db_conn, "parcel", frame)


def test_missing_srid_unknown_and_generated_columns_are_refused(db_conn):
    frame = gpd.GeoDataFrame({"parcel_code": ["a"]}, geometry=[shapely.box(0, 0, 1, 1)])
    frame = frame.rename_geometry("geom")
    with pytest.raises(DataError, match="no SRID"):
        copy_frame(db_conn, "parcel", frame)
    assert copy_frame(db_conn, "parcel", frame, srid=SRID) == 1  # explicit SRID works
    with pytest.raises(DataError, match="not in the table"):
        copy_frame(db_conn, "parcel", frame.assign(colour="red"), srid=SRID)
    with pytest.raises(DataError, match="generated"):
        copy_frame(db_conn, "parcel", frame.assign(area_m2=1.0), srid=SRID)
    with pytest.raises(DatabaseError, match="does not exist"):
        copy_frame(db_conn, "no_such_table", frame, srid=SRID)


def test_empty_and_missing_geometries_become_null(db_conn):
    ewkb = encode_geometries([shapely.box(0, 0, 1, 1), None, shapely.Polygon()], srid=SRID,
                             target_type="MULTIPOLYGON")
    assert ewkb[1] is None and ewkb[2] is None
    decoded = shapely.from_wkb(ewkb[0])
    assert decoded.geom_type == "MultiPolygon" and shapely.get_srid(decoded) == SRID


def test_read_frame_without_geometry_is_a_dataframe_and_uses_params(db_conn):
    copy_frame(db_conn, "parcel", parcels_frame())
    out = read_frame(db_conn, "SELECT parcel_code, town FROM parcel WHERE town = %s", ["城南镇"])
    assert not isinstance(out, gpd.GeoDataFrame)
    assert out.to_dict("records") == [{"parcel_code": "320506001001GB00001", "town": "城南镇"}]
    empty = read_frame(db_conn, "SELECT geom FROM parcel WHERE false")
    assert len(empty) == 0 and isinstance(empty, gpd.GeoDataFrame)


def test_working_srid_is_recorded_and_cannot_silently_change(db_conn):
    assert get_working_srid(db_conn) is None
    set_working_srid(db_conn, SRID)
    assert get_working_srid(db_conn) == SRID
    set_working_srid(db_conn, 4547)  # nothing stored yet: allowed
    set_working_srid(db_conn, SRID)
    copy_frame(db_conn, "parcel", parcels_frame())
    with pytest.raises(DataError, match="EPSG:4549"):
        set_working_srid(db_conn, 32651)


def test_batches_and_runs_are_recorded(db_conn):
    batch = start_batch(db_conn, "parcels", "/data/宗地.shp", source_sha256="ab" * 32,
                        layer="宗地", params={"encoding": "gbk"}, srid=SRID)
    assert find_batch_by_sha(db_conn, "parcels", "ab" * 32) is None  # not finished yet
    frame = parcels_frame().assign(batch_id=batch)
    n = copy_frame(db_conn, "parcel", frame)
    finish_batch(db_conn, batch, n_read=4, n_loaded=n, n_rejected=1, report={"rejected": [3]})
    assert find_batch_by_sha(db_conn, "parcels", "ab" * 32) == batch
    assert find_batch_by_sha(db_conn, "footprints", "ab" * 32) is None
    row = db_conn.execute("SELECT n_read, n_loaded, n_rejected, report, params, mujun_version "
                          "FROM import_batch WHERE batch_id = %s", (batch,)).fetchone()
    assert row[:3] == (4, 3, 1) and row[3] == {"rejected": [3]} and row[4] == {"encoding": "gbk"}
    assert row[5]
    run = start_run(db_conn, "occupancy", {"year": 2024}, input_batches=[batch])
    finish_run(db_conn, run, summary={"parcels": 3})
    got = db_conn.execute("SELECT status, input_batches, summary, finished_at IS NOT NULL "
                          "FROM run WHERE run_id = %s", (run,)).fetchone()
    assert got == ("done", [batch], {"parcels": 3}, True)
    with pytest.raises(DatabaseError, match="does not exist"):
        finish_batch(db_conn, 10**9, n_read=0, n_loaded=0)
    with pytest.raises(ValueError):
        finish_run(db_conn, run, status="weird")


_pg_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
                   max_size=40)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(towns=st.lists(_pg_text, min_size=1, max_size=5))
def test_any_text_survives_text_copy(db_conn, towns):
    frame = gpd.GeoDataFrame(
        {"parcel_code": [f"p{i}" for i in range(len(towns))], "town": towns},
        geometry=[shapely.box(i, 0, i + 1, 1) for i in range(len(towns))], crs=SRID,
    ).rename_geometry("geom")
    for fmt in ("text", "binary"):
        with db_conn.transaction(force_rollback=True):
            copy_frame(db_conn, "parcel", frame, format=fmt)
            back = [r[0] for r in db_conn.execute("SELECT town FROM parcel ORDER BY parcel_id")]
        assert back == towns, fmt


@pytest.mark.parametrize("fmt", ["text", "binary"])
def test_plain_frames_with_booleans_timestamps_and_int_nulls(db_conn, fmt):
    ents = pd.DataFrame({
        "credit_code": ["91320500MA1MXXXX0A", "91320500MA1MXXXX1B"],
        "checksum_ok": [True, False],
        "name": ["苏州某某精密机械有限公司", "O'Brien \\ Co\tLtd"],
        "size_class": ["large", None],
        "established_date": [dt.date(2008, 8, 8), None],
    })
    assert copy_frame(db_conn, "enterprise", ents, format=fmt) == 2
    years = pd.DataFrame({"credit_code": ents["credit_code"], "year": [2023, 2024],
                          "employees": [120.0, np.nan], "tax_wan": [1234.5, None]})
    copy_frame(db_conn, "enterprise_year", years, format=fmt)
    batches = pd.DataFrame({"kind": ["sample"], "source": ["x"],
                            "started_at": [pd.Timestamp("2024-03-01 08:30:00", tz="Asia/Shanghai")]})
    copy_frame(db_conn, "import_batch", batches, format=fmt)
    rows = db_conn.execute("SELECT checksum_ok, name, size_class, established_date "
                           "FROM enterprise ORDER BY credit_code").fetchall()
    assert rows == [(True, "苏州某某精密机械有限公司", "large", dt.date(2008, 8, 8)),
                    (False, "O'Brien \\ Co\tLtd", None, None)]
    assert db_conn.execute("SELECT employees, tax_wan FROM enterprise_year ORDER BY year"
                           ).fetchall() == [(120, 1234.5), (None, None)]
    started = db_conn.execute("SELECT started_at FROM import_batch").fetchone()[0]
    assert started == dt.datetime(2024, 3, 1, 0, 30, tzinfo=dt.UTC)
    with pytest.raises(DataError, match="whole number"):
        copy_frame(db_conn, "enterprise_year", years.assign(employees=[1.5, 2.0]), format=fmt)


@pytest.mark.parametrize("fmt", ["text", "binary"])
def test_copy_frames_streams_batches_through_one_copy(db_conn, fmt):
    from gis.db.copy import copy_frames

    frame = parcels_frame()
    batches = (frame.iloc[i : i + 1] for i in range(len(frame)))
    cols = ["parcel_code", "geom", "town", "supply_date"]
    assert copy_frames(db_conn, "parcel", batches, cols, format=fmt) == 3
    assert db_conn.execute("SELECT count(*) FROM parcel").fetchone()[0] == 3
    db_conn.commit()
    # a bad geometry in a later batch aborts the whole COPY: nothing of it stays
    bad = frame.iloc[:1].copy()
    bad["geom"] = [shapely.LineString([(0, 0), (1, 1)])]
    more = iter([frame.iloc[:1].assign(parcel_code="new-1"), bad])
    with pytest.raises((DataError, DatabaseError)):
        copy_frames(db_conn, "parcel", more, cols, format=fmt)
    db_conn.rollback()
    assert db_conn.execute("SELECT count(*) FROM parcel").fetchone()[0] == 3


def test_types_without_a_binary_encoder_fall_back_to_text(db_conn):
    runs = pd.DataFrame({"kind": ["occupancy"], "code_version": ["0.1.0"],
                         "input_batches": ["{1,2}"], "params": [{"year": 2024}]})
    assert copy_frame(db_conn, "run", runs) == 1  # bigint[] has no binary encoder here
    assert db_conn.execute("SELECT input_batches, params FROM run").fetchone() == (
        [1, 2], {"year": 2024})
