"""The engines agree with the kernel (≤ 1e-9 relative) on random layouts in real PostGIS."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely import affinity, box

from gis.db.copy import copy_frame
from gis.db.srid import set_working_srid
from gis.errors import ConfigError
from parcels.occupancy.engines import ENGINES, get_engine
from parcels.occupancy.kernel import KernelOptions, occupancy_kernel
from parcels.occupancy.postgis_engine import (
    JOIN_SQL,
    SCOPED_JOIN_SQL,
    postgis_occupancy,
    set_parallel,
)
from parcels.occupancy.vector_engine import vector_occupancy

SRID = 32635
X0, Y0 = 500_000.0, 6_700_000.0          # realistic UTM magnitudes: areas lose digits there


def load(conn, parcels, footprints):
    set_working_srid(conn, SRID)
    p = parcels.rename_geometry("geom")
    copy_frame(conn, "parcel", p, ["parcel_code", "cert_area_m2", "geom"], srid=SRID)
    f = footprints.rename_geometry("geom")
    copy_frame(conn, "footprint", f, ["footprint_id", "height_m", "storeys", "geom"], srid=SRID)


def assert_same(a: pd.DataFrame, b: pd.DataFrame, rtol=1e-9):
    a = a.set_index("parcel_code").sort_index()
    b = b.set_index("parcel_code").sort_index()
    assert list(a.index) == list(b.index)
    assert a.n_buildings.tolist() == b.n_buildings.tolist()
    for col in ("area_m2", "built_m2", "sliver_m2", "floor_area_m2", "coverage", "far"):
        np.testing.assert_allclose(a[col].to_numpy(), b[col].to_numpy(), rtol=rtol,
                                   atol=1e-9 * max(1.0, float(a.area_m2.max())), err_msg=col)


@st.composite
def layouts(draw):
    """Voronoi parcels with random rotated footprints, some overlapping and some shifted."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n_parcels, n_fp = draw(st.integers(1, 10)), draw(st.integers(0, 30))
    domain = box(X0, Y0, X0 + 200, Y0 + 200)
    pts = shapely.multipoints(rng.uniform(0, 200, (n_parcels, 2)) + np.array([X0, Y0]))
    cells = shapely.intersection(
        shapely.get_parts(shapely.voronoi_polygons(pts, extend_to=domain)), domain)
    cells = [c for c in cells if c.area > 0]
    parcels = gpd.GeoDataFrame(
        {"parcel_code": [f"P{i:03d}" for i in range(len(cells))],
         "cert_area_m2": rng.uniform(1000, 9000, len(cells))}, geometry=cells, crs=SRID)
    geoms = []
    for _ in range(n_fp):
        cx, cy = rng.uniform(0, 200, 2) + np.array([X0, Y0])
        w, h = rng.uniform(0.3, 35, 2)
        geoms.append(affinity.rotate(box(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2),
                                     rng.uniform(0, 90)))
    if n_fp and draw(st.booleans()):
        geoms.append(geoms[0])                            # an exact duplicate (dirty data)
    n = len(geoms)
    footprints = gpd.GeoDataFrame(
        {"footprint_id": np.arange(1, n + 1) * 2, "height_m": rng.choice([0, 4.0, 9.5, 17.0], n),
         "storeys": rng.choice([0, 1, 2, 3], n)}, geometry=geoms, crs=SRID)
    footprints["height_m"] = footprints["height_m"].astype("float32")  # as stored (real)
    options = KernelOptions(min_overlap_ratio=draw(st.sampled_from([0.0, 0.5, 0.8])),
                            sliver_tolerance_m=draw(st.sampled_from([0.0, 0.5, 1.5])))
    return parcels, footprints, options


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(layouts())
def test_engines_agree_on_random_layouts(db_conn, layout):
    parcels, footprints, options = layout
    try:
        load(db_conn, parcels, footprints)
        kernel = occupancy_kernel(parcels, footprints, options)
        sql = postgis_occupancy(db_conn, options)
        vec = vector_occupancy(db_conn, options, threads=2)
        chunked = vector_occupancy(db_conn, options, threads=2, max_parcels=2)
        assert_same(kernel, sql)
        assert_same(kernel, vec, rtol=1e-12)
        assert_same(kernel, chunked, rtol=1e-12)     # chunks of 2 parcels: still exact
        assert chunked.parcel_code.tolist() == vec.parcel_code.tolist()
        left = db_conn.execute("SELECT count(*) FROM occupancy_piece").fetchone()[0]
        assert left == 0
    finally:
        db_conn.rollback()


