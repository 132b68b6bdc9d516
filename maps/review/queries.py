"""The SQL of the review app: candidate lists, details, GeoJSON, vector tiles, snapshots.

Every value reaches PostgreSQL as a parameter; the only SQL chosen from input is the
sort order, picked from :data:`SORTS` by name. All queries run as ``mujun_app``,
so row-level security limits them to the user's districts and towns. Parsing and
validation of request parameters lives in :func:`parse_filters` (pure), which raises
:class:`BadRequest` with a message naming the parameter.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import psycopg

from scoring.land_status.vocabulary import KINDS as KIND_TERMS
from scoring.land_status.vocabulary import SORTS as SORT_TERMS
from scoring.land_status.vocabulary import STATUSES as STATUS_TERMS

KINDS = KIND_TERMS.codes()
STATUSES = STATUS_TERMS.codes()
CLASSES = ("A", "B", "C", "D", "T")

#: Sort name (a code of the ``land_status.sort`` vocabulary) → ORDER BY clause (constants only).
SORTS = {
    "priority": "c.priority DESC NULLS LAST, c.candidate_id",
    "area": "c.area_m2 DESC NULLS LAST, c.candidate_id",
    "reclaimable": "c.reclaimable_m2 DESC NULLS LAST, c.candidate_id",
    "updated": "c.updated_at DESC, c.candidate_id",
    "id": "c.candidate_id",
}
assert tuple(SORTS) == SORT_TERMS.codes(), "every sort key needs its words in the vocabulary"
MAX_PAGE = 500
MAX_FEATURES = 2000
#: Lowest zoom at which each tile layer has content (never a whole-city tile).
TILE_MIN_ZOOM = {"parcels": 12, "footprints": 15, "candidates": 10}


class BadRequest(ValueError):
    """A request parameter is invalid (the message names it)."""


@dataclass(frozen=True)
class Filters:
    """Validated candidate filters."""

    kinds: list[str] | None = None
    towns: list[str] | None = None
    statuses: list[str] | None = None
    classes: list[str] | None = None
    min_area: float | None = None
    max_area: float | None = None
    bbox: tuple[float, float, float, float] | None = None
    sort: str = "priority"
    limit: int = 100
    offset: int = 0

    def params(self) -> dict[str, Any]:
        """Query parameters of the shared WHERE clause."""
        return {"kinds": self.kinds, "towns": self.towns, "statuses": self.statuses,
                "classes": self.classes, "min_area": self.min_area, "max_area": self.max_area,
                "bbox": list(self.bbox) if self.bbox else None}


def _multi(params, name: str, allowed: tuple[str, ...] | None = None,
           maxlen: int = 100) -> list[str] | None:
    values: list[str] = []
    if hasattr(params, "getlist"):
        raws = params.getlist(name)
    else:  # a plain mapping: one value, or a list of them
        raw = params.get(name, [])
        raws = [raw] if isinstance(raw, str) else raw
    for raw in raws:
        values.extend(v.strip() for v in str(raw).split(",") if v.strip())
    if not values:
        return None
    for v in values:
        if len(v) > maxlen:
            raise BadRequest(f"{name}: value longer than {maxlen} characters")
        if allowed is not None and v not in allowed:
            raise BadRequest(f"{name}: unknown value {v!r}; allowed: {', '.join(allowed)}")
    return values


def _number(params, name: str, *, lo: float = 0.0, hi: float = 1e12) -> float | None:
    raw = params.get(name)
    if raw in (None, ""):
        return None
    try:
        value = float(raw)
    except ValueError:
        raise BadRequest(f"{name}: not a number: {raw!r}") from None
    if not math.isfinite(value) or not lo <= value <= hi:
        raise BadRequest(f"{name}: must be between {lo:g} and {hi:g}")
    return value


def _integer(params, name: str, default: int, lo: int, hi: int) -> int:
    raw = params.get(name)
    if raw in (None, ""):
        return default
    if not str(raw).isdigit():
        raise BadRequest(f"{name}: not a whole number: {raw!r}")
    value = int(raw)
    if not lo <= value <= hi:
        raise BadRequest(f"{name}: must be between {lo} and {hi}")
    return value


def parse_bbox(raw: str | None) -> tuple[float, float, float, float] | None:
    """``west,south,east,north`` in degrees (WGS 84 / CGCS2000) → tuple, validated."""
    if raw in (None, ""):
        return None
    parts = str(raw).split(",")
    if len(parts) != 4:
        raise BadRequest("bbox: expected west,south,east,north in degrees")
    try:
        w, s, e, n = (float(p) for p in parts)
    except ValueError:
        raise BadRequest("bbox: expected four numbers") from None
    if not all(math.isfinite(v) for v in (w, s, e, n)) or not (
            -180 <= w < e <= 180 and -90 <= s < n <= 90):
        raise BadRequest("bbox: must satisfy -180 <= west < east <= 180, -90 <= south < north <= 90")
    return (w, s, e, n)


def parse_filters(params) -> Filters:
    """Validate candidate filters from query parameters (a mapping or Starlette QueryParams).

    Examples
    --------
    >>> parse_filters({"kind": "built_unused", "min_area": "1000"}).kinds
    ['built_unused']
    >>> parse_filters({"kind": "x' OR 1=1 --"})
    Traceback (most recent call last):
    ...
    maps.review.queries.BadRequest: kind: unknown value "x' OR 1=1 --"; allowed: idle_not_started, idle_stalled, unfinished, inefficient, built_unused, approved_unsupplied, contract_breach
    """
    sort = params.get("sort") or "priority"
    if sort not in SORTS:
        raise BadRequest(f"sort: unknown value {sort!r}; allowed: {', '.join(SORTS)}")
    return Filters(
        kinds=_multi(params, "kind", KINDS),
        towns=_multi(params, "town"),
        statuses=_multi(params, "status", STATUSES),
        classes=_multi(params, "class", CLASSES),
        min_area=_number(params, "min_area"),
        max_area=_number(params, "max_area"),
        bbox=parse_bbox(params.get("bbox")),
        sort=sort,
        limit=_integer(params, "limit", 100, 1, MAX_PAGE),
        offset=_integer(params, "offset", 0, 0, 10_000_000),
    )


# The class of the parcel's main owner in the latest finished score run.
_CLASS_JOIN = """
LEFT JOIN LATERAL (
    SELECT es.class, es.credit_code
    FROM land_right lr
    JOIN enterprise_score es ON es.credit_code = lr.credit_code
         AND es.run_id = (SELECT max(run_id) FROM run WHERE kind = 'score' AND status = 'done')
    WHERE lr.parcel_code = c.parcel_code AND lr.right_type = 'owner'
    ORDER BY lr.share DESC NULLS LAST, lr.credit_code
    LIMIT 1) cls ON true
