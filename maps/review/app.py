"""The review web app: a Starlette application served by uvicorn (``mujun serve``).

Every route states the permission it needs (:data:`ROUTES`); :func:`_guard` checks, in
this order, the session (401, or a redirect to the login page for pages), the CSRF
token of state-changing requests (403), and the role's permission (403). Candidate
data is read and written as ``mujun_app`` with the session set, so PostgreSQL's
row-level security limits everything to the user's districts and towns: another
district's candidate is simply not found (404).

Responses carry strict security headers (:class:`SecurityHeaders`): a Content Security
Policy without inline scripts or styles, no framing, no referrer, no caching of API
answers. Nothing confidential is put in URLs; the access log shows paths only.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import (
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
)
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from gis.errors import DataError
from maps.review import auth, i18n
from maps.review.permissions import can
from maps.review.queries import BadRequest, parse_filters

if TYPE_CHECKING:
    from maps.review.store import AppStore

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
#: Where ``scripts/bootstrap.sh webassets`` installs Leaflet and its plugins.
WEB_ASSETS = HERE.parent / "web" / "node_modules"
#: The only vendor files the app serves (package → its distribution folder).
VENDOR_DIRS = {"leaflet": "leaflet/dist", "vectorgrid": "leaflet.vectorgrid/dist"}

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
       "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
       "frame-ancestors 'none'; form-action 'self'")


@dataclass(frozen=True)
class AppConfig:
    """What the app needs besides its database pool."""

    session_hours: float = 8.0
    photo_max_bytes: int = 8 * 2**20
    secure_cookies: bool = False
    trusted_proxies: tuple = ()   # ip_network objects (auth.parse_networks)


class HTTPError(Exception):
    """An error answer: status code and a message safe to show."""

    def __init__(self, status: int, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


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


# ------------------------------------------------------------------ helpers
def _store(request: Request) -> AppStore:
    return request.app.state.store


def _config(request: Request) -> AppConfig:
    return request.app.state.config


def _lang(request: Request) -> str:
    lang = request.query_params.get("lang") or request.cookies.get("mujun_lang") or "zh"
    return lang if lang in i18n.LANGUAGES else "zh"


def _client(request: Request) -> str | None:
    return auth.client_address(request.client.host if request.client else None,
                               request.headers.get("x-forwarded-for"),
                               _config(request).trusted_proxies)


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin is None
    host = request.headers.get("host", "")
    return origin.split("://", 1)[-1] == host


def _guard(request: Request, conn, permission: str, *, csrf: bool,
           form_csrf: str | None = None) -> auth.SessionUser:
    """Session → CSRF → permission, in that order (see the module docstring)."""
    user = auth.session_user(conn) if request.cookies.get(auth.SESSION_COOKIE) else None
    if user is None:
        raise HTTPError(401, "not logged in")
    if csrf:
        given = request.headers.get("x-csrf-token") or form_csrf
        if not _same_origin(request) or not auth.tokens_match(user.csrf_token, given):
            raise HTTPError(403, "missing or wrong CSRF token; reload the page")
    if not can(user.role, permission):
        raise HTTPError(403, f"your role ({user.role}) may not do this")
    return user


async def _run(request: Request, permission: str, work, *, csrf: bool = False,
               form_csrf: str | None = None):
    """Run ``work(conn, user)`` in a thread, in one transaction as the session's user."""
    store = _store(request)
    token = request.cookies.get(auth.SESSION_COOKIE)

    def job():
        with store.transaction(token) as conn:
            user = _guard(request, conn, permission, csrf=csrf, form_csrf=form_csrf)
            return work(conn, user)

    return await run_in_threadpool(job)


def _error_response(request: Request, exc: HTTPError) -> Response:
    if request.url.path.startswith(("/api/", "/tiles/")) or exc.status != 401:
        return JSONResponse({"error": exc.message}, status_code=exc.status, headers=exc.headers)
    return RedirectResponse("/login", status_code=303)


async def http_error(request: Request, exc: HTTPError) -> Response:
    return _error_response(request, exc)


async def bad_request(request: Request, exc: BadRequest) -> Response:
    return JSONResponse({"error": str(exc)}, status_code=400)


async def data_error(request: Request, exc: DataError) -> Response:
    return JSONResponse({"error": str(exc)}, status_code=422)


