"""Tile cutting (decode gives back the geometry), styles, classes, QML and masking."""

from __future__ import annotations

import json

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from maps.web.tiles import WORLD, TileOptions, detail_tiles, tile_pyramid, tile_size_m


def decode(tile):
    """Python twin of mujun-map.js's decoder: [(id, key, [ring arrays])]."""
    f = tile.f.reshape(-1, 3)
    out, ri, pi = [], 0, 0
    for fid, key, nr in f:
        rings = []
        for _ in range(nr):
            n = tile.r[ri]
            rings.append(tile.c[2 * pi:2 * (pi + n)].reshape(-1, 2).cumsum(axis=0))
            ri += 1
            pi += n
        out.append((int(fid), int(key), rings))
    return out


X0, Y0 = 13_424_000.0, 3_657_000.0


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 3000), st.floats(0, 3000), st.floats(20, 900),
                          st.floats(20, 900)), min_size=1, max_size=20),
       st.integers(13, 17))
def test_decoded_tiles_give_back_every_polygon(boxes, z):
    geoms = np.array([shapely.box(X0 + x, Y0 + y, X0 + x + w, Y0 + y + h)
                      for x, y, w, h in boxes])
    keys = np.arange(len(geoms)) % 3
    options = TileOptions(extent=512)
    tiles = detail_tiles(geoms, keys, np.arange(len(geoms)), z, options)
    unit = tile_size_m(z) / options.extent
    seen: dict[int, set] = {}
    for (tx, ty), tile in tiles.items():
        for fid, key, rings in decode(tile):
            assert key == keys[fid]
            seen.setdefault(fid, set()).add((tx, ty))
            pts = rings[0] + np.array([tx, ty]) * options.extent
            x = pts[:, 0] * unit - WORLD
            y = WORLD - pts[:, 1] * unit
            minx, miny, maxx, maxy = geoms[fid].bounds
            # within one tile unit (quantization) of the box
            assert x.min() >= minx - unit and x.max() <= maxx + unit
            assert y.min() >= miny - unit and y.max() <= maxy + unit
    for fid, g in enumerate(geoms):
        # every tile the polygon reaches more than one tile unit into (quantization
        # may move an edge lying on a tile boundary by half a unit)
        minx, miny, maxx, maxy = np.array(g.bounds) + np.array([unit, unit, -unit, -unit])
        size = tile_size_m(z)
        need = {(tx, ty) for tx in range(int((minx + WORLD) // size), int((maxx + WORLD) // size) + 1)
                for ty in range(int((WORLD - maxy) // size), int((WORLD - miny) // size) + 1)}
        assert need <= seen.get(fid, set()) | {t for t in need if g.area < unit * unit * 9}


def test_holes_and_multipolygons_survive():
    outer = shapely.Polygon([(X0, Y0), (X0 + 400, Y0), (X0 + 400, Y0 + 400), (X0, Y0 + 400)],
                            [[(X0 + 100, Y0 + 100), (X0 + 200, Y0 + 100), (X0 + 200, Y0 + 200),
                              (X0 + 100, Y0 + 200)]])
    multi = shapely.MultiPolygon([shapely.box(X0 + 500, Y0, X0 + 600, Y0 + 100),
                                  shapely.box(X0 + 700, Y0, X0 + 800, Y0 + 100)])
    tiles = detail_tiles(np.array([outer, multi]), np.array([0, 1]), np.array([0, 1]), 16,
                         TileOptions())
    rings = {fid: len(r) for t in tiles.values() for fid, _, r in decode(t)}
    assert rings == {0: 2, 1: 2}


def test_overview_cells_aggregate_by_area():
    geoms = np.array([shapely.box(X0 + i * 50, Y0, X0 + i * 50 + 40, Y0 + 40) for i in range(10)]
                     + [shapely.box(X0, Y0 + 60, X0 + 300, Y0 + 400)])
    keys = np.array([1] * 10 + [2])
    tiles = tile_pyramid(geoms, keys, n_keys=3, options=TileOptions(min_zoom=9, detail_min=11,
                                                                     max_native=11))
    z9 = [decode(t) for (z, _, _), t in tiles.items() if z == 9]
    cells = [f for tile in z9 for f in tile]
    assert sum(-fid for fid, _, _ in cells) == len(geoms)          # every polygon counted once
    assert {key for _, key, _ in cells} <= {1, 2}
    # the big parcel outweighs the ten small ones in its cell
    biggest = max(cells, key=lambda c: -c[0])
    assert biggest[1] == 2


def test_styles_share_one_table():
    from maps.styles import OTHER_COLOUR, STYLES, style_for, style_json

    classes = style_for("classes")
    assert [c.value for c in classes.categories] == ["A", "B", "C", "D", "T"]
    assert classes.colour_for("Z") == OTHER_COLOUR
    industry = style_for("industry")
    assert len({c.colour for c in industry.categories if "13" <= c.value <= "43"}) == 31
    data = json.loads(json.dumps(style_json(), ensure_ascii=False))
    assert set(data) == set(STYLES)
    from gis.errors import ConfigError

    with pytest.raises(ConfigError, match="known"):
        style_for("nope")


def test_classify_schemes():
    from maps.classify import classify

    values = np.r_[np.arange(100.0), [np.nan, np.inf]]
    q = classify(values, "quantiles", 5)
    assert len(q) == 5 and q[-1] == 99.0
    nb = classify(values, "natural_breaks", 4)
    assert len(nb) == 4 and nb[-1] == 99.0
    assert classify([3.0, 3.0], "quantiles", 5) == [3.0]
    from gis.errors import ConfigError

    with pytest.raises(ConfigError, match="quantiles"):
        classify(values, "bogus", 5)


def test_desensitize_helpers():
    from maps.export.desensitize import mask_code, mask_name

    assert mask_name("苏州甲乙纺织有限公司") == "苏" + "*" * 9
    assert mask_code("91320509MA1XXXXX0A") == "91320509" + "*" * 10
    assert mask_name(None) is None
