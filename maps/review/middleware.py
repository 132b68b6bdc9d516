"""Security middleware of the review app: every request passes through it.

:class:`Guard` decides, before any endpoint runs and before a byte of the body is read:

1. **clean request line**: a NUL character in the path or the query string → 400;
2. **declared size**: a ``Content-Length`` above the route's limit → 413 (uploads: the
   photos' limit; every other route: the ``request_max_kb`` setting);
3. **session** (routes whose permission is not :data:`maps.review.routing.PUBLIC`): the
   cookie's token must name a live session in PostgreSQL → else 401 (pages: a redirect
   to the login page);
4. **CSRF** on state-changing methods: same-origin ``Origin`` and the session's token in
   ``X-CSRF-Token`` (or the ``csrf`` field of a small form); the login form's token is the
   pre-login cookie (double submit) → else 403;
5. **permission** of the route (stated once in its route table) → else 403.

A read (GET without a body) keeps the transaction of the session look-up open and the
endpoint continues it (:func:`maps.review.web.run`): one transaction per request; it is
committed after the answer, or rolled back when the endpoint failed. Then the body streams
through a counter that stops it with 413 as soon as it passes the
limit, whatever ``Content-Length`` said (chunked uploads included). Login throttling is
:func:`maps.review.auth.login`'s, called by the login route.

Nothing is kept in process memory between requests (sessions, CSRF tokens and login
attempts live in PostgreSQL), so any number of worker processes can serve the same users.
:class:`SecurityHeaders` adds the Content Security Policy and friends to every answer.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl

import anyio
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.routing import Match

from maps.review import auth
from maps.review.permissions import can
from maps.review.routing import PUBLIC, GuardedRoute
from maps.review.web import (
    CSRF_WRONG,
    LENGTH_INVALID,
    NOT_LOGGED_IN,
    NUL_CHAR,
    HTTPError,
    error_response,
    too_large,
)

if TYPE_CHECKING:
    from maps.review.routing import RouteSpec
    from maps.review.store import AppStore

log = logging.getLogger(__name__)

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
       "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
       "frame-ancestors 'none'; form-action 'self'")
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
FORM_TYPE = "application/x-www-form-urlencoded"


class SecurityHeaders:
    """ASGI middleware adding security headers to every response."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        static = path.startswith(("/static/", "/vendor/"))

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _ in headers}
                extra = [
                    (b"content-security-policy", CSP.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"x-frame-options", b"DENY"),
                    (b"referrer-policy", b"same-origin"),  # no-referrer would send Origin: null
                    (b"cross-origin-opener-policy", b"same-origin"),
                    (b"cross-origin-resource-policy", b"same-origin"),
                    (b"permissions-policy", b"geolocation=(), camera=(), microphone=()"),
                ]
                if not static and b"cache-control" not in names:
                    extra.append((b"cache-control", b"no-store"))
                message["headers"] = headers + [h for h in extra if h[0] not in names]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def limited(receive, limit: int):
    """``receive`` that raises 413 (:class:`HTTPError`) once more than ``limit`` bytes came."""
    seen = 0

    async def wrapped():
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise too_large(limit)
        return message

    return wrapped


def replay(body: bytes, receive):
    """``receive`` that hands out ``body`` (already read) first, then defers to ``receive``."""
    sent = False

    async def wrapped():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return wrapped


def same_origin(request: Request) -> bool:
    """A state change from this app's own pages: ``Origin`` absent or naming our host."""
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin is None
    return origin.split("://", 1)[-1] == request.headers.get("host", "")


