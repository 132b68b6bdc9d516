"""The one "parcel on the image" renderer, as the sheet and the review app's chips use it."""

from __future__ import annotations

import io

import numpy as np
import shapely
from PIL import Image

from maps.parcel_image import NODATA_RGB, render_chip
from maps.sheet import figure_png

SRID = 4549
X0, Y0 = 500_000.0, 3_450_000.0


def _tif(path, value):
    import rasterio
    from rasterio.transform import from_bounds

    data = np.full((3, 200, 200), value, dtype="uint8")
    data[0, :, :100] = 30          # a darker west half, so the stretch has a range
    with rasterio.open(path, "w", driver="GTiff", width=200, height=200, count=3,
                       dtype="uint8", crs=f"EPSG:{SRID}",
                       transform=from_bounds(X0 - 100, Y0 - 100, X0 + 300, Y0 + 300, 200, 200)
                       ) as dst:
        dst.write(data)
    return path


def _pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def test_sheet_panels_are_the_chips_of_each_survey_s_image(tmp_path):
    parcel = shapely.box(X0, Y0, X0 + 100, Y0 + 80)
    building = shapely.box(X0 + 10, Y0 + 10, X0 + 40, Y0 + 40)
    before, after = _tif(tmp_path / "before.tif", 200), _tif(tmp_path / "after.tif", 90)
    data = {"parcel": parcel, "srid": SRID,
            "surveys": [("2022-05-01", [building], str(before)),
                        ("2024-05-01", [], str(after))]}
    both = _pixels(figure_png(data))
    left = _pixels(render_chip(before, parcel, SRID, max_size=480, footprints=[building]))
    right = _pixels(render_chip(after, parcel, SRID, max_size=480))
    assert both.shape[1] == left.shape[1] + 12 + right.shape[1]
    assert (both[:left.shape[0], :left.shape[1]] == left).all()          # the same renderer
    assert (both[:right.shape[0], left.shape[1] + 12:] == right).all()
    # the image is underneath (not the plain ground), and the footprint is drawn on the left
    assert not (left == NODATA_RGB).all(axis=-1).mean() > 0.5
    assert not (left == right).all()
    # a survey whose image is gone: its footprints on a plain ground, no error
    data["surveys"][1] = ("2024-05-01", [building], str(tmp_path / "gone.tif"))
    plain = _pixels(figure_png(data))[:, left.shape[1] + 12:]
    assert (plain == NODATA_RGB).all(axis=-1).mean() > 0.5
