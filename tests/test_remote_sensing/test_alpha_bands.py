"""Which band of an image is an alpha mask, and which is a colour (readers.alpha_bands)."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
from rasterio.enums import ColorInterp
from rasterio.transform import from_origin

from remote_sensing.readers import alpha_bands, colour_bands


def _write(path, data, **extra):
    prof = {"driver": "GTiff", "width": data.shape[2], "height": data.shape[1], "count": data.shape[0],
            "dtype": data.dtype.name, "crs": "EPSG:4547", "transform": from_origin(500_000, 3_400_000, 0.1, 0.1)}
    with rasterio.open(path, "w", **(prof | extra)) as out:
        out.write(data)
    return path


@pytest.fixture
def colours():
    rng = np.random.default_rng(0)
    return rng.integers(1, 255, (3, 300, 400), dtype=np.uint8)


def test_the_alpha_band_of_a_drone_mosaic_is_a_mask_not_a_colour(colours, tmp_path):
    alpha = np.full((1, 300, 400), 255, np.uint8)
    alpha[:, :, 350:] = 0  # the mosaic's ragged edge
    path = _write(tmp_path / "rgba.tif", np.concatenate([colours, alpha]), photometric="RGB", alpha="YES")
    with rasterio.open(path) as ds:
        assert ds.colorinterp[3] == ColorInterp.alpha
        assert alpha_bands(ds) == [4] and colour_bands(ds) == [1, 2, 3]
        assert not ds.dataset_mask()[:, 350:].any()  # and GDAL reads it as the validity mask


def test_a_near_infrared_band_that_gdal_marks_alpha_stays_a_colour(colours, tmp_path):
    """GDAL marks the fourth band of any 8-bit four-band GeoTIFF written without ``photometric``
    as alpha; values across the range say it is a band of the image (RGBN)."""
    nir = np.random.default_rng(1).integers(0, 256, (1, 300, 400), dtype=np.uint8)
    path = _write(tmp_path / "rgbn.tif", np.concatenate([colours, nir]))
    with rasterio.open(path) as ds:
        assert ds.colorinterp[3] == ColorInterp.alpha
        assert alpha_bands(ds) == [] and colour_bands(ds) == [1, 2, 3, 4]


def test_images_without_alpha(colours, tmp_path):
    rgb = _write(tmp_path / "rgb.tif", colours)
    pan = _write(tmp_path / "pan.tif", (colours[:1].astype(np.uint16) * 40))
    for path, bands in ((rgb, [1, 2, 3]), (pan, [1])):
        with rasterio.open(path) as ds:
            assert alpha_bands(ds) == [] and colour_bands(ds) == bands