@pytest.mark.parametrize("scoped", [False, True])
def test_postgis_join_plans_in_parallel(db_conn, scoped):
    rng = np.random.default_rng(1)
    cells = [box(X0 + i * 10, Y0, X0 + i * 10 + 10, Y0 + 10) for i in range(2000)]
    parcels = gpd.GeoDataFrame({"parcel_code": [f"P{i}" for i in range(2000)],
                                "cert_area_m2": 100.0}, geometry=cells, crs=SRID)
    fps = gpd.GeoDataFrame({"footprint_id": range(1, 2001), "height_m": 5.0, "storeys": 1},
                           geometry=[affinity.translate(c.buffer(-2), *rng.uniform(-3, 3, 2))
                                     for c in cells], crs=SRID)
    load(db_conn, parcels, fps)
    db_conn.execute("ANALYZE parcel; ANALYZE footprint")
    set_parallel(db_conn, 2)
    params = {"token": 0, "storey_h": 3.5, "ratio": 0.5, "tol": 0.5, "slack": 1e-9,
              "parcels": list(range(1, 2001)), "surveys": [1] * 2000}
    plan = "\n".join(r[0] for r in db_conn.execute(
        "EXPLAIN " + (SCOPED_JOIN_SQL if scoped else JOIN_SQL), params).fetchall())
    assert "Gather" in plan and "Parallel" in plan, plan
    assert "_geom_idx" in plan, plan                      # a GiST index drives the join


def test_engine_registry():
    assert set(ENGINES) == {"postgis", "vector", "dask"}
    assert get_engine("vector") is vector_occupancy
    with pytest.raises(ConfigError, match="postgis, vector, dask"):
        get_engine("spark")


@pytest.mark.parametrize("name", ["postgis", "vector", "dask"])
def test_engines_name_their_options_and_refuse_others(name):
    """No catch-all keyword: a misspelled option is an error naming the valid ones."""
    import inspect

    from parcels.occupancy.engines import engine_options, option_names

    function = get_engine(name)
    kinds = {p.kind for p in inspect.signature(function).parameters.values()}
    assert inspect.Parameter.VAR_KEYWORD not in kinds
    assert option_names(function)
    with pytest.raises(ConfigError, match=f"{name!r} takes no option 'procesess'"):
        engine_options(name, {"procesess": 2})
    given = {option_names(function)[0]: 1, "unused": None}
    assert engine_options(name, given) == {option_names(function)[0]: 1}


def test_engine_settings_defaults_without_naming_the_engine(tmp_path):
    from gis.settings import load_settings
    from parcels.occupancy.engines import engine_options

    settings = load_settings({"home": str(tmp_path / "home")}, environ={})
    dask = engine_options("dask", {"scheduler": None}, settings)
    assert dask == {"workdir": settings.home_path / "cache" / "occupancy"}
    assert engine_options("vector", {"processes": 2}, settings) == {"processes": 2}
    # a given value wins over the deployment default
    assert engine_options("dask", {"workdir": tmp_path}, settings)["workdir"] == tmp_path


def test_sql_floor_weight_matches_python(db_conn):
    from parcels.occupancy.storeys import floor_weights

    heights = [None, 0.0, 3.0, 7.0, 8.0, 8.5, 12.0, 16.0, 16.1, 30.0, float("nan")]
    storeys = [None, 0, 1, 2, 3]
    pairs = [(h, s) for h in heights for s in storeys]
    got = [db_conn.execute("SELECT mujun_floor_weight(%s::real, %s::smallint, 3.5)",
                           (h, s)).fetchone()[0] for h, s in pairs]
    want = floor_weights([h for h, _ in pairs], [s for _, s in pairs], storey_height_m=3.5)
    assert got == want.tolist()
    plan = db_conn.execute("EXPLAIN VERBOSE SELECT mujun_floor_weight(height_m, storeys, 3.5)"
                           " FROM footprint").fetchall()
    assert "mujun_floor_weight" not in " ".join(r[0] for r in plan)   # inlined


#: Knife-edge cases found at city scale: strips 0.5000 m and 0.4998 m wide, where an
#: inward-buffer test gave different answers in GEOS 3.11 (PostGIS) and 3.14 (shapely).
KNIFE_EDGES = [
    ("POLYGON((528183.0548936941 3441155.2446989827,528212.1528064994 3441155.59322499,"
     "528211.1347752067 3441240.5871283733,528182.0368624014 3441240.238602366,"
     "528183.0548936941 3441155.2446989827))",
     "POLYGON((528211.5444930878 3441164.632124648,528233.7815392892 3441164.898473268,"
     "528233.6890156468 3441172.623133184,528211.4519694455 3441172.356784564,"
     "528211.5444930878 3441164.632124648))", 3.8627023),
    ("POLYGON((545776.4399009816 3439551.6376479934,545798.2180931227 3439554.7537909728,"
     "545775.965999393 3439710.2698812163,545764.7799279751 3439708.669316868,"
     "545754.1878072519 3439707.153738237,545776.4399009816 3439551.6376479934))",
     "POLYGON((545791.9844571846 3439594.7909983993,545825.0199609984 3439599.517899173,"
     "545822.8091464273 3439614.9689053805,545789.7736426134 3439610.242004607,"
     "545791.9844571846 3439594.7909983993))", 7.8011060),
]


