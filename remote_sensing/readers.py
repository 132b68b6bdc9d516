"""Open and check survey rasters; put an nDSM/DSM/DTM on the image's pixel grid.

The image (orthophoto, or the nDSM itself in the height method) defines the
*grid*: CRS, transform and size. Every other raster is read through a
:class:`rasterio.vrt.WarpedVRT` onto that grid when its grid differs, so a
window of the grid is a window of every input. Resampling is logged as a
warning because it changes the data.
"""

from __future__ import annotations

import logging
import math
import re
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from gis.errors import CRSError, DataError

from .errors import RasterMismatchError

log = logging.getLogger(__name__)

_DATE_TAGS = ("ACQUISITIONDATETIME", "ACQUISITION_DATE", "TIFFTAG_DATETIME", "DATE", "IMAGE_DATE")


@dataclass(frozen=True)
class Grid:
    """A pixel grid (picklable, handed to worker processes)."""

    crs_wkt: str
    transform: tuple[float, float, float, float, float, float]
    width: int
    height: int

    @property
    def affine(self):
        from affine import Affine

        return Affine(*self.transform)

    @property
    def resolution(self) -> float:
        """Pixel size along x in CRS units."""
        return abs(self.transform[0])

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        from rasterio.transform import array_bounds

        w, s, e, n = array_bounds(self.height, self.width, self.affine)
        return (w, s, e, n)


def grid_of(ds) -> Grid:
    """The :class:`Grid` of an open rasterio dataset."""
    return Grid(ds.crs.to_wkt(), tuple(ds.transform)[:6], ds.width, ds.height)


def open_raster(path: str | Path):
    """Open a raster for reading, translating GDAL errors into :class:`DataError`."""
    import rasterio
    from rasterio.errors import RasterioIOError

    p = Path(path)
    if not p.exists():
        raise DataError("file not found; check the path", source=str(p))
    try:
        return rasterio.open(p)
    except RasterioIOError as exc:
        raise DataError(f"not a readable raster ({exc})", source=str(p)) from exc


def image_date(tags: dict) -> str | None:
    """Acquisition date (ISO ``YYYY-MM-DD``) from GeoTIFF metadata tags, if any.

    Examples
    --------
    >>> image_date({"TIFFTAG_DATETIME": "2024:06:15 10:30:00"})
    '2024-06-15'
    >>> image_date({}) is None
    True
    """
    for key in _DATE_TAGS:
        value = tags.get(key)
        if not value:
            continue
        m = re.match(r"\s*(\d{4})[:\-/](\d{2})[:\-/](\d{2})", str(value))
        if m:
            return "-".join(m.groups())
    return None


def check_georeferenced(ds, path: str | Path) -> None:
    """Raise :class:`CRSError` when a raster has no CRS or no geotransform."""
    if ds.crs is None:
        raise CRSError(
            "the image has no coordinate reference system; assign one first "
            "(e.g. gdal_edit.py -a_srs EPSG:4547 IMAGE)",
            source=str(path),
        )
    if ds.transform.is_identity:
        raise CRSError("the image has no geotransform (not georeferenced)", source=str(path))
    if ds.crs.is_geographic:
        log.warning("%s: CRS is geographic (degrees); areas need a projected CRS", path)


def alpha_bands(ds) -> list[int]:
    """1-based bands that are an alpha mask (an RGBA drone mosaic's fourth band).

    An alpha band says which pixels are valid (GDAL's dataset mask reads it); it is not
    a colour the models should learn from. A band counts as alpha when GDAL marks it so
    *and* it holds only "transparent" and "opaque" (0 and the type's full value, in 99 %
    of a sample of 256 × 256 pixels): GDAL marks the fourth band of any 8-bit four-band
    GeoTIFF written without ``photometric`` as alpha, so an RGBN file written that way
    keeps its near-infrared band.
    """
    import numpy as np
    from rasterio.enums import ColorInterp, Resampling

    found = []
    for band, ci in enumerate(ds.colorinterp, start=1):
        if ci != ColorInterp.alpha:
            continue
        dtype = np.dtype(ds.dtypes[band - 1])
        full = np.iinfo(dtype).max if dtype.kind in "iu" else 1.0
        sample = ds.read(band, out_shape=(min(ds.height, 256), min(ds.width, 256)),
                         resampling=Resampling.nearest)
        if np.isin(sample, (0, full)).mean() >= 0.99:
            found.append(band)
    return found


