"""Run ``mujun`` in-process against the test database, and read what it wrote (shared by the CLI tests)."""

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


def fetch(conn, query, params=None) -> list[tuple]:
    """Rows of ``query`` as committed by another connection (fresh snapshot, read only)."""
    conn.rollback()
    rows = conn.execute(query, params).fetchall()
    conn.rollback()
    return rows
