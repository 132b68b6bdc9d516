"""Pages: the login page and form, logout, and the map page."""

from __future__ import annotations

import asyncio
import json
import logging

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from maps.review import auth, i18n
from maps.review.permissions import can
from maps.review.routing import PUBLIC, RouteTable
from maps.review.web import (
    check_text,
    client,
    current_user,
    lang,
    login_message,
    page,
    run,
    settings,
    store,
)

log = logging.getLogger(__name__)
table = RouteTable()


@table.get("/login", permission=PUBLIC)
async def login_page(request: Request) -> Response:
    """The login form with a fresh double-submit token; ``?error=`` takes a message code."""
    token = auth.new_token()
    response = page(request, "login.html", login_csrf=token,
                    error=login_message(request.query_params.get("error"), lang(request)))
    response.set_cookie(auth.LOGIN_COOKIE, token, max_age=3600, httponly=True,
                        samesite="strict", secure=settings(request).secure_cookies)
    return response


@table.post("/login", permission=PUBLIC, body="form")
async def login_submit(request: Request) -> Response:
    """Check the password (throttled by :func:`maps.review.auth.login`) and open a session."""
    form = await request.form()
    username = check_text(str(form.get("username") or ""))
    password = check_text(str(form.get("password") or ""))
    expected = request.cookies.get(auth.LOGIN_COOKIE)
    app_store, config, address = store(request), settings(request), client(request)

    def job():
        with app_store.transaction(None) as conn:
            try:
                return auth.login(conn, username, password, client=address,
                                  hours=config.session_hours)
            except (auth.LoginRefused, auth.LoginLocked) as exc:
                return exc   # the attempt row is committed with the transaction

    result = await run_in_threadpool(job)
    language = lang(request)
    if isinstance(result, auth.LoginLocked):
        log.warning("login locked for a user name from %s", address)
        response = page(request, "login.html", status=429, login_csrf=expected,
                        error=i18n.table(language)["login_locked"])
        response.headers["retry-after"] = str(result.retry_after)
        return response
    if isinstance(result, auth.LoginRefused):
        if result.delay_s:
            await asyncio.sleep(result.delay_s)
        return page(request, "login.html", status=401, login_csrf=expected,
                    error=i18n.table(language)["login_failed"])
    token, _user = result
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(auth.SESSION_COOKIE, token, max_age=int(config.session_hours * 3600),
                        httponly=True, samesite="strict", secure=config.secure_cookies, path="/")
    response.delete_cookie(auth.LOGIN_COOKIE)
    return response


@table.post("/logout", permission="view", body="form")
async def logout(request: Request) -> Response:
    """End the session (the CSRF field of the form was checked by the middleware)."""
    address = client(request)
    await run(request, lambda conn, user: auth.logout(conn, user, address))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(auth.SESSION_COOKIE, path="/")
    return response


@table.get("/", permission="view")
async def index(request: Request) -> Response:
    """The map page."""
    user = current_user(request)
    return page(request, "index.html", user=user, csrf=user.csrf_token,
                i18n_json=json.dumps(i18n.table(lang(request)), ensure_ascii=False),
                perms={p: can(user.role, p) for p in ("decide", "field_note", "export",
                                                      "figures", "appeal")})
