import pytest
import shapely
from affine import Affine
from hypothesis import given, settings
from hypothesis import strategies as st
from rasterio.features import rasterize
from shapely import affinity

from remote_sensing.polygonize import label_blobs, polygonize_labels
from remote_sensing.regularize import dominant_angle, regularize_all, regularize_polygon


def traced(geom, size=120):
    m = rasterize([geom], out_shape=(size, size), transform=Affine.identity())
    labels, n = label_blobs(m > 0)
    assert n == 1
    return polygonize_labels(labels)[1]


@settings(deadline=None, max_examples=40)
@given(w=st.floats(12, 60), h=st.floats(12, 60), angle=st.floats(-44, 44), tol=st.sampled_from([0.05, 0.1]))
def test_regularized_outline_is_valid_and_keeps_area(w, h, angle, tol):
    truth = affinity.rotate(shapely.box(60 - w / 2, 60 - h / 2, 60 + w / 2, 60 + h / 2), angle)
    poly = traced(truth)
    reg = regularize_polygon(poly, tolerance=tol)
    assert reg.is_valid and not reg.is_empty
    assert abs(reg.area - poly.area) <= tol * poly.area + 1e-9


def test_rotated_rectangle_becomes_four_orthogonal_walls():
    truth = affinity.rotate(shapely.box(30, 40, 90, 75), 23)
    reg = regularize_polygon(traced(truth))
    assert len(reg.exterior.coords) == 5
    assert dominant_angle(reg) == pytest.approx(23, abs=2)
    assert reg.intersection(truth).area / reg.union(truth).area > 0.95


def test_l_shape_keeps_its_six_corners():
    truth = shapely.box(20, 20, 80, 60).difference(shapely.box(50, 40, 80, 60))
    reg = regularize_polygon(traced(affinity.rotate(truth, 12)))
    assert len(reg.exterior.coords) == 7


def test_shared_walls_stay_shared():
    a = traced(shapely.box(10, 10, 50, 40))
    b = affinity.translate(traced(shapely.box(10, 10, 50, 40)), 40, 0)  # shares the wall x = 50
    c = traced(affinity.rotate(shapely.box(60, 60, 100, 90), 17))  # alone: regularized
    out = regularize_all([a, b, c])
    assert out[0].equals(a) and out[1].equals(b)
    assert out[0].intersection(out[1]).length == pytest.approx(30)
    assert out[0].intersection(out[1]).area == 0
    assert len(out[2].exterior.coords) < len(c.exterior.coords)
