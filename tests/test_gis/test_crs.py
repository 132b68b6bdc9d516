"""gis.crs: working CRS choice, mu, China test, swapped-axis detection, CRS assignment."""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from pyproj import CRS, Geod
from pyproj.aoi import AreaOfInterest
from pyproj.database import query_utm_crs_info

from gis.china_outline import china_polygon
from gis.crs import (
    SQM_PER_MU,
    cgcs2000_zone_epsg,
    check_coordinates,
    ensure_crs,
    in_china,
    lonlat_transformer,
    looks_swapped,
    m2_to_mu,
    mu_to_m2,
    swap_xy,
    utm_epsg,
    working_crs_for,
    zone_central_meridian,
)
from gis.errors import ConfigError, CRSError, EmptyInputError
from gis.settings import load_settings

# ----------------------------------------------------------------- mu


def test_one_mu_is_a_fifteenth_of_a_hectare():
    assert pytest.approx(666.6666666667, rel=1e-12) == SQM_PER_MU
    assert mu_to_m2(1) == pytest.approx(666.666666667)
    assert m2_to_mu(10_000) == pytest.approx(15.0)
    assert m2_to_mu(666_666.666667) == pytest.approx(1000.0)  # 1 km² = 1500 mu
    assert m2_to_mu(1e6) == pytest.approx(1500.0)


def test_mu_conversions_are_array_friendly():
    out = m2_to_mu(np.array([0.0, 10_000.0, 20_000.0]))
    np.testing.assert_allclose(out, [0, 15, 30])
    np.testing.assert_allclose(mu_to_m2([15, 30]), [10_000, 20_000])
    series = m2_to_mu(pd.Series([10_000.0, 5_000.0], index=["a", "b"]))
    assert series.index.tolist() == ["a", "b"] and series["a"] == pytest.approx(15)


@given(st.floats(min_value=0, max_value=1e12, allow_nan=False))
def test_mu_round_trip(area):
    assert mu_to_m2(m2_to_mu(area)) == pytest.approx(area, rel=1e-12, abs=1e-9)


# ----------------------------------------------------------------- zones


@pytest.mark.parametrize(
    ("lon", "epsg"),
    [(120.6, 4549), (117.0, 4548), (118.49, 4548), (118.51, 4549), (75.0, 4534),
     (73.5, 4534), (135.0, 4554), (136.4, 4554), (87.6, 4538), (114.05, 4547)],
)
def test_cgcs2000_zone_known_answers(lon, epsg):
    assert cgcs2000_zone_epsg(lon) == epsg


@pytest.mark.parametrize("epsg", range(4534, 4555))
def test_zone_formula_matches_the_epsg_database(epsg):
    """EPSG = 4534 + (CM − 75)/3, checked against PROJ's definition of each zone."""
    crs = CRS.from_epsg(epsg)
    cm = zone_central_meridian(epsg)
    assert f"CM {cm}E" in crs.name
    assert crs.geodetic_crs.name == "China Geodetic Coordinate System 2000"
    lon0 = next(p.value for p in crs.coordinate_operation.params if "longitude" in p.name.lower())
    assert lon0 == cm
    assert cgcs2000_zone_epsg(cm) == epsg


@given(st.floats(min_value=73.5, max_value=135.0))
def test_zone_central_meridian_is_within_1_5_degrees(lon):
    epsg = cgcs2000_zone_epsg(lon)
    assert 4534 <= epsg <= 4554
    assert abs(zone_central_meridian(epsg) - lon) <= 1.5 + 1e-9


@pytest.mark.parametrize("lon", [60.0, 73.4, 136.6, -120.0])
def test_longitudes_outside_the_zones_are_refused(lon):
    with pytest.raises(CRSError, match="working_crs"):
        cgcs2000_zone_epsg(lon)


@pytest.mark.parametrize(
    ("lon", "lat", "epsg"),
    [(24.94, 60.17, 32635), (26.95, 60.53, 32635), (13.4, 52.5, 32633), (-0.13, 51.5, 32630),
     (-74.0, 40.7, 32618), (151.2, -33.9, 32756), (5.3, 60.4, 32632),  # Bergen: zone 32V
     (15.6, 78.2, 32633), (179.9, 0.0, 32660), (-180.0, 10.0, 32601), (0.0, 88.0, 32661),
     (0.0, -85.0, 32761)],
)
def test_utm_known_answers(lon, lat, epsg):
    assert utm_epsg(lon, lat) == epsg


