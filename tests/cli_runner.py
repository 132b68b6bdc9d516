"""Run ``mujun`` in-process against the test database (shared by the CLI tests)."""

from __future__ import annotations


def run_mujun(argv, monkeypatch, db_dsn, capsys) -> tuple[int, str, str]:
    """Run ``mujun *argv`` in this process; return (exit code, stdout, stderr)."""
    from gis.cli.main import main

    monkeypatch.setenv("MUJUN_DSN", db_dsn)
    monkeypatch.setenv("MUJUN_PROGRESS", "false")
    try:
        main(list(argv))
        code = 0
    except SystemExit as exc:
        code = exc.code or 0
    out = capsys.readouterr()
    return code, out.out, out.err
