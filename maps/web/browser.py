"""Open a page in the system's headless Chromium with the network outside the machine cut.

Used by the browser tests and the benchmark. Playwright (the Python package) drives
Debian's ``/usr/bin/chromium`` (``scripts/bootstrap.sh chromium``); no browser is ever
downloaded. Every request that is not ``file:``, ``data:``, ``blob:`` or to
127.0.0.1/localhost is aborted and recorded, and so is every request that fails.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from gis.errors import ConfigError

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}


def chromium_path() -> str:
    """Path of the system Chromium (``MUJUN_CHROMIUM`` overrides).

    Raises
    ------
    ConfigError
        Chromium is not installed (``scripts/bootstrap.sh chromium``).
    """
    for candidate in (os.environ.get("MUJUN_CHROMIUM"), shutil.which("chromium"),
                      shutil.which("chromium-browser"), "/usr/bin/chromium"):
        if candidate and Path(candidate).exists():
            return candidate
    raise ConfigError("headless Chromium is not installed; run `scripts/bootstrap.sh "
                      "chromium` (Debian packages chromium and chromium-driver)")


def is_local(url: str) -> bool:
    """Whether a request stays on this machine."""
    parsed = urlparse(url)
    if parsed.scheme in ("file", "data", "blob", "about"):
        return True
    return parsed.scheme in ("http", "https", "ws") and parsed.hostname in LOCAL_HOSTS


@dataclass
class PageLog:
    """What a page did: requests blocked and failed, console errors."""

    blocked: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    requests: int = 0


@contextmanager
def browser(width: int = 1280, height: int = 900) -> Iterator[Any]:
    """A Playwright browser context on the system Chromium."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path(), headless=True,
                              args=["--no-sandbox", "--disable-gpu",
                                    "--allow-file-access-from-files",
                                    "--enable-precise-memory-info"])
        try:
            context = b.new_context(viewport={"width": width, "height": height},
                                    device_scale_factor=1)
            yield context
        finally:
            b.close()


def open_page(context: Any, path: str | Path, log: PageLog | None = None,
              timeout_s: float = 60.0) -> tuple[Any, PageLog, float]:
    """Open ``path`` with outside requests blocked; wait until the map is drawn.

    Returns
    -------
    (page, log, seconds)
        ``seconds``: from navigation start until every tile layer has drawn.
    """
    log = log or PageLog()
    page = context.new_page()

    def route(r: Any) -> None:
        log.requests += 1
        if is_local(r.request.url):
            r.continue_()
        else:
            log.blocked.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.on("requestfailed", lambda req: _failed(log, req))
    page.on("pageerror", lambda exc: log.errors.append(str(exc)))
    page.on("console", lambda msg: log.errors.append(msg.text) if msg.type == "error" else None)
    start = time.perf_counter()
    page.goto(Path(path).resolve().as_uri(), wait_until="load", timeout=timeout_s * 1000)
    page.wait_for_function("window.mujunMap !== undefined", timeout=timeout_s * 1000)
    page.evaluate("mujun.whenDrawn(window.mujunMap)")
    seconds = time.perf_counter() - start
    return page, log, seconds


def _failed(log: PageLog, request: Any) -> None:
    """Record a failed request, except tile loads Leaflet cancelled (the file is there)."""
    if request.failure == "net::ERR_ABORTED" and request.url.startswith("file://"):
        from urllib.parse import unquote

        if Path(unquote(urlparse(request.url).path)).is_file():
            return
    log.failed.append(f"{request.url} {request.failure}")


def page_memory_mb(page: Any) -> float:
    """JavaScript heap used by the page (MB), from the DevTools protocol."""
    session = page.context.new_cdp_session(page)
    session.send("Performance.enable")
    metrics = {m["name"]: m["value"] for m in session.send("Performance.getMetrics")["metrics"]}
    return metrics.get("JSHeapUsedSize", 0.0) / 1e6


def renderer_memory_mb() -> float:
    """Memory (unique set size, MB) of the Chromium renderer processes this process started."""
    import psutil

    total = 0.0
    for proc in psutil.Process().children(recursive=True):
        try:
            if "--type=renderer" in " ".join(proc.cmdline()):
                total += proc.memory_full_info().uss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return total / 1e6
