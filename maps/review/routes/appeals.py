"""Appeals (申诉): list with filters, detail with history, record, decide.

Reading needs ``figures`` (a data appeal names a claimed figure); recording and
deciding need ``appeal``. Row-level security and the functions of migration 0028
confine both to the user's area: an appeal of a firm elsewhere is "not found" (404).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from maps.review import auth
from maps.review.routing import RouteTable
from maps.review.web import HTTPError, client, json_body, run

table = RouteTable()
#: Most appeals one list answer holds (newest first).
MAX_LIST = 500


def _refused(exc) -> HTTPError:
    return HTTPError(exc.status, str(exc))


@table.get("/api/appeals/options", permission="figures")
async def options(request: Request) -> Response:
    """Kinds, statuses, figures (with units) and classes, with their Chinese labels."""
    from scoring.appeals import FIELDS, KINDS, STATUSES, STEPS
    from scoring.overrides import OVERRIDE_CLASSES
    from scoring.policy.terms import label

    return JSONResponse({
        "kinds": {k: label("appeal.kind", k) for k in KINDS},
        "statuses": {s: label("appeal.status", s) for s in STATUSES},
        "steps": {k: list(v) for k, v in STEPS.items()},
        "fields": FIELDS, "classes": list(OVERRIDE_CLASSES)})


@table.get("/api/appeals", permission="figures")
async def list_all(request: Request) -> Response:
    """Appeals in the user's area, newest first: ``?status=``, ``?kind=``, ``?credit_code=``."""
    from scoring.appeals import list_appeals

    q = request.query_params
    status, kind, code = (q.get("status") or None, q.get("kind") or None,
                          q.get("credit_code") or None)
    for value in (status, kind, code):
        if value is not None and (len(value) > 64 or "\x00" in value):
            raise HTTPError(400, "筛选条件过长或含有空字符")
    return JSONResponse(await run(request, lambda conn, user: list_appeals(
        conn, status=status, kind=kind, credit_code=code, limit=MAX_LIST)))


@table.get("/api/appeals/{appeal_id:int}", permission="figures")
async def detail(request: Request) -> Response:
    """One appeal with its history, oldest step first."""
    from maps.review.appeals import AppealRefused, status_of
    from scoring.appeals import get_appeal

    appeal_id = request.path_params["appeal_id"]

    def work(conn, user):
        try:
            status_of(conn, appeal_id)
        except AppealRefused as exc:
            raise _refused(exc) from None
        return get_appeal(conn, appeal_id)

    return JSONResponse(await run(request, work))


@table.post("/api/appeals", permission="appeal")
async def add(request: Request) -> Response:
    """Record an appeal (the user is who records it)."""
    from maps.review.appeals import AppealRefused, record
    from scoring.appeals import get_appeal

    body = await json_body(request)
    address = client(request)

    def work(conn, user):
        try:
            appeal_id = record(conn, body)
        except AppealRefused as exc:
            raise _refused(exc) from None
        auth.audit(conn, user.username, "appeal_add", {"appeal_id": appeal_id}, address)
        return get_appeal(conn, appeal_id)

    return JSONResponse(await run(request, work), status_code=201)


@table.post("/api/appeals/{appeal_id:int}/decision", permission="appeal")
async def decide(request: Request) -> Response:
    """Take an appeal under review, uphold or reject it, with a reason."""
    from maps.review.appeals import AppealRefused, step
    from scoring.appeals import get_appeal

    appeal_id = request.path_params["appeal_id"]
    body = await json_body(request)
    address = client(request)

    def work(conn, user):
        try:
            step(conn, appeal_id, body)
        except AppealRefused as exc:
            raise _refused(exc) from None
        auth.audit(conn, user.username, "appeal_step",
                   {"appeal_id": appeal_id, "status": body.get("status")}, address)
        return get_appeal(conn, appeal_id)

    return JSONResponse(await run(request, work))