@settings(max_examples=15, deadline=None)
@given(st.floats(-179.9, 179.9), st.floats(-79.9, 83.9))
def test_utm_zone_contains_the_point_per_proj(lon, lat):
    assume(abs((lon + 180) / 6 - round((lon + 180) / 6)) > 1e-9)  # zone edges belong to both
    # PROJ's areas of use are the plain 6° strips: skip the Norway/Svalbard exceptions
    # (tested by known answers above)
    assume(not (56 <= lat < 64 and 3 <= lon < 12) and not (lat >= 72 and 0 <= lon < 42))
    candidates = {
        int(info.code)
        for info in query_utm_crs_info(
            datum_name="WGS 84", area_of_interest=AreaOfInterest(lon, lat, lon, lat)
        )
    }
    assert utm_epsg(lon, lat) in candidates


# ----------------------------------------------------------------- China

INSIDE = {
    "Beijing": (116.40, 39.90), "Shanghai": (121.47, 31.23), "Suzhou": (120.62, 31.30),
    "Guangzhou": (113.26, 23.13), "Shenzhen": (114.06, 22.54), "Urumqi": (87.62, 43.83),
    "Kashgar": (75.99, 39.47), "Lhasa": (91.13, 29.65), "Kunming": (102.83, 25.02),
    "Harbin": (126.63, 45.75), "Haikou": (110.33, 20.03), "Sanya": (109.51, 18.25),
    "Hohhot": (111.75, 40.84), "Chengdu": (104.07, 30.67), "Qingdao": (120.38, 36.07),
    "Dalian": (121.61, 38.91), "Xiamen": (118.09, 24.48), "Mohe": (122.54, 52.97),
    "Altay": (88.13, 47.85), "Jinghong": (100.80, 22.01), "Zhoushan": (122.21, 29.99),
}
OUTSIDE = {
    "Helsinki": (24.94, 60.17), "Seoul": (126.98, 37.57), "Pyongyang": (125.75, 39.03),
    "Tokyo": (139.69, 35.69), "Ulaanbaatar": (106.91, 47.92), "Hanoi": (105.85, 21.03),
    "Vientiane": (102.63, 17.97), "Yangon": (96.16, 16.87), "Kathmandu": (85.32, 27.72),
    "New Delhi": (77.21, 28.61), "Almaty": (76.89, 43.24), "Bishkek": (74.59, 42.87),
    "Vladivostok": (131.89, 43.12), "Khabarovsk": (135.07, 48.48), "Thimphu": (89.64, 27.47),
    "Taipei": (121.56, 25.04), "Manila": (120.98, 14.60), "Mandalay": (96.08, 21.96),
    "Dushanbe": (68.78, 38.56), "Irkutsk": (104.28, 52.29),
}


@pytest.mark.parametrize("name", INSIDE)
def test_cities_inside_china(name):
    assert in_china(*INSIDE[name]) is True


@pytest.mark.parametrize("name", OUTSIDE)
def test_cities_outside_china(name):
    assert in_china(*OUTSIDE[name]) is False


def test_in_china_is_vectorized():
    lon = np.array([v[0] for v in INSIDE.values()] + [v[0] for v in OUTSIDE.values()])
    lat = np.array([v[1] for v in INSIDE.values()] + [v[1] for v in OUTSIDE.values()])
    result = in_china(lon, lat)
    assert result.dtype == bool and result.shape == lon.shape
    assert result.tolist() == [True] * len(INSIDE) + [False] * len(OUTSIDE)


def test_outline_is_valid_and_about_the_size_of_china():
    polygon = china_polygon()
    assert polygon.is_valid
    area_km2 = abs(Geod(ellps="WGS84").geometry_area_perimeter(polygon)[0]) / 1e6
    assert 9.2e6 < area_km2 < 10.0e6  # land area 9.6 M km², Taiwan out, some coastal sea in


# ----------------------------------------------------------------- working CRS


def _points(lonlats, crs=4326):
    return gpd.GeoDataFrame(geometry=[shapely.Point(x, y) for x, y in lonlats], crs=crs)


def test_working_crs_in_suzhou_is_zone_cm_120():
    assert working_crs_for((120.5, 31.1, 120.8, 31.4)).to_epsg() == 4549
    assert working_crs_for(_points([(120.5, 31.1), (120.8, 31.4)], crs=4490)).to_epsg() == 4549


