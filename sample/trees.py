"""Tree crowns of the sample city, for the synthetic imagery.

Street trees stand in rows along both edges of every road; factories have a
row of trees along their front boundary; idle parcels are overgrown with
scattered shrubs and saplings. Crowns are small polygons with a height, which
the renderer draws bright in near-infrared and high in the nDSM: exactly what
the footprint extractors must learn to ignore. No crown overlaps a building.
"""

from __future__ import annotations

import numpy as np

from sample.config import EPSG, stream
from sample.layout import TownPlan


def _row(x0, y0, x1, y1, spacing) -> tuple[np.ndarray, np.ndarray]:
    length = float(np.hypot(x1 - x0, y1 - y0))
    k = max(1, int(length // spacing))
    t = (np.arange(k) + 0.5) / k
    return x0 + t * (x1 - x0), y0 + t * (y1 - y0)


def town_trees(plan: TownPlan, roads, parcels, buildings, seed: int):
    """Crown polygons (``kind``, ``height_m``) of one town in EPSG:4549."""
    import geopandas as gpd
    import shapely

    rng = stream(seed, "trees", plan.index)
    xs, ys, radius, height, kind = [], [], [], [], []

    def add(x, y, r_range, h_range, label):
        xs.append(x)
        ys.append(y)
        radius.append(rng.uniform(*r_range, x.size))
        height.append(rng.uniform(*h_range, x.size))
        kind.append(np.full(x.size, label, dtype=object))

    for x0, y0, x1, y1 in roads[["x0", "y0", "x1", "y1"]].to_numpy():
        spacing = rng.uniform(7.0, 10.0)
        if x1 - x0 >= y1 - y0:
            for y in (y0 + 2.0, y1 - 2.0):
                add(*_row(x0, y, x1, y, spacing), (1.8, 3.2), (5.0, 12.0), "street")
        else:
            for x in (x0 + 2.0, x1 - 2.0):
                add(*_row(x, y0, x, y1, spacing), (1.8, 3.2), (5.0, 12.0), "street")

    roles = parcels["role"].to_numpy()
    for xa, xb, ya, yb, front, role in zip(
        parcels["xa"],
        parcels["xb"],
        parcels["ya"],
        parcels["yb"],
        parcels["front"],
        roles,
        strict=True,
    ):
        if role in ("normal", "unfinished"):
            y = ya + 2.5 if front == "S" else yb - 2.5
            add(
                *_row(xa + 3.0, y, xb - 3.0, y, rng.uniform(6.0, 10.0)),
                (1.5, 2.8),
                (4.0, 10.0),
                "yard",
            )
        elif role == "idle":
            k = max(3, int((xb - xa) * (yb - ya) / 500.0))
            add(
                rng.uniform(xa + 2, xb - 2, k),
                rng.uniform(ya + 2, yb - 2, k),
                (1.0, 3.0),
                (1.5, 6.0),
                "shrub",
            )

    x = np.concatenate(xs)
    y = np.concatenate(ys)
    wx, wy = plan.frame.to_world(x, y)
    crowns = shapely.buffer(shapely.points(wx, wy), np.concatenate(radius), quad_segs=3)
    if len(buildings):
        tree = shapely.STRtree(buildings.geometry.values)
        hit = np.unique(tree.query(crowns, predicate="intersects")[0])
        keep = np.ones(crowns.size, dtype=bool)
        keep[hit] = False
    else:
        keep = np.ones(crowns.size, dtype=bool)
    return gpd.GeoDataFrame(
        {
            "town": plan.name,
            "kind": np.concatenate(kind)[keep],
            "height_m": np.round(np.concatenate(height)[keep], 1),
        },
        geometry=crowns[keep],
        crs=EPSG,
    )
