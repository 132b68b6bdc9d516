"""The one way tests run ``mujun``, and read what it committed.

* :func:`run_mujun` runs the root command in this process (fast; most CLI tests):
  exit code, stdout and stderr.
* :func:`mujun_process` runs the installed console script in a fresh process, for
  what only a process shows: the real entry point, start-up cost, worker processes,
  a server started and stopped, environment variables read at start;
  :func:`mujun_popen` starts one in the background (a web server, concurrent imports).

Both run this checkout's code (its root first on ``PYTHONPATH``) with progress bars off.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
#: The console script the package installs (``[project.scripts] mujun``).
MUJUN = Path(sys.executable).with_name("mujun")


def run_mujun(argv, monkeypatch, db_dsn, capsys, *, home: str | Path | None = None
              ) -> tuple[int, str, str]:
    """Run ``mujun *argv`` in this process; return (exit code, stdout, stderr).

    ``db_dsn`` None leaves ``MUJUN_DSN`` unset; ``home`` sets ``MUJUN_HOME``.
    """
    from gis.cli.main import main

    if db_dsn is None:
        monkeypatch.delenv("MUJUN_DSN", raising=False)
    else:
        monkeypatch.setenv("MUJUN_DSN", db_dsn)
    if home is not None:
        monkeypatch.setenv("MUJUN_HOME", str(home))
    monkeypatch.setenv("MUJUN_PROGRESS", "false")
    try:
        main(list(argv))
        code = 0
    except SystemExit as exc:
        code = exc.code or 0
    out = capsys.readouterr()
    return code, out.out, out.err


def mujun_env(*, dsn: str | None = None, home: str | Path | None = None,
              env: dict[str, str] | None = None) -> dict[str, str]:
    """The environment a ``mujun`` process gets: this one without any ``MUJUN_*``
    variable, this checkout first on ``PYTHONPATH``, progress bars off, plus
    ``MUJUN_DSN`` (``dsn``), ``MUJUN_HOME`` (``home``) and ``env``."""
    full = {k: v for k, v in os.environ.items() if not k.startswith("MUJUN_")}
    full["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p)
    full["MUJUN_PROGRESS"] = "false"
    if dsn is not None:
        full["MUJUN_DSN"] = dsn
    if home is not None:
        full["MUJUN_HOME"] = str(home)
    full.update(env or {})
    return full


def mujun_process(*args: str, dsn: str | None = None, home: str | Path | None = None,
                  env: dict[str, str] | None = None, timeout: float = 600,
                  ) -> subprocess.CompletedProcess:
    """Run the ``mujun`` console script with ``args`` to the end; never raises on a non-zero
    exit. The environment is :func:`mujun_env`'s."""
    return subprocess.run([str(MUJUN), *args], capture_output=True, text=True,
                          env=mujun_env(dsn=dsn, home=home, env=env), timeout=timeout,
                          check=False)


def mujun_popen(*args: str, dsn: str | None = None, home: str | Path | None = None,
                env: dict[str, str] | None = None, **popen: Any) -> subprocess.Popen:
    """Start the ``mujun`` console script in the background (a server, two imports at once);
    text pipes for stdout and stderr unless ``popen`` says otherwise."""
    popen.setdefault("stdout", subprocess.PIPE)
    popen.setdefault("stderr", subprocess.PIPE)
    popen.setdefault("text", True)
    return subprocess.Popen([str(MUJUN), *args], env=mujun_env(dsn=dsn, home=home, env=env),
                            **popen)


def fetch(conn, query, params=None) -> list[tuple]:
    """Rows of ``query`` as committed by another connection (fresh snapshot, read only)."""
    conn.rollback()
    rows = conn.execute(query, params).fetchall()
    conn.rollback()
    return rows
