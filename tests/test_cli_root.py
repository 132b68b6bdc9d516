"""The root `mujun` command: version, help, error mapping, broken plugins."""

from __future__ import annotations

import subprocess

import click
import pytest

from gis.cli import main as cli_main
from gis.errors import DataError
from tests.cli_runner import mujun_process


def run(*args: str, **kw) -> subprocess.CompletedProcess:
    return mujun_process(*args, **kw)


def test_version():
    out = run("--version")
    assert out.returncode == 0
    assert "mujun, version" in out.stdout


def test_unknown_command_is_a_usage_error():
    out = run("no-such-command")
    assert out.returncode == 2
    assert "No such command" in out.stderr


def test_mujun_error_becomes_one_line_and_exit_code(monkeypatch, capsys):
    @click.command("boom")
    def boom():
        raise DataError("2 rows have no credit code", source="ent.xlsx", location="row 7")

    monkeypatch.setattr(cli_main.PluginGroup, "_entry_points", lambda self: {})
    cli_main.cli.add_command(boom)
    try:
        with pytest.raises(SystemExit) as exit_info:
            cli_main.main(["boom"])
    finally:
        cli_main.cli.commands.pop("boom")
    assert exit_info.value.code == DataError.exit_code
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["mujun: error: ent.xlsx, row 7: 2 rows have no credit code"]


def test_broken_plugin_does_not_break_the_cli(monkeypatch, capsys):
    class FakeEntryPoint:
        name = "broken"

        def load(self):
            raise ImportError("No module named 'missing_dependency'")

    monkeypatch.setattr(
        cli_main.PluginGroup, "_entry_points", lambda self: {"broken": FakeEntryPoint()}
    )
    with pytest.raises(SystemExit) as exit_info:
        cli_main.main(["--help"])
    assert exit_info.value.code == 0
    assert "broken" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exit_info:
        cli_main.main(["broken"])
    assert exit_info.value.code == 1
    assert "无法加载" in capsys.readouterr().err


def test_tests_run_the_cli_one_way():
    """Every test runs mujun through tests/cli_runner.py (in process, or the console script)."""
    import re
    from pathlib import Path

    tests = Path(__file__).resolve().parent
    own_runner = re.compile(r"gis\.cli\.main import main; main\(\)|\"-m\", \"gis\.cli\.main\"|"
                            r"with_name\(\"mujun\"\)|CliRunner\(")
    offenders = [str(p.relative_to(tests)) for p in tests.rglob("*.py")
                 if p.name != "cli_runner.py" and own_runner.search(p.read_text(encoding="utf-8"))]
    assert not offenders, f"use tests.cli_runner (run_mujun / mujun_process) in {offenders}"