"""

_WHERE = """
WHERE (%(kinds)s::text[] IS NULL OR c.kinds && %(kinds)s::text[])
  AND (%(towns)s::text[] IS NULL OR c.town = ANY (%(towns)s::text[]))
  AND (%(statuses)s::text[] IS NULL OR c.status = ANY (%(statuses)s::text[]))
  AND (%(classes)s::text[] IS NULL OR cls.class = ANY (%(classes)s::text[]))
  AND (%(min_area)s::float8 IS NULL OR c.area_m2 >= %(min_area)s::float8)
  AND (%(max_area)s::float8 IS NULL OR c.area_m2 <= %(max_area)s::float8)
  AND (%(bbox)s::float8[] IS NULL OR EXISTS (
        SELECT 1 FROM parcel bp WHERE bp.parcel_code = c.parcel_code
        AND bp.geom && ST_Transform(ST_MakeEnvelope((%(bbox)s::float8[])[1], (%(bbox)s::float8[])[2],
                                    (%(bbox)s::float8[])[3], (%(bbox)s::float8[])[4], 4326), %(srid)s)))
"""

_LIST_COLUMNS = ("candidate_id", "parcel_code", "kind", "kinds", "status", "town", "district", "area_m2",
                 "reclaimable_m2", "certainty", "priority", "version", "updated_at", "class")


def list_candidates(conn: psycopg.Connection, filters: Filters, srid: int | None) -> dict:
    """One page of candidates (visible to the session's user) and the filtered total."""
    from psycopg import sql

    query = sql.SQL(
        "SELECT c.candidate_id, c.parcel_code, c.kind, c.kinds, c.status, c.town, c.district,"
        " c.area_m2, c.reclaimable_m2, c.certainty, c.priority, c.version, c.updated_at,"
        " cls.class, count(*) OVER () FROM candidate c" + _CLASS_JOIN + _WHERE
        + " ORDER BY {} LIMIT %(limit)s OFFSET %(offset)s"
    ).format(sql.SQL(SORTS[filters.sort]))
    params = filters.params() | {"limit": filters.limit, "offset": filters.offset,
                                 "srid": srid or 4326}
    rows = conn.execute(query, params).fetchall()
    items = []
    for r in rows:
        item = dict(zip(_LIST_COLUMNS, r[:-1], strict=True))
        item["updated_at"] = item["updated_at"].isoformat() if item["updated_at"] else None
        items.append(item)
    total = int(rows[0][-1]) if rows else 0
    if not rows and filters.offset:
        total = int(conn.execute(
            sql.SQL("SELECT count(*) FROM candidate c" + _CLASS_JOIN + _WHERE),
            params).fetchone()[0])
    return {"total": total, "offset": filters.offset, "limit": filters.limit, "items": items}


def candidates_geojson(conn: psycopg.Connection, filters: Filters, srid: int | None) -> bytes:
    """Candidates in ``filters.bbox`` as a GeoJSON FeatureCollection (at most MAX_FEATURES).

    The JSON is built by PostgreSQL; ``truncated`` says whether more matched.
    """
    if filters.bbox is None:
        raise BadRequest("bbox: required for map layers (never the whole city at once)")
    query = (
        "WITH f AS (SELECT c.candidate_id, c.kind, c.status, c.priority, c.parcel_code,"
        "   c.version, cls.class, p.geom"
        " FROM candidate c JOIN parcel p ON p.parcel_code = c.parcel_code" + _CLASS_JOIN + _WHERE
        + " ORDER BY c.priority DESC NULLS LAST, c.candidate_id LIMIT %(limit)s)"
        " SELECT json_build_object('type', 'FeatureCollection',"
        "  'truncated', count(*) > %(max)s,"
        "  'features', coalesce(json_agg(json_build_object('type', 'Feature',"
        "     'id', candidate_id,"
        "     'geometry', ST_AsGeoJSON(ST_Transform(geom, 4326), 6)::json,"
        "     'properties', json_build_object('candidate_id', candidate_id, 'kind', kind,"
        "        'status', status, 'priority', priority, 'parcel_code', parcel_code,"
        "        'version', version, 'class', class)))"
        "     FILTER (WHERE rn <= %(max)s), '[]'::json))::text"
        " FROM (SELECT f.*, row_number() OVER () AS rn FROM f) g"
    )
    params = filters.params() | {"limit": MAX_FEATURES + 1, "max": MAX_FEATURES,
                                 "srid": srid or 4326}
    return conn.execute(query, params).fetchone()[0].encode("utf-8")


def tile(conn: psycopg.Connection, layer: str, z: int, x: int, y: int,
         srid: int | None) -> bytes:
    """One Mapbox vector tile (``ST_AsMVT``) of ``layer`` in Web Mercator.

    Empty below :data:`TILE_MIN_ZOOM` (or before any data is loaded).
    """
    if layer not in TILE_MIN_ZOOM:
        raise BadRequest(f"layer: unknown {layer!r}; allowed: {', '.join(TILE_MIN_ZOOM)}")
    if not (0 <= z <= 22 and 0 <= x < 2**z and 0 <= y < 2**z):
        raise BadRequest("tile: z/x/y out of range")
    if z < TILE_MIN_ZOOM[layer] or srid is None:
        return b""
    select = {
        "parcels": "SELECT p.parcel_code AS code, p.town, p.land_use_code,"
                   " ST_AsMVTGeom(ST_Transform(p.geom, 3857), b.e3857, 4096, 64, true) AS geom"
                   " FROM parcel p, b WHERE p.geom && b.e",
        "footprints": "SELECT f.footprint_id AS id, f.height_m, f.image_date::text AS image_date,"
                      " ST_AsMVTGeom(ST_Transform(f.geom, 3857), b.e3857, 4096, 64, true) AS geom"
                      " FROM footprint f, b WHERE f.geom && b.e",
        "candidates": "SELECT c.candidate_id AS id, c.kind, c.status, c.priority,"
                      " ST_AsMVTGeom(ST_Transform(p.geom, 3857), b.e3857, 4096, 64, true) AS geom"
                      " FROM candidate c JOIN parcel p ON p.parcel_code = c.parcel_code, b"
                      " WHERE p.geom && b.e",
    }[layer]
    query = (
        "WITH t AS (SELECT ST_TileEnvelope(%(z)s, %(x)s, %(y)s) AS e3857),"
        " b AS (SELECT e3857, ST_Expand(ST_Transform(e3857, %(srid)s),"
        "        (ST_XMax(e3857) - ST_XMin(e3857)) * 0.05) AS e FROM t)"
        f" SELECT ST_AsMVT(q, %(layer)s, 4096, 'geom') FROM ({select}) q"
    )
    row = conn.execute(query, {"z": z, "x": x, "y": y, "srid": srid, "layer": layer}).fetchone()
    return bytes(row[0]) if row and row[0] is not None else b""
