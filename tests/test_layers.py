"""The import graph of the top-level packages: dependencies point one way.

``gis`` at the bottom; ``parcels`` and ``remote_sensing`` side by side on it, never
importing each other; ``scoring`` on ``parcels``; ``maps`` on ``scoring``; ``sample``
(the sample city and ``mujun demo``, whose stages run every capability) at the top.
Read from the source with ``ast`` (imports inside functions count too), so a lazy
import cannot hide a wrong-way dependency.
"""

from __future__ import annotations

import ast
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
