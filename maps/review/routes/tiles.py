"""Vector tiles of parcels, footprints and candidates (PostGIS ``ST_AsMVT`` under RLS)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from maps.review.routing import RouteTable
from maps.review.web import run, store

table = RouteTable()


@table.get("/tiles/{layer}/{z:int}/{x:int}/{y:int}.mvt", permission="view")
async def tile(request: Request) -> Response:
    """One Mapbox vector tile (empty below the layer's lowest zoom)."""
    from maps.review.queries import tile as make_tile

    p = request.path_params
    app_store = store(request)
    data = await run(request, lambda conn, user: make_tile(
        conn, p["layer"], p["z"], p["x"], p["y"], app_store.working_srid(conn)))
    return Response(data, media_type="application/vnd.mapbox-vector-tile",
                    headers={"cache-control": "private, max-age=60"})
