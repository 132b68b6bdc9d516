"""Is every feature where its declared CRS can be? The area-of-use check, with likely causes.

Every EPSG CRS has an *area of use* (pyproj's ``CRS.area_of_use``, in degrees).
A feature outside it (with a margin of :data:`MARGIN_DEG`) was declared in
the wrong CRS or holds broken coordinates (``1e30``). Such features are
errors; when most of a file is outside, the whole file is refused with the
likely cause:

* x values carrying a Gauss–Krüger zone prefix (``40 500 000``) under a CRS
  without one, or the other way round — "did you mean --crs 4528?";
* longitude/latitude degrees under a projected CRS;
* x and y exchanged (with or without ``--swap-xy``).

Pure kernel: geometries and a CRS in, a mask and report issues out.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gis.importing.report import ImportReport

#: Degrees added on every side of the area of use (data just across a zone edge is common).
MARGIN_DEG = 2.0
#: Share of features outside the area of use above which the whole file is refused.
FILE_SHARE = 0.5

# CGCS2000 Gauss–Krüger EPSG codes: 3-degree zones 25–45 with prefix (4513–4533) and
# without (central meridians 75–135°E, 4534–4554); 6-degree zones 13–23 with prefix
# (4491–4501) and without (4502–4512).
_GK3_PREFIX, _GK3_PLAIN, _GK6_PREFIX, _GK6_PLAIN = 4513, 4534, 4491, 4502


def gk_zone(epsg: int | None) -> tuple[int, int, bool] | None:
    """``(zone width in degrees, zone number, has prefix)`` of a CGCS2000 Gauss–Krüger EPSG code.

    Examples
    --------
    >>> gk_zone(4528), gk_zone(4549), gk_zone(4499), gk_zone(32650)
    ((3, 40, True), (3, 40, False), (6, 21, True), None)
    """
    if epsg is None:
        return None
    if _GK3_PREFIX <= epsg < _GK3_PREFIX + 21:
        return 3, 25 + epsg - _GK3_PREFIX, True
    if _GK3_PLAIN <= epsg < _GK3_PLAIN + 21:
        return 3, 25 + epsg - _GK3_PLAIN, False
    if _GK6_PREFIX <= epsg < _GK6_PREFIX + 11:
        return 6, 13 + epsg - _GK6_PREFIX, True
    if _GK6_PLAIN <= epsg < _GK6_PLAIN + 11:
        return 6, 13 + epsg - _GK6_PLAIN, False
    return None


def gk_epsg(width: int, zone: int, prefix: bool) -> int | None:
    """The EPSG code of a CGCS2000 Gauss–Krüger zone (inverse of :func:`gk_zone`).

    Examples
    --------
    >>> gk_epsg(3, 40, True), gk_epsg(3, 40, False), gk_epsg(3, 50, False)
    (4528, 4549, None)
    """
    if width == 3 and 25 <= zone <= 45:
        return (_GK3_PREFIX if prefix else _GK3_PLAIN) + zone - 25
    if width == 6 and 13 <= zone <= 23:
        return (_GK6_PREFIX if prefix else _GK6_PLAIN) + zone - 13
    return None


def _allowed_box(crs: Any) -> tuple[float, float, float, float] | None:
    """The area of use grown by the margin, in the CRS's own x/y; None when unknown."""
    from pyproj import CRS, Transformer

    crs = CRS.from_user_input(crs)
    aou = crs.area_of_use
    if aou is None:
        return None
    west, south = max(aou.west - MARGIN_DEG, -180.0), max(aou.south - MARGIN_DEG, -90.0)
    east, north = min(aou.east + MARGIN_DEG, 180.0), min(aou.north + MARGIN_DEG, 90.0)
    if west >= east:  # crosses the antimeridian: leave it to other checks
        return None
    if crs.is_geographic:
        return west, south, east, north
    to_crs = Transformer.from_crs(4326, crs, always_xy=True)
    box = to_crs.transform_bounds(west, south, east, north, densify_pts=21)
    if not np.all(np.isfinite(box)):
        return None
    return tuple(float(v) for v in box)  # type: ignore[return-value]


