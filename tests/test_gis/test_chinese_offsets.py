"""gis.chinese_offsets: GCJ-02/BD-09 display transforms and their inverses."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from pyproj import Geod

from gis.chinese_offsets import (
    bd09_to_gcj02,
    bd09_to_wgs84,
    display_copy,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    gcj02_to_wgs84_approx,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)
from gis.crs import in_china

GEOD = Geod(ellps="WGS84")


def metres(lon1, lat1, lon2, lat2):
    return GEOD.inv(lon1, lat1, lon2, lat2)[2]


china_points = st.tuples(st.floats(73.6, 134.7), st.floats(18.2, 53.4)).filter(
    lambda p: in_china(*p)
)


@settings(max_examples=300, deadline=None)
@given(china_points)
def test_offset_inside_china_is_tens_to_hundreds_of_metres(point):
    lon, lat = point
    glon, glat = wgs84_to_gcj02(lon, lat)
    d = metres(lon, lat, glon, glat)
    assert 10 < d < 750
    if lon >= 105:  # the populated east: always a few hundred metres
        assert 100 < d < 750


@settings(max_examples=300, deadline=None)
@given(china_points)
def test_iterative_inverse_round_trip_is_far_below_half_a_metre(point):
    lon, lat = point
    glon, glat = wgs84_to_gcj02(lon, lat)
    assume(in_china(glon, glat))  # within < 1 km of the outline the inverse may not offset
    wlon, wlat = gcj02_to_wgs84(glon, glat)
    assert metres(lon, lat, wlon, wlat) < 0.5
    assert abs(wlon - lon) <= 1e-6 and abs(wlat - lat) <= 1e-6  # in fact ~1e-9


def test_round_trip_on_a_dense_grid():
    lon, lat = np.meshgrid(np.arange(74, 135, 0.37), np.arange(18.3, 53.5, 0.29))
    lon, lat = lon.ravel(), lat.ravel()
    keep = in_china(lon, lat)
    lon, lat = lon[keep], lat[keep]
    glon, glat = wgs84_to_gcj02(lon, lat)
    keep = in_china(glon, glat)
    assert keep.mean() > 0.99
    wlon, wlat = gcj02_to_wgs84(glon[keep], glat[keep])
    error = metres(lon[keep], lat[keep], wlon, wlat)
    assert error.max() < 0.01
    alon, alat = gcj02_to_wgs84_approx(glon[keep], glat[keep])
    approx = metres(lon[keep], lat[keep], alon, alat)
    assert 0.05 < approx.max() < 5  # one step: metre-level, clearly worse than iterating
    assert approx.max() > 100 * error.max()


@pytest.mark.parametrize(
    ("lon", "lat"),
    [(2.35, 48.85), (-74.0, 40.7), (126.98, 37.57), (139.69, 35.69), (24.94, 60.17),
     (106.91, 47.92), (151.2, -33.9)],
)
def test_no_offset_outside_china(lon, lat):
    assert wgs84_to_gcj02(lon, lat) == (lon, lat)
    assert gcj02_to_wgs84(lon, lat) == (lon, lat)
    assert gcj02_to_wgs84_approx(lon, lat) == (lon, lat)


def test_beijing_shift_is_east_and_north():
    lon, lat = 116.3975, 39.9087  # Tiananmen
    glon, glat = wgs84_to_gcj02(lon, lat)
    assert 0.004 < glon - lon < 0.008  # ~500 m east
    assert 0.0005 < glat - lat < 0.003  # ~150 m north


def test_bd09_is_a_further_offset_of_about_0_006_degrees():
    g = (116.40, 39.91)
    b = gcj02_to_bd09(*g)
    assert b[0] - g[0] == pytest.approx(0.0065, abs=0.0005)
    assert b[1] - g[1] == pytest.approx(0.0060, abs=0.0015)
    back = bd09_to_gcj02(*b)
    assert back == pytest.approx(g, abs=1e-9)


@settings(max_examples=200, deadline=None)
@given(china_points)
def test_bd09_round_trips(point):
    lon, lat = point
    blon, blat = wgs84_to_bd09(lon, lat)
    glon, glat = wgs84_to_gcj02(lon, lat)
    assume(in_china(glon, glat))
    wlon, wlat = bd09_to_wgs84(blon, blat)
    assert metres(lon, lat, wlon, wlat) < 0.5


def test_vectorized_matches_scalar_and_keeps_shape():
    lon = np.array([[120.6, 116.4], [2.35, 87.6]])
    lat = np.array([[31.3, 39.9], [48.85, 43.8]])
    glon, glat = wgs84_to_gcj02(lon, lat)
    assert glon.shape == (2, 2) and glat.shape == (2, 2)
    for i in range(2):
        for j in range(2):
            assert (glon[i, j], glat[i, j]) == wgs84_to_gcj02(lon[i, j], lat[i, j])
    assert isinstance(wgs84_to_gcj02(120.6, 31.3)[0], float)
    assert lon[0, 0] == 120.6  # inputs are not modified in place


def test_display_copy_moves_a_copy_and_keeps_the_original():
    gdf = gpd.GeoDataFrame(
        {"name": ["黄桥镇"]}, geometry=[shapely.box(120.60, 31.30, 120.61, 31.31)], crs=4490
    ).to_crs(4549)
    before = gdf.geometry[0]
    shown = display_copy(gdf, "gcj02")
    assert gdf.geometry[0].equals(before) and gdf.crs.to_epsg() == 4549
    assert shown.crs.to_epsg() == 4326 and shown.loc[0, "name"] == "黄桥镇"
    x0, y0 = np.asarray(gdf.to_crs(4326).geometry[0].exterior.coords)[0]
    gx, gy = np.asarray(shown.geometry[0].exterior.coords)[0]
    assert (gx, gy) == pytest.approx(wgs84_to_gcj02(x0, y0), abs=1e-12)
    with pytest.raises(ValueError, match="wgs84->gcj02"):
        display_copy(gdf, "mercator")
