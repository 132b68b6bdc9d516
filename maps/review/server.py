"""Building and running the review app (the tool behind ``mujun serve``)."""

from __future__ import annotations

import ipaddress
import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import psycopg

    from gis.settings import Settings

log = logging.getLogger(__name__)


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


def build_app(admin: psycopg.Connection, settings: Settings, *, secure_cookies: bool = False):
    """The ASGI app connected as the restricted role (from an owner connection).

    ``admin`` (migrated, as the database owner) is used only to give the app role its
    login; the app itself never holds an owner connection.
    """
    from gis.db.roles import app_dsn
    from maps.review.app import AppConfig, create_app
    from maps.review.auth import parse_networks
    from maps.review.store import AppStore

    dsn = app_dsn(admin, settings)
    config = AppConfig(session_hours=float(settings.session_hours),
                       photo_max_bytes=int(float(settings.photo_max_mb) * 2**20),
                       secure_cookies=secure_cookies,
                       trusted_proxies=parse_networks(settings.trusted_proxies))
    return create_app(AppStore(dsn), config)


def run(app, host: str, port: int) -> None:
    """Serve ``app`` with uvicorn until interrupted."""
    import uvicorn

    if not is_loopback(host):
        log.warning("serving on %s: reachable from other machines; put it behind HTTPS", host)
    uvicorn.run(app, host=host, port=port, log_level="info", access_log=True,
                proxy_headers=False, server_header=False, date_header=True)
