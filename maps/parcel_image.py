"""The parcel on the image: a survey's image around a parcel, as a small PNG with the parcel
(and, if given, the survey's footprints) drawn on it.

The one renderer of "the parcel on the imagery" for the review app's before/after chips
(:mod:`maps.review.chips`) and the one-page sheet (:mod:`maps.sheet`): the image
recorded with each survey (``survey.attrs["image"]``, see :mod:`gis.importing.surveys`)
or an orthophoto given by the user, cut to the parcel's bounding box plus a margin. Only the
window covering that box is read (decimated on reading when the image is much finer than
the chip), then reprojected onto a north-up grid in the working CRS of at most
:data:`MAX_SIZE` pixels a side. Three or more bands give RGB (bands 1–3), one or two a grey
image (band 1); each band is stretched between its 2nd and 98th percentile. Pixels the
image does not cover (or all of them, without an image) are light grey. Footprints are
filled half-transparent orange; the parcel outline is drawn in red on a white halo.

:func:`chip_grid`, :func:`stretch` and :func:`draw_parcel` are pure; :func:`render_chip`
reads the file.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from gis.errors import DataError

#: Longest side of a chip, in pixels.
MAX_SIZE = 512
#: Margin around the parcel's bounding box, as a share of its longer side.
MARGIN = 0.15
#: RGB of pixels outside the image, and of the parcel outline.
NODATA_RGB = (230, 230, 230)
OUTLINE_RGB = (215, 25, 28)
#: RGBA of footprints drawn on the image.
FOOTPRINT_RGBA = (239, 108, 0, 150)


class ImageMissing(DataError, FileNotFoundError):
    """The survey's image file is not there (moved or deleted since the load)."""


@dataclass(frozen=True)
class ChipGrid:
    """A north-up pixel grid in the working CRS: bounds and size."""

    x0: float
    y0: float
    x1: float
    y1: float
    width: int
    height: int

    @property
    def transform(self):
        from rasterio.transform import from_bounds

        return from_bounds(self.x0, self.y0, self.x1, self.y1, self.width, self.height)


def chip_grid(bounds: tuple[float, float, float, float], *, max_size: int = MAX_SIZE,
              margin: float = MARGIN) -> ChipGrid:
    """The chip's grid around ``bounds`` (minx, miny, maxx, maxy): square pixels, the
    longer side ``max_size`` pixels, ``margin`` × the longer side added all round."""
    minx, miny, maxx, maxy = bounds
    w, h = maxx - minx, maxy - miny
    pad = max(w, h, 1.0) * margin
    w, h = w + 2 * pad, h + 2 * pad
    side = max(w, h)
    width = max(1, round(max_size * w / side))
    height = max(1, round(max_size * h / side))
    return ChipGrid(minx - pad, miny - pad, maxx + pad, maxy + pad, width, height)


def stretch(band: np.ndarray) -> np.ndarray:
    """uint8 of a float band (NaN = no data), 2nd–98th percentile stretch."""
    valid = band[np.isfinite(band)]
    out = np.zeros(band.shape, dtype=np.uint8)
    if valid.size == 0:
        return out
    lo, hi = np.percentile(valid, [2, 98])
    if hi <= lo:
        hi = lo + 1.0
    scaled = np.clip((band - lo) / (hi - lo), 0.0, 1.0) * 255.0
    out[np.isfinite(band)] = np.round(scaled[np.isfinite(band)]).astype(np.uint8)
    return out


def _rings(geom) -> list[np.ndarray]:
    polys = getattr(geom, "geoms", [geom])
    rings = []
    for p in polys:
        rings.append(np.asarray(p.exterior.coords))
        rings.extend(np.asarray(r.coords) for r in p.interiors)
    return rings


