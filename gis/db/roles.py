"""Database roles: the review app's restricted login role, ``mujun_app``.

Migration 0011 creates ``mujun_app`` (NOSUPERUSER, NOBYPASSRLS, NOLOGIN) and grants it
only what the review app needs, so row-level security applies to every row it touches.
This module gives it a login for the app:

* with ``MUJUN_APP_DSN`` set, that DSN is used as given (an administrator made the
  role a login on an external server);
* otherwise a password is generated once, kept in ``<home>/app.pgpass`` (mode 600, a
  libpq password file; never committed), and installed with ``ALTER ROLE`` as a
  SCRAM-SHA-256 verifier computed here, so the clear password never reaches the
  server or its logs. The app's DSN names the password file, not the password.

:func:`check_restricted` refuses a connection that would bypass row-level security.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import os
import re
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

from gis.errors import ConfigError, DatabaseError

if TYPE_CHECKING:
    import psycopg

    from gis.settings import Settings

#: The review app's database role (created by migration 0011).
APP_ROLE = "mujun_app"

#: Name of the app role's password file in the mujun home.
PASSFILE_NAME = "app.pgpass"


def scram_verifier(password: str, *, salt: bytes | None = None, iterations: int = 4096) -> str:
    """The SCRAM-SHA-256 verifier PostgreSQL stores for ``password`` (RFC 5802/7677).

    Examples
    --------
    >>> v = scram_verifier("secret", salt=b"0123456789abcdef")
    >>> v.startswith("SCRAM-SHA-256$4096:MDEyMzQ1Njc4OWFiY2RlZg==$")
    True
    """
    salt = salt if salt is not None else secrets.token_bytes(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    b64 = lambda b: base64.b64encode(b).decode("ascii")  # noqa: E731
    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"


@contextlib.contextmanager
def _file_lock(path: Path):
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _read_or_create_password(passfile: Path, role: str = "mujun_app") -> str:
    try:
        for line in passfile.read_text().splitlines():
            parts = line.split(":")
            if len(parts) == 5 and parts[3] == role and parts[4]:
                return parts[4]
    except FileNotFoundError:
        pass
    password = secrets.token_urlsafe(24)  # URL-safe: no ':' or '\\' to escape in pgpass
    fd = os.open(passfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(f"*:*:*:{role}:{password}\n")
    passfile.chmod(0o600)
    return password


def app_dsn(admin: psycopg.Connection, settings: Settings) -> str:
    """The DSN the review app connects with, as the restricted role ``mujun_app``.

    Parameters
    ----------
    admin : psycopg.Connection
        A connection as the database owner (it runs ``ALTER ROLE`` when mujun manages
        the app role's password). Left without an open transaction.
    settings : Settings
        ``app_dsn`` (``MUJUN_APP_DSN``) wins; otherwise ``home_path`` holds the
        password file.

    Raises
    ------
    DatabaseError
        The role does not exist (migrations not applied) or cannot be given a login
        (the owner lacks CREATEROLE on an external server: set MUJUN_APP_DSN).
    """
    import psycopg
    from psycopg import sql
    from psycopg.conninfo import make_conninfo

    if settings.app_dsn:
        return str(settings.app_dsn)
    home = settings.home_path.resolve()
    passfile = home / PASSFILE_NAME
    with _file_lock(home / "app-role.lock"):
        password = _read_or_create_password(passfile)
        try:
            exists = admin.execute("SELECT 1 FROM pg_roles WHERE rolname = %s",
                                   (APP_ROLE,)).fetchone()
            if not exists:
                raise DatabaseError(f"the database role {APP_ROLE} does not exist; run "
                                    "`mujun db migrate` (migration 0011 creates it)")
            admin.execute(sql.SQL("ALTER ROLE {} LOGIN PASSWORD {}").format(
                sql.Identifier(APP_ROLE), sql.Literal(scram_verifier(password))))
            reapply_app_grants(admin)
            admin.commit()
        except psycopg.Error as exc:
            admin.rollback()
            raise DatabaseError(
                f"cannot give the role {APP_ROLE} a login: {str(exc).strip().splitlines()[0]}; "
                "on an external server ask its administrator to run ALTER ROLE "
                f"{APP_ROLE} LOGIN PASSWORD '…' and set MUJUN_APP_DSN"
            ) from exc
    return make_conninfo(admin.info.dsn, user=APP_ROLE, passfile=str(passfile),
                         application_name="mujun-review")


#: PostGIS functions behind the operators the review app's spatial queries use. Row-level
#: security lets PostgreSQL use an index only for LEAKPROOF operators ahead of a policy;
#: PostGIS ships ``&&`` without the mark, so under RLS every bounding-box query would scan
#: the whole table (a parcel tile: 40 ms instead of 1 ms on the city). Comparing two
#: boxes reveals nothing about other rows, so the mark is safe; only a superuser may set it.
LEAKPROOF_FUNCTIONS = ("geometry_overlaps(geometry, geometry)",)


def leakproof_missing(conn: psycopg.Connection) -> list[str]:
    """The functions of :data:`LEAKPROOF_FUNCTIONS` not yet marked LEAKPROOF."""
    missing = []
    for signature in LEAKPROOF_FUNCTIONS:
        row = conn.execute("SELECT proleakproof FROM pg_proc WHERE oid = %s::regprocedure",
                           (signature,)).fetchone()
        if row is not None and not row[0]:
            missing.append(signature)
    return missing


def mark_leakproof(conn: psycopg.Connection) -> list[str]:
    """As a superuser: mark :data:`LEAKPROOF_FUNCTIONS` LEAKPROOF (no commit); returns them."""
    from psycopg import sql

    missing = leakproof_missing(conn)
    for signature in missing:
        conn.execute(sql.SQL("ALTER FUNCTION {} LEAKPROOF").format(sql.SQL(signature)))
    return missing


_GRANT = re.compile(r"^(?:GRANT|REVOKE)\b[^;]*;", re.MULTILINE | re.DOTALL)


def app_grant_statements() -> list[str]:
    """The GRANT/REVOKE statements of the migrations that concern the app role, in order.

    The migrations are their single source; :func:`reapply_app_grants` runs them again.
    """
    from gis.db.migrations import available_migrations

    out = []
    for mig in available_migrations():
        out += [m.group(0) for m in _GRANT.finditer(mig.text)
                if APP_ROLE in m.group(0) or "FROM PUBLIC" in m.group(0)]
    return out


def reapply_app_grants(conn: psycopg.Connection) -> None:
    """Grant the app role its privileges again (idempotent; no commit).

    A database restored by ``mujun db restore`` (``pg_restore --no-privileges``) or
    copied to another server has the tables, policies and functions but no grants.
    """
    for statement in app_grant_statements():
        conn.execute(statement)


_CREATE_APP_ROLE = f"""
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
        CREATE ROLE {APP_ROLE} NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION
            NOBYPASSRLS NOINHERIT;
    END IF;
END
$$"""


def ensure_app_role(conn: psycopg.Connection) -> bool:
    """Create the app role (as migration 0011 does) when this server lacks it; commits.

    A dump's policies name ``mujun_app``, so a restore onto a server without it would
    fail. Returns whether the role exists afterwards (False: no right to create roles).
    """
    import psycopg

    try:
        conn.execute(_CREATE_APP_ROLE)
        conn.commit()
    except psycopg.Error:
        conn.rollback()
    exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (APP_ROLE,)).fetchone()
    conn.rollback()
    return exists is not None


def prepare_restored(conn: psycopg.Connection) -> list[int]:
    """Make a freshly restored database servable before it replaces the old one; commits.

    ``pg_restore --no-privileges`` brings tables, row-level-security policies and
    functions but no grants, and the new database's PostGIS is not marked LEAKPROOF.
    This applies pending migrations, grants the app role its privileges again
    (:func:`reapply_app_grants`, which also withdraws what later migrations revoked)
    and, as a superuser, marks :data:`LEAKPROOF_FUNCTIONS`. Returns the migrations
    applied.
    """
    from gis.db.migrations import migrate

    applied = migrate(conn)
    if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (APP_ROLE,)).fetchone():
        reapply_app_grants(conn)
    if conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()[0]:
        mark_leakproof(conn)
    conn.commit()
    return applied


def check_restricted(conn: psycopg.Connection) -> None:
    """Raise :class:`ConfigError` when ``conn``'s role bypasses row-level security.

    The review app must never run as a superuser or a role with BYPASSRLS: district
    scoping would silently stop applying.
    """
    row = conn.execute(
        "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user").fetchone()
    conn.rollback()
    if row is None or row[0] or row[1]:
        raise ConfigError(
            f"the review app's database role {conn.info.user!r} is a superuser or bypasses "
            f"row-level security; connect as {APP_ROLE} (unset MUJUN_APP_DSN or fix it)")


# ----------------------------------------------------------------- owner role
#: The non-superuser role that owns a local cluster's mujun database and does the
#: command line's ordinary work (imports, runs, migrations of mujun's own schema).
OWNER_ROLE = "mujun_owner"
OWNER_PASSFILE = "owner.pgpass"

_NOT_OWNED = """
SELECT
  (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
     AND c.relowner <> r.oid
     AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                     AND d.objid = c.oid AND d.deptype IN ('e', 'a', 'i')))
  + (SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
     WHERE n.nspname = 'public' AND p.proowner <> r.oid
       AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass
                       AND d.objid = p.oid AND d.deptype = 'e'))
  + (SELECT count(*) FROM pg_database WHERE datname = current_database() AND datdba <> r.oid)
  + (SELECT count(*) FROM pg_namespace WHERE nspname = 'public' AND nspowner <> r.oid)
  + (SELECT count(*) FROM pg_proc WHERE proname = 'geometry_overlaps' AND NOT proleakproof)
