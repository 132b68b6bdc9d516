"""Sample city geometry: parcels tile their blocks, buildings never overlap, ~10 % cross."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from gis.crs import SQM_PER_MU
from sample.buildings import CROSSING_SHARE, MIN_NORMAL_COVERAGE, town_buildings
from sample.config import MAX_PARCEL_M2, MIN_PARCEL_M2, SIZES
from sample.layout import cut_block, plan_city, town_layout
from sample.parcel_attributes import town_parcels


@pytest.fixture(scope="module")
def towns():
    plans = plan_city(SIZES["small"], 7)
    out = []
    for plan in plans:
        layout = town_layout(plan, 7)
        parcels = town_parcels(plan, layout["parcels"], 7)
        buildings = town_buildings(plan, parcels, parcels["role"].to_numpy(), 7)
        out.append((plan, layout, parcels, buildings))
    return out


def _overlap_areas(geoms: np.ndarray) -> np.ndarray:
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    pairs = left < right
    return shapely.area(shapely.intersection(geoms[left[pairs]], geoms[right[pairs]]))


def test_parcels_tile_each_block(towns):
    for _, layout, parcels, _ in towns:
        for block, geom in zip(
            layout["blocks"]["block_no"], layout["blocks"].geometry, strict=True
        ):
            mine = parcels.geometry.values[parcels["block_no"].to_numpy() == block]
            union = shapely.union_all(mine)
            assert abs(union.area - geom.area) <= 1e-6 * geom.area
            assert shapely.symmetric_difference(union, geom).area <= 1e-6 * geom.area
        assert (_overlap_areas(parcels.geometry.values) <= 1e-6).all()
        assert shapely.is_valid(parcels.geometry.values).all()


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    width=st.floats(60.0, 700.0),
    depth=st.floats(60.0, 500.0),
)
def test_cut_block_tiles_any_block(seed, width, depth):
    rng = np.random.default_rng(seed)
    parcels = cut_block(rng, 100.0, 200.0, 100.0 + width, 200.0 + depth)
    polys = np.array([shapely.Polygon(p["ring"]) for p in parcels], dtype=object)
    assert shapely.is_valid(polys).all()
    block = shapely.box(100.0, 200.0, 100.0 + width, 200.0 + depth)
    assert abs(shapely.area(polys).sum() - block.area) <= 1e-9 * block.area
    assert abs(shapely.union_all(polys).area - block.area) <= 1e-9 * block.area
    if len(polys) > 1:
        assert (_overlap_areas(polys) <= 1e-6).all()


def test_parcel_sizes_realistic_and_heavy_tailed():
    plans = plan_city(SIZES["city"], 3)[:6]
    areas = np.concatenate([town_layout(p, 3)["parcels"].area.to_numpy() for p in plans])
    assert areas.min() >= MIN_PARCEL_M2 * (1 - 1e-9)
    assert areas.max() <= MAX_PARCEL_M2 * (1 + 1e-9)
    mu = areas / SQM_PER_MU
    assert 4.0 < np.median(mu) < 10.0
    # heavy right tail: the 99th percentile is several times the median
    assert np.percentile(mu, 99) > 5 * np.median(mu)
    assert mu.max() > 80


def test_buildings_do_not_overlap_and_ten_percent_cross(towns):
    n_total = n_cross = 0
    for _, _, parcels, buildings in towns:
        geoms = buildings.geometry.values
        assert shapely.is_valid(geoms).all()
        assert (_overlap_areas(geoms) <= 1e-9).all()
        host = parcels.geometry.values[buildings["parcel_idx"].to_numpy()]
        crossing = ~shapely.covers(host, geoms)
        # the label says which ones cross, and the geometry agrees
        assert np.array_equal(crossing, buildings["crossing"].to_numpy() != "none")
        n_total += len(buildings)
        n_cross += int(crossing.sum())
    assert 0.08 <= n_cross / n_total <= 0.12
    assert abs(n_cross / n_total - CROSSING_SHARE) < 0.01


def test_crossings_are_slivers_or_overhangs(towns):
    for _, _, parcels, buildings in towns:
        geoms = buildings.geometry.values
        host = parcels.geometry.values[buildings["parcel_idx"].to_numpy()]
        outside = shapely.difference(geoms, host)
        # width of the part outside: area / length of the long side
        sliver = buildings["crossing"].to_numpy() == "sliver"
        rect = shapely.oriented_envelope(outside[sliver])
        coords = shapely.get_coordinates(rect).reshape(-1, 5, 2)
        sides = (
            np.linalg.norm(coords[:, 1] - coords[:, 0], axis=1),
            np.linalg.norm(coords[:, 2] - coords[:, 1], axis=1),
        )
        width = np.minimum(*sides)
        assert ((width > 0.15) & (width < 1.55)).all()


def test_some_parcels_empty_and_built_ones_covered(towns):
    for _, _, parcels, buildings in towns:
        n = len(parcels)
        idx = buildings["parcel_idx"].to_numpy()
        host = parcels.geometry.values[idx]
        inside = shapely.area(shapely.intersection(buildings.geometry.values, host))
        built = np.bincount(idx, weights=inside, minlength=n)
        roles = parcels["role"].to_numpy()
        coverage = built / parcels.area.to_numpy()
        assert (built[np.isin(roles, ["idle", "new"])] == 0).all()
        assert (coverage[roles == "normal"] >= MIN_NORMAL_COVERAGE - 0.01).all()
        assert (coverage[roles == "unfinished"] < 1 / 3).all()
        assert (coverage[roles == "unfinished"] > 0).all()


def test_heights_and_storeys_plausible(towns):
    buildings = towns[0][3]
    kind = buildings["kind"].to_numpy()
    h = buildings["height_m"].to_numpy()
    s = buildings["storeys"].to_numpy()
    assert ((h[kind == "workshop"] >= 8) & (h[kind == "workshop"] <= 24)).all()
    assert ((s[kind == "workshop"] >= 1) & (s[kind == "workshop"] <= 4)).all()
    assert (h[kind == "office"] <= 40).all()
    assert (h > 2.5).all()  # every building stands above the nDSM threshold
    assert set(kind) >= {"workshop", "warehouse", "ancillary"}