def draw_parcel(rgb: np.ndarray, grid: ChipGrid, parcel: Any,
                footprints: Iterable[Any] = ()) -> bytes:
    """PNG bytes of ``rgb`` (height × width × 3, uint8, on ``grid``) with the footprints
    filled and the parcel outlined (pure: no file)."""
    from PIL import Image, ImageDraw

    img = Image.fromarray(rgb, "RGB")
    sx = grid.width / (grid.x1 - grid.x0)
    sy = grid.height / (grid.y1 - grid.y0)

    def pixels(ring: np.ndarray) -> list[tuple[float, float]]:
        return [((x - grid.x0) * sx, (grid.y1 - y) * sy) for x, y in ring[:, :2]]

    footprints = [f for f in footprints if f is not None and not f.is_empty]
    if footprints:
        layer = Image.new("RGBA", img.size, (0, 0, 0, 0))
        draw = ImageDraw.Draw(layer)
        for f in footprints:
            for poly in getattr(f, "geoms", [f]):
                if poly.geom_type != "Polygon":
                    continue
                draw.polygon(pixels(np.asarray(poly.exterior.coords)), fill=FOOTPRINT_RGBA,
                             outline=(120, 50, 0, 255))
        img = Image.alpha_composite(img.convert("RGBA"), layer).convert("RGB")
    draw = ImageDraw.Draw(img)
    for ring in _rings(parcel):
        pts = pixels(ring)
        draw.line(pts, fill=(255, 255, 255), width=4, joint="curve")   # a halo, then red
        draw.line(pts, fill=OUTLINE_RGB, width=2, joint="curve")
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=False)
    return buf.getvalue()


def render_chip(image: str | Path | None, parcel: Any, srid: int, *,
                max_size: int = MAX_SIZE, footprints: Iterable[Any] = ()) -> bytes:
    """PNG bytes of ``image`` around the shapely ``parcel`` (in EPSG ``srid``).

    Parameters
    ----------
    image : path, optional
        A georeferenced raster (any CRS); None draws on a light grey ground.
    footprints : iterable of shapely geometries, optional
        Drawn on the image (in EPSG ``srid``).

    Raises
    ------
    ImageMissing
        The image file does not exist.
    DataError
        The file is not a readable georeferenced raster, or it does not cover the parcel.
    """
    grid = chip_grid(parcel.bounds, max_size=max_size)
    if image is None:
        rgb = np.empty((grid.height, grid.width, 3), dtype=np.uint8)
        rgb[...] = NODATA_RGB
    else:
        rgb = _read_rgb(Path(image), grid, srid)
    return draw_parcel(rgb, grid, parcel, footprints)


def _read_rgb(path: Path, grid: ChipGrid, srid: int) -> np.ndarray:
    import rasterio
    from affine import Affine
    from rasterio.crs import CRS
    from rasterio.errors import RasterioIOError
    from rasterio.warp import Resampling, reproject, transform_bounds
    from rasterio.windows import Window, from_bounds

    if not path.is_file():
        raise ImageMissing("the survey's image file is missing on the server "
                           "(re-record it with `mujun import footprints --image`)")
    dst_crs = CRS.from_epsg(srid)
    try:
        src = rasterio.open(path)
    except RasterioIOError as exc:
        raise DataError("the survey's image cannot be read as a raster") from exc
    with src:
        if src.crs is None:
            raise DataError("the survey's image has no CRS")
        bands = [1, 2, 3] if src.count >= 3 else [1]
        left, bottom, right, top = transform_bounds(dst_crs, src.crs, grid.x0, grid.y0,
                                                    grid.x1, grid.y1, densify_pts=21)
        win = from_bounds(left, bottom, right, top, transform=src.transform)
        col0, row0 = max(0, math.floor(win.col_off) - 1), max(0, math.floor(win.row_off) - 1)
        col1 = min(src.width, math.ceil(win.col_off + win.width) + 1)
        row1 = min(src.height, math.ceil(win.row_off + win.height) + 1)
        if col1 <= col0 or row1 <= row0:
            raise DataError("the survey's image does not cover this parcel")
        window = Window(col0, row0, col1 - col0, row1 - row0)
        # read no finer than twice the chip's resolution (GDAL uses overviews when present)
        factor = max(1.0, max(window.width / (2 * grid.width), window.height / (2 * grid.height)))
        out_h = max(1, round(window.height / factor))
        out_w = max(1, round(window.width / factor))
        data = src.read(bands, window=window, out_shape=(len(bands), out_h, out_w),
                        masked=True, resampling=Resampling.average)
        src_transform = src.window_transform(window) @ Affine.scale(window.width / out_w,
                                                                     window.height / out_h)
        src_crs = src.crs
    filled = np.ma.filled(data.astype("float32"), np.nan)
    dest = np.full((len(bands), grid.height, grid.width), np.nan, dtype="float32")
    reproject(filled, dest, src_transform=src_transform, src_crs=src_crs, src_nodata=np.nan,
              dst_transform=grid.transform, dst_crs=dst_crs, dst_nodata=np.nan,
              resampling=Resampling.bilinear)
    rgb = np.stack([stretch(b) for b in (dest if len(bands) == 3 else [dest[0]] * 3)], axis=-1)
    rgb[~np.isfinite(dest).all(axis=0)] = NODATA_RGB
    return rgb
