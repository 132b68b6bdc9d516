"""Building and running the review app (the tool behind ``mujun serve``).

``mujun serve`` resolves the app's settings once (:func:`review_settings`, which also gives
the restricted role its login) and hands them to uvicorn's worker processes through the
environment variable :data:`ENV_SETTINGS`; each worker builds its own app with
:func:`maps.review.asgi.app_from_environment` (its own connection pool). The workers share
nothing but PostgreSQL: sessions, CSRF tokens and login attempts all live there.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import logging
import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import psycopg

    from gis.settings import Settings
    from maps.review.app import ReviewSettings

log = logging.getLogger(__name__)

#: Environment variable carrying the resolved settings to uvicorn's worker processes.
ENV_SETTINGS = "MUJUN_REVIEW_APP_SETTINGS"


def is_loopback(host: str) -> bool:
    """Whether ``host`` is a loopback address (or ``localhost``).

    Examples
    --------
    >>> is_loopback("127.0.0.1"), is_loopback("::1"), is_loopback("0.0.0.0")
    (True, True, False)
    """
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def default_workers() -> int:
    """One worker per CPU core this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:   # not Linux
        return max(1, os.cpu_count() or 1)


def review_settings(admin: psycopg.Connection, settings: Settings, *,
                    secure_cookies: bool = False) -> ReviewSettings:
    """The app's settings, with the DSN of the restricted role (from an owner connection).

    ``admin`` (migrated, as the database owner) is used only to give the app role its
    login; the app itself never holds an owner connection.
    """
    from gis.db.roles import app_dsn
    from maps.enterprise_file.panels import choose_panels
    from maps.review.app import ReviewSettings, check_web_assets

    check_web_assets()
    panels = settings.enterprise_panels
    if panels is not None:
        choose_panels(panels)          # an unknown panel stops the start, in Chinese
    return ReviewSettings(dsn=app_dsn(admin, settings),
                          session_hours=float(settings.session_hours),
                          photo_max_bytes=int(float(settings.photo_max_mb) * 2**20),
                          request_max_bytes=int(float(settings.request_max_kb) * 1024),
                          secure_cookies=secure_cookies,
                          trusted_proxies=tuple(settings.trusted_proxies or ()),
                          enterprise_panels=tuple(panels) if panels is not None else None)


def settings_to_environment(config: ReviewSettings) -> str:
    """``config`` as the JSON text of :data:`ENV_SETTINGS`."""
    return json.dumps(dataclasses.asdict(config))


def run(config: ReviewSettings, host: str, port: int, workers: int) -> None:
    """Serve the app with uvicorn, in ``workers`` processes, until interrupted."""
    import uvicorn

    if not is_loopback(host):
        log.warning("serving on %s: reachable from other machines; put it behind HTTPS", host)
    os.environ[ENV_SETTINGS] = settings_to_environment(config)
    uvicorn.run("maps.review.asgi:app_from_environment", factory=True, host=host, port=port,
                workers=workers, log_level="info", access_log=True, proxy_headers=False,
                server_header=False, date_header=True)