FROM pg_roles r WHERE r.rolname = %s
"""

# Run as a superuser (no parameters: % are format() directives): every object of mujun in the public schema (not PostGIS's) to the
# owner role. Sequences owned by a column move with their table.
_TRANSFER = """
DO $$
DECLARE
    target text := {target};
    obj record;
BEGIN
    EXECUTE format('ALTER DATABASE %I OWNER TO %I', current_database(), target);
    EXECUTE format('ALTER SCHEMA public OWNER TO %I', target);
    FOR obj IN
        SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
          AND c.relowner <> (SELECT oid FROM pg_roles WHERE rolname = target)
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                          AND d.objid = c.oid AND d.deptype IN ('e', 'a', 'i'))
        ORDER BY c.relkind DESC
    LOOP
        EXECUTE format('ALTER %s public.%I OWNER TO %I',
                       CASE obj.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW'
                            WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'f' THEN 'FOREIGN TABLE'
                            ELSE 'TABLE' END, obj.relname, target);
    END LOOP;
    FOR obj IN
        SELECT p.oid::regprocedure AS sig, p.prokind FROM pg_proc p
        JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = 'public'
          AND p.proowner <> (SELECT oid FROM pg_roles WHERE rolname = target)
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass
                          AND d.objid = p.oid AND d.deptype = 'e')
    LOOP
        EXECUTE format('ALTER %s %s OWNER TO %I',
                       CASE obj.prokind WHEN 'p' THEN 'PROCEDURE' WHEN 'a' THEN 'AGGREGATE'
                            ELSE 'FUNCTION' END, obj.sig, target);
    END LOOP;
