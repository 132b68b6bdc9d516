"""Coordinate reference systems: the working CRS, areas in mu, and sanity checks.

Official Chinese data are in CGCS2000. Areas and distances are computed in a
*projected* working CRS, never in degrees or Web Mercator. mujun picks it from
the data:

* inside China: the CGCS2000 3-degree Gauss–Krüger zone **without** zone prefix
  whose central meridian (CM) is nearest the data's centre, EPSG:4534–4554
  (CM 75°E … 135°E, ``EPSG = 4534 + (CM − 75) / 3``);
* elsewhere (a bureau abroad, test data from Finland): the UTM zone of the
  centre (WGS84, EPSG:326xx north / 327xx south);
* the ``working_crs`` setting overrides both.

"Inside China" is decided with the coarse outline in :mod:`gis.china_outline`.

Axis order: EPSG:4490 and the CGCS2000 zones declare northing/easting (lat/lon)
axis order. mujun always works in x=easting/longitude, y=northing/latitude, and
every transformer here is built with ``always_xy=True``.

1 mu (亩) = 10000/15 m² ≈ 666.67 m²; 1 ha = 15 mu.
"""

from __future__ import annotations

import logging
import math
from typing import TYPE_CHECKING, Any

import numpy as np

from gis.errors import ConfigError, CRSError, EmptyInputError

if TYPE_CHECKING:
    import geopandas as gpd
    import pyproj

log = logging.getLogger(__name__)

#: Square metres in one mu (亩).
SQM_PER_MU: float = 10000 / 15

#: Westernmost and easternmost central meridians of the CGCS2000 3-degree zones (EPSG:4534–4554).
CGCS2000_CM_RANGE: tuple[int, int] = (75, 135)

#: Geographic CGCS2000.
CGCS2000_GEOGRAPHIC = 4490


# --------------------------------------------------------------------------- areas


def m2_to_mu(area_m2: Any) -> Any:
    """Convert square metres to mu (亩).

    Parameters
    ----------
    area_m2 : float or array-like
        Area in m² (scalar, list, ndarray or pandas Series).

    Returns
    -------
    float, ndarray or Series
        Area in mu, of the same kind as the input (lists give arrays).

    Examples
    --------
    >>> m2_to_mu(10000)  # one hectare
    15.0
    """
    return _as_numbers(area_m2) / SQM_PER_MU


def mu_to_m2(area_mu: Any) -> Any:
    """Convert mu (亩) to square metres.

    Examples
    --------
    >>> round(mu_to_m2(1), 3)
    666.667
    """
    return _as_numbers(area_mu) * SQM_PER_MU


def _as_numbers(value: Any) -> Any:
    """Lists become arrays; scalars, arrays and pandas objects pass (keeping their index)."""
    return np.asarray(value, dtype=float) if isinstance(value, list | tuple) else value


# --------------------------------------------------------------------------- zones


def cgcs2000_zone_epsg(lon: float) -> int:
    """EPSG code of the CGCS2000 3-degree Gauss–Krüger zone (no prefix) for a longitude.

    Parameters
    ----------
    lon : float
        Longitude in degrees east, within 73.5–136.5 (the zones' extent).

    Returns
    -------
    int
        EPSG:4534 (CM 75°E) … EPSG:4554 (CM 135°E).

    Raises
    ------
    CRSError
        ``lon`` lies outside every CGCS2000 3-degree zone.

    Examples
    --------
    >>> cgcs2000_zone_epsg(120.6)  # Suzhou, CM 120°E
    4549
    >>> cgcs2000_zone_epsg(117.0)
    4548
    """
    lon = float(lon)
    lo, hi = CGCS2000_CM_RANGE
    if not (lo - 1.5 <= lon <= hi + 1.5):
        raise CRSError(
            f"longitude {lon:g} is outside the CGCS2000 3-degree zones ({lo - 1.5}°E–{hi + 1.5}°E); "
            "set working_crs to a projected CRS"
        )
    cm = 3 * math.floor(lon / 3 + 0.5)
    cm = min(max(cm, lo), hi)
    return 4534 + (cm - lo) // 3


