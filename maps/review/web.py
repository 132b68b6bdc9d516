"""What the review app's endpoints share: error answers, the per-request transaction,
pages, and bounded, checked reading of request bodies.

The security middleware (:mod:`maps.review.middleware`) has already checked the session,
the CSRF token and the route's permission before an endpoint runs, and it stops any body
larger than the route's limit while it streams in. Endpoints get the user with
:func:`current_user` and run their database work with :func:`run`: one transaction on a
pooled connection of ``mujun_app`` with the session set, so row-level security applies.

Bodies are parsed here with limits of their own: JSON at most :data:`MAX_JSON_DEPTH`
levels deep and without NUL characters (PostgreSQL text cannot hold them), uploads part by
part with each file refused as soon as it passes the photo limit (nothing is written to
disk). Every refusal is a 4xx answer with a message in Chinese, never a 500.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from maps.review import i18n

if TYPE_CHECKING:
    from collections.abc import Callable

    from maps.review.auth import SessionUser
    from maps.review.store import AppStore

#: Deepest nesting of arrays and objects accepted in a JSON body (the app's own are 3 deep).
MAX_JSON_DEPTH = 16

NOT_LOGGED_IN = "未登录或登录已过期，请重新登录"
CSRF_WRONG = "缺少或错误的防伪令牌（CSRF），请刷新页面后重试"
NUL_CHAR = "请求中含有空字符（NUL, 0x00），请删除后重试"
JSON_TOO_DEEP = f"JSON 嵌套过深（最多 {MAX_JSON_DEPTH} 层）"
JSON_INVALID = "请求内容不是有效的 JSON"
JSON_NOT_OBJECT = "请求内容必须是 JSON 对象"
SEND_JSON = "请以 application/json 格式发送"
LENGTH_INVALID = "Content-Length 不是有效的字节数"

#: Login page message codes (``/login?error=CODE``) → key of the interface table or text.
#: Any other code shows nothing: the page never echoes text from the URL.
LOGIN_MESSAGES = {
    "failed": "login_failed",
    "locked": "login_locked",
    "expired": {"zh": "登录已过期，请重新登录", "en": "Your login has expired; log in again"},
}


class HTTPError(Exception):
    """An error answer: status code and a message safe to show."""

    def __init__(self, status: int, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def too_large(limit: int) -> HTTPError:
    """The 413 answer for a body over ``limit`` bytes."""
    return HTTPError(413, f"请求内容超过上限 {limit / 2**20:.2f} MiB（{limit:,} 字节）")


def wants_page(path: str) -> bool:
    """Whether ``path`` is a page (errors answered with a redirect) rather than API/tiles."""
    return not path.startswith(("/api/", "/tiles/", "/static/", "/vendor/"))


def error_response(path: str, exc: HTTPError, *, had_session: bool = False) -> Response:
    """JSON ``{"error": …}``; a page without a session is redirected to the login page."""
    if exc.status == 401 and wants_page(path):
        return RedirectResponse("/login?error=expired" if had_session else "/login",
                                status_code=303)
    return JSONResponse({"error": exc.message}, status_code=exc.status, headers=exc.headers)


def has_nul(value: Any) -> bool:
    """Whether a parsed JSON value holds a NUL character in any string or key, at any depth.

    Examples
    --------
    >>> has_nul({"a": ["x", "y\\x00"]}), has_nul({"a": 1})
    (True, False)
    """
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def json_depth_exceeds(raw: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether the JSON text ``raw`` nests arrays/objects deeper than ``limit`` (a scan that
    skips strings; run before parsing, so no parser ever recurses deeply).

    Examples
    --------
    >>> json_depth_exceeds(b'[[["]]]]]]"]]]', 3), json_depth_exceeds(b"[" * 5, 3)
    (False, True)
    """
    import re

    # drop strings (with their escapes), then count brackets
    skeleton = re.sub(rb'"(?:[^"\\]|\\.)*"', b"", raw)
    depth = 0
    for byte in skeleton.translate(None, delete=bytes(set(range(256)) - set(b"[]{}"))):
        depth += 1 if byte in b"[{" else -1
        if depth > limit:
            return True
    return False


