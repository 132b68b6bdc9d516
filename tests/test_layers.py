"""The floors of the house: every reference between modules points down (or stays on its floor).

Bottom to top: ``gis`` → ``parcels`` | ``remote_sensing`` (side by side, never importing
each other) → ``scoring`` (the core) → ``scoring.land_status`` → ``scoring.land_status.supply`` → ``maps`` (web maps, exports,
figures, sheets, reports) → ``maps.review`` (the officials' web app) → ``sample`` (the
sample city and ``mujun demo``) → ``benchmarks``.

A module *refers to* another by any of

* an ``import`` or ``from … import`` (inside functions and ``TYPE_CHECKING`` blocks too, so
  a lazy import cannot hide a wrong-way dependency);
* a string naming a module of the house (``importlib.import_module("parcels.importing")``,
  ``__import__``, an ``"module:function"`` registry entry, the leading part of an f-string);
* the name of an entry-point group declared in ``pyproject.toml`` (the module loads every
  object of the group);
* looking a command up by name (``group.get_command(ctx, "export")``): the command's module.

Everything is read from the source with ``ast``; nothing is imported.
"""

from __future__ import annotations

import ast
import re
import tomllib
from functools import cache
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("gis", "parcels", "remote_sensing", "scoring", "maps", "sample", "benchmarks")

#: Floor name -> (level, module prefixes). A module is on the floor of its longest
#: matching prefix. Floors of one level stand side by side and never refer to each other.
FLOORS: dict[str, tuple[int, tuple[str, ...]]] = {
    "gis": (0, ("gis",)),
    "parcels": (1, ("parcels",)),
    "remote_sensing": (1, ("remote_sensing",)),
    "scoring": (2, ("scoring",)),
    # ``scoring.candidates`` is the name of the land-status package until its rename to
    # ``scoring.land_status`` is merged; its command module still lives in ``scoring/cli``.
    "scoring.land_status": (3, ("scoring.land_status", "scoring.candidates",
                                "scoring.cli.candidates")),
    # standard land (plots, contracts and their checks) stands on land status: its
    # breaches are land-status candidates written through land status's own writer
    "scoring.land_status.supply": (4, ("scoring.land_status.supply",)),
    "maps": (5, ("maps",)),
    # the review app's commands live in ``maps/cli`` until they move into ``maps/review``
    "maps.review": (6, ("maps.review", "maps.cli.serve", "maps.cli.user")),
    "sample": (7, ("sample",)),
    "benchmarks": (8, ("benchmarks",)),
}

#: Command groups that list commands registered by other floors through an entry-point
#: group, the way the root does: the user picks the command, no package calls another's.
#: The root dispatches to every package's commands (``mujun.commands``); ``mujun
#: candidates`` lists the documents maps renders for it (``report``, ``sheet``), ``mujun
#: score`` its public notice (``notice``), ``mujun report`` the annual report (``annual``).
PLUGIN_HOSTS = {("gis.cli.main", "mujun.commands"),
                ("scoring.land_status.cli.candidates", "mujun.candidates_commands"),
                ("scoring.land_status.cli.candidates", "mujun.candidates_checks"),
                ("scoring.cli.score", "mujun.score_commands"),
                ("scoring.cli.score", "mujun.score_checks"),
                ("parcels.cli.import_cmd", "mujun.import_commands"),
                ("scoring.cli.report", "mujun.report_commands")}

#: A string naming a module of the house: dotted (``parcels.importing``), or ``module:object``.
#: A bare package name (``"maps"``) is a word, unless it is given to ``import_module``.
_TOP = "|".join(PACKAGES)
_MODULE_STRING = re.compile(
    rf"^(?P<module>(?:{_TOP})(?P<dotted>(?:\.[A-Za-z_]\w*)+)?)(?P<object>:[A-Za-z_][\w.]*)?$")
_MODULE_PREFIX = re.compile(rf"^(?P<module>(?:{_TOP})(?:\.[A-Za-z_]\w*)*)\.?")


def floor_of(module: str) -> str:
    """The floor a dotted module name stands on (its longest matching prefix)."""
    best, length = None, -1
    for name, (_, prefixes) in FLOORS.items():
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > length:
                best, length = name, len(prefix)
    if best is None:
        raise KeyError(module)
    return best


