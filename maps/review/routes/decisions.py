"""Decisions on candidates: one at a time, or a ticked set together (all or nothing)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from maps.review.queries import BadRequest
from maps.review.routes.candidates import not_found
from maps.review.routing import RouteTable
from maps.review.web import HTTPError, json_body, run

table = RouteTable()
MAX_COMMENT = 5000


def decide_one(conn, user, cid: int, body: dict) -> dict:
    """Apply one decision with :func:`scoring.land_status.lifecycle.decide` (409 on a conflict)."""
    from scoring.errors import CandidateNotFound, DecisionConflict
    from scoring.land_status.lifecycle import decide

    status = body.get("status")
    version = body.get("version")
    if not isinstance(status, str) or not isinstance(version, int):
        raise BadRequest("需要 status（新状态）和 version（您看到的版本号）")
    comment = body.get("comment")
    reason = body.get("reason") or None
    if comment is not None and (not isinstance(comment, str) or len(comment) > MAX_COMMENT):
        raise BadRequest(f"comment：最多 {MAX_COMMENT} 个字符的文本")
    if reason is not None and not isinstance(reason, str):
        raise BadRequest("reason：应为理由代码")
    try:
        new_version = decide(conn, cid, status=status, by=user.username, reason=reason,
                             comment=(comment or "").strip() or None, expected_version=version)
    except CandidateNotFound:
        raise not_found(cid) from None
    except DecisionConflict as exc:
        raise HTTPError(409, str(exc)) from None
    return {"candidate_id": cid, "status": status, "version": new_version}


@table.post("/api/candidates/{candidate_id:int}/decision", permission="decide")
async def decide(request: Request) -> Response:
    """Decide on one candidate with the version the official saw."""
    cid = request.path_params["candidate_id"]
    body = await json_body(request)
    return JSONResponse(await run(request, lambda conn, user: decide_one(conn, user, cid, body)))


@table.post("/api/decisions", permission="decide")
async def bulk_decide(request: Request) -> Response:
    """Decide on up to :data:`maps.review.store.MAX_BULK` candidates in one transaction.

    The rows are locked in id order, so two officials deciding overlapping sets at once
    never deadlock: the later one gets 409.
    """
    from maps.review.store import bulk_decide as decide_all
    from scoring.errors import CandidateNotFound, DecisionConflict

    body = await json_body(request)

    def work(conn, user):
        try:
            return decide_all(conn, user.username, body)
        except CandidateNotFound as exc:
            raise HTTPError(404, str(exc)) from None
        except DecisionConflict as exc:
            raise HTTPError(409, str(exc)) from None

    # all or nothing: one transaction, any conflict or refusal rolls every decision back
    return JSONResponse(await run(request, work))
