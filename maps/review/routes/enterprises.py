"""The enterprise page (一企一档): one firm's file in the review app.

Needs ``view``; the panels are those of the setting ``enterprise_panels``, less the
panels of figures (per-mu figures, department figures, warnings, appeals) for a role
without ``figures``. The file is read as the app role: row-level security and the view
and function of migration 0029 decide what exists for the user, so a firm outside the
user's districts and towns is "not found" (404), and a role without ``figures`` gets no
figure from the database (no total, rank, tax, policy amount) even where a panel is shown.
"""

from __future__ import annotations

import base64

from starlette.requests import Request
from starlette.responses import Response

from maps.review.permissions import can
from maps.review.routing import RouteTable
from maps.review.web import HTTPError, current_user, page, run, settings

table = RouteTable()
#: The answer for a firm that does not exist for the user.
NOT_FOUND = "在您的辖区内没有这家企业"


@table.get("/enterprises/{code}", permission="view")
async def enterprise_page(request: Request) -> Response:
    """The file of one firm as a page: header, panels as tables, parcels on the imagery."""
    from maps.enterprise_file import enterprise_file
    from maps.enterprise_file.header import EnterpriseNotFound
    from maps.enterprise_file.imagery import WHICH, imagery_pngs
    from maps.enterprise_file.panels import FIGURE_PANELS, TITLES, choose_panels
    from maps.enterprise_file.tables import header_facts, panel_tables

    code = request.path_params["code"]
    if not (code.isascii() and code.isalnum() and len(code) <= 24):
        raise HTTPError(404, NOT_FOUND)
    user = current_user(request)
    figures = can(user.role, "figures")
    configured = settings(request).enterprise_panels
    panels = [p for p in choose_panels(configured) if figures or p not in FIGURE_PANELS]

    def work(conn, _user):
        try:
            rec = enterprise_file(conn, code, panels=panels, app=True)
        except EnterpriseNotFound:
            raise HTTPError(404, NOT_FOUND) from None
        return rec, imagery_pngs(conn, rec["imagery"]) if "imagery" in rec else []

    rec, images = await run(request, work)
    pictures = [{"parcel_code": im["parcel_code"], "date": im["date"],
                 "which": WHICH[im["which"]],
                 "src": "data:image/png;base64," + base64.b64encode(im["png"]).decode("ascii")}
                for im in images]
    return page(request, "enterprise.html", user=user, csrf=user.csrf_token,
                header=rec["header"], facts=header_facts(rec["header"]),
                tables=panel_tables(rec, figures=figures), figures=figures,
                imagery_title=TITLES["imagery"] if "imagery" in rec else None,
                pictures=pictures)
