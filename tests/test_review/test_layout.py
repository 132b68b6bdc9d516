"""The review app's layout: a floor of its own, every route guarded and declared once."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_nothing_else_in_maps_imports_the_review_app():
    wrong = []
    for path in sorted((REPO / "maps").rglob("*.py")):
        if (REPO / "maps" / "review") in path.parents:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) \
                    and node.value.startswith("maps.review") and " " not in node.value:
                names = [node.value]   # an importlib string or entry point
            if any(n == "maps.review" or n.startswith("maps.review.") for n in names):
                wrong.append(str(path.relative_to(REPO)))
    assert not wrong


def test_every_route_is_declared_once_with_a_known_permission():
    from starlette.routing import Mount

    from maps.review.app import ROUTES, ReviewSettings, create_app
    from maps.review.permissions import PERMISSIONS
    from maps.review.routing import PUBLIC, GuardedRoute

    seen = set()
    for spec in ROUTES:
        assert spec.permission in (*PERMISSIONS, PUBLIC)
        for method in spec.methods:
            assert (spec.path, method) not in seen
            seen.add((spec.path, method))
    assert {s.path for s in ROUTES if s.permission == PUBLIC} == {"/login"}
    # the app serves exactly these routes (plus static folders): none bypasses the table
    app = create_app(ReviewSettings(dsn="dbname=unused"))
    starlette_app = app.app.app   # SecurityHeaders → Guard → Starlette
    routes = starlette_app.routes
    assert all(isinstance(r, GuardedRoute | Mount) for r in routes)
    assert {r.spec for r in routes if isinstance(r, GuardedRoute)} == set(ROUTES)
    assert all(r.path.startswith(("/static", "/vendor/")) for r in routes
               if isinstance(r, Mount))


def test_serve_and_user_commands_live_with_the_app():
    from importlib.metadata import entry_points

    commands = {ep.name: ep.value for ep in entry_points(group="mujun.commands")}
    assert commands["serve"].startswith("maps.review.cli.")
    assert commands["user"].startswith("maps.review.cli.")