def _inside(bounds: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    x0, y0, x1, y1 = box
    finite = np.isfinite(bounds).all(axis=1)
    with np.errstate(invalid="ignore"):
        return finite & (bounds[:, 0] >= x0) & (bounds[:, 2] <= x1) & \
            (bounds[:, 1] >= y0) & (bounds[:, 3] <= y1)


def likely_cause(bounds: np.ndarray, crs: Any, *, swapped: bool = False) -> str:
    """A guess at why features lie outside ``crs``'s area of use, with what to try.

    Parameters
    ----------
    bounds : array of shape (n, 4)
        ``minx, miny, maxx, maxy`` of the features outside.
    crs : CRS-like
        The declared CRS.
    swapped : bool
        ``--swap-xy`` was given.

    Examples
    --------
    >>> b = np.array([[40_500_000.0, 3_400_000.0, 40_500_100.0, 3_400_100.0]])
    >>> likely_cause(b, 4549)
    'the x values start with 40: a Gauss–Krüger zone prefix; did you mean --crs 4528 (CGCS2000 3-degree zone 40 with prefix)?'
    >>> likely_cause(np.array([[500_000.0, 3_400_000.0, 500_100.0, 3_400_100.0]]), 4528)
    'the x values have no zone prefix; did you mean --crs 4549 (CGCS2000 3-degree zone 40, CM 120°E, no prefix)?'
    """
    from pyproj import CRS

    crs = CRS.from_user_input(crs)
    finite = bounds[np.isfinite(bounds).all(axis=1)]
    if len(finite) == 0:
        return "the coordinates are not finite numbers; the file is broken"
    x = np.median((finite[:, 0] + finite[:, 2]) / 2)
    y = np.median((finite[:, 1] + finite[:, 3]) / 2)
    if max(abs(x), abs(y)) > 1e9:
        return (f"coordinates such as x={x:.6g}, y={y:.6g} are far beyond any map; "
                "the file holds broken values")
    zone = gk_zone(crs.to_epsg())
    if zone is not None:
        width, number, prefix = zone
        if not prefix and x >= 1_000_000:
            found = int(x // 1_000_000)
            for w in (3, 6):
                epsg = gk_epsg(w, found, True)
                if epsg:
                    return (f"the x values start with {found}: a Gauss–Krüger zone prefix; did you "
                            f"mean --crs {epsg} (CGCS2000 {w}-degree zone {found} with prefix)?")
        if prefix and 0 < x < 1_000_000:
            epsg = gk_epsg(width, number, False)
            cm = number * width if width == 3 else number * 6 - 3
            return (f"the x values have no zone prefix; did you mean --crs {epsg} (CGCS2000 "
                    f"{width}-degree zone {number}, CM {cm}°E, no prefix)?")
    box = _allowed_box(crs)
    if box is not None:
        exchanged = finite[:, [1, 0, 3, 2]]
        if _inside(exchanged, box).mean() > 0.5:
            return ("x and y look exchanged; drop --swap-xy" if swapped
                    else "x and y look exchanged; re-run with --swap-xy")
    if not crs.is_geographic and abs(x) <= 180 and abs(y) <= 90:
        return ("the values look like longitude/latitude degrees; did you mean --crs 4490 "
                "(CGCS2000) or --crs 4326 (WGS 84)?")
    return (f"coordinates around x={x:.6g}, y={y:.6g} are not in {crs.name}; pass the CRS the "
            "data is really in with --crs")


def check_area_of_use(geoms: np.ndarray, crs: Any, rows: np.ndarray, report: ImportReport, *,
                      swapped: bool = False) -> np.ndarray:
    """Flag features outside the CRS's area of use; refuse the file when most are.

    Parameters
    ----------
    geoms : array of geometries (None allowed) in ``crs``.
    crs : CRS-like
        The CRS the data is declared in.
    rows : feature numbers for messages.
    report : ImportReport
        Gets one ``outside_crs_area`` error per feature outside, and a
        file-level error (which refuses even ``--accept-partial``) with the
        likely cause when more than :data:`FILE_SHARE` of them are.
    swapped : bool
        ``--swap-xy`` was given (changes the hint).

    Returns
    -------
    numpy.ndarray of bool
        True for features inside (and for missing or empty geometries, judged elsewhere).

    Examples
    --------
    >>> import shapely
    >>> rep = ImportReport(unit="feature")
    >>> g = np.array([shapely.box(500_000, 3_400_000, 500_050, 3_400_050),
    ...               shapely.box(1e30, 1e30, 1e30 + 1, 1e30 + 1)])
    >>> check_area_of_use(g, 4549, np.array([1, 2]), rep).tolist()
    [True, False]
    >>> rep.issues[0].row, rep.issues[0].check
    (2, 'outside_crs_area')
    """
    import shapely

    geoms = np.asarray(geoms, dtype=object)
    ok = np.ones(len(geoms), dtype=bool)
    present = ~shapely.is_missing(geoms)
    present[present] = ~shapely.is_empty(geoms[present])
    if crs is None or not present.any():
        return ok
    box = _allowed_box(crs)
    if box is None:
        return ok
    bounds = shapely.bounds(geoms[present])
    inside = _inside(bounds, box)
    ok[np.flatnonzero(present)[~inside]] = False
    if inside.all():
        return ok
    from pyproj import CRS

    name = CRS.from_user_input(crs).name
    outside_bounds = bounds[~inside]
    cause = likely_cause(outside_bounds, crs, swapped=swapped)
    for r, b in zip(rows[~ok], outside_bounds, strict=True):
        report.add(int(r), "outside_crs_area", "error",
                   f"coordinates ({b[0]:.6g}, {b[1]:.6g}) are outside the area where {name} "
                   "is used", field="geometry")
    n_out = int((~inside).sum())
    if n_out > FILE_SHARE * int(present.sum()):
        report.add(None, "outside_crs_area", "error",
                   f"{n_out} of {int(present.sum())} features lie outside the area where "
                   f"{name} is used: {cause}")
    return ok


#: A batch farther than this from the data already stored (km) is checked for a CRS
#: confusion: a neighbouring Gauss–Krüger zone moves data by 230–330 km (3°) or twice that.
FAR_KM = 100.0


def all_gk_epsg() -> list[int]:
    """Every CGCS2000 Gauss–Krüger EPSG code: 3° and 6° zones, with and without prefix."""
    return [*range(_GK3_PREFIX, _GK3_PREFIX + 21), *range(_GK3_PLAIN, _GK3_PLAIN + 21),
            *range(_GK6_PREFIX, _GK6_PREFIX + 11), *range(_GK6_PLAIN, _GK6_PLAIN + 11)]


def box_distance(a: Any, b: Any) -> float:
    """Distance between two boxes ``(minx, miny, maxx, maxy)``; 0 when they touch or overlap.

    Examples
    --------
    >>> box_distance((0, 0, 1, 1), (4, 5, 6, 6))
    5.0
    >>> box_distance((0, 0, 2, 2), (1, 1, 3, 3))
    0.0
    """
    dx = max(b[0] - a[2], a[0] - b[2], 0.0)
    dy = max(b[1] - a[3], a[1] - b[3], 0.0)
    return float(np.hypot(dx, dy))


def fitting_crs(centre: tuple[float, float], declared: Any, working: Any,
                stored: Any, *, max_m: float = FAR_KM * 1000) -> int | None:
    """The Gauss–Krüger CRS under which a point read in the wrong CRS falls on the stored data.

    Parameters
    ----------
    centre : (x, y)
        A point of the batch in its source coordinates (the centre of its extent).
    declared : CRS-like
        The CRS the batch was declared in (left out of the candidates).
    working : CRS-like
        The working CRS of ``stored``.
    stored : (minx, miny, maxx, maxy)
        Extent of the data already stored, in ``working``.
    max_m : float
        How near (m) the point must come to count as fitting.

    Returns
    -------
    int or None
        The EPSG code nearest to the stored data (same zone width and prefix as
        the declared CRS preferred on a tie), or None when none comes near.

    Examples
    --------
    A point of zone 41 (CM 123°E) read as zone 40 (EPSG:4549) lands 280 km west:

    >>> from pyproj import Transformer
    >>> x, y = Transformer.from_crs(4326, 4550, always_xy=True).transform(121.0, 31.2)
    >>> near = Transformer.from_crs(4326, 4549, always_xy=True).transform(121.0, 31.2)
    >>> fitting_crs((x, y), 4549, 4549, (*near, *near))
    4550
    """
    from pyproj import CRS, Transformer

    declared_epsg = CRS.from_user_input(declared).to_epsg()
    mine = gk_zone(declared_epsg)
    found = []
    for epsg in all_gk_epsg():
        if epsg == declared_epsg:
            continue
        x, y = Transformer.from_crs(epsg, working, always_xy=True).transform(*centre)
        if not (np.isfinite(x) and np.isfinite(y)):
            continue
        distance = box_distance((x, y, x, y), stored)
        if distance <= max_m:
            zone = gk_zone(epsg)
            rank = 0 if mine is None or zone is None else \
                int(zone[0] != mine[0]) + int(zone[2] != mine[2])
            found.append((round(distance, -3), rank, epsg))
    return min(found)[2] if found else None


def check_near_stored(geoms: np.ndarray, raw_bounds: np.ndarray, declared: Any, working: Any,
                      stored: Any, report: ImportReport) -> None:
    """Refuse a batch far from the data already stored when another CRS puts it onto it.

    Parameters
    ----------
    geoms : geometries of the batch that passed, in the working CRS.
    raw_bounds : ``(minx, miny, maxx, maxy)`` of the same features in their source CRS.
    declared : the CRS the batch was declared in.
    working : the working CRS.
    stored : extent of the stored data in the working CRS, or None (nothing stored).
    report : gets a file-level error naming the CRS that fits, or a warning when none does.
    """
    import shapely
    from pyproj import CRS

    if stored is None or len(geoms) == 0:
        return
    box = shapely.total_bounds(geoms)
    if not np.all(np.isfinite(box)):
        return
    distance = box_distance(box, stored)
    if distance <= FAR_KM * 1000:
        return
    centre = ((raw_bounds[0] + raw_bounds[2]) / 2, (raw_bounds[1] + raw_bounds[3]) / 2)
    fit = fitting_crs(centre, declared, working, stored)
    name = CRS.from_user_input(declared).name
    if fit is not None:
        report.add(None, "far_from_stored", "error",
                   f"read as {name}, the features lie {distance / 1000:.0f} km from the data "
                   f"already stored (与库中数据相距 {distance / 1000:.0f} 公里); read as "
                   f"EPSG:{fit} ({CRS.from_epsg(fit).name}) they fall on it: a neighbouring "
                   f"Gauss–Krüger zone. Re-run with --crs {fit}")
    else:
        report.add(None, "far_from_stored", "warning",
                   f"the features lie {distance / 1000:.0f} km from the data already stored "
                   f"(与库中数据相距 {distance / 1000:.0f} 公里); check that {name} is their CRS")