@pytest.mark.parametrize(("parcel_wkt", "building_wkt", "strip_m2"), KNIFE_EDGES)
def test_knife_edge_strips_agree_in_every_engine(db_conn, parcel_wkt, building_wkt, strip_m2):
    parcel, building = shapely.from_wkt(parcel_wkt), shapely.from_wkt(building_wkt)
    parcels = gpd.GeoDataFrame({"parcel_code": ["P"], "cert_area_m2": [None]},
                               geometry=[parcel], crs=4549)
    fps = gpd.GeoDataFrame({"footprint_id": [1], "height_m": [10.9], "storeys": [2]},
                           geometry=[building], crs=4549)
    set_working_srid(db_conn, 4549)
    copy_frame(db_conn, "parcel", parcels.rename_geometry("geom"), srid=4549)
    copy_frame(db_conn, "footprint", fps.rename_geometry("geom"), srid=4549)
    options = KernelOptions(sliver_tolerance_m=0.5)
    kernel = occupancy_kernel(parcels, fps, options)
    assert_same(kernel, postgis_occupancy(db_conn, options))
    # a 0.5 m wide strip 7.7 m / 15.6 m long: mean width 0.47 / 0.48 m -> a sliver
    assert kernel.sliver_m2.iloc[0] == pytest.approx(strip_m2, rel=1e-6)
    assert kernel.built_m2.iloc[0] == 0.0


def test_reads_in_batches_and_in_autocommit_give_the_same_frame(db_conn):
    from parcels.occupancy.reading import ALL_FOOTPRINTS, fetch_geo

    cells = [box(X0 + i * 10, Y0, X0 + i * 10 + 8, Y0 + 8) for i in range(25)]
    fps = gpd.GeoDataFrame({"footprint_id": range(1, 26), "height_m": [None, 5.0] * 12 + [7.0],
                            "storeys": [2, None] * 12 + [1]}, geometry=cells, crs=SRID)
    load(db_conn, gpd.GeoDataFrame({"parcel_code": ["P"], "cert_area_m2": [1.0]},
                                   geometry=[box(X0, Y0, X0 + 300, Y0 + 10)], crs=SRID), fps)
    batched = fetch_geo(db_conn, ALL_FOOTPRINTS, srid=SRID, batch_rows=4)   # 7 batches
    db_conn.commit()
    db_conn.autocommit = True
    try:
        whole = fetch_geo(db_conn, ALL_FOOTPRINTS, srid=SRID)
    finally:
        db_conn.autocommit = False
    for frame in (batched, whole):
        frame = frame.sort_values("footprint_id").reset_index(drop=True)
        assert frame.footprint_id.tolist() == list(range(1, 26))
        assert frame.crs.to_epsg() == SRID
        assert np.isnan(frame.height_m[0]) and frame.height_m[1] == 5.0
        assert frame.storeys[0] == 2.0 and np.isnan(frame.storeys[1])
        assert shapely.equals(frame.geometry.values, np.asarray(cells, dtype=object)).all()
    empty = fetch_geo(db_conn, ALL_FOOTPRINTS + " WHERE false", srid=SRID)
    assert len(empty) == 0 and "footprint_id" in empty


def test_invalid_geometries_in_the_database_are_repaired_while_reading(db_conn, caplog):
    import logging

    bowtie = shapely.Polygon([(X0 + 10, Y0 + 10), (X0 + 30, Y0 + 30), (X0 + 30, Y0 + 10),
                              (X0 + 10, Y0 + 30), (X0 + 10, Y0 + 10)])
    assert not bowtie.is_valid
    parcels = gpd.GeoDataFrame({"parcel_code": ["P1"], "cert_area_m2": [1600.0]},
                               geometry=[box(X0, Y0, X0 + 40, Y0 + 40)], crs=SRID)
    fps = gpd.GeoDataFrame({"footprint_id": [1, 2], "height_m": [6.0, 6.0], "storeys": [2, 2]},
                           geometry=[bowtie, box(X0 + 1, Y0 + 1, X0 + 5, Y0 + 5)], crs=SRID)
    load(db_conn, parcels, fps)
    with caplog.at_level(logging.WARNING):
        vec = vector_occupancy(db_conn, KernelOptions(), threads=2)
    assert "1 invalid footprint geometries repaired" in caplog.text
    kernel = occupancy_kernel(parcels, fps, KernelOptions())
    assert_same(kernel, vec, rtol=1e-12)
    assert vec.built_m2.iloc[0] == pytest.approx(200.0 + 16.0)   # two triangles + the box
    db_conn.rollback()