def zone_central_meridian(epsg: int) -> int:
    """Central meridian of CGCS2000 zone EPSG:4534–4554 (inverse of :func:`cgcs2000_zone_epsg`).

    Examples
    --------
    >>> zone_central_meridian(4549)
    120
    """
    if not 4534 <= int(epsg) <= 4554:
        raise ValueError(f"EPSG:{epsg} is not a CGCS2000 3-degree zone without prefix (4534–4554)")
    return CGCS2000_CM_RANGE[0] + 3 * (int(epsg) - 4534)


def utm_epsg(lon: float, lat: float) -> int:
    """EPSG code of the WGS84 UTM zone (or UPS beyond 84°N/80°S) containing a point.

    The Norway (32V) and Svalbard (31X–37X) exceptions are applied.

    Examples
    --------
    >>> utm_epsg(24.94, 60.17)  # Helsinki: zone 35N
    32635
    >>> utm_epsg(-43.2, -22.9)  # Rio de Janeiro: zone 23S
    32723
    """
    lon, lat = float(lon), float(lat)
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise CRSError(f"({lon:g}, {lat:g}) is not a longitude/latitude pair")
    if lat > 84:
        return 32661
    if lat < -80:
        return 32761
    zone = min(int((lon + 180) // 6) + 1, 60)
    if 56 <= lat < 64 and 3 <= lon < 12:
        zone = 32
    elif 72 <= lat <= 84 and 0 <= lon < 42:
        zone = 31 if lon < 9 else 33 if lon < 21 else 35 if lon < 33 else 37
    return (32600 if lat >= 0 else 32700) + zone


def in_china(lon: Any, lat: Any) -> Any:
    """Whether points lie inside China's coarse outline (array-friendly).

    See :mod:`gis.china_outline` for what "coarse" means: within ~50 km of a
    land border the answer may be wrong; Taiwan is outside, Hainan inside.

    Parameters
    ----------
    lon, lat : float or array-like
        Degrees (WGS84/CGCS2000).

    Returns
    -------
    bool or ndarray of bool

    Examples
    --------
    >>> bool(in_china(116.4, 39.9)), bool(in_china(126.98, 37.57))  # Beijing, Seoul
    (True, False)
    """
    import shapely

    from gis.china_outline import china_polygon

    result = shapely.contains_xy(china_polygon(), lon, lat)
    return bool(result) if np.ndim(result) == 0 else result


# --------------------------------------------------------------------------- working CRS


def _lonlat_bounds(data: Any) -> tuple[float, float, float, float]:
    """(minlon, minlat, maxlon, maxlat) of a GeoDataFrame/GeoSeries or of lon/lat bounds."""
    from pyproj import CRS, Transformer

    if hasattr(data, "total_bounds"):
        if data.crs is None:
            raise CRSError("data has no CRS; cannot choose a working CRS (pass --crs)")
        if len(data) == 0 or data.geometry.is_empty.all():
            raise EmptyInputError("data has no geometries; cannot choose a working CRS")
        minx, miny, maxx, maxy = (float(v) for v in data.total_bounds)
        crs = CRS.from_user_input(data.crs)
        if not crs.equals(CRS.from_epsg(4326), ignore_axis_order=True):
            t = Transformer.from_crs(crs, 4326, always_xy=True)
            minx, miny, maxx, maxy = t.transform_bounds(minx, miny, maxx, maxy, densify_pts=21)
        return minx, miny, maxx, maxy
    values = tuple(float(v) for v in data)
    if len(values) != 4 or not all(math.isfinite(v) for v in values):
        raise ValueError(f"expected (minlon, minlat, maxlon, maxlat), got {data!r}")
    return values  # type: ignore[return-value]


def working_crs_for(data: Any, settings: Any = None) -> pyproj.CRS:
    """Choose the projected working CRS for a data set.

    Parameters
    ----------
    data : GeoDataFrame, GeoSeries or sequence of 4 floats
        The data (with a CRS), or its bounds in longitude/latitude.
    settings : Settings, optional
        When ``settings.working_crs`` is set, that CRS is returned (it must be projected).

    Returns
    -------
    pyproj.CRS
        The ``working_crs`` setting; else the CGCS2000 3-degree zone of the
        centre of the data's bounds when that centre is in China; else its UTM zone.

    Raises
    ------
    ConfigError
        ``working_crs`` is not a valid projected CRS.
    CRSError
        The data has no CRS.
    EmptyInputError
        The data has no geometries.

    Examples
    --------
    >>> working_crs_for((120.5, 31.1, 120.8, 31.4)).to_epsg()
    4549
    >>> working_crs_for((24.8, 60.1, 25.1, 60.3)).to_epsg()
    32635
    """
    from pyproj import CRS
    from pyproj.exceptions import CRSError as ProjCRSError

    configured = getattr(settings, "working_crs", None) if settings is not None else None
    if configured:
        try:
            crs = CRS.from_user_input(configured)
        except ProjCRSError as exc:
            raise ConfigError(f"setting working_crs: {configured!r} is not a CRS: {exc}") from exc
        if not crs.is_projected:
            raise ConfigError(
                f"setting working_crs: {configured!r} is not projected; use metres, e.g. EPSG:4549"
            )
        return crs
    minx, miny, maxx, maxy = _lonlat_bounds(data)
    lon, lat = (minx + maxx) / 2, (miny + maxy) / 2
    epsg = cgcs2000_zone_epsg(lon) if in_china(lon, lat) else utm_epsg(lon, lat)
    log.debug("working CRS for centre (%.4f, %.4f): EPSG:%d", lon, lat, epsg)
    return CRS.from_epsg(epsg)


# --------------------------------------------------------------------------- checks


def _sample_xy(gdf: gpd.GeoDataFrame, limit: int = 2000) -> tuple[np.ndarray, np.ndarray]:
    """Centres of the bounding boxes of (at most ``limit``) non-empty geometries."""
    import shapely

    geoms = np.asarray(gdf.geometry.values)
    geoms = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
    if len(geoms) > limit:
        geoms = geoms[np.linspace(0, len(geoms) - 1, limit).astype(int)]
    b = shapely.bounds(geoms)
    return (b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2


def looks_swapped(gdf: gpd.GeoDataFrame) -> bool:
    """Whether geographic coordinates look like latitude/longitude stored as x/y.

    Two tests, both deliberately conservative:

    1. *ranges*: every x fits a latitude (|x| ≤ 90) but some y does not
       (|y| > 90) — impossible for lon/lat in the right order;
    2. *China*: (almost) no point is in China as given, but most are once
       swapped (catches western China, where both orders are in range).

    Only data with a geographic CRS (or no CRS and degree-sized values) is
    judged; projected data returns False. Outside China only test 1 can fire,
    so lat/lon swapped data elsewhere may go unnoticed.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> good = gpd.GeoDataFrame(geometry=[shapely.Point(87.6, 43.8)], crs=4326)  # Urumqi
    >>> looks_swapped(good), looks_swapped(swap_xy(good))
    (False, True)
    """
    from pyproj import CRS

    if gdf.crs is not None and not CRS.from_user_input(gdf.crs).is_geographic:
        return False
    x, y = _sample_xy(gdf)
    if len(x) == 0:
        return False
    if (np.abs(x) > 180).any() or (np.abs(y) > 180).any():
        return False  # not degrees at all
    if (np.abs(x) <= 90).all() and (np.abs(y) > 90).any():
        return True
    if (np.abs(x) > 90).any() or (np.abs(y) > 90).any():
        return False
    given = np.mean(in_china(x, y))
    swapped = np.mean(in_china(y, x))
    return bool(given < 0.05 and swapped >= 0.5)


def ensure_crs(
    gdf: gpd.GeoDataFrame, crs: Any = None, *, source: str | None = None
) -> gpd.GeoDataFrame:
    """Make sure a GeoDataFrame has a CRS: assign ``crs`` or fail clearly.

    Parameters
    ----------
    gdf : GeoDataFrame
    crs : CRS-like, optional
        The CRS the user says the data is in (``--crs``): an EPSG number,
        ``"EPSG:4549"``, WKT or PROJ string. It is *assigned* (no reprojection)
        and wins over a CRS declared by the file, with a warning when they differ.
    source : str, optional
        File/layer named in error messages.

    Returns
    -------
    GeoDataFrame
        ``gdf`` itself or a copy with the CRS set.

    Raises
    ------
    CRSError
        No CRS in the data and none given, or ``crs`` is not a valid CRS.
    """
    from pyproj import CRS
    from pyproj.exceptions import CRSError as ProjCRSError

    if crs is None:
        if gdf.crs is None:
            raise CRSError(
                "no coordinate reference system (missing .prj or undeclared); pass --crs, "
                "e.g. --crs 4490 for CGCS2000 lon/lat or --crs 4549 for CGCS2000 zone CM 120°E",
                source=source,
            )
        return gdf
    try:
        wanted = CRS.from_user_input(int(crs) if str(crs).isdigit() else crs)
    except ProjCRSError as exc:
        raise CRSError(f"--crs {crs!r} is not a valid CRS: {exc}", source=source) from exc
    if gdf.crs is not None and not CRS.from_user_input(gdf.crs).equals(wanted, ignore_axis_order=True):
        log.warning(
            "%s: declared CRS %s replaced by the given %s (coordinates are not transformed)",
            source or "data", CRS.from_user_input(gdf.crs).to_string(), wanted.to_string(),
        )
    return gdf.set_crs(wanted, allow_override=True)


def check_coordinates(gdf: gpd.GeoDataFrame, *, source: str | None = None) -> None:
    """Raise when coordinates cannot be what the CRS says.

    Catches the two common mistakes: projected coordinates (metres) under a
    geographic CRS (a wrong ``.prj`` or ``--crs``), and latitude/longitude
    stored in swapped order (see :func:`looks_swapped`; fix with :func:`swap_xy`).

    Raises
    ------
    CRSError
        With the offending extent and what to do.
    """
    from pyproj import CRS

    if gdf.crs is None or not CRS.from_user_input(gdf.crs).is_geographic:
        return
    x, y = _sample_xy(gdf)
    if len(x) == 0:
        return
    if looks_swapped(gdf):
        raise CRSError(
            "coordinates look like latitude/longitude in swapped order (x within ±90, "
            "y out of range or only plausible when swapped); swap x and y before importing",
            source=source,
        )
    if (np.abs(x) > 180).any() or (np.abs(y) > 90).any():
        raise CRSError(
            f"coordinates up to x={np.abs(x).max():.6g}, y={np.abs(y).max():.6g} are not degrees, "
            f"but the CRS ({CRS.from_user_input(gdf.crs).to_string()}) is geographic; "
            "pass the projected CRS the data is really in with --crs",
            source=source,
        )


def swap_xy(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """A copy with x and y exchanged in every geometry (repairs swapped lat/lon).

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> swap_xy(gpd.GeoDataFrame(geometry=[shapely.Point(1, 2)])).geometry[0].wkt
    'POINT (2 1)'
    """
    import shapely

    swapped = shapely.transform(
        np.asarray(gdf.geometry.values), lambda c: c[:, [1, 0, *range(2, c.shape[1])]],
        include_z=None,
    )
    out = gdf.copy()
    out[gdf.geometry.name] = gdf.geometry.__class__(swapped, index=gdf.index, crs=gdf.crs)
    return out


def to_epsg_or_wkt(crs: Any) -> str:
    """Short text for messages: ``"EPSG:4549"`` when identifiable, else the CRS name."""
    from pyproj import CRS

    c = CRS.from_user_input(crs)
    code = c.to_epsg()
    return f"EPSG:{code}" if code else c.name


def lonlat_transformer(crs: Any, *, to_lonlat: bool = True) -> Any:
    """A pyproj Transformer between ``crs`` and EPSG:4326, always in x=lon, y=lat order."""
    from pyproj import Transformer

    if to_lonlat:
        return Transformer.from_crs(crs, 4326, always_xy=True)
    return Transformer.from_crs(4326, crs, always_xy=True)

