"""The review app's factory: :func:`create_app` builds the Starlette application.

Layout (the way Starlette/FastAPI apps are laid out):

* :class:`ReviewSettings` — everything the app needs (DSN of the restricted role, limits,
  cookie flags), resolved once by :mod:`maps.review.server` from mujun's settings;
* :mod:`maps.review.middleware` — security every request passes through: security
  headers, then the guard (NUL characters, body-size limits, session, CSRF, the route's
  permission), all before an endpoint runs or a body is read;
* :mod:`maps.review.routes` — endpoints grouped by resource (pages, candidates,
  decisions, notes and photos, tiles, exports), each declaring its permission once in its
  route table (:mod:`maps.review.routing`);
* :mod:`maps.review.web` — what endpoints share (errors, the per-request transaction as
  ``mujun_app`` with the session set for row-level security, pages, JSON bodies).

Candidate data is read and written as ``mujun_app`` with the session set, so PostgreSQL's
row-level security limits everything to the user's districts and towns: another
district's candidate is simply not found (404).
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass
from pathlib import Path

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from gis.errors import DataError
from maps.review.queries import BadRequest
from maps.review.routing import GuardedRoute, RouteSpec
from maps.review.web import HTTPError, error_response

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
#: Where ``scripts/bootstrap.sh webassets`` installs Leaflet and its plugins.
WEB_ASSETS = HERE.parent / "web" / "node_modules"
#: The only vendor files the app serves (package → its distribution folder).
VENDOR_DIRS = {"leaflet": "leaflet/dist", "vectorgrid": "leaflet.vectorgrid/dist"}


@dataclass(frozen=True)
class ReviewSettings:
    """What the app needs, resolved once (:func:`maps.review.server.review_settings`).

    Attributes
    ----------
    dsn : str
        DSN of the restricted role ``mujun_app``.
    session_hours : float
        Lifetime of a login.
    photo_max_bytes : int
        Largest field-check photo; an upload's limit is six of them plus 1 MiB of form.
    request_max_bytes : int
        Largest body of every other request.
    secure_cookies : bool
        Mark cookies ``Secure`` (behind an HTTPS proxy).
    trusted_proxies : tuple of str
        Reverse proxies whose ``X-Forwarded-For`` is believed (setting ``trusted_proxies``).
    pool_min, pool_max : int
        Database connections per worker process.
    enterprise_panels : tuple of str, optional
        Panels of the enterprise page (setting ``enterprise_panels``; None: every one).
    """

    dsn: str
    session_hours: float = 8.0
    photo_max_bytes: int = 8 * 2**20
    request_max_bytes: int = 1 * 2**20
    secure_cookies: bool = False
    trusted_proxies: tuple[str, ...] = ()
    pool_min: int = 4
    pool_max: int = 12
    enterprise_panels: tuple[str, ...] | None = None

    @property
    def upload_max_bytes(self) -> int:
        """Largest body of a field note with its photos."""
        from maps.review.notes import MAX_PHOTOS

        return self.photo_max_bytes * MAX_PHOTOS + 2**20


def route_specs() -> list[RouteSpec]:
    """Every route of the app, from the resource modules' route tables."""
    from maps.review.routes import MODULES

    specs: list[RouteSpec] = []
    for name in MODULES:
        specs.extend(importlib.import_module(f"maps.review.routes.{name}").table.specs)
    return specs


async def _http_error(request: Request, exc: HTTPError) -> Response:
    from maps.review.auth import SESSION_COOKIE

    return error_response(request.url.path, exc,
                          had_session=bool(request.cookies.get(SESSION_COOKIE)))


async def _bad_request(request: Request, exc: BadRequest) -> Response:
    return JSONResponse({"error": str(exc)}, status_code=400)


async def _data_error(request: Request, exc: DataError) -> Response:
    return JSONResponse({"error": str(exc)}, status_code=422)


async def _not_found(request: Request, exc: Exception) -> Response:
    return JSONResponse({"error": "未找到"}, status_code=404)


def check_web_assets() -> None:
    """Raise :class:`~gis.errors.ConfigError` unless Leaflet and its plugins are installed."""
    from gis.errors import ConfigError

    missing = [d for d in VENDOR_DIRS.values() if not (WEB_ASSETS / d).is_dir()]
    if missing:
        raise ConfigError(f"web assets missing under {WEB_ASSETS} ({', '.join(missing)}); run "
                          "`scripts/bootstrap.sh webassets` (or `make setup`)")


def create_app(settings: ReviewSettings):
    """The ASGI application: security middleware around the routes of every resource.

    The connection pool (as ``mujun_app``) opens on start-up and closes on shutdown, once
    per worker process.

    Raises
    ------
    ConfigError
        The web assets are not installed (run ``scripts/bootstrap.sh webassets``).
    """
    from contextlib import asynccontextmanager

    from maps.review.middleware import Guard, SecurityHeaders
    from maps.review.store import AppStore
    from maps.review.web import templates

    check_web_assets()
    store = AppStore(settings.dsn, min_size=settings.pool_min, max_size=settings.pool_max)

    @asynccontextmanager
    async def lifespan(app):
        await run_in_threadpool(store.open)
        try:
            yield
        finally:
            await run_in_threadpool(store.close)

    routes: list = [GuardedRoute(spec) for spec in route_specs()]
    routes.append(Mount("/static", StaticFiles(directory=HERE / "static"), name="static"))
    for name, folder in VENDOR_DIRS.items():
        routes.append(Mount(f"/vendor/{name}", StaticFiles(directory=WEB_ASSETS / folder)))
    app = Starlette(routes=routes, lifespan=lifespan, exception_handlers={
        HTTPError: _http_error, BadRequest: _bad_request, DataError: _data_error,
        404: _not_found})
    app.state.store = store
    app.state.settings = settings
    app.state.templates = templates()
    guarded = Guard(app, store, body_limit=settings.request_max_bytes,
                    upload_limit=settings.upload_max_bytes)
    return SecurityHeaders(guarded)


#: Every route with its permission (for tests and documentation).
ROUTES = route_specs()
