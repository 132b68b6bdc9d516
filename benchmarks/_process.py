"""Run a command in a fresh process and measure its wall time, CPU time and peak memory."""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


@dataclass
class Measured:
    """Outcome of :func:`run_measured`."""

    seconds: float
    peak_rss_mb: float      # the process and its children, sampled every ``interval`` s
    stdout: str
    stderr: str
    returncode: int
    cpu_seconds: float = 0.0   # user + system CPU of the process and its waited-for children


def run_measured(cmd: list[str], *, env: dict[str, str] | None = None,
                 interval: float = 0.05) -> Measured:
    """Run ``cmd`` from the repository root; sample RSS of it and its children."""
    import resource

    import psutil

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env, cwd=str(REPO))
    ps = psutil.Process(proc.pid)
    peak = 0
    while proc.poll() is None:
        try:
            rss = ps.memory_info().rss + sum(c.memory_info().rss
                                             for c in ps.children(recursive=True))
            peak = max(peak, rss)
        except psutil.Error:
            pass
        time.sleep(interval)
    seconds = time.perf_counter() - start
    out, err = proc.communicate()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return Measured(seconds, peak / 2**20, out, err, proc.returncode, cpu)