def _templates():
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    return Environment(loader=FileSystemLoader(HERE / "templates"),
                       autoescape=select_autoescape(["html"]))


def _page(request: Request, name: str, status: int = 200, **context) -> HTMLResponse:
    lang = _lang(request)
    template = request.app.state.templates.get_template(name)
    body = template.render(t=i18n.table(lang), lang=lang, other_lang="en" if lang == "zh" else "zh",
                           **context)
    response = HTMLResponse(body, status_code=status)
    if request.query_params.get("lang") in i18n.LANGUAGES:
        response.set_cookie("mujun_lang", lang, max_age=365 * 86400, samesite="lax",
                            httponly=True, secure=_config(request).secure_cookies)
    return response


# --------------------------------------------------------------- login pages
async def login_page(request: Request) -> Response:
    token = auth.new_token()
    response = _page(request, "login.html", login_csrf=token,
                     error=request.query_params.get("error"))
    response.set_cookie(auth.LOGIN_COOKIE, token, max_age=3600, httponly=True,
                        samesite="strict", secure=_config(request).secure_cookies)
    return response


async def login_submit(request: Request) -> Response:
    form = await request.form()
    expected = request.cookies.get(auth.LOGIN_COOKIE)
    if not _same_origin(request) or not auth.tokens_match(expected, form.get("csrf")):
        raise HTTPError(403, "missing or wrong CSRF token; reload the login page")
    username, password = str(form.get("username") or ""), str(form.get("password") or "")
    store, config, client = _store(request), _config(request), _client(request)

    def job():
        with store.transaction(None) as conn:
            try:
                return auth.login(conn, username, password, client=client,
                                  hours=config.session_hours)
            except (auth.LoginRefused, auth.LoginLocked) as exc:
                return exc   # the attempt row is committed with the transaction

    result = await run_in_threadpool(job)
    lang = _lang(request)
    if isinstance(result, auth.LoginLocked):
        log.warning("login locked for a user name from %s", client)
        return _locked_page(request, expected, result)
    if isinstance(result, auth.LoginRefused):
        if result.delay_s:
            await asyncio.sleep(result.delay_s)
        return _page(request, "login.html", status=401, login_csrf=expected,
                     error=i18n.table(lang)["login_failed"])
    token, _user = result
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(auth.SESSION_COOKIE, token, max_age=int(config.session_hours * 3600),
                        httponly=True, samesite="strict", secure=config.secure_cookies, path="/")
    response.delete_cookie(auth.LOGIN_COOKIE)
    return response


def _locked_page(request: Request, csrf: str | None, exc: auth.LoginLocked) -> Response:
    response = _page(request, "login.html", status=429, login_csrf=csrf,
                     error=i18n.table(_lang(request))["login_locked"])
    response.headers["retry-after"] = str(exc.retry_after)
    return response


async def logout(request: Request) -> Response:
    form = await request.form()
    client = _client(request)
    await _run(request, "view", lambda conn, user: auth.logout(conn, user, client), csrf=True,
               form_csrf=str(form.get("csrf") or ""))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(auth.SESSION_COOKIE, path="/")
    return response


async def index(request: Request) -> Response:
    def work(conn, user):
        return user

    user = await _run(request, "view", work)
    return _page(request, "index.html", user=user, csrf=user.csrf_token,
                 i18n_json=json.dumps(i18n.table(_lang(request)), ensure_ascii=False),
                 perms={p: can(user.role, p) for p in ("decide", "field_note", "export",
                                                       "figures")})


# ---------------------------------------------------------------------- API
async def api_me(request: Request) -> Response:
    from maps.review.permissions import ROLE_PERMISSIONS

    def work(conn, user):
        scope = conn.execute("SELECT mujun_scope_all(), mujun_scope_districts(),"
                             " mujun_scope_towns()").fetchone()
        return {"username": user.username, "display_name": user.display_name, "role": user.role,
                "permissions": sorted(ROLE_PERMISSIONS[user.role]),
                "everywhere": scope[0], "districts": scope[1], "towns": scope[2]}

    return JSONResponse(await _run(request, "view", work))