def test_working_crs_follows_the_centre_longitude():
    assert working_crs_for(_points([(116.9, 36.6), (117.1, 36.7)])).to_epsg() == 4548
    assert working_crs_for(_points([(87.5, 43.8), (87.7, 43.9)])).to_epsg() == 4538


def test_working_crs_from_projected_data():
    projected = _points([(120.5, 31.1), (120.8, 31.4)]).to_crs(3857)
    assert working_crs_for(projected).to_epsg() == 4549
    in_zone = _points([(116.9, 36.6), (117.1, 36.7)]).to_crs(4549)  # data in the wrong zone
    assert working_crs_for(in_zone).to_epsg() == 4548


def test_working_crs_outside_china_is_utm():
    assert working_crs_for(_points([(13.3, 52.4), (13.5, 52.6)])).to_epsg() == 32633
    assert working_crs_for(_points([(-43.3, -22.95), (-43.1, -22.85)])).to_epsg() == 32723
    assert working_crs_for(_points([(121.5, 25.0), (121.6, 25.1)])).to_epsg() == 32651  # Taipei


def test_working_crs_for_the_finnish_osm_data_is_utm_35n(shared_data):
    path = shared_data / "osm-industrial" / "osm_landuse_buildings.gpkg"
    gdf = pyogrio.read_dataframe(path, layer="landuse", on_invalid="ignore")
    lon = (gdf.total_bounds[0] + gdf.total_bounds[2]) / 2
    assert 24 <= lon < 30  # UTM zone 35 spans 24°E–30°E
    crs = working_crs_for(gdf)
    assert crs.to_epsg() == 32635
    assert crs.is_projected


def test_setting_overrides_the_working_crs(tmp_path):
    chosen = load_settings({"home": str(tmp_path), "working_crs": "4547"}, environ={})
    crs = working_crs_for(_points([(120.5, 31.1)]), chosen)
    assert crs.to_epsg() == 4547
    auto = load_settings({"home": str(tmp_path)}, environ={})
    assert working_crs_for(_points([(120.5, 31.1)]), auto).to_epsg() == 4549


def test_geographic_working_crs_setting_is_refused(tmp_path):
    s = load_settings({"home": str(tmp_path), "working_crs": "EPSG:4490"}, environ={})
    with pytest.raises(ConfigError, match="not projected"):
        working_crs_for((120.5, 31.1, 120.8, 31.4), s)


def test_working_crs_needs_a_crs_and_geometries():
    with pytest.raises(CRSError, match="--crs"):
        working_crs_for(gpd.GeoDataFrame(geometry=[shapely.Point(120, 31)]))
    with pytest.raises(EmptyInputError):
        working_crs_for(gpd.GeoDataFrame(geometry=[], crs=4326))


def test_axis_order_is_always_easting_northing():
    to_zone = lonlat_transformer(4549, to_lonlat=False)
    x, y = to_zone.transform(120.6, 31.3)
    assert 500_000 < x < 600_000  # ~57 km east of CM 120°E (false easting 500 km)
    assert 3_400_000 < y < 3_500_000
    lon, lat = lonlat_transformer(4549).transform(x, y)
    assert (lon, lat) == pytest.approx((120.6, 31.3), abs=1e-9)
    assert CRS.from_epsg(4549).axis_info[0].direction == "north"  # why always_xy matters


# ----------------------------------------------------------------- swapped axes


def test_correct_data_is_not_flagged():
    assert not looks_swapped(_points([(120.6, 31.3), (120.7, 31.4)]))
    assert not looks_swapped(_points([(24.9, 60.2)]))  # Finland
    assert not looks_swapped(_points([(151.2, -33.9)]))  # Sydney
    assert not looks_swapped(_points([(-150.0, 61.2)]))  # Anchorage
    assert not looks_swapped(_points([(500000, 3460000)], crs=4549))  # projected: not judged


def test_swapped_chinese_data_is_flagged():
    assert looks_swapped(_points([(31.3, 120.6), (31.4, 120.7)]))  # y beyond 90
    assert looks_swapped(_points([(43.8, 87.6), (43.9, 87.7)]))  # Urumqi: both orders in range


@settings(max_examples=100, deadline=None)
@given(st.floats(73.5, 135.0), st.floats(18.0, 53.5))
def test_any_point_in_china_is_flagged_only_when_swapped(lon, lat):
    assume(in_china(lon, lat))
    gdf = _points([(lon, lat)])
    assert not looks_swapped(gdf)
    assert looks_swapped(swap_xy(gdf))


