"""GCJ-02 and BD-09: the offset coordinates of Chinese web maps, for DISPLAY ONLY.

.. warning::
   Never store official geometry in GCJ-02 or BD-09. Parcels, footprints and
   every area or distance stay in CGCS2000 (or WGS84, equal to it within a
   metre or so). Convert *copies* just before drawing them on a commercial
   basemap, and convert clicks on such a map back before using them.

Commercial web maps in mainland China do not use WGS84. Gaode/AMap and Tencent
use **GCJ-02** ("Mars coordinates"), a deliberate, smooth, non-linear offset of
WGS84 by a few hundred metres; Baidu adds its own offset on top, **BD-09**.
The forward formulas below are the widely published ones (a polynomial plus
sine terms in the distance from 105°E, 35°N, scaled on the Krasovsky
ellipsoid). Tianditu, the national basemap, is CGCS2000 and needs none of this.

The inverse GCJ-02 → WGS84 has no closed form. :func:`gcj02_to_wgs84` solves
``forward(w) = g`` by fixed-point iteration ``w ← w − (forward(w) − g)``; the
offset changes slowly, so it converges to ~1e-9° (sub-millimetre) in a few steps.
:func:`gcj02_to_wgs84_approx` is the one-step version (error up to a metre or two).

Outside China the published convention applies no offset; "inside" is the
coarse outline of :func:`gis.crs.in_china` (the widespread bounding-box test
would also shift Korea, Mongolia and parts of Japan). The inverses decide
inside/outside from the point they are given; within the offset distance
(< 1 km) of the border the choice may differ from the forward one.

Every function is vectorized: scalars in, scalars out; arrays in, arrays out.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gis.crs import in_china

#: Semi-major axis and first eccentricity squared of the Krasovsky 1940 ellipsoid.
_A = 6378245.0
_EE = 0.00669342162296594323
#: BD-09's angular constant.
_X_PI = np.pi * 3000.0 / 180.0

#: Iteration limits of the GCJ-02 inverse.
INVERSE_TOLERANCE_DEG = 1e-10
INVERSE_MAX_ITER = 30


def _as_arrays(lon: Any, lat: Any) -> tuple[np.ndarray, np.ndarray, bool]:
    scalar = np.ndim(lon) == 0 and np.ndim(lat) == 0
    x, y = np.broadcast_arrays(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    return x.astype(float, copy=True), y.astype(float, copy=True), scalar


def _out(x: np.ndarray, y: np.ndarray, scalar: bool) -> tuple[Any, Any]:
    return (float(x), float(y)) if scalar else (x, y)


def _gcj_delta(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 minus WGS84 in degrees at WGS84 (lon, lat), without the inside-China test."""
    x, y = lon - 105.0, lat - 35.0
    common = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    sqrt_abs_x = np.sqrt(np.abs(x))
    dlat = (
        -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrt_abs_x
        + common
        + (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
        + (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    )
    dlon = (
        300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrt_abs_x
        + common
        + (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
        + (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    )
    rad_lat = np.radians(lat)
    magic = 1.0 - _EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = dlat * 180.0 / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * np.pi)
    dlon = dlon * 180.0 / (_A / sqrt_magic * np.cos(rad_lat) * np.pi)
    return dlon, dlat


def wgs84_to_gcj02(lon: Any, lat: Any) -> tuple[Any, Any]:
    """WGS84 (≈ CGCS2000) → GCJ-02; unchanged outside China.

    Parameters
    ----------
    lon, lat : float or array-like
        Degrees.

    Returns
    -------
    (lon, lat)
        Floats for scalar input, arrays otherwise.

    Examples
    --------
    >>> glon, glat = wgs84_to_gcj02(116.397, 39.909)  # Tiananmen
    >>> 0.004 < glon - 116.397 < 0.008 and 0.0 < glat - 39.909 < 0.003
    True
    >>> wgs84_to_gcj02(2.35, 48.85)  # Paris: no offset
    (2.35, 48.85)
    """
    x, y, scalar = _as_arrays(lon, lat)
    inside = np.asarray(in_china(x, y), dtype=bool)
    if inside.any():
        dlon, dlat = _gcj_delta(x[inside], y[inside])
        x[inside] += dlon
        y[inside] += dlat
    return _out(x, y, scalar)


def gcj02_to_wgs84(lon: Any, lat: Any) -> tuple[Any, Any]:
    """GCJ-02 → WGS84 by fixed-point iteration (error far below 0.5 m); unchanged outside China.

    Examples
    --------
    >>> w = (120.6, 31.3)
    >>> back = gcj02_to_wgs84(*wgs84_to_gcj02(*w))
    >>> max(abs(back[0] - w[0]), abs(back[1] - w[1])) < 1e-8
    True
    """
    gx, gy, scalar = _as_arrays(lon, lat)
    inside = np.asarray(in_china(gx, gy), dtype=bool)
    x, y = gx.copy(), gy.copy()
    if inside.any():
        tx, ty = gx[inside], gy[inside]
        wx, wy = tx.copy(), ty.copy()
        for _ in range(INVERSE_MAX_ITER):
            dlon, dlat = _gcj_delta(wx, wy)
            nx, ny = tx - dlon, ty - dlat
            step = max(np.max(np.abs(nx - wx)), np.max(np.abs(ny - wy)))
            wx, wy = nx, ny
            if step < INVERSE_TOLERANCE_DEG:
                break
        x[inside], y[inside] = wx, wy
    return _out(x, y, scalar)


def gcj02_to_wgs84_approx(lon: Any, lat: Any) -> tuple[Any, Any]:
    """GCJ-02 → WGS84 in one step (subtract the offset computed at the GCJ-02 point).

    Accurate to about a metre or two; prefer :func:`gcj02_to_wgs84`.
    """
    gx, gy, scalar = _as_arrays(lon, lat)
    inside = np.asarray(in_china(gx, gy), dtype=bool)
    if inside.any():
        dlon, dlat = _gcj_delta(gx[inside], gy[inside])
        gx[inside] -= dlon
        gy[inside] -= dlat
    return _out(gx, gy, scalar)


def gcj02_to_bd09(lon: Any, lat: Any) -> tuple[Any, Any]:
    """GCJ-02 → BD-09 (Baidu). Applied everywhere, as Baidu does.

    Examples
    --------
    >>> b = gcj02_to_bd09(116.403, 39.915)
    >>> round(b[0] - 116.403, 3), round(b[1] - 39.915, 3)
    (0.006, 0.006)
    """
    x, y, scalar = _as_arrays(lon, lat)
    z = np.hypot(x, y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return _out(z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006, scalar)


def bd09_to_gcj02(lon: Any, lat: Any) -> tuple[Any, Any]:
    """BD-09 → GCJ-02: the published closed-form inverse, refined by two fixed-point steps."""
    bx, by, scalar = _as_arrays(lon, lat)
    x, y = bx - 0.0065, by - 0.006
    z = np.hypot(x, y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    gx, gy = z * np.cos(theta), z * np.sin(theta)
    for _ in range(2):
        fx, fy = gcj02_to_bd09(gx, gy)
        gx, gy = gx - (fx - bx), gy - (fy - by)
    return _out(gx, gy, scalar)


def wgs84_to_bd09(lon: Any, lat: Any) -> tuple[Any, Any]:
    """WGS84 → BD-09 (through GCJ-02)."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon: Any, lat: Any) -> tuple[Any, Any]:
    """BD-09 → WGS84 (through GCJ-02, iterative inverse)."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


#: Name -> vectorized (lon, lat) -> (lon, lat) function; drives :func:`display_copy`.
TRANSFORMS = {
    ("wgs84", "gcj02"): wgs84_to_gcj02,
    ("gcj02", "wgs84"): gcj02_to_wgs84,
    ("gcj02", "bd09"): gcj02_to_bd09,
    ("bd09", "gcj02"): bd09_to_gcj02,
    ("wgs84", "bd09"): wgs84_to_bd09,
    ("bd09", "wgs84"): bd09_to_wgs84,
}


def display_copy(gdf: Any, target: str = "gcj02", source: str = "wgs84") -> Any:
    """A copy of a GeoDataFrame with coordinates moved to GCJ-02/BD-09 for a web basemap.

    The input is first reprojected to EPSG:4326 when it is in another CRS. The
    result keeps EPSG:4326 as its declared CRS, which is *wrong on purpose*
    (no CRS describes GCJ-02): use it only to draw.

    Parameters
    ----------
    gdf : GeoDataFrame
    target, source : {"wgs84", "gcj02", "bd09"}

    Raises
    ------
    ValueError
        Unknown system names (the message lists the valid pairs).
    """
    import shapely

    try:
        func = TRANSFORMS[(source, target)]
    except KeyError:
        pairs = ", ".join(f"{a}->{b}" for a, b in TRANSFORMS)
        raise ValueError(f"no transform {source}->{target}; valid: {pairs}") from None
    data = gdf.to_crs(4326) if gdf.crs is not None and gdf.crs.to_epsg() != 4326 else gdf.copy()

    def move(coords: np.ndarray) -> np.ndarray:
        lon, lat = func(coords[:, 0], coords[:, 1])
        return np.column_stack([lon, lat])

    moved = shapely.transform(np.asarray(data.geometry.values), move)
    data[data.geometry.name] = gdf.geometry.__class__(moved, index=data.index, crs=data.crs)
    return data