async def api_options(request: Request) -> Response:
    from maps.review.queries import CLASSES, KINDS, SORTS, STATUSES
    from maps.styles import style_for
    from scoring.land_status.vocabulary import REASONS

    store = _store(request)

    def work(conn, user):
        towns = [r[0] for r in conn.execute(
            "SELECT DISTINCT town FROM candidate WHERE town IS NOT NULL ORDER BY town")]
        bounds = None
        if store.working_srid(conn):
            row = conn.execute(
                "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM"
                " (SELECT ST_Transform(ST_SetSRID(ST_Extent(p.geom)::geometry, %s), 4326) AS e"
                "  FROM candidate c JOIN parcel p ON p.parcel_code = c.parcel_code) x",
                (store.working_srid(conn),)).fetchone()
            bounds = list(row) if row and row[0] is not None else None
        return {"kinds": KINDS, "statuses": STATUSES, "classes": CLASSES, "sorts": list(SORTS),
                "towns": towns, "reasons": REASONS.labels(_lang(request)), "bounds": bounds,
                "styles": {name: style_for(name).as_dict()
                           for name in ("land_status", "candidates", "footprints")}}

    return JSONResponse(await _run(request, "view", work))


async def api_candidates(request: Request) -> Response:
    from maps.review.queries import list_candidates

    filters = parse_filters(request.query_params)
    store = _store(request)
    result = await _run(request, "view", lambda conn, user: list_candidates(
        conn, filters, store.working_srid(conn)))
    return JSONResponse(result)


async def api_geojson(request: Request) -> Response:
    from maps.review.queries import candidates_geojson

    filters = parse_filters(request.query_params)
    store = _store(request)
    body = await _run(request, "view", lambda conn, user: candidates_geojson(
        conn, filters, store.working_srid(conn)))
    return Response(body, media_type="application/geo+json")


async def api_candidate(request: Request) -> Response:
    from maps.review.detail import candidate_detail

    cid = request.path_params["candidate_id"]

    def work(conn, user):
        detail = candidate_detail(conn, cid, figures=can(user.role, "figures"))
        if detail is None:
            raise HTTPError(404, f"candidate {cid} not found")
        return detail

    return JSONResponse(await _run(request, "view", work))


async def api_snapshot(request: Request) -> Response:
    from maps.review.detail import snapshot_svg

    cid, which = request.path_params["candidate_id"], request.path_params["which"]
    if which not in ("before", "after"):
        raise HTTPError(404, "snapshot: before or after")

    def work(conn, user):
        svg = snapshot_svg(conn, cid, which)
        if svg is None:
            raise HTTPError(404, f"candidate {cid} not found")
        return svg

    body = await _run(request, "view", work)
    return Response(body, media_type="image/svg+xml",
                    headers={"content-security-policy": "default-src 'none'; style-src 'unsafe-inline'"})


def _decide(conn, user, cid: int, body: dict) -> dict:
    from scoring.errors import CandidateNotFound, DecisionConflict
    from scoring.land_status.lifecycle import decide

    status = body.get("status")
    version = body.get("version")
    if not isinstance(status, str) or not isinstance(version, int):
        raise BadRequest("status (text) and version (the version you saw) are required")
    comment = body.get("comment")
    reason = body.get("reason") or None
    if comment is not None and (not isinstance(comment, str) or len(comment) > 5000):
        raise BadRequest("comment: text of at most 5000 characters")
    if reason is not None and not isinstance(reason, str):
        raise BadRequest("reason: a reason code")
    try:
        new_version = decide(conn, cid, status=status, by=user.username, reason=reason,
                             comment=(comment or "").strip() or None, expected_version=version)
    except CandidateNotFound:
        raise HTTPError(404, f"candidate {cid} not found") from None
    except DecisionConflict as exc:
        raise HTTPError(409, str(exc)) from None
    return {"candidate_id": cid, "status": status, "version": new_version}


async def api_decide(request: Request) -> Response:
    cid = request.path_params["candidate_id"]
    body = await _json_body(request)
    return JSONResponse(await _run(request, "decide",
                                   lambda conn, user: _decide(conn, user, cid, body), csrf=True))


async def api_bulk_decide(request: Request) -> Response:
    from maps.review.store import bulk_decide
    from scoring.errors import CandidateNotFound, DecisionConflict

    body = await _json_body(request)

    def work(conn, user):
        try:
            return bulk_decide(conn, user.username, body)
        except CandidateNotFound as exc:
            raise HTTPError(404, str(exc)) from None
        except DecisionConflict as exc:
            raise HTTPError(409, str(exc)) from None

    # all or nothing: one transaction, any conflict or refusal rolls every decision back
    return JSONResponse(await _run(request, "decide", work, csrf=True))


