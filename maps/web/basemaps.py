"""Basemaps: none, the survey orthophoto as local tiles, Tianditu, Gaode, any XYZ/WMTS URL.

Only ``none`` and ``ortho`` keep a page offline; the others are requests the user asks
for (an intranet tile server, or the internet). Gaode/AMap tiles are drawn in GCJ-02,
so a page on them shifts its *display copy* of every geometry
(:func:`gis.chinese_offsets.display_copy`); stored data never changes.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from gis.errors import ConfigError

log = logging.getLogger(__name__)

WORLD = 20037508.342789244


@dataclass(frozen=True)
class Basemap:
    """A base layer for the page."""

    name: str
    url: str | None = None
    attribution: str = ""
    subdomains: str = "abc"
    offset: str | None = None          # "gcj02": shift display geometry
    min_zoom: int = 0
    max_native: int = 18
    bounds: tuple[tuple[float, float], tuple[float, float]] | None = None
    overlay_url: str | None = None     # labels drawn above imagery (Tianditu cia)
    tms: bool = False

    @property
    def offline(self) -> bool:
        return self.url is None or "://" not in self.url


TIANDITU_IMG = ("http://t{s}.tianditu.gov.cn/img_w/wmts?SERVICE=WMTS&REQUEST=GetTile"
                "&VERSION=1.0.0&LAYER=img&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
                "&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk=%s")
TIANDITU_CIA = ("http://t{s}.tianditu.gov.cn/cia_w/wmts?SERVICE=WMTS&REQUEST=GetTile"
                "&VERSION=1.0.0&LAYER=cia&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
                "&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk=%s")
GAODE = ("https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8"
         "&x={x}&y={y}&z={z}")

#: Basemap names the CLI offers.
BASEMAPS = ("none", "ortho", "tianditu", "gaode", "xyz")

_WMTS_KEYS = {"{TileMatrix}": "{z}", "{TileRow}": "{y}", "{TileCol}": "{x}",
              "{tilematrix}": "{z}", "{tilerow}": "{y}", "{tilecol}": "{x}"}


def xyz_template(url: str) -> str:
    """A Leaflet ``{z}/{x}/{y}`` template from an XYZ or WMTS (REST or KVP) URL.

    Examples
    --------
    >>> xyz_template("http://tiles.local/wmts/img/{TileMatrix}/{TileRow}/{TileCol}.png")
    'http://tiles.local/wmts/img/{z}/{y}/{x}.png'
    >>> xyz_template("http://h/wmts?REQUEST=GetTile&TILEMATRIX={TileMatrix}&TILEROW={TileRow}&TILECOL={TileCol}")
    'http://h/wmts?REQUEST=GetTile&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}'
    """
    for key, value in _WMTS_KEYS.items():
        url = url.replace(key, value)
    if not all(p in url for p in ("{z}", "{x}", "{y}")):
        raise ConfigError(f"basemap URL {url!r} needs {{z}}, {{x}} and {{y}} (or WMTS "
                          "{TileMatrix}, {TileCol}, {TileRow}) placeholders")
    return url


def basemap(name: str, *, url: str | None = None, token: str | None = None,
            ortho_dir: str | None = None, ortho_info: dict[str, Any] | None = None) -> Basemap:
    """Resolve a basemap choice.

    Raises
    ------
    ConfigError
        Unknown name, Tianditu without a token, xyz without a URL.
    """
    if name == "none":
        return Basemap("none")
    if name == "tianditu":
        if not token:
            raise ConfigError("the Tianditu basemap needs a token: --tianditu-token TK or "
                              "MUJUN_TIANDITU_TOKEN (apply for one on the Tianditu site)")
        return Basemap("tianditu", TIANDITU_IMG % token, "天地图 Tianditu", "01234567",
                       overlay_url=TIANDITU_CIA % token)
    if name == "gaode":
        return Basemap("gaode", GAODE, "高德地图 AutoNavi (GCJ-02)", "1234", offset="gcj02")
    if name == "xyz":
        if not url:
            raise ConfigError("--basemap xyz needs --basemap-url with {z}/{x}/{y} or WMTS "
                              "placeholders")
        return Basemap("xyz", xyz_template(url), "basemap", "abc")
    if name == "ortho":
        if not ortho_dir or ortho_info is None:
            raise ConfigError("--basemap ortho needs --ortho IMAGE (the survey orthophoto)")
        return Basemap("ortho", ortho_dir + "/{z}/{x}/{y}.jpg", "survey orthophoto",
                       min_zoom=ortho_info["min_zoom"], max_native=ortho_info["max_zoom"],
                       bounds=ortho_info["bounds"])
    raise ConfigError(f"unknown basemap {name!r}; choose one of {', '.join(BASEMAPS)}")


def ortho_tiles(image: str | Path, out_dir: str | Path, *, max_zoom: int | None = None,
                levels: int = 4, quality: int = 80, progress=None) -> dict[str, Any]:
    """Cut an orthophoto into Web Mercator JPEG tiles ``out_dir/{z}/{x}/{y}.jpg``.

    The finest zoom matches the image's ground resolution (at most 18, or ``max_zoom``);
    ``levels`` zooms are written down to it. Each zoom is one warped view of the image
    on the tile grid (``WarpedVRT``, averaging when shrinking), read one row of tiles at
    a time, so memory stays bounded by a strip; the image's nodata pixels are masked
    after the warp. Outside the image the tiles show the
    page background; the page only asks for tiles inside the image's bounds.

    Returns
    -------
    dict
        ``min_zoom``, ``max_zoom``, ``bounds`` ((south, west), (north, east)) and
        ``tiles`` written.
    """
    import rasterio
    from PIL import Image
    from rasterio.enums import Resampling
    from rasterio.transform import from_origin
    from rasterio.vrt import WarpedVRT
    from rasterio.warp import transform_bounds
    from rasterio.windows import Window

    out_dir = Path(out_dir)
    background = np.array([242, 241, 236], dtype=np.uint8)   # the page's background colour
    with rasterio.open(image) as src:
        if src.crs is None:
            raise ConfigError(f"{image}: the orthophoto has no CRS")
        west, south, east, north = transform_bounds(src.crs, 4326, *src.bounds)
        mx0, my0, mx1, my1 = transform_bounds(src.crs, 3857, *src.bounds)
        res_m = max(abs(src.res[0]), abs(src.res[1])) * (
            1.0 if src.crs.is_projected else 111_000.0)
        lat = math.radians((south + north) / 2)
        if max_zoom is None:  # the zoom whose pixel is just finer than the image's
            max_zoom = math.ceil(math.log2(2 * WORLD * math.cos(lat) / (256 * res_m)))
            max_zoom = max(1, min(max_zoom, 18))
        min_zoom = max(0, max_zoom - levels + 1)
        bands = [b for b in (1, 2, 3) if b <= src.count] or [1]
        stretch = _stretch(src, bands)
        n = 0
        for z in range(min_zoom, max_zoom + 1):
            size = 2 * WORLD / (1 << z)
            x0, x1 = int((mx0 + WORLD) // size), int((mx1 + WORLD) // size)
            y0, y1 = int((WORLD - my1) // size), int((WORLD - my0) // size)
            nx, ny = x1 - x0 + 1, y1 - y0 + 1
            grid = from_origin(-WORLD + x0 * size, WORLD - y0 * size, size / 256, size / 256)
            # averaging only where a tile pixel covers clearly more ground than an image
            # pixel: near 1:1 it gives what bilinear gives, at three times the cost
            ground = size / 256 * math.cos(lat)
            resampling = Resampling.average if ground > 1.5 * res_m else Resampling.bilinear
            # The source's nodata value is not given to the warper: with one, GDAL takes its
            # general (per-pixel validity) kernel, three times slower. The alpha band marks
            # what lies outside the image; pixels of the nodata value are masked after.
            with WarpedVRT(src, crs="EPSG:3857", transform=grid, width=nx * 256,
                           height=ny * 256, resampling=resampling, src_nodata=None,
                           nodata=None, add_alpha=True) as vrt:
                for row in range(ny):
                    window = Window(0, row * 256, nx * 256, 256)
                    data = vrt.read([*bands, vrt.count], window=window)
                    valid = data[-1] > 0
                    if src.nodata is not None:
                        valid &= ~np.all(data[:-1] == src.nodata, axis=0)
                    rgb = _to_rgb(data[:-1], stretch)
                    rgb[~valid] = background
                    for col in range(nx):
                        path = out_dir / str(z) / str(x0 + col) / f"{y0 + row}.jpg"
                        path.parent.mkdir(parents=True, exist_ok=True)
                        Image.fromarray(rgb[:, col * 256:(col + 1) * 256]).save(
                            path, quality=quality)
                        n += 1
            if progress is not None:
                progress(1)
    return {"min_zoom": min_zoom, "max_zoom": max_zoom,
            "bounds": ((south, west), (north, east)), "tiles": n}


def _stretch(src: Any, bands: list[int]) -> tuple[float, float] | None:
    """2–98 % stretch of non-byte imagery, from a decimated read of the whole image."""
    if src.dtypes[0] == "uint8":
        return None
    h = min(src.height, 1024)
    w = min(src.width, 1024)
    sample = src.read(bands, out_shape=(len(bands), h, w)).astype("float32")
    valid = sample[sample > 0]
    if not valid.size:
        return (0.0, 1.0)
    lo, hi = np.percentile(valid, [2, 98])
    return float(lo), float(hi)


def _to_rgb(data: np.ndarray, stretch: tuple[float, float] | None) -> np.ndarray:
    """Bands (1 or 3) as 8-bit RGB, stretched for non-byte imagery."""
    if data.shape[0] == 1:
        data = np.repeat(data, 3, axis=0)
    arr = data.astype("float32")
    if stretch is not None:
        lo, hi = stretch
        arr = np.clip((arr - lo) / max(hi - lo, 1e-9) * 255, 0, 255)
    return np.moveaxis(arr.astype(np.uint8), 0, -1)


