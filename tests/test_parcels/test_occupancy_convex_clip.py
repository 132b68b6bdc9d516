"""The numpy convex clipper against GEOS: same area and boundary length of parcel ∩ piece."""

from __future__ import annotations

import numpy as np
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely import affinity, box

from parcels.occupancy.convex_clip import clip_convex, convex_rings

X0, Y0 = 528_000.0, 3_441_000.0            # projected magnitudes: precision matters there
ORIGIN = np.array([X0, Y0])


@st.composite
def convex_pairs(draw):
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n = draw(st.integers(1, 40))
    a, b = [], []
    for _ in range(n):
        pts = rng.uniform(0, 60, (int(rng.integers(3, 12)), 2)) + ORIGIN
        hull = shapely.convex_hull(shapely.multipoints(pts))        # a parcel
        if hull.geom_type != "Polygon":
            hull = box(X0, Y0, X0 + 50, Y0 + 40)
        cx, cy = rng.uniform(-10, 70, 2) + ORIGIN
        w, h = rng.uniform(0.2, 40, 2)
        rect = affinity.rotate(box(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2),
                               rng.uniform(0, 180))                  # a building
        if rng.random() < 0.2:                                       # shares an edge
            rect = shapely.Polygon([*list(hull.exterior.coords)[:3], hull.exterior.coords[0]])
        if rng.random() < 0.5:
            rect = rect.reverse()                                    # clockwise ring
        a.append(hull)
        b.append(rect)
    return np.array(a, dtype=object), np.array(b, dtype=object)


@settings(max_examples=60, deadline=None)
@given(convex_pairs())
def test_area_and_length_match_geos(pairs):
    a, b = pairs
    ax, ay, an, aok = convex_rings(a)
    bx, by, bn, bok = convex_rings(b)
    assert aok.all() and bok.all()
    area, length = clip_convex(ax, ay, an, bx, by, bn)
    parts = shapely.intersection(a, b)
    want_area = shapely.area(parts)
    np.testing.assert_allclose(area, want_area, rtol=1e-9, atol=1e-7)
    polygonal = want_area > 1e-6
    # GEOS rounds result vertices to global coordinates (ulp ~5e-10 m here)
    np.testing.assert_allclose(length[polygonal], shapely.length(parts)[polygonal], rtol=1e-9,
                               atol=1e-8)
    assert (length[area == 0] == 0).all()


def test_only_simple_convex_polygons_qualify():
    square = box(0, 0, 10, 10)
    geoms = np.array([
        square,
        shapely.Polygon([(0, 0), (10, 0), (10, 10), (5, 4), (0, 10)]),       # concave
        square.difference(box(4, 4, 6, 6)),                                 # a hole
        shapely.MultiPolygon([square, box(20, 0, 30, 10)]),
        shapely.Polygon([(0, 0), (5, 0), (10, 0), (10, 10), (0, 10)]),      # collinear: fine
        shapely.Polygon([(x, y) for x, y in np.c_[np.cos(np.linspace(0, 6.2, 40)),
                                                  np.sin(np.linspace(0, 6.2, 40))]]),
        shapely.Polygon(),
    ], dtype=object)
    _, _, counts, ok = convex_rings(geoms)
    assert ok.tolist() == [True, False, False, False, True, False, False]   # 40 > 16 vertices
    assert counts.tolist() == [4, 0, 0, 0, 5, 0, 0]


def test_disjoint_and_touching_pairs_measure_zero():
    a = np.array([box(0, 0, 10, 10), box(0, 0, 10, 10)], dtype=object)
    b = np.array([box(20, 0, 30, 10), box(10, 0, 20, 10)], dtype=object)
    ax, ay, an, _ = convex_rings(a)
    bx, by, bn, _ = convex_rings(b)
    area, length = clip_convex(ax, ay, an, bx, by, bn)
    assert area.tolist() == [0.0, 0.0] and length.tolist() == [0.0, 0.0]
