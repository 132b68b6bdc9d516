"""The benchmark's crop keeps every pixel where the source has it, also for a box past the edge."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
import shapely
from rasterio.transform import from_origin

from benchmarks.bench_real_chip import crop


@pytest.mark.parametrize("box", [(105.0, 150.0, 130.0, 190.0),  # inside
                                 (80.0, 150.0, 130.0, 190.0),   # past the left edge
                                 (150.0, 170.0, 230.0, 230.0)])  # past the right and top edges
def test_crop_is_georeferenced_like_its_source(tmp_path, box):
    src = tmp_path / "src.tif"
    rows, cols = np.mgrid[0:100, 0:100]
    data = (rows * 100 + cols).astype(np.int32)[None]  # every pixel knows where it is
    with rasterio.open(src, "w", driver="GTiff", width=100, height=100, count=1, dtype="int32",
                       crs="EPSG:32645", transform=from_origin(100.0, 200.0, 1.0, 1.0)) as ds:
        ds.write(data)
    out = crop(src, shapely.box(*box), tmp_path / "out.tif")
    with rasterio.open(out) as ds:
        got = ds.read(1)
        b = ds.bounds
        assert b.left >= 100.0 and b.right <= 200.0 and b.bottom >= 100.0 and b.top <= 200.0
        for r, c in [(0, 0), (got.shape[0] - 1, got.shape[1] - 1)]:
            x, y = ds.xy(r, c)
            assert got[r, c] == data[0, int(200.0 - y), int(x - 100.0)]