async def _json_body(request: Request) -> dict:
    if not request.cookies.get(auth.SESSION_COOKIE):  # 401 before reading any body
        raise HTTPError(401, "not logged in")
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise HTTPError(415, "send application/json")
    try:
        body = await request.json()
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("the body is not valid JSON") from None
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object")
    return body


async def api_add_note(request: Request) -> Response:
    from maps.review.notes import MAX_PHOTOS, add_note
    from maps.review.photos import validate_photo

    cid = request.path_params["candidate_id"]
    config = _config(request)
    # session, CSRF (header) and role first: nothing is parsed or decoded for strangers
    await _run(request, "field_note", lambda conn, user: user, csrf=True)
    max_upload = config.photo_max_bytes * MAX_PHOTOS + 1_000_000
    if int(request.headers.get("content-length") or 0) > max_upload:
        raise HTTPError(413, "upload too large")
    async with request.form(max_files=MAX_PHOTOS, max_fields=10,
                            max_part_size=config.photo_max_bytes) as form:
        text = str(form.get("note") or "")
        photos = []
        for upload in form.getlist("photo"):
            if isinstance(upload, str) or not upload.filename:
                continue
            data = await upload.read(config.photo_max_bytes + 1)
            if len(data) > config.photo_max_bytes:
                raise HTTPError(413, f"{upload.filename[:100]}: larger than the limit of "
                                     f"{config.photo_max_bytes / 2**20:.1f} MiB")
            photos.append(await run_in_threadpool(
                validate_photo, data, name=upload.filename[:100],
                max_bytes=config.photo_max_bytes))
    client = _client(request)

    def work(conn, user):
        exists = conn.execute("SELECT 1 FROM candidate WHERE candidate_id = %s",
                              (cid,)).fetchone()
        if not exists:
            raise HTTPError(404, f"candidate {cid} not found")
        note = add_note(conn, cid, author=user.username, text=text, photos=photos)
        auth.audit(conn, user.username, "field_note", {"candidate_id": cid,
                                                       "note_id": note["note_id"],
                                                       "photos": len(photos)}, client)
        return note

    return JSONResponse(await _run(request, "field_note", work, csrf=True), status_code=201)


async def api_photo(request: Request) -> Response:
    from maps.review.notes import get_photo

    key = request.path_params["key"]
    if len(key) > 64:
        raise HTTPError(404, "no such photo")

    def work(conn, user):
        found = get_photo(conn, key)
        if found is None:
            raise HTTPError(404, "no such photo")
        return found

    content_type, data = await _run(request, "view", work)
    return Response(data, media_type=content_type,
                    headers={"content-disposition": "inline",
                             "content-security-policy": "default-src 'none'; sandbox",
                             "cache-control": "private, no-store"})


async def api_export(request: Request) -> Response:
    from maps.review.exports import export_gpkg, export_xlsx

    fmt = request.path_params["fmt"]
    if fmt not in ("xlsx", "gpkg"):
        raise HTTPError(404, "export formats: xlsx, gpkg")
    filters = parse_filters(request.query_params)
    store, client = _store(request), _client(request)

    def work(conn, user):
        srid = store.working_srid(conn)
        data = (export_xlsx if fmt == "xlsx" else export_gpkg)(conn, filters, srid)
        auth.audit(conn, user.username, "export", {"format": fmt, "filters": filters.params()},
                   client)
        return data

    data = await _run(request, "export", work)
    media = ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
             if fmt == "xlsx" else "application/geopackage+sqlite3")
    return Response(data, media_type=media, headers={
        "content-disposition": f'attachment; filename="mujun-decisions.{fmt}"'})


async def tiles(request: Request) -> Response:
    from maps.review.queries import tile

    p = request.path_params
    store = _store(request)
    data = await _run(request, "view", lambda conn, user: tile(
        conn, p["layer"], p["z"], p["x"], p["y"], store.working_srid(conn)))
    return Response(data, media_type="application/vnd.mapbox-vector-tile",
                    headers={"cache-control": "private, max-age=60"})


