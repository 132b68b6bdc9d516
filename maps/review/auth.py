"""Sessions, CSRF tokens and login rate limiting (no framework code: plain functions).

* A session is a random 256-bit token in an HttpOnly, SameSite=Strict cookie; the
  database keeps only its SHA-256 (``app_session.token_hash``), its own random CSRF
  token and its expiry.
* Every state-changing request must echo the session's CSRF token (header
  ``X-CSRF-Token`` or form field ``csrf``); the login form uses a double-submit token
  in a short-lived pre-login cookie.
* Logins are rate-limited per user name and per client address over a sliding
  window (``login_attempt``): after :data:`SLOW_AFTER` failures each answer is
  delayed, after :data:`LOCK_AFTER` the user name is refused with 429 until the
  window has passed, whatever the password.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

from maps.review.passwords import verify_password

if TYPE_CHECKING:
    import psycopg

SESSION_COOKIE = "mujun_session"
LOGIN_COOKIE = "mujun_login"
#: Sliding window of the login rate limit, seconds.
WINDOW_S = 15 * 60
#: Failures (per user name) after which each answer is slowed by :data:`DELAY_S`.
SLOW_AFTER = 3
DELAY_S = 1.0
#: Failures per user name (or 4x as many per client address) that lock logins.
LOCK_AFTER = 5


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
    """Too many failed logins: try again after ``retry_after`` seconds."""

    def __init__(self, retry_after: int):
        super().__init__(f"too many failed logins; try again in {retry_after} s")
        self.retry_after = retry_after


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


def _failures(conn: psycopg.Connection, column: str, value: str) -> tuple[int, float]:
    """Failures in the window for a user name or client, and seconds until the oldest expires."""
    query = {
        "username": "SELECT count(*), extract(epoch FROM min(at) + make_interval(secs => %s)"
                    " - now()) FROM login_attempt WHERE username = %s AND NOT ok"
                    " AND at > now() - make_interval(secs => %s)",
        "client": "SELECT count(*), extract(epoch FROM min(at) + make_interval(secs => %s)"
                  " - now()) FROM login_attempt WHERE client = %s AND NOT ok"
                  " AND at > now() - make_interval(secs => %s)",
    }[column]
    n, left = conn.execute(query, (WINDOW_S, value, WINDOW_S)).fetchone()
    return int(n), float(left or 0.0)


def login(conn: psycopg.Connection, username: str, password: str, *, client: str | None,
          hours: float) -> tuple[str, SessionUser]:
    """Check a login and open a session; returns (cookie token, user).

    The attempt is recorded either way (commit the transaction in both cases).

    Raises
    ------
    LoginLocked
        Too many recent failures for this user name or client address.
    LoginRefused
        Wrong user name or password (with the delay to apply before answering).
    """
    username = (username or "").strip()[:64]
    n_user, left_user = _failures(conn, "username", username)
    n_client, left_client = _failures(conn, "client", client or "")
    if n_user >= LOCK_AFTER or n_client >= 4 * LOCK_AFTER:
        left = left_user if n_user >= LOCK_AFTER else left_client
        raise LoginLocked(max(1, int(left) + 1))
    row = conn.execute("SELECT user_id, password_hash FROM mujun_login_hash(%s)",
                       (username,)).fetchone()
    ok = verify_password(row[1] if row else None, password or "")
    conn.execute("INSERT INTO login_attempt (username, client, ok) VALUES (%s, %s, %s)",
                 (username, client, ok))
    if not ok:
        raise LoginRefused(DELAY_S if n_user + 1 > SLOW_AFTER else 0.0)
    token, csrf = new_token(), new_token()
    conn.execute("INSERT INTO app_session (token_hash, user_id, csrf_token, client, expires_at)"
                 " VALUES (%s, %s, %s, %s, now() + make_interval(secs => %s))",
                 (token_hash(token), int(row[0]), csrf, client, hours * 3600.0))
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
