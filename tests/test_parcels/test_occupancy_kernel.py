"""The pure occupancy kernel: known answers and hypothesis properties on random layouts."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely import affinity, box

from gis.errors import DataError
from parcels.occupancy.kernel import (
    KernelOptions,
    footprint_parts,
    occupancy_kernel,
    prepare_footprints,
)
from parcels.occupancy.storeys import floor_weights

CRS = "EPSG:32635"


def frame(geoms, crs=CRS, **cols):
    return gpd.GeoDataFrame(cols, geometry=list(geoms), crs=crs)


def two_parcels():
    return frame([box(0, 0, 100, 100), box(100, 0, 200, 100)], parcel_code=["A", "B"],
                 cert_area_m2=[9000.0, None])


# ---------------------------------------------------------------- known answers


def test_storey_weights_2008_rule():
    got = floor_weights(
        [12.0, 16.0, 10.5, None, 7.0, 8.0, 8.01, 30.0, 0.0],
        [1, 2, 3, None, None, 1, 1, None, 2], storey_height_m=3.5)
    #   12 m/1 > 8: 2 | 8 m each: 2 | 3.5 m: 3 | unknown: 1 | 7/3.5 -> 2 storeys
    #   exactly 8 m: 1 | 8.01 m: 2 | 30/3.5 -> 9 storeys of 3.33 m | no height, 2 storeys
    assert got.tolist() == [2.0, 2.0, 3.0, 1.0, 2.0, 1.0, 2.0, 9.0, 2.0]


def test_floor_area_counts_high_storeys_double():
    fps = frame([box(10, 10, 20, 20), box(30, 30, 40, 40), box(50, 50, 60, 60)],
                height_m=[12.0, 7.5, None], storeys=[1, 1, 4])
    row = occupancy_kernel(two_parcels(), fps).iloc[0]
    # 100 m² × 2 (12 m storey) + 100 × 1 (7.5 m) + 100 × 4 (recorded storeys)
    assert row.floor_area_m2 == pytest.approx(700.0)
    assert row.built_m2 == pytest.approx(300.0)
    assert row.far == pytest.approx(0.07)
    assert row.coverage == pytest.approx(0.03)
    assert row.n_buildings == 3


def test_areas_and_certificate_difference():
    fps = frame([box(10, 10, 60, 50)], height_m=[6.0], storeys=[2])
    out = occupancy_kernel(two_parcels(), fps).set_index("parcel_code")
    assert out.loc["A", "area_m2"] == 10000.0
    assert out.loc["A", "cert_diff_m2"] == 1000.0
    assert np.isnan(out.loc["B", "cert_diff_m2"])
    assert out.loc["B", "built_m2"] == 0.0 and out.loc["B", "n_buildings"] == 0
    assert out.loc["A", "floor_area_m2"] == pytest.approx(4000.0)


def test_overlapping_dirty_footprints_are_unioned():
    a = box(10, 10, 30, 30)
    fps = frame([a, a, box(20, 20, 40, 40)], footprint_id=[7, 8, 9],
                height_m=[4.0, 4.0, 12.0], storeys=[1, 1, 1])
    row = occupancy_kernel(two_parcels(), fps).iloc[0]
    union = shapely.union_all([a, box(20, 20, 40, 40)]).area          # 700 m²
    assert row.built_m2 == pytest.approx(union)
    # the 12 m hall (weight 2) wins its 400 m², the duplicate pair keeps 300 m² once
    assert row.floor_area_m2 == pytest.approx(400 * 2 + 300 * 1)
    # footprint 8 duplicates 7 (same weight, higher id): empty piece, not a building;
    # footprint 7 keeps 300 of 400 m² (>= 0.5) and still counts
    assert row.n_buildings == 2
    prep = prepare_footprints(fps)
    assert prep.piece_area.tolist() == pytest.approx([300.0, 0.0, 400.0])


def test_misregistration_sliver_does_not_count_for_the_neighbour():
    shifted = box(80.3, 40, 100.3, 60)                       # 0.3 m over the boundary into B
    fps = frame([shifted], height_m=[6.0], storeys=[1])
    opts = KernelOptions(min_overlap_ratio=0.5, sliver_tolerance_m=0.5)
    out = occupancy_kernel(two_parcels(), fps, opts).set_index("parcel_code")
    assert out.loc["A", "built_m2"] == pytest.approx(19.7 * 20)
    assert out.loc["B", "built_m2"] == 0.0
    assert out.loc["B", "sliver_m2"] == pytest.approx(0.3 * 20)
    assert out.loc["A", "n_buildings"] == 1 and out.loc["B", "n_buildings"] == 0
    # with the rule off the strip is built in B
    off = occupancy_kernel(two_parcels(), fps, KernelOptions(sliver_tolerance_m=0))
    assert off.set_index("parcel_code").loc["B", "built_m2"] == pytest.approx(6.0)
    # a 0.6 m strip is thicker than the tolerance: built in B
    wide = occupancy_kernel(two_parcels(), frame([box(80.6, 40, 100.6, 60)]), opts)
    assert wide.set_index("parcel_code").loc["B", "built_m2"] == pytest.approx(12.0)


def test_thin_building_on_the_parcel_boundary_still_counts():
    wall = box(0, 10, 0.3, 90)          # a 0.3 m wide structure along A's western boundary
    out = occupancy_kernel(two_parcels(), frame([wall]))
    assert out.iloc[0].built_m2 == pytest.approx(0.3 * 80)
    assert out.iloc[0].n_buildings == 1


@pytest.mark.parametrize(("ratio", "a_count", "b_count"), [(0.5, 1, 1), (0.6, 0, 0),
                                                            (0.0, 1, 1)])
def test_building_count_overlap_ratio(ratio, a_count, b_count):
    straddling = frame([box(90, 10, 110, 30)])               # exactly half in each parcel
    out = occupancy_kernel(two_parcels(), straddling, KernelOptions(min_overlap_ratio=ratio))
    assert out.n_buildings.tolist() == [a_count, b_count]
    assert out.built_m2.tolist() == pytest.approx([200.0, 200.0])


def test_geographic_parcels_rejected():
    with pytest.raises(DataError, match="reproject"):
        occupancy_kernel(two_parcels().set_crs("EPSG:4326", allow_override=True),
                         frame([box(1, 1, 2, 2)], crs="EPSG:4326"))


def test_invalid_footprint_repaired():
    bowtie = shapely.Polygon([(10, 10), (30, 30), (30, 10), (10, 30)])
    out = occupancy_kernel(two_parcels(), frame([bowtie]))
    assert out.iloc[0].built_m2 == pytest.approx(200.0)


def test_no_footprints_and_no_parcels():
    out = occupancy_kernel(two_parcels(), frame([]))
    assert out.built_m2.tolist() == [0.0, 0.0] and out.n_buildings.tolist() == [0, 0]
    empty = occupancy_kernel(frame([], parcel_code=[]), frame([box(0, 0, 1, 1)]))
    assert len(empty) == 0


# ---------------------------------------------------------------- random layouts


@st.composite
def layouts(draw):
    """Voronoi parcels tiling a 200 m square, random rotated rectangles as footprints."""
    seed = draw(st.integers(0, 2**32 - 1))
    n_parcels = draw(st.integers(1, 12))
    n_fp = draw(st.integers(0, 25))
    rng = np.random.default_rng(seed)
    domain = box(0, 0, 200, 200)
    pts = shapely.multipoints(rng.uniform(0, 200, (n_parcels, 2)))
    cells = shapely.get_parts(shapely.voronoi_polygons(pts, extend_to=domain))
    cells = [c for c in shapely.intersection(cells, domain) if c.area > 0]
    parcels = frame(cells, parcel_code=[f"P{i}" for i in range(len(cells))])
    geoms = []
    for _ in range(n_fp):
        cx, cy = rng.uniform(30, 170, 2)   # rotated, stays inside the domain
        w, h = rng.uniform(0.2, 40, 2)
        geoms.append(affinity.rotate(box(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2),
                                     rng.uniform(0, 90)))
    fps = frame(geoms, footprint_id=np.arange(n_fp) * 3 + 1,
                height_m=rng.uniform(3, 20, n_fp), storeys=rng.integers(0, 4, n_fp))
    tol = draw(st.sampled_from([0.0, 0.5, 2.0]))
    ratio = draw(st.sampled_from([0.0, 0.3, 0.5, 1.0]))
    return parcels, fps, KernelOptions(min_overlap_ratio=ratio, sliver_tolerance_m=tol)


PROPS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPS
@given(layouts())
def test_inside_plus_crossing_parts_equal_each_piece(layout):
    parcels, fps, opts = layout
    parts = footprint_parts(parcels, fps, opts)
    prep = prepare_footprints(fps, opts)
    got = parts.assign(t=parts.built_m2 + parts.sliver_m2).groupby("footprint_id").t.sum()
    for fid, piece_area in zip(prep.ids, prep.piece_area, strict=True):
        assert got.get(fid, 0.0) == pytest.approx(piece_area, rel=1e-9, abs=1e-7)
    # pieces never double count: their areas add up to the union of the footprints
    union = shapely.union_all(np.asarray(fps.geometry.values)).area if len(fps) else 0.0
    assert prep.piece_area.sum() == pytest.approx(union, rel=1e-9, abs=1e-7)


@PROPS
@given(layouts())
def test_coverage_at_most_one_and_totals_consistent(layout):
    parcels, fps, opts = layout
    out = occupancy_kernel(parcels, fps, opts)
    assert (out.coverage <= 1 + 1e-12).all() and (out.coverage >= 0).all()
    assert (out.far >= 0).all()
    # every footprint counts for at most 1/ratio parcels, and nowhere when it is a duplicate
    if opts.min_overlap_ratio > 0:
        assert out.n_buildings.sum() <= len(fps) / opts.min_overlap_ratio + 1e-9
    union = shapely.union_all(np.asarray(fps.geometry.values)).area if len(fps) else 0.0
    assert (out.built_m2 + out.sliver_m2).sum() == pytest.approx(union, rel=1e-9, abs=1e-7)


@PROPS
@given(layouts())
def test_threads_and_chunks_do_not_change_results(layout):
    parcels, fps, opts = layout
    a = occupancy_kernel(parcels, fps, opts, threads=1, chunk_size=10_000)
    b = occupancy_kernel(parcels, fps, opts, threads=3, chunk_size=2)
    assert np.array_equal(a.n_buildings, b.n_buildings)
    np.testing.assert_allclose(a.built_m2, b.built_m2, rtol=1e-12)
    np.testing.assert_allclose(a.floor_area_m2, b.floor_area_m2, rtol=1e-12)


@PROPS
@given(layouts(), st.floats(0.0, 1.0), st.floats(0.0, 1.0))
def test_moving_a_footprint_inside_its_parcel_changes_nothing(layout, u, v):
    parcels, fps, opts = layout
    target = parcels.geometry.iloc[0]
    circle = shapely.maximum_inscribed_circle(target)
    centre = shapely.get_point(circle, 0)
    radius = circle.length
    if radius < 4:
        return
    # keep only footprints away from the circle, then put a square inside it
    others = fps[~fps.intersects(centre.buffer(radius))]
    side = radius / 3
    sq = box(centre.x - side / 2, centre.y - side / 2, centre.x + side / 2, centre.y + side / 2)
    dx, dy = (u - 0.5) * side, (v - 0.5) * side           # stays inside the circle
    moved = affinity.translate(sq, dx, dy)
    assert target.contains_properly(moved)

    def with_square(geom):
        extra = frame([geom], footprint_id=[10**6], height_m=[9.0], storeys=[1])
        return gpd.GeoDataFrame(
            [*others.to_dict("records"), *extra.to_dict("records")], crs=CRS)

    a = occupancy_kernel(parcels, with_square(sq), opts)
    b = occupancy_kernel(parcels, with_square(moved), opts)
    np.testing.assert_allclose(a.built_m2, b.built_m2, rtol=1e-9, atol=1e-7)
    np.testing.assert_allclose(a.floor_area_m2, b.floor_area_m2, rtol=1e-9, atol=1e-7)
    assert a.n_buildings.tolist() == b.n_buildings.tolist()