async def api_chip(request: Request) -> Response:
    """PNG of a survey's image around the candidate's parcel (:mod:`maps.review.chips`)."""
    import shapely

    from maps.review.chips import ImageMissing, render_chip
    from maps.review.detail import chip_source

    cid, sid = request.path_params["candidate_id"], request.path_params["survey_id"]

    def work(conn, user):
        found = chip_source(conn, cid, sid)
        if found is None:
            raise HTTPError(404, f"candidate {cid} or survey {sid} not found")
        if found[0] is None:
            raise HTTPError(404, f"survey {sid} has no image recorded")
        return found, _store(request).working_srid(conn)

    (image, wkb), srid = await _run(request, "view", work)
    try:
        body = await run_in_threadpool(render_chip, image, shapely.from_wkb(wkb), srid)
    except ImageMissing as exc:
        log.warning("survey %d: image file missing", sid)
        raise HTTPError(404, f"survey {sid}: {exc}") from exc
    except DataError as exc:
        raise HTTPError(404, f"survey {sid}: {exc}") from exc
    return Response(body, media_type="image/png")


async def not_found(request: Request, exc: Exception) -> Response:
    return JSONResponse({"error": "not found"}, status_code=404)


ROUTES: list[tuple[str, Any, list[str], str]] = [
    # path, endpoint, methods, permission ("-": no session needed)
    ("/login", login_page, ["GET"], "-"),
    ("/login", login_submit, ["POST"], "-"),
    ("/logout", logout, ["POST"], "view"),
    ("/", index, ["GET"], "view"),
    ("/api/me", api_me, ["GET"], "view"),
    ("/api/options", api_options, ["GET"], "view"),
    ("/api/candidates", api_candidates, ["GET"], "view"),
    ("/api/candidates.geojson", api_geojson, ["GET"], "view"),
    ("/api/candidates/{candidate_id:int}", api_candidate, ["GET"], "view"),
    ("/api/candidates/{candidate_id:int}/snapshot/{which}.svg", api_snapshot, ["GET"], "view"),
    ("/api/candidates/{candidate_id:int}/chip/{survey_id:int}.png", api_chip, ["GET"], "view"),
    ("/api/candidates/{candidate_id:int}/decision", api_decide, ["POST"], "decide"),
    ("/api/decisions", api_bulk_decide, ["POST"], "decide"),
    ("/api/candidates/{candidate_id:int}/notes", api_add_note, ["POST"], "field_note"),
    ("/api/photos/{key}", api_photo, ["GET"], "view"),
    ("/api/export.{fmt}", api_export, ["GET"], "export"),
    ("/tiles/{layer}/{z:int}/{x:int}/{y:int}.mvt", tiles, ["GET"], "view"),
]


class _VendorFiles(StaticFiles):
    """Only the distribution folders of the vendored packages, never node_modules at large."""


def create_app(store: AppStore, config: AppConfig | None = None) -> Starlette:
    """The ASGI application; ``store`` is opened on start-up and closed on shutdown.

    Raises
    ------
    ConfigError
        The web assets are not installed (run ``scripts/bootstrap.sh webassets``).
    """
    from contextlib import asynccontextmanager

    from gis.errors import ConfigError

    missing = [d for d in VENDOR_DIRS.values() if not (WEB_ASSETS / d).is_dir()]
    if missing:
        raise ConfigError(f"web assets missing under {WEB_ASSETS} ({', '.join(missing)}); run "
                          "`scripts/bootstrap.sh webassets` (or `make setup`)")

    @asynccontextmanager
    async def lifespan(app):
        await run_in_threadpool(store.open)
        try:
            yield
        finally:
            await run_in_threadpool(store.close)

    routes: list = [Route(path, endpoint, methods=methods)
                    for path, endpoint, methods, _perm in ROUTES]
    routes.append(Mount("/static", StaticFiles(directory=HERE / "static"), name="static"))
    for name, folder in VENDOR_DIRS.items():
        routes.append(Mount(f"/vendor/{name}", _VendorFiles(directory=WEB_ASSETS / folder)))
    app = Starlette(routes=routes, lifespan=lifespan, exception_handlers={
        HTTPError: http_error, BadRequest: bad_request, DataError: data_error,
        404: not_found})
    app.state.store = store
    app.state.config = config or AppConfig()
    app.state.templates = _templates()
    return SecurityHeaders(app)
