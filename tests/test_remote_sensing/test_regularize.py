import itertools

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


def corner_angles(poly) -> list[float]:
    """Turning angle at each corner of the exterior ring, degrees (signed, -180..180)."""
    import math

    pts = list(poly.exterior.coords)[:-1]
    out = []
    for i, (x, y) in enumerate(pts):
        (px, py), (nx, ny) = pts[i - 1], pts[(i + 1) % len(pts)]
        a = math.atan2(y - py, x - px)
        b = math.atan2(ny - y, nx - x)
        out.append((math.degrees(b - a) + 180) % 360 - 180)
    return out


def test_l_shape_keeps_its_six_corners():
    """Six corners, every one a right angle (five convex, one reflex), walls along the
    building's 12° rotation, and the outline still the building's."""
    import math

    truth = affinity.rotate(shapely.box(20, 20, 80, 60).difference(shapely.box(50, 40, 80, 60)),
                            12, origin=(50, 40))
    reg = regularize_polygon(traced(truth))
    turns = corner_angles(shapely.geometry.polygon.orient(reg, 1.0))
    assert len(turns) == 6
    assert all(abs(abs(t) - 90) < 1.0 for t in turns), turns
    assert sorted(round(t) for t in turns) == [-90, 90, 90, 90, 90, 90]
    pts = list(reg.exterior.coords)
    for (x0, y0), (x1, y1) in itertools.pairwise(pts):
        wall = math.degrees(math.atan2(y1 - y0, x1 - x0)) % 90
        assert min(abs(wall - 12), abs(wall - 12 - 90), abs(wall - 12 + 90)) < 1.5, wall
    assert reg.intersection(truth).area / reg.union(truth).area > 0.95


def test_shared_walls_stay_shared():
    a = traced(shapely.box(10, 10, 50, 40))
    b = affinity.translate(traced(shapely.box(10, 10, 50, 40)), 40, 0)  # shares the wall x = 50
    c = traced(affinity.rotate(shapely.box(60, 60, 100, 90), 17))  # alone: regularized
    out = regularize_all([a, b, c])
    assert out[0].equals(a) and out[1].equals(b)
    assert out[0].intersection(out[1]).length == pytest.approx(30)
    assert out[0].intersection(out[1]).area == 0
    assert len(out[2].exterior.coords) < len(c.exterior.coords)
