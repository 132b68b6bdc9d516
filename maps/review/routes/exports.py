"""Exports of the filtered candidates with their last decision (XLSX, GeoPackage)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from maps.review import auth
from maps.review.queries import parse_filters
from maps.review.routing import RouteTable
from maps.review.web import HTTPError, client, run, store

table = RouteTable()
MEDIA = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
         "gpkg": "application/geopackage+sqlite3"}


@table.get("/api/export.{fmt}", permission="export")
async def export(request: Request) -> Response:
    """The filtered candidates as a download (audited)."""
    from maps.review.exports import export_gpkg, export_xlsx

    fmt = request.path_params["fmt"]
    if fmt not in MEDIA:
        raise HTTPError(404, "导出格式：xlsx 或 gpkg")
    filters = parse_filters(request.query_params)
    app_store, address = store(request), client(request)

    def work(conn, user):
        srid = app_store.working_srid(conn)
        data = (export_xlsx if fmt == "xlsx" else export_gpkg)(conn, filters, srid)
        auth.audit(conn, user.username, "export", {"format": fmt, "filters": filters.params()},
                   address)
        return data

    data = await run(request, work)
    return Response(data, media_type=MEDIA[fmt], headers={
        "content-disposition": f'attachment; filename="mujun-decisions.{fmt}"'})