def may_refer(source: str, target: str) -> bool:
    """True when a module on floor ``source`` may refer to one on floor ``target``."""
    return source == target or FLOORS[target][0] < FLOORS[source][0]


def module_name(path: Path, repo: Path = REPO) -> str:
    parts = list(path.relative_to(repo).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_module(dotted: str, repo: Path) -> bool:
    base = repo.joinpath(*dotted.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


@cache
def entry_point_groups(repo: Path = REPO) -> dict[str, dict[str, str]]:
    """Group -> {entry name -> module} from ``pyproject.toml``."""
    data = tomllib.loads((repo / "pyproject.toml").read_text(encoding="utf-8"))
    groups = data["project"].get("entry-points", {})
    return {group: {name: target.split(":")[0] for name, target in entries.items()}
            for group, entries in groups.items()}


def references(path: Path, repo: Path = REPO) -> list[tuple[str, str, str]]:
    """``(how, target module, detail)`` for every reference of one source file."""
    module = module_name(path, repo)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    groups = entry_point_groups(repo)
    commands = groups.get("mujun.commands", {})
    found: list[tuple[str, str, str]] = []

    def string(value: str, how: str) -> None:
        match = _MODULE_STRING.match(value)
        if match and (match["dotted"] or match["object"]):
            found.append((how, match["module"], value))

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [("import", alias.name, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                found.append(("import", sub if _is_module(sub, repo) else target, sub))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            string(node.value, "string")
            if node.value in groups and (module, node.value) not in PLUGIN_HOSTS:
                found += [("entry-point group", target, f"{node.value}:{name}")
                          for name, target in groups[node.value].items()]
        elif isinstance(node, ast.JoinedStr) and node.values:
            head = node.values[0]
            if isinstance(head, ast.Constant) and isinstance(head.value, str):
                match = _MODULE_PREFIX.match(head.value)
                if match:
                    found.append(("f-string", match["module"], head.value))
        elif (isinstance(node, ast.Call) and node.args
              and getattr(node.func, "attr", getattr(node.func, "id", None))
              in ("import_module", "__import__")
              and isinstance(node.args[0], ast.Constant) and node.args[0].value in PACKAGES):
            found.append(("string", node.args[0].value, node.args[0].value))
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr == "get_command"):
            for arg in node.args:
                if isinstance(arg, ast.Constant) and arg.value in commands:
                    found.append(("command lookup", commands[arg.value], arg.value))
    return [(how, target, detail) for how, target, detail in found
            if target.split(".")[0] in PACKAGES]


def house_modules() -> list[Path]:
    return sorted(p for package in PACKAGES for p in (REPO / package).rglob("*.py"))


def wrong_way() -> list[str]:
    """Every reference that points up, or across to a side-by-side floor."""
    wrong = []
    for path in house_modules():
        source = module_name(path)
        for how, target, detail in references(path):
            if not may_refer(floor_of(source), floor_of(target)):
                wrong.append(f"{path.relative_to(REPO)} ({floor_of(source)}) -> {target} "
                             f"({floor_of(target)}) by {how} {detail!r}")
    return wrong


def test_every_reference_points_down():
    wrong = wrong_way()
    assert not wrong, "references that point up or across:\n" + "\n".join(wrong)


@pytest.mark.parametrize(("source", "target", "allowed"), [
    ("gis.importing.headers", "parcels.importing", False),
    ("parcels.importing.parcel_import", "gis.importing.headers", True),
    ("parcels.occupancy.run", "remote_sensing.extract", False),
    ("remote_sensing.extract", "parcels.codes", False),
    ("scoring.run", "scoring.candidates.run", False),
    ("scoring.run", "scoring.land_status.run", False),
    ("scoring.land_status.run", "scoring.run", True),
    ("scoring.candidates.rules", "scoring.land_status.facts", True),
    ("scoring.cli.candidates", "scoring.candidates.run", True),
    ("scoring.land_status.supply.check", "scoring.land_status.external", True),
    ("scoring.land_status.run", "scoring.land_status.supply.check", False),
    ("maps.data", "scoring.land_status.supply.plots", True),
    ("maps.export.writer", "maps.review.app", False),
    ("maps.review.app", "maps.export.writer", True),
    ("maps.cli.serve", "maps.review.app", True),
    ("maps.data", "scoring.land_status.store", True),
    ("sample.demo", "maps.review.app", True),
    ("sample.demo", "benchmarks.common", False),
    ("benchmarks.bench_import", "sample.generate", True),
])
def test_floors(source, target, allowed):
    assert may_refer(floor_of(source), floor_of(target)) is allowed


def test_the_reader_sees_strings_groups_and_command_lookups(tmp_path):
    """Each way of referring to a module is found (a file written in a throw-away house)."""
    (tmp_path / "gis" / "cli").mkdir(parents=True)
    (tmp_path / "maps" / "cli").mkdir(parents=True)
    (tmp_path / "pyproject.toml").write_text(
        '[project.entry-points."mujun.commands"]\nexport = "maps.cli.export_cmd:export_cmd"\n'
        '[project.entry-points."mujun.figures"]\nmap = "maps.figure:draw"\n', encoding="utf-8")
    (tmp_path / "maps" / "__init__.py").write_text("", encoding="utf-8")
    (tmp_path / "maps" / "figure.py").write_text("", encoding="utf-8")
    source = tmp_path / "gis" / "cli" / "tool.py"
    source.write_text(
        "import importlib\n"
        "from maps import figure\n"
        "def f(root, name):\n"
        "    importlib.import_module('scoring.candidates')\n"
        "    __import__('parcels.importing')\n"
        "    importlib.import_module(f'benchmarks.bench_{name}')\n"
        "    ENGINES = {'x': 'remote_sensing.extract:extract_footprints'}\n"
        "    entry_points(group='mujun.figures')\n"
        "    return root.command.get_command(root, 'export')\n", encoding="utf-8")
    found = {(how, target) for how, target, _ in references(source, tmp_path)}
    assert found >= {
        ("import", "maps.figure"),
        ("string", "scoring.candidates"),
        ("string", "parcels.importing"),
        ("f-string", "benchmarks.bench_"),
        ("string", "remote_sensing.extract"),
        ("entry-point group", "maps.figure"),
        ("command lookup", "maps.cli.export_cmd"),
    }


def _floors_used(package: str) -> set[str]:
    return {floor_of(target) for path in (REPO / package).rglob("*.py")
            for _, target, _ in references(path)}


def test_parcels_and_remote_sensing_stand_side_by_side_on_gis():
    used = {package: _floors_used(package) - {package} for package in ("parcels", "remote_sensing")}
    assert used == {"parcels": {"gis"}, "remote_sensing": {"gis"}}
    # and the sample package really stands on both (it makes records and imagery alike)
    assert {"parcels", "remote_sensing"} <= _floors_used("sample")


def test_gis_names_no_domain_package_even_in_text():
    """The foundation knows no domain: no import, no module string, not even a bare name."""
    domain = set(PACKAGES) - {"gis"}
    named = []
    for path in (REPO / "gis").rglob("*.py"):
        named += [f"{path.relative_to(REPO)}: {detail!r}" for _, target, detail in references(path)
                  if floor_of(target) != "gis"]
        named += [f"{path.relative_to(REPO)}: {node.value!r}"
                  for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
                  if isinstance(node, ast.Constant) and node.value in domain]
    assert not named


def _module_of(target: str, modules: set[str]) -> str | None:
    while target and target not in modules:
        target = target.rpartition(".")[0]
    return target or None


def test_no_modules_import_each_other_in_a_circle():
    """No loop of imports between modules (lazy and type-only imports count)."""
    paths = {module_name(p): p for p in house_modules()}
    graph = {m: {t for how, target, _ in references(p) if how == "import"
                 for t in [_module_of(target, set(paths))] if t and t != m}
             for m, p in paths.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    circles = []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            part = stack[stack.index(v):]
            del stack[stack.index(v):]
            if len(part) > 1:
                circles.append(sorted(part))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    assert not circles
