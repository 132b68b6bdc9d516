"""Shared fixtures of the imagery tests: synthetic scenes rendered from known buildings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from remote_sensing.synthetic import make_synthetic_inputs

CRS = "EPSG:4547"


@pytest.fixture(scope="session")
def scene(tmp_path_factory) -> dict[str, Path]:
    """A 2000 x 2000 px (1 km at 0.5 m) town: ~260 buildings, ~200 trees, roads."""
    return make_synthetic_inputs(tmp_path_factory.mktemp("scene"), 2000, seed=1)


@pytest.fixture(scope="session")
def small_scene(tmp_path_factory) -> dict[str, Path]:
    """A 600 x 600 px scene for quick pipeline and CLI tests."""
    return make_synthetic_inputs(tmp_path_factory.mktemp("small"), 600, seed=3)


def write_raster(path: Path, array: np.ndarray, *, res: float = 1.0, origin=(500000.0, 3400000.0),
                 crs: str | None = CRS, nodata=None, dtype=None, tiled=True, **extra) -> Path:
    """Write a small GeoTIFF (bands first, or 2-D for one band)."""
    arr = array if array.ndim == 3 else array[None]
    profile = {
        "driver": "GTiff", "width": arr.shape[2], "height": arr.shape[1], "count": arr.shape[0],
        "dtype": dtype or arr.dtype, "nodata": nodata,
        "transform": from_origin(origin[0], origin[1], res, res) if crs or extra.get("georef", True) else None,
    }
    extra.pop("georef", None)
    if crs:
        profile["crs"] = crs
    if tiled:
        profile.update(tiled=True, blockxsize=16 * max(1, min(arr.shape[1:]) // 64) or 16,
                       blockysize=16 * max(1, min(arr.shape[1:]) // 64) or 16)
    profile.update(extra)
    with rasterio.open(path, "w", **profile) as ds:
        ds.write(arr.astype(profile["dtype"]))
    return path
