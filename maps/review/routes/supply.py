"""The supply page (标准地供应): plots and areas for officials to follow, edits for planners.

Reading needs ``view`` (row-level security shows the plots and areas of the user's
districts and towns); editing a plot's supply information or its step in the pipeline
needs ``supply`` (planners, admins), and the database checks it again (migration 0035).
"""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from maps.review import auth, i18n
from maps.review.permissions import can
from maps.review.routing import RouteTable
from maps.review.web import HTTPError, client, current_user, json_body, lang, page, run

table = RouteTable()


def _token(request: Request) -> str:
    return request.cookies.get(auth.SESSION_COOKIE) or ""


def _refused(exc) -> HTTPError:
    return HTTPError(exc.status, str(exc))


@table.get("/supply", permission="view")
async def supply_page(request: Request) -> Response:
    """The supply page."""
    user = current_user(request)
    return page(request, "supply.html", user=user, csrf=user.csrf_token,
                i18n_json=json.dumps(i18n.table(lang(request)), ensure_ascii=False),
                perms={"supply": can(user.role, "supply")})


@table.get("/api/supply", permission="view")
async def overview(request: Request) -> Response:
    """Plots in scope with their step, counts per step, and the areas' progress."""
    from maps.review.supply import as_user
    from maps.review.supply import overview as read

    token = _token(request)

    def work(conn, user):
        with as_user(conn, token):
            return read(conn)

    return JSONResponse(json.loads(json.dumps(await run(request, work), default=str)))


@table.get("/api/supply/plots/{plot_id:int}", permission="view")
async def plot(request: Request) -> Response:
    """One plot: fields, indicators, supply information, history, next steps."""
    from maps.review.supply import SupplyRefused, as_user, detail

    plot_id, token = request.path_params["plot_id"], _token(request)

    def work(conn, user):
        with as_user(conn, token):
            try:
                return detail(conn, plot_id)
            except SupplyRefused as exc:
                raise _refused(exc) from None

    return JSONResponse(json.loads(json.dumps(await run(request, work), default=str)))


@table.post("/api/supply/plots/{plot_id:int}/info", permission="supply")
async def info(request: Request) -> Response:
    """Edit the plot's supply information (``{"values": {...}, "version": n}``)."""
    from maps.review.supply import SupplyRefused, save_info

    plot_id, token = request.path_params["plot_id"], _token(request)
    body = await json_body(request)
    address = client(request)

    def work(conn, user):
        try:
            out = save_info(conn, token, plot_id, body)
        except SupplyRefused as exc:
            raise _refused(exc) from None
        auth.audit(conn, user.username, "supply_info", {"plot_id": plot_id}, address)
        return out

    return JSONResponse(json.loads(json.dumps(await run(request, work), default=str)))


@table.post("/api/supply/plots/{plot_id:int}/step", permission="supply")
async def advance(request: Request) -> Response:
    """Move the plot one step on (``{"to", "date", "document", "version"}``), or back with
    a ``reason``."""
    from maps.review.supply import SupplyRefused, step

    plot_id, token = request.path_params["plot_id"], _token(request)
    body = await json_body(request)
    address = client(request)

    def work(conn, user):
        try:
            out = step(conn, token, user.username, plot_id, body)
        except SupplyRefused as exc:
            raise _refused(exc) from None
        auth.audit(conn, user.username, "supply_step",
                   {"plot_id": plot_id, "to": body.get("to")}, address)
        return out

    return JSONResponse(json.loads(json.dumps(await run(request, work), default=str)))