END
$$
"""


def _owner_dsn(superuser_dsn: str, passfile: Path) -> str:
    from psycopg.conninfo import make_conninfo

    return make_conninfo(superuser_dsn, user=OWNER_ROLE, passfile=str(passfile))


def _prepare_owner(superuser_dsn: str, home: Path, *, migrate: bool) -> None:
    """As the cluster's superuser: the owner role with its password, pending migrations,
    and ownership of everything mujun made in the database."""
    import psycopg
    from psycopg import sql

    from gis.db.connection import connect
    from gis.db.migrations import migrate as apply_migrations

    passfile = home / OWNER_PASSFILE
    with _file_lock(home / "owner-role.lock"):
        password = _read_or_create_password(passfile, OWNER_ROLE)
        with connect(superuser_dsn) as conn:
            try:
                exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s",
                                      (OWNER_ROLE,)).fetchone()
                verb = "ALTER" if exists else "CREATE"
                conn.execute(sql.SQL(
                    verb + " ROLE {} LOGIN NOSUPERUSER CREATEROLE NOCREATEDB NOREPLICATION"
                    " NOBYPASSRLS PASSWORD {}").format(
                        sql.Identifier(OWNER_ROLE), sql.Literal(scram_verifier(password))))
                conn.commit()
                if migrate:  # schema changes as the superuser (extensions may need it)
                    apply_migrations(conn)
                if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s",
                                (APP_ROLE,)).fetchone():
                    # lets the owner set the app role's password on any PostgreSQL version
                    conn.execute(sql.SQL("GRANT {} TO {} WITH ADMIN OPTION").format(
                        sql.Identifier(APP_ROLE), sql.Identifier(OWNER_ROLE)))
                conn.execute(sql.SQL(_TRANSFER).format(target=sql.Literal(OWNER_ROLE)))
                mark_leakproof(conn)
                conn.commit()
            except psycopg.Error as exc:
                conn.rollback()
                raise DatabaseError(
                    f"cannot hand the database to the role {OWNER_ROLE}: "
                    f"{str(exc).strip().splitlines()[0]}") from exc


def open_as_owner(superuser_dsn: str, home: Path, *, migrate: bool = True) -> psycopg.Connection:
    """The command line's connection to a local cluster: as ``mujun_owner``, not a superuser.

    ``mujun_owner`` (LOGIN, NOSUPERUSER, NOBYPASSRLS; CREATEROLE so migrations can create
    the review app's role) owns the database, its public schema and every table, sequence
    and function mujun made; PostGIS's own objects stay the superuser's. Its password is
    generated once into ``<home>/owner.pgpass`` (mode 600) and installed as a SCRAM
    verifier. Pending migrations are applied as the superuser first, then anything the
    superuser created (a migration, a restore, a reset) is handed over; when nothing is
    pending and everything is owned, the only connection made is the owner's.

    Parameters
    ----------
    superuser_dsn : str
        The local cluster's DSN (its bootstrap superuser), used only to set things up.
    home : Path
        The mujun home (password file, lock).
    migrate : bool
        Apply pending migrations.
    """
    import psycopg

    from gis.db.connection import connect
    from gis.db.migrations import check

    home = Path(home).resolve()
    passfile = home / OWNER_PASSFILE
    dsn = _owner_dsn(superuser_dsn, passfile)
    if passfile.exists():
        try:
            conn = connect(dsn)
        except DatabaseError:
            conn = None
        if conn is not None:
            try:
                ready = conn.execute(_NOT_OWNED, (OWNER_ROLE,)).fetchone()[0] == 0
                if ready and migrate:
                    ready = not check(conn)
                conn.rollback()
                if ready:
                    return conn
            except (psycopg.Error, DatabaseError):
                conn.rollback()
            conn.close()
    _prepare_owner(superuser_dsn, home, migrate=migrate)
    return connect(dsn)