class Guard:
    """Session, CSRF, permission and body-size checks before any endpoint (module docstring).

    Parameters
    ----------
    app : Starlette
        The application whose routes (:class:`~maps.review.routing.GuardedRoute`) carry
        their permissions.
    store : AppStore
        The connection pool, for the session look-up.
    body_limit, upload_limit : int
        Largest body in bytes of ordinary routes and of upload routes.
    """

    def __init__(self, app, store: AppStore, *, body_limit: int, upload_limit: int):
        self.app = app
        self.store = store
        self.body_limit = body_limit
        self.upload_limit = upload_limit

    def spec_for(self, scope) -> RouteSpec | None:
        """The route ``scope`` fully matches (``None``: static files, 404, 405)."""
        for route in self.app.routes:
            if isinstance(route, GuardedRoute):
                match, _child = route.matches(scope)
                if match == Match.FULL:
                    return route.spec
        return None

    def session_user(self, token: str) -> auth.SessionUser | None:
        """The live session's user (one short transaction as ``mujun_app``)."""
        with self.store.transaction(token) as conn:
            return auth.session_user(conn)

    def open_transaction(self, token: str) -> tuple:
        """(context, connection) of a transaction the endpoint will continue."""
        context = self.store.transaction(token)
        return context, context.__enter__()

    @staticmethod
    def close_transaction(held: tuple, failed: bool) -> None:
        """Commit (or, when the endpoint failed, roll back) a held transaction."""
        context, _conn = held
        if failed:
            error = RuntimeError("the request failed")
            context.__exit__(RuntimeError, error, None)
        else:
            context.__exit__(None, None, None)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        failed = True
        try:
            try:
                receive, user = await self.check(scope, receive)
            except HTTPError as exc:
                token = Request(scope).cookies.get(auth.SESSION_COOKIE)
                await error_response(scope["path"], exc, had_session=bool(token))(
                    scope, receive, send)
                return
            state["user"] = user
            await self.app(scope, receive, send)
            failed = bool(state.get("rollback"))
        finally:
            if "held" in state:   # even when the client went away: never leak a connection
                with anyio.CancelScope(shield=True):
                    await run_in_threadpool(self.close_transaction, state.pop("held"), failed)

    async def check(self, scope, receive):
        """Steps 1-5 of the module docstring; returns (bounded receive, user or None)."""
        if "\x00" in scope["path"] or b"\x00" in scope.get("query_string", b"") or \
                b"%00" in scope.get("query_string", b""):
            raise HTTPError(400, NUL_CHAR)
        request = Request(scope)
        spec = self.spec_for(scope)
        limit = self.upload_limit if spec is not None and spec.body == "upload" \
            else self.body_limit
        declared = request.headers.get("content-length")
        if declared is not None:
            if not declared.isdigit():
                raise HTTPError(400, LENGTH_INVALID)
            if int(declared) > limit:
                raise too_large(limit)
        receive = limited(receive, limit)
        if spec is None:
            return receive, None
        user = None
        if spec.permission != PUBLIC:
            token = request.cookies.get(auth.SESSION_COOKIE)
            if token and "\x00" not in token:
                if scope["method"] in SAFE_METHODS and spec.body == "none":
                    # reads: the endpoint continues this transaction (one per request)
                    held = await run_in_threadpool(self.open_transaction, token)
                    scope["state"]["held"] = held
                    user = await run_in_threadpool(auth.session_user, held[1])
                else:
                    user = await run_in_threadpool(self.session_user, token)
            if user is None:
                raise HTTPError(401, NOT_LOGGED_IN)
        if scope["method"] not in SAFE_METHODS:
            given = request.headers.get("x-csrf-token")
            ctype = request.headers.get("content-type", "").split(";")[0].strip()
            if ctype == FORM_TYPE:   # small forms (login, logout): read here, hand on
                chunks = []
                while True:
                    message = await receive()
                    chunks.append(message.get("body", b""))
                    if not message.get("more_body"):
                        break
                body = b"".join(chunks)
                if b"%00" in body or b"\x00" in body:
                    raise HTTPError(400, NUL_CHAR)
                if given is None:
                    given = dict(parse_qsl(body.decode("latin-1"))).get("csrf")
                receive = replay(body, receive)
            expected = user.csrf_token if user else request.cookies.get(auth.LOGIN_COOKIE)
            if not same_origin(request) or not auth.tokens_match(expected, given):
                raise HTTPError(403, CSRF_WRONG)
        if user is not None and not can(user.role, spec.permission):
            raise HTTPError(403, "您的角色无权执行此操作")
        return receive, user
