"""Packaging promises: the five packages import from this repository, and
environment.yml lists the same runtime dependencies as pyproject.toml."""

from __future__ import annotations

import importlib
import re
import time
import tomllib
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent

# conda-forge names for PyPI names that differ, and extras that conda splits out.
CONDA_NAME = {"psycopg[binary]": "psycopg", "dask[distributed]": "dask",
              "opencv-python-headless": "opencv"}
CONDA_ONLY = {"python", "pip", "postgis", "distributed"}


@pytest.mark.parametrize("name", ["gis", "parcels", "remote_sensing", "scoring", "maps", "sample"])
def test_top_level_package_is_ours(name):
    module = importlib.import_module(name)
    assert Path(module.__file__).resolve().is_relative_to(REPO), (
        f"{name} imported from {module.__file__}, not from this repository "
        "(an unrelated PyPI package of the same name is installed?)"
    )


def _split(requirement: str) -> tuple[str, str]:
    match = re.match(r"^([A-Za-z0-9_.\-]+(?:\[[^\]]+\])?)\s*(.*)$", requirement.strip())
    assert match, requirement
    return match.group(1).lower(), match.group(2).replace(" ", "")


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    pypi = {}
    for req in project["dependencies"]:
        name, spec = _split(req)
        pypi[CONDA_NAME.get(name, name)] = spec
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    conda = {}
    deps = [d for dep in env["dependencies"] for d in (dep.get("pip", []) if isinstance(dep, dict) else [dep])]
    for dep in deps:
        if isinstance(dep, str):
            name, spec = _split(
                dep.replace("=", "==", 1) if re.match(r"^[^<>=!]+=[^=]", dep) else dep
            )
            conda[name] = spec
    missing = sorted(set(pypi) - set(conda))
    extra = sorted(set(conda) - set(pypi) - CONDA_ONLY)
    assert not missing, f"environment.yml lacks {missing}"
    assert not extra, f"environment.yml lists {extra}, which pyproject.toml does not"
    drift = {n: (pypi[n], conda[n]) for n in pypi if pypi[n] != conda[n]}
    assert not drift, f"version specs differ (pyproject, environment.yml): {drift}"


def test_constraints_pin_every_runtime_dependency():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    pins = {
        line.split("==")[0].lower().replace("_", "-")
        for line in (REPO / "constraints.txt").read_text().splitlines()
        if "==" in line
    }
    for req in project["dependencies"] + project["optional-dependencies"]["dev"]:
        name = re.sub(r"\[.*\]", "", _split(req)[0]).replace("_", "-")
        assert name in pins, f"{name} is not pinned in constraints.txt"


def test_help_is_fast_and_lists_commands():
    """`mujun --help` lists every command pyproject declares, each with its own summary."""
    from tests.cli_runner import mujun_process

    start = time.perf_counter()
    out = mujun_process("--help")
    elapsed = time.perf_counter() - start
    assert out.returncode == 0, out.stderr
    listing = out.stdout.split("\nCommands:\n", 1)[1]
    rows = dict(line.split(None, 1) for line in listing.splitlines() if line.strip())
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    declared = set(project["entry-points"]["mujun.commands"])
    assert declared <= set(rows), f"not listed: {sorted(declared - set(rows))}"
    broken = {name: text for name, text in rows.items() if "unavailable" in text}
    assert not broken, broken
    import click

    from gis.cli.main import cli

    ctx = click.Context(cli, info_name="mujun")
    for name in declared:
        summary = cli.get_command(ctx, name).get_short_help_str(limit=45)
        assert rows[name].startswith(summary.rstrip(".")[:30]), (name, rows[name])
    # Generous bound for a loaded CI machine; on an idle machine it is ~0.2 s.
    assert elapsed < 3.0, f"mujun --help took {elapsed:.2f}s: a subcommand imports heavy modules"
