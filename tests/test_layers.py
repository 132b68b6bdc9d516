"""The import graph of the top-level packages: dependencies point one way.

``gis`` at the bottom; ``parcels`` and ``remote_sensing`` side by side on it, never
importing each other; ``scoring`` on ``parcels``; ``maps`` on ``scoring``; ``sample``
(the sample city and ``mujun demo``, whose stages run every capability) at the top.
Read from the source with ``ast`` (imports inside functions count too), so a lazy
import cannot hide a wrong-way dependency.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("gis", "parcels", "remote_sensing", "scoring", "maps", "sample")
#: package -> the packages it may import.
ALLOWED = {
    "gis": set(),
    "parcels": {"gis"},
    "remote_sensing": {"gis"},
    "scoring": {"gis", "parcels"},
    "maps": {"gis", "parcels", "scoring"},
    "sample": {"gis", "parcels", "remote_sensing", "scoring", "maps"},
}


def package_imports(package: str) -> dict[str, set[str]]:
    """Other top-level packages each module of ``package`` imports (module path -> names)."""
    found: dict[str, set[str]] = {}
    for path in sorted((REPO / package).rglob("*.py")):
        names = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
        others = (names & set(PACKAGES)) - {package}
        if others:
            found[str(path.relative_to(REPO))] = others
    return found


@pytest.mark.parametrize("package", PACKAGES)
def test_dependencies_point_one_way(package):
    wrong = {module: sorted(names - ALLOWED[package])
             for module, names in package_imports(package).items() if names - ALLOWED[package]}
    assert not wrong, f"{package} may import only {sorted(ALLOWED[package])}: {wrong}"


def test_parcels_and_remote_sensing_stand_side_by_side_on_gis():
    used = {p: set().union(*package_imports(p).values()) for p in ("parcels", "remote_sensing")}
    assert used == {"parcels": {"gis"}, "remote_sensing": {"gis"}}
    # and the sample package really stands on both (it makes records and imagery alike)
    assert {"parcels", "remote_sensing"} <= set().union(*package_imports("sample").values())


#: Floors inside a top-level package: sub-package -> the rest of its package, which stands
#: below it and must not reach it (by import, by importlib string, or by entry-point text).
SUB_FLOORS = {"scoring.land_status": "scoring", "maps.review": "maps"}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _references(path: Path) -> set[str]:
    """Dotted module names a file imports, or names in a string (importlib, entry points);
    docstrings left out."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = getattr(node, "body", [])
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                docstrings.add(id(body[0].value))
    refs = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            refs.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            refs.add(node.module)
            refs.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif (isinstance(node, ast.Constant) and isinstance(node.value, str)
              and id(node) not in docstrings):
            refs.update(re.findall(r"[a-z_]+(?:\.[a-z_]+)+", node.value))
    return refs


@pytest.mark.parametrize("floor", sorted(SUB_FLOORS))
def test_sub_package_floors_are_not_reached_from_below(floor):
    """The scoring core never reaches scoring.land_status; nothing in maps outside
    maps.review reaches maps.review — not by import, not by a module name in a string."""
    package = SUB_FLOORS[floor]
    wrong = {}
    for path in sorted((REPO / package).rglob("*.py")):
        name = _module_name(path)
        if name == floor or name.startswith(floor + ".") or "node_modules" in path.parts:
            continue
        hits = sorted(r for r in _references(path) if r == floor or r.startswith(floor + "."))
        if hits:
            wrong[str(path.relative_to(REPO))] = hits
    assert not wrong, f"{floor} stands above the rest of {package}: {wrong}"


def test_land_status_looks_no_command_up_by_name():
    """Its documents (report, sheet) are maps commands listed through entry points; the
    land-status commands never find a command of a floor above by its name."""
    found = []
    for path in sorted((REPO / "scoring" / "land_status").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        for needle in ("get_command(", "find_root()", "import_module(", "scoring.cli.score"):
            if needle in text:
                found.append(f"{path.relative_to(REPO)}: {needle}")
    assert not found, found
