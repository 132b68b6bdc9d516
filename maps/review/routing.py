"""Route tables of the review app: each route states its permission once.

A resource module (``maps.review.routes.*``) declares its routes on a :class:`RouteTable`::

    table = RouteTable()

    @table.get("/api/me", permission="view")
    async def me(request): ...

The permission is the only place access is decided for a route: the security middleware
(:class:`maps.review.middleware.Guard`) finds the route a request matches and checks the
session, the CSRF token and the permission before the endpoint runs or a byte of the
body is read. :data:`PUBLIC` marks the two routes that need no session (the login page and
the login form).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from starlette.routing import Route

#: The permission of routes that need no session (the login page and form).
PUBLIC = "-"
#: Kinds of request body a route takes: its size limit follows from the kind
#: (``none`` and ``json``/``form``: the ``request_max_kb`` setting; ``upload``: the photos).
BODIES = ("none", "json", "form", "upload")


@dataclass(frozen=True)
class RouteSpec:
    """One route: path, endpoint, methods, the permission it needs and its body kind."""

    path: str
    endpoint: Callable
    methods: tuple[str, ...]
    permission: str
    body: str = "none"

    def __iter__(self):  # (path, endpoint, methods, permission), as the old route list
        return iter((self.path, self.endpoint, list(self.methods), self.permission))


class GuardedRoute(Route):
    """A Starlette route that carries its :class:`RouteSpec` for the middleware."""

    def __init__(self, spec: RouteSpec):
        super().__init__(spec.path, spec.endpoint, methods=list(spec.methods))
        self.spec = spec


class RouteTable:
    """The routes of one resource module, declared with decorators."""

    def __init__(self) -> None:
        self.specs: list[RouteSpec] = []

    def route(self, path: str, *, methods: tuple[str, ...], permission: str,
              body: str = "none") -> Callable:
        """Declare ``path`` for ``methods`` with the ``permission`` it needs."""
        from maps.review.permissions import PERMISSIONS

        if permission != PUBLIC and permission not in PERMISSIONS:
            raise KeyError(f"unknown permission {permission!r}; known: {', '.join(PERMISSIONS)}")
        if body not in BODIES:
            raise KeyError(f"unknown body kind {body!r}; known: {', '.join(BODIES)}")

        def register(endpoint: Callable) -> Callable:
            self.specs.append(RouteSpec(path, endpoint, tuple(methods), permission, body))
            return endpoint

        return register

    def get(self, path: str, *, permission: str) -> Callable:
        """A GET route (no body)."""
        return self.route(path, methods=("GET",), permission=permission)

    def post(self, path: str, *, permission: str, body: str = "json") -> Callable:
        """A POST route taking a body of kind ``body``."""
        return self.route(path, methods=("POST",), permission=permission, body=body)
