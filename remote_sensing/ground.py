"""Metres on the ground per unit of a raster's CRS (Web Mercator, degrees, projected metres).

Drone mosaics come as Web-Mercator tiles (EPSG:3857), whose "metres" are the ground's
stretched by ``1 / cos(latitude)`` (Banepa at 27.6° N: a 0.149 m pixel is 0.132 m on the
ground, and an area is overstated by 27 %); satellite chips come in degrees. A model's
resolution and every area are stated on the ground: :func:`ground_scale` gives the
factors, measured with geodesic distances at the centre of the extent, so the same
code serves every CRS. Over one orthophoto (a few kilometres) the scale varies by far
less than the pixel size.
"""

from __future__ import annotations

import math


def ground_scale(crs, bounds) -> tuple[float, float]:
    """Metres on the ground per CRS unit along x and along y, at the centre of ``bounds``.

    Parameters
    ----------
    crs : anything pyproj accepts (rasterio CRS, WKT, EPSG code)
    bounds : (west, south, east, north) in that CRS

    Returns
    -------
    (sx, sy) : float
        1.0 for a projected CRS in metres near its true scale; ``cos(latitude)`` for Web
        Mercator; about 111,000 m per degree (times ``cos(latitude)`` along x) for degrees.

    Examples
    --------
    >>> sx, sy = ground_scale(3857, (9519926.0, 3202329.0, 9520155.0, 3202940.0))  # Banepa
    >>> round(sx, 3), round(sy, 3)
    (0.887, 0.882)
    >>> [round(v, 3) for v in ground_scale(26914, (617100, 3344100, 617250, 3344400))]  # UTM 14N
    [1.0, 1.0]
    """
    from pyproj import CRS, Geod, Transformer

    src = CRS.from_user_input(crs.to_wkt() if hasattr(crs, "to_wkt") else crs)
    west, south, east, north = (float(v) for v in bounds)
    x, y = (west + east) / 2, (south + north) / 2
    # a step of about a hundredth of the extent (at least a tiny one), in CRS units
    dx = max(abs(east - west) / 100, 1e-9 if src.is_geographic else 1e-3)
    dy = max(abs(north - south) / 100, 1e-9 if src.is_geographic else 1e-3)
    to_lonlat = Transformer.from_crs(src, src.geodetic_crs, always_xy=True)
    lon, lat = to_lonlat.transform([x, x + dx, x], [y, y, y + dy])
    geod = Geod(ellps="WGS84") if src.ellipsoid is None else Geod(a=src.ellipsoid.semi_major_metre,
                                                                    rf=src.ellipsoid.inverse_flattening or 0.0)
    _, _, mx = geod.inv(lon[0], lat[0], lon[1], lat[1])
    _, _, my = geod.inv(lon[0], lat[0], lon[2], lat[2])
    return mx / dx, my / dy


def ground_resolution(crs, bounds, res_x: float, res_y: float | None = None) -> float:
    """Ground pixel size in metres (geometric mean of the two axes).

    Examples
    --------
    >>> round(ground_resolution(3857, (9519926.0, 3202329.0, 9520155.0, 3202940.0), 0.149291), 3)
    0.132
    """
    sx, sy = ground_scale(crs, bounds)
    ry = abs(res_x if res_y is None else res_y)
    return math.sqrt(abs(res_x) * sx * ry * sy)


#: A projected CRS whose scale is within this of true keeps its plane units: survey areas
#: are computed on the projection plane (Gauss–Krüger, UTM: within 0.1 % near their
#: meridians), and a bureau's figures must agree with them.
PLANE_TOLERANCE = 0.01


def metres_per_unit(crs, bounds) -> tuple[float, float]:
    """Scale from CRS units to the metres mujun states areas and resolutions in.

    ``(1.0, 1.0)`` for a projected CRS within :data:`PLANE_TOLERANCE` of true scale (the
    plane areas surveys use); :func:`ground_scale` otherwise (Web Mercator, degrees).

    Examples
    --------
    >>> metres_per_unit(26914, (617100, 3344100, 617250, 3344400))
    (1.0, 1.0)
    >>> [round(v, 3) for v in metres_per_unit(3857, (9519926.0, 3202329.0, 9520155.0, 3202940.0))]
    [0.887, 0.882]
    """
    from pyproj import CRS

    src = CRS.from_user_input(crs.to_wkt() if hasattr(crs, "to_wkt") else crs)
    sx, sy = ground_scale(src, bounds)
    if src.is_projected and abs(sx - 1) <= PLANE_TOLERANCE and abs(sy - 1) <= PLANE_TOLERANCE:
        return 1.0, 1.0
    return sx, sy
