"""User management for the review app (``mujun user``), run as the database owner.

Users are never deleted (decisions name them): ``disable`` stops their logins and
ends their sessions. Every change writes an ``app_audit`` row. The caller commits.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING

from gis.errors import DataError
from maps.review.passwords import hash_password
from maps.review.permissions import ROLES

if TYPE_CHECKING:
    import psycopg

_USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")


class UserNotFound(DataError, LookupError):
    """No user has the given name."""


def _check_username(username: str) -> str:
    if not _USERNAME.match(username or ""):
        raise DataError(f"用户名「{username}」不可用：请用 1-64 个字母、数字或 _ . @ -"
                        "（以字母或数字开头）")
    return username


def _check_role(role: str) -> str:
    if role not in ROLES:
        raise DataError(f"未知角色「{role}」（--role）；可选：{'、'.join(ROLES)}")
    return role


def _user_id(conn: psycopg.Connection, username: str) -> int:
    row = conn.execute("SELECT user_id FROM app_user WHERE username = %s",
                       (username,)).fetchone()
    if row is None:
        raise UserNotFound(f"没有用户「{username}」；`mujun user list` 列出全部用户")
    return int(row[0])


def _audit(conn: psycopg.Connection, actor: str, action: str, detail: dict) -> None:
    conn.execute("INSERT INTO app_audit (actor, action, detail) VALUES (%s, %s, %s)",
                 (actor, action, json.dumps(detail, ensure_ascii=False)))


def add_user(conn: psycopg.Connection, username: str, password: str, *, role: str,
             display_name: str | None = None, actor: str = "cli") -> int:
    """Create a user; returns its id.

    Raises
    ------
    DataError
        Bad user name, unknown role, weak password, or the name is taken.
    """
    _check_username(username)
    _check_role(role)
    hashed = hash_password(password, username)
    if conn.execute("SELECT 1 FROM app_user WHERE username = %s", (username,)).fetchone():
        raise DataError(f"用户「{username}」已存在；请用 `mujun user passwd` 或 "
                        "`mujun user grant`")
    row = conn.execute(
        "INSERT INTO app_user (username, display_name, role, password_hash)"
        " VALUES (%s, %s, %s, %s) RETURNING user_id",
        (username, display_name, role, hashed)).fetchone()
    _audit(conn, actor, "user_add", {"username": username, "role": role})
    return int(row[0])


def set_password(conn: psycopg.Connection, username: str, password: str, *,
                 actor: str = "cli") -> None:
    """Replace a user's password and end their sessions."""
    uid = _user_id(conn, username)
    hashed = hash_password(password, username)
    conn.execute("UPDATE app_user SET password_hash = %s, password_changed_at = now(),"
                 " updated_at = now() WHERE user_id = %s", (hashed, uid))
    conn.execute("DELETE FROM app_session WHERE user_id = %s", (uid,))
    _audit(conn, actor, "user_passwd", {"username": username})


def set_active(conn: psycopg.Connection, username: str, active: bool, *,
               actor: str = "cli") -> None:
    """Disable (or enable again) a user; disabling ends their sessions."""
    uid = _user_id(conn, username)
    conn.execute("UPDATE app_user SET active = %s, updated_at = now() WHERE user_id = %s",
                 (active, uid))
    if not active:
        conn.execute("DELETE FROM app_session WHERE user_id = %s", (uid,))
    _audit(conn, actor, "user_enable" if active else "user_disable", {"username": username})


def grant(conn: psycopg.Connection, username: str, *, role: str | None = None,
          districts: tuple[str, ...] = (), towns: tuple[str, ...] = (),
          everywhere: bool = False, revoke: bool = False, actor: str = "cli") -> dict:
    """Change a user's role and/or the districts and towns they work on.

    Parameters
    ----------
    role : str, optional
        New role (one of :data:`~maps.review.permissions.ROLES`).
    districts, towns : tuple of str
        Areas to add (or remove with ``revoke``). A town grant covers that town in
        any district.
    everywhere : bool
        Add (or remove) the grant of every district and town.
    revoke : bool
        Remove the given areas instead of adding them.

    Returns
    -------
    dict
        The user as :func:`list_users` shows it.
    """
    uid = _user_id(conn, username)
    if role is not None:
        _check_role(role)
        conn.execute("UPDATE app_user SET role = %s, updated_at = now() WHERE user_id = %s",
                     (role, uid))
    scopes = [(d, None) for d in districts] + [(None, t) for t in towns]
    if everywhere:
        scopes.append((None, None))
    for district, town in scopes:
        for value in (district, town):
            if value is not None and not value.strip():
                raise DataError("区县或镇街名称为空，不能授权（--district、--town）")
        if revoke:
            conn.execute("DELETE FROM app_user_scope WHERE user_id = %s"
                         " AND district IS NOT DISTINCT FROM %s AND town IS NOT DISTINCT FROM %s",
                         (uid, district, town))
        else:
            conn.execute("INSERT INTO app_user_scope (user_id, district, town) VALUES (%s, %s, %s)"
                         " ON CONFLICT DO NOTHING", (uid, district, town))
    _audit(conn, actor, "user_grant", {"username": username, "role": role, "revoke": revoke,
                                       "districts": list(districts), "towns": list(towns),
                                       "everywhere": everywhere})
    return next(u for u in list_users(conn) if u["username"] == username)


def list_users(conn: psycopg.Connection) -> list[dict]:
    """Every user with role, state and areas (no password hashes)."""
    rows = conn.execute(
        "SELECT u.username, u.display_name, u.role, u.active, u.created_at,"
        "       coalesce(array_agg(s.district) FILTER (WHERE s.district IS NOT NULL"
        "                AND s.town IS NULL), '{}'),"
        "       coalesce(array_agg(s.town) FILTER (WHERE s.town IS NOT NULL), '{}'),"
        "       bool_or(s.district IS NULL AND s.town IS NULL AND s.user_id IS NOT NULL)"
        " FROM app_user u LEFT JOIN app_user_scope s ON s.user_id = u.user_id"
        " GROUP BY u.user_id ORDER BY u.username").fetchall()
    return [{"username": r[0], "display_name": r[1], "role": r[2], "active": r[3],
             "created_at": r[4].isoformat(), "districts": sorted(r[5]), "towns": sorted(r[6]),
             "everywhere": bool(r[7])} for r in rows]
