"""Real data: OSM industrial land use (as parcels) and buildings from southern Finland."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from gis.db.copy import copy_frame
from gis.db.srid import set_working_srid
from gis.vector_io import read_vector
from parcels.occupancy.kernel import KernelOptions, footprint_parts, occupancy_kernel
from parcels.occupancy.postgis_engine import postgis_occupancy
from parcels.occupancy.vector_engine import vector_occupancy

UTM35N = 32635


@pytest.fixture(scope="module")
def osm(shared_data):
    path = shared_data / "osm-industrial" / "osm_landuse_buildings.gpkg"
    landuse = read_vector(path, layer="landuse")
    parcels = landuse[landuse["landuse"] == "industrial"].to_crs(UTM35N)
    parcels["geometry"] = shapely.make_valid(parcels.geometry.values)  # as an import would
    parcels = parcels[parcels.area > 0].reset_index(drop=True)       # one clipped sliver
    parcels["parcel_code"] = "OSM" + parcels["osm_way_id"].fillna(parcels["osm_id"]).astype(str)
    buildings = read_vector(path, layer="buildings").to_crs(UTM35N)
    buildings["geometry"] = shapely.make_valid(buildings.geometry.values)  # as an import would
    buildings = buildings[buildings.geom_type.isin(["Polygon", "MultiPolygon"])]
    buildings = buildings.reset_index(drop=True)
    buildings["footprint_id"] = np.arange(1, len(buildings) + 1)
    return parcels, buildings


def test_osm_industrial_coverage_is_plausible(osm):
    parcels, buildings = osm
    assert len(parcels) == 9 and len(buildings) > 2000
    out = occupancy_kernel(parcels, buildings, KernelOptions())
    assert (out.coverage >= 0).all() and (out.coverage <= 1).all()
    big = out[out.area_m2 > 5000]
    # industrial estates: buildings cover a tenth to a half of the land
    assert ((big.coverage > 0.1) & (big.coverage < 0.5)).all(), big
    total = out.built_m2.sum() / out.area_m2.sum()
    assert 0.15 < total < 0.35
    assert out.n_buildings.sum() >= 80
    # no height data in OSM here: floor area = built area (one storey each)
    np.testing.assert_allclose(out.floor_area_m2, out.built_m2)
    # exact: per parcel, built + slivers = area(union of buildings ∩ parcel)
    # (OSM industrial polygons overlap a little, so this is checked parcel by parcel)
    parts = footprint_parts(parcels, buildings)
    per_parcel = parts.assign(t=parts.built_m2 + parts.sliver_m2).groupby("parcel_code").t.sum()
    union = shapely.union_all(np.asarray(buildings.geometry.values))
    expected = shapely.area(shapely.intersection(np.asarray(parcels.geometry.values), union))
    got = per_parcel.reindex(parcels.parcel_code).fillna(0.0).to_numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-6)


def test_osm_engines_agree(osm, db_conn):
    parcels, buildings = osm
    set_working_srid(db_conn, UTM35N)
    copy_frame(db_conn, "parcel", parcels[["parcel_code", "geometry"]].rename_geometry("geom"))
    copy_frame(db_conn, "footprint",
               buildings[["footprint_id", "geometry"]].rename_geometry("geom"))
    options = KernelOptions()
    kernel = occupancy_kernel(parcels, buildings, options).set_index("parcel_code").sort_index()
    for engine in (postgis_occupancy, vector_occupancy):
        got = engine(db_conn, options).set_index("parcel_code").sort_index()
        assert got.n_buildings.tolist() == kernel.n_buildings.tolist()
        np.testing.assert_allclose(got.built_m2, kernel.built_m2, rtol=1e-9)
        np.testing.assert_allclose(got.floor_area_m2, kernel.floor_area_m2, rtol=1e-9)
