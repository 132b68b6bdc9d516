"""Every engine selects surveys per parcel and writes the vector engine's rows.

Known trouble this guards against: ``--engine postgis`` and ``--engine dask`` refused
("cannot choose among 1 surveys per parcel yet") as soon as a survey's coverage missed
a parcel, e.g. one OSM building import whose coverage is the buildings' extent.

Cases: the small sample city with a second, later survey made here from part of its
footprints (some demolished, some shifted, some duplicated, new ones) covering only the
west of the city, so parcels rest on either survey and some straddle the coverage's
edge; real OSM industrial land use with two OSM building imports of different extent;
and the dask engine on an external ``dask scheduler`` with separate worker processes.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest
import shapely

from gis.settings import load_settings
from parcels.occupancy.kernel import RESULT_COLUMNS
from parcels.occupancy.run import run_occupancy
from parcels.surveys import assign_surveys, create_survey

SECOND_DATE = dt.date(2026, 3, 1)
#: Columns compared exactly (counts, ids, dates) and to 1e-9 relative (areas, ratios).
EXACT = ("parcel_code", "n_buildings", "survey_id", "survey_date")
CLOSE = ("area_m2", "cert_area_m2", "cert_diff_m2", "built_m2", "sliver_m2", "coverage",
         "floor_area_m2", "far")


def assert_same_rows(got: pd.DataFrame, want: pd.DataFrame, label: str) -> None:
    assert list(got.columns) == list(want.columns), label
    for col in EXACT:
        assert got[col].astype(object).where(got[col].notna(), None).tolist() == \
            want[col].astype(object).where(want[col].notna(), None).tolist(), (label, col)
    scale = max(1.0, float(want["area_m2"].max()))
    for col in CLOSE:
        np.testing.assert_allclose(got[col].to_numpy(dtype="float64"),
                                   want[col].to_numpy(dtype="float64"), rtol=1e-9,
                                   atol=1e-9 * scale, equal_nan=True, err_msg=f"{label}: {col}")


def stored_rows(conn, run_id: int) -> pd.DataFrame:
    """The ``occupancy`` rows of a run, as stored."""
    from gis.db.copy import read_frame

    frame = read_frame(conn, "SELECT * FROM occupancy WHERE run_id = %s ORDER BY parcel_code",
                       (run_id,))
    conn.rollback()
    return frame.drop(columns=["run_id"]).reset_index(drop=True)


@pytest.fixture(scope="module")
def small_city(tmp_path_factory):
    from sample.generate import generate_city

    return generate_city("small", 11, tmp_path_factory.mktemp("city") / "sample", imagery=False)


def add_later_survey(conn, *, seed: int = 5) -> tuple[int, int]:
    """A second survey of the west 55 % of the loaded sample, from part of its footprints.

    Returns (first survey id, second survey id).
    """
    from gis.db.srid import get_working_srid

    srid = get_working_srid(conn)
    (first,) = conn.execute("SELECT survey_id FROM survey").fetchone()
    xmin, ymin, xmax, ymax = conn.execute(
        "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)"
        " FROM (SELECT ST_Extent(geom)::geometry AS e FROM parcel) t").fetchone()
    cut = xmin + 0.55 * (xmax - xmin)
    coverage = shapely.box(xmin - 50, ymin - 50, cut, ymax + 50)
    rows = conn.execute(
        "SELECT ST_AsBinary(geom), height_m, storeys FROM footprint"
        " WHERE survey_id = %s AND ST_X(ST_Centroid(geom)) < %s ORDER BY footprint_id",
        (first, cut)).fetchall()
    rng = np.random.default_rng(seed)
    geoms = shapely.from_wkb([bytes(r[0]) for r in rows])
    heights = np.array([np.nan if r[1] is None else r[1] for r in rows], dtype="float64")
    storeys = np.array([0 if r[2] is None else r[2] for r in rows], dtype="int64")
    keep = rng.random(len(geoms)) > 0.2                     # a fifth demolished
    shifted = rng.random(len(geoms)) < 0.3                  # misregistered by a metre
    geoms = np.where(shifted, shapely.transform(geoms, lambda xy: xy + np.array([0.8, -0.6])), geoms)
    taller = rng.random(len(geoms)) < 0.25                  # storeys added
    heights = np.where(taller, np.nan_to_num(heights) + 9.0, heights)
    geoms, heights, storeys = geoms[keep], heights[keep], storeys[keep]
    dup = rng.choice(len(geoms), size=min(12, len(geoms)), replace=False)   # digitised twice
    extra = shapely.transform(geoms[dup], lambda xy: xy + np.array([1.5, 1.0]))
    parcels = shapely.from_wkb([bytes(r[0]) for r in conn.execute(
        "SELECT ST_AsBinary(ST_PointOnSurface(geom)) FROM parcel"
        " WHERE ST_XMax(geom) < %s ORDER BY parcel_id LIMIT 15", (cut,)).fetchall()])
    new = shapely.buffer(parcels, 7.0, quad_segs=1)          # new buildings on 15 parcels
    geoms = np.concatenate([geoms, extra, new])
    heights = np.concatenate([heights, heights[dup], np.full(len(new), 14.0)])
    storeys = np.concatenate([storeys, storeys[dup], np.full(len(new), 0)])
    ids = [int(r[0]) for r in conn.execute(
        "INSERT INTO footprint (geom, image_date, method, height_m, storeys)"
        " SELECT ST_Multi(ST_GeomFromWKB(g, %s)), %s, 'test', nullif(h, 'NaN'),"
        " nullif(s, 0) FROM unnest(%s::bytea[], %s::float8[], %s::int[]) AS t (g, h, s)"
        " RETURNING footprint_id",
        (srid, SECOND_DATE, [shapely.to_wkb(g) for g in geoms], heights.tolist(),
         storeys.tolist())).fetchall()]
    second = create_survey(conn, survey_date=SECOND_DATE, coverage=coverage, footprint_ids=ids,
                           source="test: later survey of the west", method="test")
    conn.commit()
    return int(first), int(second)


@pytest.fixture
def two_survey_city(small_city, db_conn):
    from sample.load import load_sample

    load_sample(db_conn, small_city)
    db_conn.commit()
    first, second = add_later_survey(db_conn)
    return db_conn, first, second


def selections(first: int, second: int) -> dict[str, dict]:
    from sample.config import AS_OF

    return {"latest": {}, "as of the first": {"as_of": AS_OF},
            "as of the second": {"as_of": SECOND_DATE}, "second only": {"survey_id": second},
            "first only": {"survey_id": first}}


def test_the_second_survey_changes_what_parcels_rest_on(two_survey_city):
    """The case is what it claims: both surveys used, parcels across the edge on the first."""
    conn, first, second = two_survey_city
    scope = assign_surveys(conn)
    used = pd.Series(scope.survey_ids).value_counts()
    assert set(used.index) == {first, second} and used.min() > 20
    straddling = conn.execute(
        "SELECT count(*) FROM parcel p JOIN survey s ON s.survey_id = %s"
        " WHERE ST_Intersects(s.coverage, p.geom) AND NOT ST_Covers(s.coverage, p.geom)",
        (second,)).fetchone()[0]
    assert straddling > 0
    assert (scope.survey_of(np.asarray(conn.execute(
        "SELECT array_agg(p.parcel_id) FROM parcel p JOIN survey s ON s.survey_id = %s"
        " WHERE ST_Intersects(s.coverage, p.geom) AND NOT ST_Covers(s.coverage, p.geom)",
        (second,)).fetchone()[0])) == first).all()
    conn.rollback()


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["postgis", "dask"])
def test_engines_write_the_vector_engines_rows_with_two_surveys(two_survey_city, engine,
                                                                 tmp_path):
    conn, first, second = two_survey_city
    settings = load_settings({"home": str(tmp_path / "home")}, environ={})
    options = {"dask": {"max_parcels": 60}, "postgis": {}}[engine]   # dask: several partitions
    differs = 0
    for label, selection in selections(first, second).items():
        want = run_occupancy(conn, settings, engine="vector", **selection)
        got = run_occupancy(conn, settings, engine=engine, engine_options=options, **selection)
        assert got.run_id != want.run_id
        columns = [*RESULT_COLUMNS, "survey_id", "survey_date"]
        assert_same_rows(got.parcels[columns], want.parcels[columns], f"{engine}, {label}")
        assert_same_rows(stored_rows(conn, got.run_id), stored_rows(conn, want.run_id),
                         f"{engine}, {label}, stored")
        assert got.summary["surveys"] == want.summary["surveys"]
        for key in ("built_m2", "floor_area_m2", "enterprise_land_m2"):
            assert got.summary[key] == pytest.approx(want.summary[key], rel=1e-9)
        differs += not np.allclose(want.parcels["built_m2"], _only_first(conn, settings))
    assert differs >= 2           # the later survey changes the answer where it is used


def _only_first(conn, settings):
    from sample.config import AS_OF

    return run_occupancy(conn, settings, engine="vector", as_of=AS_OF).parcels["built_m2"]


@pytest.fixture
def dask_scheduler(tmp_path):
    """An external ``dask scheduler`` on 127.0.0.1 with two separate worker processes."""
    from pathlib import Path

    dask = Path(sys.executable).with_name("dask")
    info = tmp_path / "scheduler.json"
    logs = (tmp_path / "scheduler.log").open("w"), (tmp_path / "workers.log").open("w")
    procs = [subprocess.Popen([str(dask), "scheduler", "--host", "127.0.0.1", "--port", "0",
                               "--no-dashboard", "--scheduler-file", str(info)],
                              stdout=logs[0], stderr=subprocess.STDOUT)]
    try:
        deadline = time.monotonic() + 60
        while not info.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        address = json.loads(info.read_text())["address"]
        procs.append(subprocess.Popen(
            [str(dask), "worker", "--scheduler-file", str(info), "--nworkers", "2",
             "--nthreads", "1", "--no-dashboard", "--host", "127.0.0.1"],
            stdout=logs[1], stderr=subprocess.STDOUT))
        from distributed import Client

        with Client(address, timeout="30s") as client:
            client.wait_for_workers(2, timeout=120)
            pids = set(client.run(lambda: __import__("os").getpid()).values())
        assert len(pids) == 2 and not pids & {procs[0].pid, procs[1].pid}
        yield address
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in reversed(procs):
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        for log in logs:
            log.close()


@pytest.mark.slow
def test_dask_on_an_external_scheduler_with_two_surveys(two_survey_city, dask_scheduler,
                                                        tmp_path):
    conn, first, second = two_survey_city
    settings = load_settings({"home": str(tmp_path / "home")}, environ={})
    for label, selection in list(selections(first, second).items())[:4]:
        want = run_occupancy(conn, settings, engine="vector", **selection)
        got = run_occupancy(conn, settings, engine="dask", **selection,
                            engine_options={"scheduler": dask_scheduler, "max_parcels": 50})
        columns = [*RESULT_COLUMNS, "survey_id", "survey_date"]
        assert_same_rows(got.parcels[columns], want.parcels[columns], f"dask external, {label}")
    manifests = list((tmp_path / "home" / "cache" / "occupancy").glob("*/manifest.json"))
    assert len(manifests) == 1               # one set of partitions serves every selection
    assert len(json.loads(manifests[0].read_text())) >= 4


# --- real data: OSM industrial land use as the cadastre, OSM buildings as surveys ---

UTM35N = 32635


@pytest.fixture
def osm_two_imports(shared_data, db_conn, tmp_path):
    """OSM industrial land use as parcels; the OSM buildings west of the middle imported
    as a 2023 survey and those east of it, a tenth of them gone, as a 2024 survey. Each
    import's coverage is its buildings' extent (the import's default), so each misses
    parcels, and two parcels straddle the middle: no survey covers them whole."""
    from gis.db.copy import copy_frame
    from gis.db.srid import set_working_srid
    from gis.importing.footprints import load_footprints
    from gis.vector_io import read_vector

    path = shared_data / "osm-industrial" / "osm_landuse_buildings.gpkg"
    landuse = read_vector(path, layer="landuse")
    parcels = landuse[landuse["landuse"] == "industrial"].to_crs(UTM35N)
    parcels["geometry"] = shapely.make_valid(parcels.geometry.values)
    parcels = parcels[parcels.area > 0].reset_index(drop=True)
    parcels["parcel_code"] = "OSM" + parcels["osm_way_id"].fillna(parcels["osm_id"]).astype(str)
    set_working_srid(db_conn, UTM35N)
    copy_frame(db_conn, "parcel", parcels[["parcel_code", "geometry"]].rename_geometry("geom"))
    db_conn.commit()
    settings = load_settings({"home": str(tmp_path / "home")}, environ={})
    buildings = read_vector(path, layer="buildings")
    buildings = buildings[buildings.geom_type.isin(["Polygon", "MultiPolygon"])]
    x = buildings.to_crs(UTM35N).centroid.x.to_numpy()
    east = x > np.median(x)
    gone = np.random.default_rng(3).random(len(x)) < 0.1
    for date, rows in (("2023-06-01", ~east), ("2024-06-01", east & ~gone)):
        part = tmp_path / f"buildings_{date[:4]}.gpkg"
        buildings.iloc[np.flatnonzero(rows)].to_file(part, layer="buildings")
        load_footprints(db_conn, part, layer="buildings", survey_date=date,
                        accept_partial=True, rejects=tmp_path / f"{date}.csv",
                        settings=settings)
    return db_conn, settings


@pytest.mark.slow
def test_osm_cadastre_with_two_building_imports_every_engine_agrees(osm_two_imports):
    conn, settings = osm_two_imports
    scope = assign_surveys(conn)
    assert len(scope.surveys_used()) == 2 and scope.partial.sum() == 2
    # as of 2023: one import whose coverage (its buildings' extent) misses a parcel
    earlier = assign_surveys(conn, as_of="2023-12-31")
    assert len(earlier.surveys_used()) == 1 and (earlier.survey_ids == -1).sum() == 1
    columns = [*RESULT_COLUMNS, "survey_id", "survey_date"]
    for selection in ({}, {"as_of": "2023-12-31"}):
        want = run_occupancy(conn, settings, engine="vector", **selection)
        assert want.parcels["built_m2"].sum() > 0
        for engine, options in (("postgis", {}), ("dask", {"max_parcels": 3})):
            got = run_occupancy(conn, settings, engine=engine, engine_options=options,
                                **selection)
            assert_same_rows(got.parcels[columns], want.parcels[columns],
                             f"OSM, {engine}, {selection}")
