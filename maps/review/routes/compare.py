"""The comparison page: two stored score runs side by side (planner, official, admin).

Every route needs ``figures`` (scores, totals and tax are figures): viewers and
technicians get 403 from the security middleware before an endpoint runs. The data is
read as the app role with the user's session, so row-level security leaves out the firms
and parcels of other districts (:mod:`maps.review.compare`).
"""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from maps.review import i18n
from maps.review.routing import RouteTable
from maps.review.web import HTTPError, current_user, lang, page, run

table = RouteTable()


@table.get("/compare", permission="figures")
async def compare_page(request: Request) -> Response:
    """The page: choose two score runs; matrix, shifts, changed firms, land and tax, map."""
    user = current_user(request)
    return page(request, "compare.html", user=user, csrf=user.csrf_token,
                i18n_json=json.dumps(i18n.table(lang(request)), ensure_ascii=False))


@table.get("/api/compare/runs", permission="figures")
async def runs(request: Request) -> Response:
    """The finished score runs, newest first."""
    from maps.review.compare import score_runs

    return JSONResponse(await run(request, lambda conn, user: score_runs(conn)))


@table.get("/api/compare", permission="figures")
async def comparison(request: Request) -> Response:
    """``?a=RUN&b=RUN``: the comparison of the two runs over the firms the user may see."""
    from maps.review.compare import CompareRefused, comparison_page, run_id_param

    q = request.query_params
    language = lang(request)
    try:
        run_a, run_b = run_id_param(q.get("a"), "甲方"), run_id_param(q.get("b"), "乙方")
    except CompareRefused as exc:
        raise HTTPError(exc.status, str(exc)) from None

    def work(conn, user):
        try:
            return comparison_page(conn, run_a, run_b, language)
        except CompareRefused as exc:
            raise HTTPError(exc.status, str(exc)) from None

    return JSONResponse(await run(request, work))
