"""Sessions, CSRF tokens and login rate limiting (no framework code: plain functions).

* A session is a random 256-bit token in an HttpOnly, SameSite=Strict cookie; the
  database keeps only its SHA-256 (``app_session.token_hash``), its own random CSRF
  token and its expiry.
* Every state-changing request must echo the session's CSRF token (header
  ``X-CSRF-Token`` or form field ``csrf``); the login form uses a double-submit token
  in a short-lived pre-login cookie.
* A session is opened only by the database (``mujun_login_finish``, migration 0014),
  which compares the Argon2 hash of the given password with the stored one; the app
  role can neither insert a session row nor read a password hash.
* Logins are throttled per (user name, client address), never per name or address
  alone, so nobody can lock a colleague or an office out: the first 3 failures are
  free, then each further try from that address for that name must wait 1, 2, 4 …
  seconds (at most 15 minutes) after the last failure, answered with 429 and
  ``Retry-After`` without checking the password. The state lives in PostgreSQL
  (``login_throttle``), so every server worker shares it.
* The client address is the peer's, or, when the peer is one of the configured
  trusted proxies (setting ``trusted_proxies``), the last address in
  ``X-Forwarded-For`` that is not itself a trusted proxy (:func:`client_address`).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from maps.review.passwords import hash_like

if TYPE_CHECKING:
    import psycopg

SESSION_COOKIE = "mujun_session"
LOGIN_COOKIE = "mujun_login"


@dataclass(frozen=True)
class SessionUser:
    """The user of a request's session."""

    user_id: int
    username: str
    display_name: str | None
    role: str
    csrf_token: str


class LoginRefused(Exception):
    """Wrong user name or password (deliberately not saying which)."""

    def __init__(self, delay_s: float = 0.0):
        super().__init__("wrong user name or password")
        self.delay_s = delay_s


class LoginLocked(Exception):
    """Too many failed logins from this address for this name: wait ``retry_after`` s."""

    def __init__(self, retry_after: int):
        super().__init__(f"too many failed logins; try again in {retry_after} s")
        self.retry_after = retry_after


def parse_networks(text: str | Iterable[str] | None) -> tuple:
    """Addresses and networks (``10.0.0.5, 10.1.0.0/16``) → ``ip_network`` objects.

    Raises
    ------
    ValueError
        An entry that is not an IP address or network.

    Examples
    --------
    >>> [str(n) for n in parse_networks("127.0.0.1, 10.1.0.0/16")]
    ['127.0.0.1/32', '10.1.0.0/16']
    """
    items = text.split(",") if isinstance(text, str) else (text or ())
    return tuple(ipaddress.ip_network(item.strip(), strict=False)
                 for item in items if item and item.strip())


def _within(address: str, networks) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in net for net in networks)


def client_address(peer: str | None, forwarded_for: str | None, trusted=()) -> str | None:
    """The client's address: the peer's, unless the peer is a trusted proxy.

    Behind trusted proxies, ``X-Forwarded-For`` is read from the right (each proxy
    appends the address it received from) and the first address that is not itself a
    trusted proxy is the client. Anything a client writes into the header ahead of that
    is ignored, so it cannot choose its own address.

    Examples
    --------
    >>> proxy = parse_networks("127.0.0.1")
    >>> client_address("127.0.0.1", "1.2.3.4, 10.0.0.7", proxy)
    '10.0.0.7'
    >>> client_address("10.0.0.9", "1.2.3.4", proxy)     # not via the proxy: header ignored
    '10.0.0.9'
    >>> client_address("127.0.0.1", None, proxy)
    '127.0.0.1'
    """
    if not peer or not trusted or not _within(peer, trusted):
        return peer
    hops = [h.strip() for h in (forwarded_for or "").split(",") if h.strip()]
    for hop in reversed(hops):
        if not _within(hop, trusted):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return peer   # a malformed entry: fall back to the proxy itself
    return peer


def new_token() -> str:
    """A random 256-bit URL-safe token."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> bytes:
    """SHA-256 of a session token, as stored (and recomputed by the database)."""
    return hashlib.sha256(token.encode("utf-8")).digest()


def tokens_match(expected: str | None, given: str | None) -> bool:
    """Constant-time comparison of two tokens; ``False`` when either is missing."""
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode("utf-8"), given.encode("utf-8"))


def session_user(conn: psycopg.Connection) -> SessionUser | None:
    """The user of the session set on ``conn`` (``None``: no or expired session)."""
    row = conn.execute("SELECT user_id, username, display_name, role, csrf_token"
                       " FROM mujun_session_info()").fetchone()
    return SessionUser(int(row[0]), row[1], row[2], row[3], row[4]) if row else None


def login(conn: psycopg.Connection, username: str, password: str, *, client: str | None,
          hours: float) -> tuple[str, SessionUser]:
    """Check a login and open a session; returns (cookie token, user).

    The database does the checking (``mujun_login_begin``/``mujun_login_finish`` of
    migration 0014): it throttles, records the attempt and opens the session; here the
    password is only hashed with the parameters and salt it hands out. Commit the
    transaction in every case (the attempt and the throttle state are written).

    Raises
    ------
    LoginLocked
        Too many recent failures for this user name from this client address.
    LoginRefused
        Wrong user name or password.
    """
    username = (username or "").strip()[:64]
    wait, params, hash_chars = conn.execute("SELECT * FROM mujun_login_begin(%s, %s)",
                                            (username, client)).fetchone()
    if wait > 0:
        raise LoginLocked(int(wait))
    candidate = hash_like(password or "", params, int(hash_chars))
    token, csrf = new_token(), new_token()
    outcome, wait = conn.execute(
        "SELECT * FROM mujun_login_finish(%s, %s, %s, %s, %s, %s)",
        (username, client, candidate, token_hash(token), csrf, float(hours))).fetchone()
    if outcome == "wait":
        raise LoginLocked(int(wait))
    if outcome != "ok":
        raise LoginRefused()
    conn.execute("SELECT set_config('mujun.session', %s, true)", (token,))
    user = session_user(conn)
    assert user is not None
    audit(conn, user.username, "login", {}, client)
    return token, user


def logout(conn: psycopg.Connection, user: SessionUser, client: str | None) -> None:
    """End the session set on ``conn``."""
    audit(conn, user.username, "logout", {}, client)
    conn.execute("SELECT mujun_end_session()")


def audit(conn: psycopg.Connection, actor: str, action: str, detail: dict,
          client: str | None) -> None:
    """Append a row to ``app_audit`` (the app role may insert, never change)."""
    conn.execute("INSERT INTO app_audit (actor, action, detail, client) VALUES (%s, %s, %s, %s)",
                 (actor, action, json.dumps(detail, ensure_ascii=False, default=str), client))