def colour_bands(ds) -> list[int]:
    """1-based bands that hold image values: every band but the alpha band(s)."""
    alpha = set(alpha_bands(ds))
    return [b for b in range(1, ds.count + 1) if b not in alpha]


def raster_info(path: str | Path) -> dict:
    """Describe a raster: CRS, resolution, bands, tiling, compression, date.

    Returns
    -------
    dict
        JSON-serializable description (``mujun imagery info``).
    """
    with open_raster(path) as ds:
        tags = ds.tags()
        block = ds.block_shapes[0] if ds.count else None
        return {
            "path": str(path),
            "driver": ds.driver,
            "width": ds.width,
            "height": ds.height,
            "count": ds.count,
            "dtypes": list(ds.dtypes),
            "band_descriptions": list(ds.descriptions),
            "alpha_bands": alpha_bands(ds),
            "nodata": ds.nodata,
            "crs": ds.crs.to_string() if ds.crs else None,
            "epsg": ds.crs.to_epsg() if ds.crs else None,
            "resolution": list(ds.res),
            "bounds": list(ds.bounds),
            "tiled": bool(block and block[0] > 1 and block[1] < ds.width) or ds.profile.get("tiled", False),
            "block_shape": list(block) if block else None,
            "compression": ds.compression.value if ds.compression else None,
            "overviews": ds.overviews(1) if ds.count else [],
            "date": image_date(tags),
            "megapixels": round(ds.width * ds.height / 1e6, 3),
        }


def overlap_check(grid: Grid, ds, path: str | Path, what: str) -> bool:
    """Check that ``ds`` overlaps ``grid``; return True when it must be warped onto it.

    Raises
    ------
    RasterMismatchError
        The rasters do not overlap (after reprojection to the grid's CRS).
    """
    from rasterio.crs import CRS
    from rasterio.warp import transform_bounds

    check_georeferenced(ds, path)
    grid_crs = CRS.from_wkt(grid.crs_wkt)
    b = ds.bounds
    if ds.crs != grid_crs:
        b = transform_bounds(ds.crs, grid_crs, *b, densify_pts=21)
    gw, gs, ge, gn = grid.bounds
    ix = min(ge, b[2]) - max(gw, b[0])
    iy = min(gn, b[3]) - max(gs, b[1])
    if ix <= 0 or iy <= 0:
        raise RasterMismatchError(
            f"the {what} does not overlap the image (its bounds {tuple(round(v, 2) for v in b)} vs "
            f"image bounds {tuple(round(v, 2) for v in grid.bounds)}); check that both cover "
            "the same area and carry the right CRS",
            source=str(path),
        )
    same = (
        ds.crs == grid_crs
        and ds.width == grid.width
        and ds.height == grid.height
        and all(math.isclose(a, c, rel_tol=0, abs_tol=1e-6 * max(1.0, abs(c)))
                for a, c in zip(tuple(ds.transform)[:6], grid.transform, strict=True))
    )
    if not same:
        res = abs(ds.transform.a)
        msg = (
            f"{path}: the {what} is on a different grid than the image "
            f"(resolution {res:g} vs {grid.resolution:g}, CRS "
            f"{'same' if ds.crs == grid_crs else 'different'}); resampling it onto the image grid "
            "(bilinear)"
        )
        log.warning(msg)
        warnings.warn(msg, RasterResampledWarning, stacklevel=2)
    return not same


class RasterResampledWarning(UserWarning):
    """An input raster was resampled onto the image grid."""


@contextmanager
def aligned(ds, grid: Grid, warp: bool, resampling: str = "bilinear"):
    """Yield ``ds`` itself or a WarpedVRT of it on ``grid`` (windowed reads stay bounded)."""
    if not warp:
        yield ds
        return
    from rasterio.crs import CRS
    from rasterio.enums import Resampling
    from rasterio.vrt import WarpedVRT

    nodata = ds.nodata if ds.nodata is not None else -9999.0
    with WarpedVRT(
        ds,
        crs=CRS.from_wkt(grid.crs_wkt),
        transform=grid.affine,
        width=grid.width,
        height=grid.height,
        resampling=Resampling[resampling],
        nodata=nodata,
        src_nodata=ds.nodata,
    ) as vrt:
        yield vrt