def parse_json(raw: bytes) -> dict:
    """A JSON object from a request body, or :class:`HTTPError` 400 (never a RecursionError)."""
    if json_depth_exceeds(raw):
        raise HTTPError(400, JSON_TOO_DEEP)
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise HTTPError(400, JSON_INVALID) from None
    if not isinstance(body, dict):
        raise HTTPError(400, JSON_NOT_OBJECT)
    if has_nul(body):
        raise HTTPError(400, NUL_CHAR)
    return body


async def json_body(request: Request) -> dict:
    """The request's JSON object (415 for another content type, 400 for bad JSON)."""
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise HTTPError(415, SEND_JSON)
    return parse_json(await request.body())


def check_text(value: str) -> str:
    """``value`` unless it holds a NUL character (then 400)."""
    if "\x00" in value:
        raise HTTPError(400, NUL_CHAR)
    return value


# ------------------------------------------------------------------ request state
def store(request: Request) -> AppStore:
    """The app's connection pool."""
    return request.app.state.store


def settings(request: Request):
    """The app's :class:`maps.review.app.ReviewSettings`."""
    return request.app.state.settings


def current_user(request: Request) -> SessionUser:
    """The session's user, as checked by the security middleware."""
    return request.scope["state"]["user"]


def client(request: Request) -> str | None:
    """The client's address: the peer's, or behind a trusted proxy the one it forwarded."""
    from maps.review.auth import client_address, parse_networks

    state = request.app.state
    if not hasattr(state, "trusted_networks"):
        state.trusted_networks = parse_networks(settings(request).trusted_proxies)
    return client_address(request.client.host if request.client else None,
                          request.headers.get("x-forwarded-for"), state.trusted_networks)


async def run(request: Request, work: Callable[[Any, SessionUser], Any]) -> Any:
    """Run ``work(conn, user)`` in a thread, in one transaction as the session's user (for a
    read, the transaction the middleware opened to look the session up)."""
    from maps.review.auth import SESSION_COOKIE

    app_store, user = store(request), current_user(request)
    token = request.cookies.get(SESSION_COOKIE)
    state = request.scope["state"]
    held = state.get("held")
    if held is not None:   # a read: continue the middleware's transaction
        def continued():
            try:
                return work(held[1], user)
            except BaseException:
                state["rollback"] = True
                raise

        return await run_in_threadpool(continued)

    def job():
        with app_store.transaction(token) as conn:
            return work(conn, user)

    return await run_in_threadpool(job)


# -------------------------------------------------------------------------- pages
def lang(request: Request) -> str:
    """The interface language: ``?lang=``, then the cookie, then Chinese."""
    chosen = request.query_params.get("lang") or request.cookies.get("mujun_lang") or "zh"
    return chosen if chosen in i18n.LANGUAGES else "zh"


def templates():
    """The Jinja2 environment of the app's pages (autoescaped)."""
    from pathlib import Path

    from jinja2 import Environment, FileSystemLoader, select_autoescape

    return Environment(loader=FileSystemLoader(Path(__file__).resolve().parent / "templates"),
                       autoescape=select_autoescape(["html"]))


def page(request: Request, name: str, status: int = 200, **context) -> HTMLResponse:
    """Render template ``name`` in the request's language."""
    chosen = lang(request)
    template = request.app.state.templates.get_template(name)
    body = template.render(t=i18n.table(chosen), lang=chosen,
                           other_lang="en" if chosen == "zh" else "zh", **context)
    response = HTMLResponse(body, status_code=status)
    if request.query_params.get("lang") in i18n.LANGUAGES:
        response.set_cookie("mujun_lang", chosen, max_age=365 * 86400, samesite="lax",
                            httponly=True, secure=settings(request).secure_cookies)
    return response


def login_message(code: str | None, language: str) -> str | None:
    """The login page's message for a message code (``None`` for no or an unknown code)."""
    entry = LOGIN_MESSAGES.get(code or "")
    if entry is None:
        return None
    if isinstance(entry, str):
        return i18n.table(language)[entry]
    return entry[language]