@settings(max_examples=200, deadline=None)
@given(st.floats(-180, 180), st.floats(-71.9, 71.9))
def test_legitimate_data_anywhere_is_never_flagged(lon, lat):
    assert not looks_swapped(_points([(lon, lat)]))


def test_swap_xy_keeps_columns_crs_and_missing_geometries():
    gdf = gpd.GeoDataFrame({"a": [1, 2]}, geometry=[shapely.Point(1, 2), None], crs=4326)
    out = swap_xy(gdf)
    assert out.geometry[0].equals(shapely.Point(2, 1)) and out.geometry[1] is None
    assert out.crs == gdf.crs and out["a"].tolist() == [1, 2]
    assert gdf.geometry[0].equals(shapely.Point(1, 2))  # input untouched


def test_check_coordinates():
    check_coordinates(_points([(120.6, 31.3)]))  # fine
    check_coordinates(_points([(500000, 3460000)], crs=4549))  # projected: fine
    with pytest.raises(CRSError, match="swapped"):
        check_coordinates(_points([(31.3, 120.6)]), source="parcels.shp")
    with pytest.raises(CRSError, match=r"parcels\.shp.*not degrees.*--crs"):
        check_coordinates(_points([(500000, 3460000)], crs=4490), source="parcels.shp")


# ----------------------------------------------------------------- ensure_crs


def test_missing_crs_is_an_error_that_says_what_to_do():
    gdf = gpd.GeoDataFrame(geometry=[shapely.Point(500000, 3460000)])
    with pytest.raises(CRSError, match=r"^parcels\.shp: .*--crs") as info:
        ensure_crs(gdf, source="parcels.shp")
    assert info.value.source == "parcels.shp"


@pytest.mark.parametrize("given_crs", [4549, "4549", "EPSG:4549", CRS.from_epsg(4549)])
def test_given_crs_is_assigned_without_transforming(given_crs):
    gdf = gpd.GeoDataFrame(geometry=[shapely.Point(500000, 3460000)])
    out = ensure_crs(gdf, given_crs)
    assert out.crs.to_epsg() == 4549
    assert out.geometry[0].equals(shapely.Point(500000, 3460000))


def test_given_crs_overrides_a_declared_one_with_a_warning(caplog):
    gdf = _points([(500000, 3460000)], crs=4326)
    with caplog.at_level(logging.WARNING, logger="gis.crs"):
        out = ensure_crs(gdf, 4549, source="bad_prj.shp")
    assert out.crs.to_epsg() == 4549
    assert "bad_prj.shp" in caplog.text and "replaced" in caplog.text
    caplog.clear()
    ensure_crs(_points([(120, 31)], crs=4326), "EPSG:4326")
    assert caplog.text == ""


def test_invalid_crs_is_an_error():
    with pytest.raises(CRSError, match="not a valid CRS"):
        ensure_crs(_points([(1, 1)]), "EPSG:999999", source="x.shp")


def test_declared_crs_is_kept():
    gdf = _points([(120, 31)], crs=4490)
    assert ensure_crs(gdf) is gdf


def _mu_spellings(path):
    """Lines of ``path`` that spell the mu out (10000/15, 2000/3, 666.6…) instead of naming it."""
    import ast

    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (isinstance(node, ast.Constant) and isinstance(node.value, float | int) \
                and not isinstance(node.value, bool) and 666.6 <= node.value <= 666.7) or (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div) \
                and isinstance(node.left, ast.Constant) and isinstance(node.right, ast.Constant) \
                and (node.left.value, node.right.value) in ((10000, 15), (2000, 3), (1, 15))):
            found.append(node.lineno)
    return found


def test_the_mu_is_defined_once():
    """Every package uses ``gis.crs.SQM_PER_MU``; nothing else spells 666.67 m² out."""
    from pathlib import Path

    repo = Path(__file__).resolve().parents[2]
    spelled = {}
    for package in ("gis", "parcels", "remote_sensing", "scoring", "maps", "sample", "benchmarks"):
        for path in (repo / package).rglob("*.py"):
            lines = _mu_spellings(path)
            if lines and path != repo / "gis" / "crs.py":
                spelled[str(path.relative_to(repo))] = lines
    assert not spelled
    assert _mu_spellings(repo / "gis" / "crs.py")  # the one definition
