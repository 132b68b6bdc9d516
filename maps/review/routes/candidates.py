"""The candidate API: who am I, filter options, lists, GeoJSON, detail, snapshots, chips."""

from __future__ import annotations

import logging

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from gis.errors import DataError
from maps.review.permissions import can
from maps.review.queries import parse_filters
from maps.review.routing import RouteTable
from maps.review.web import HTTPError, lang, run, store

log = logging.getLogger(__name__)
table = RouteTable()


def not_found(cid: int) -> HTTPError:
    """404 for a candidate that does not exist or lies outside the user's areas."""
    return HTTPError(404, f"未找到候选地块 {cid}")


@table.get("/api/me", permission="view")
async def me(request: Request) -> Response:
    """The user, their role's permissions and their areas."""
    from maps.review.permissions import ROLE_PERMISSIONS

    def work(conn, user):
        scope = conn.execute("SELECT mujun_scope_all(), mujun_scope_districts(),"
                             " mujun_scope_towns()").fetchone()
        return {"username": user.username, "display_name": user.display_name, "role": user.role,
                "permissions": sorted(ROLE_PERMISSIONS[user.role]),
                "everywhere": scope[0], "districts": scope[1], "towns": scope[2]}

    return JSONResponse(await run(request, work))


@table.get("/api/options", permission="view")
async def options(request: Request) -> Response:
    """Filter choices, reason codes, the candidates' bounds and the map styles."""
    from maps.review.queries import CLASSES, KINDS, SORTS, STATUSES
    from maps.styles import style_for
    from scoring.land_status.vocabulary import REASONS

    app_store = store(request)

    def work(conn, user):
        towns = [r[0] for r in conn.execute(
            "SELECT DISTINCT town FROM candidate WHERE town IS NOT NULL ORDER BY town")]
        bounds = None
        if app_store.working_srid(conn):
            row = conn.execute(
                "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM"
                " (SELECT ST_Transform(ST_SetSRID(ST_Extent(p.geom)::geometry, %s), 4326) AS e"
                "  FROM candidate c JOIN parcel p ON p.parcel_code = c.parcel_code) x",
                (app_store.working_srid(conn),)).fetchone()
            bounds = list(row) if row and row[0] is not None else None
        return {"kinds": KINDS, "statuses": STATUSES, "classes": CLASSES, "sorts": list(SORTS),
                "towns": towns, "reasons": REASONS.labels(lang(request)), "bounds": bounds,
                "styles": {name: style_for(name).as_dict()
                           for name in ("land_status", "candidates", "footprints")}}

    return JSONResponse(await run(request, work))


@table.get("/api/candidates", permission="view")
async def candidates(request: Request) -> Response:
    """A filtered, sorted page of candidates."""
    from maps.review.queries import list_candidates

    filters = parse_filters(request.query_params)
    app_store = store(request)
    return JSONResponse(await run(request, lambda conn, user: list_candidates(
        conn, filters, app_store.working_srid(conn))))


@table.get("/api/candidates.geojson", permission="view")
async def geojson(request: Request) -> Response:
    """The filtered candidates in the map's view as GeoJSON (bbox-limited)."""
    from maps.review.queries import candidates_geojson

    filters = parse_filters(request.query_params)
    app_store = store(request)
    body = await run(request, lambda conn, user: candidates_geojson(
        conn, filters, app_store.working_srid(conn)))
    return Response(body, media_type="application/geo+json")


@table.get("/api/candidates/{candidate_id:int}", permission="view")
async def detail(request: Request) -> Response:
    """One candidate with evidence, enterprises (figures by role), history and notes."""
    from maps.review.detail import candidate_detail

    cid = request.path_params["candidate_id"]

    def work(conn, user):
        found = candidate_detail(conn, cid, figures=can(user.role, "figures"))
        if found is None:
            raise not_found(cid)
        return found

    return JSONResponse(await run(request, work))


@table.get("/api/candidates/{candidate_id:int}/snapshot/{which}.svg", permission="view")
async def snapshot(request: Request) -> Response:
    """The parcel with the footprints of the first (``before``) or last (``after``) survey."""
    from maps.review.detail import snapshot_svg

    cid, which = request.path_params["candidate_id"], request.path_params["which"]
    if which not in ("before", "after"):
        raise HTTPError(404, "快照只有 before 或 after")

    def work(conn, user):
        svg = snapshot_svg(conn, cid, which)
        if svg is None:
            raise not_found(cid)
        return svg

    body = await run(request, work)
    return Response(body, media_type="image/svg+xml",
                    headers={"content-security-policy": "default-src 'none'; style-src 'unsafe-inline'"})


@table.get("/api/candidates/{candidate_id:int}/chip/{survey_id:int}.png", permission="view")
async def chip(request: Request) -> Response:
    """PNG of a survey's image around the candidate's parcel (:mod:`maps.review.chips`)."""
    import shapely

    from maps.review.chips import ImageMissing, render_chip
    from maps.review.detail import chip_source

    cid, sid = request.path_params["candidate_id"], request.path_params["survey_id"]
    app_store = store(request)

    def work(conn, user):
        found = chip_source(conn, cid, sid)
        if found is None:
            raise HTTPError(404, f"未找到候选地块 {cid} 或调查 {sid}")
        if found[0] is None:
            raise HTTPError(404, f"调查 {sid} 未记录影像")
        return found, app_store.working_srid(conn)

    (image, wkb), srid = await run(request, work)
    try:
        body = await run_in_threadpool(render_chip, image, shapely.from_wkb(wkb), srid)
    except ImageMissing as exc:
        log.warning("survey %d: image file missing", sid)
        raise HTTPError(404, f"调查 {sid}：{exc}") from exc
    except DataError as exc:
        raise HTTPError(404, f"调查 {sid}：{exc}") from exc
    return Response(body, media_type="image/png")
