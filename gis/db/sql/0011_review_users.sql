-- 0011 review app: users, roles, district/town scopes, sessions, login attempts, the
-- app's audit log, and the restricted database role the review app connects as.
--
-- mujun_app     a NOSUPERUSER NOBYPASSRLS role (cluster-wide; its password is set by
--               gis.db.roles, never here). It gets only the grants below, so
--               row-level security applies to everything it reads or writes.
-- roles        viewer, technician, planner, official, admin; what each may do is
--               mujun_role_can(role, permission).
-- app_user      one row per person; Argon2 password hash; disabled, never deleted.
-- app_user_scope the districts / towns a user works on (both NULL: everywhere).
-- app_session   a login: SHA-256 of the cookie token (the token itself is never
--               stored), its CSRF token and expiry.
-- login_attempt every login try (user name, client address, success) for rate limiting.
-- app_audit     append-only log of what users did in the app (logins, exports,
--               notes, user changes).
--
-- Identity inside the database: the app sets `mujun.session` (the cookie token) with
-- set_config(..., true) at the start of each request's transaction; the SECURITY
-- DEFINER functions below map it to the user, role and scope through a live session,
-- so even a forged `SET` cannot act as someone without their session token. RLS
-- policies call them inside scalar subqueries, which PostgreSQL evaluates once per query.

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'mujun_app') THEN
        CREATE ROLE mujun_app NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION
            NOBYPASSRLS NOINHERIT;
    END IF;
END
$$;

-- ---------------------------------------------------------------- roles
-- What each role may do (a function, not a table: nothing to truncate or edit by hand;
-- maps/review/permissions.py holds the same list and a test checks they agree).
-- view: see candidates, parcels, footprints and decisions in one's scope
-- field_note: add field-check notes and photos;  export: download decisions
-- figures: see enterprise tax/revenue figures;   decide: decide on candidates
-- users: manage users (the `mujun user` command; the app has no user pages)
CREATE FUNCTION mujun_role_can(role text, permission text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT EXISTS (SELECT 1 FROM (VALUES
        ('viewer', 'view'),
        ('technician', 'view'), ('technician', 'field_note'),
        ('planner', 'view'), ('planner', 'export'), ('planner', 'figures'),
        ('official', 'view'), ('official', 'decide'), ('official', 'export'),
        ('official', 'figures'),
        ('admin', 'view'), ('admin', 'field_note'), ('admin', 'export'), ('admin', 'figures'),
        ('admin', 'decide'), ('admin', 'users')) AS t (r, p)
        WHERE t.r = $1 AND t.p = $2)
$$;

-- ---------------------------------------------------------------- users
CREATE TABLE app_user (
    user_id             bigserial PRIMARY KEY,
    username            text NOT NULL UNIQUE CHECK (username ~ '^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$'),
    display_name        text,
    role                text NOT NULL CHECK (role IN ('viewer', 'technician', 'planner',
                                                   'official', 'admin')),
    password_hash       text NOT NULL CHECK (password_hash LIKE '$argon2%'),
    active              boolean NOT NULL DEFAULT true,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    password_changed_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE app_user_scope (
    user_id  bigint NOT NULL REFERENCES app_user (user_id) ON DELETE CASCADE,
    district text,
    town     text,
    UNIQUE NULLS NOT DISTINCT (user_id, district, town)
);

CREATE TABLE app_session (
    token_hash bytea PRIMARY KEY,
    user_id    bigint NOT NULL REFERENCES app_user (user_id) ON DELETE CASCADE,
    csrf_token text NOT NULL,
    client     text,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);
CREATE INDEX app_session_user_idx ON app_session (user_id);

CREATE TABLE login_attempt (
    attempt_id bigserial PRIMARY KEY,
    at         timestamptz NOT NULL DEFAULT now(),
    username   text NOT NULL,
    client     text,
    ok         boolean NOT NULL
);
CREATE INDEX login_attempt_user_idx ON login_attempt (username, at);
CREATE INDEX login_attempt_client_idx ON login_attempt (client, at);

CREATE TABLE app_audit (
    audit_id bigserial PRIMARY KEY,
    at       timestamptz NOT NULL DEFAULT now(),
    actor    text NOT NULL,
    action   text NOT NULL,
    detail   jsonb NOT NULL DEFAULT '{}'::jsonb,
    client   text
);
CREATE INDEX app_audit_at_idx ON app_audit (at);

CREATE FUNCTION mujun_app_audit_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' AND pg_has_role(current_user,
            (SELECT relowner FROM pg_class WHERE oid = TG_RELID), 'MEMBER') THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'app_audit is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER app_audit_no_update BEFORE UPDATE OR DELETE ON app_audit
    FOR EACH ROW EXECUTE FUNCTION mujun_app_audit_append_only();
CREATE TRIGGER app_audit_no_truncate BEFORE TRUNCATE ON app_audit
    FOR EACH STATEMENT EXECUTE FUNCTION mujun_app_audit_append_only();

-- ------------------------------------------------- identity for RLS policies
-- The user of the request's session (NULL without a live session of an active user).
CREATE FUNCTION mujun_session_user_id() RETURNS bigint
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT s.user_id
    FROM app_session s JOIN app_user u ON u.user_id = s.user_id
    WHERE s.token_hash = sha256(convert_to(nullif(current_setting('mujun.session', true), ''),
                                           'UTF8'))
      AND s.expires_at > now() AND u.active
$$;

-- Everything the app needs about the session in one call.
CREATE FUNCTION mujun_session_info()
RETURNS TABLE (user_id bigint, username text, display_name text, role text, csrf_token text,
               expires_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT u.user_id, u.username, u.display_name, u.role, s.csrf_token, s.expires_at
    FROM app_session s JOIN app_user u ON u.user_id = s.user_id
    WHERE s.token_hash = sha256(convert_to(nullif(current_setting('mujun.session', true), ''),
                                           'UTF8'))
      AND s.expires_at > now() AND u.active
$$;

CREATE FUNCTION mujun_can(permission text) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT coalesce((SELECT mujun_role_can(u.role, $1) FROM app_user u
                     WHERE u.user_id = mujun_session_user_id()), false)
$$;

CREATE FUNCTION mujun_scope_all() RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT EXISTS (SELECT 1 FROM app_user_scope
                   WHERE user_id = mujun_session_user_id() AND district IS NULL AND town IS NULL)
$$;

CREATE FUNCTION mujun_scope_districts() RETURNS text[]
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT coalesce(array_agg(district), '{}') FROM app_user_scope
    WHERE user_id = mujun_session_user_id() AND district IS NOT NULL AND town IS NULL
$$;

CREATE FUNCTION mujun_scope_towns() RETURNS text[]
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT coalesce(array_agg(town), '{}') FROM app_user_scope
    WHERE user_id = mujun_session_user_id() AND town IS NOT NULL
$$;

-- The password hash of an active user, for the login check (the app role cannot
-- read the password_hash column itself).
CREATE FUNCTION mujun_login_hash(name text)
RETURNS TABLE (user_id bigint, password_hash text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT user_id, password_hash FROM app_user WHERE username = $1 AND active
$$;

-- Logout: end the request's session (and any expired ones).
CREATE FUNCTION mujun_end_session() RETURNS void
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    DELETE FROM app_session
    WHERE token_hash = sha256(convert_to(nullif(current_setting('mujun.session', true), ''),
                                         'UTF8'))
       OR expires_at < now()
$$;

REVOKE ALL ON FUNCTION mujun_session_user_id(), mujun_session_info(), mujun_can(text),
    mujun_scope_all(), mujun_scope_districts(), mujun_scope_towns(), mujun_login_hash(text),
    mujun_end_session() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION mujun_session_user_id(), mujun_session_info(), mujun_can(text),
    mujun_scope_all(), mujun_scope_districts(), mujun_scope_towns(), mujun_login_hash(text),
    mujun_end_session() TO mujun_app;

-- ------------------------------------------------------ row-level security
-- Parcels: only those in the user's districts/towns. (The table owner and superusers
-- bypass RLS, so the command-line tools are unaffected.)
ALTER TABLE parcel ENABLE ROW LEVEL SECURITY;
CREATE POLICY parcel_scope ON parcel FOR SELECT TO mujun_app USING (
    (SELECT mujun_scope_all())
    OR district = ANY ((SELECT mujun_scope_districts())::text[])
    OR town = ANY ((SELECT mujun_scope_towns())::text[]));

-- Enterprise figures (tax, revenue, energy ...): only for roles with 'figures'.
ALTER TABLE enterprise_year ENABLE ROW LEVEL SECURITY;
CREATE POLICY enterprise_year_figures ON enterprise_year FOR SELECT TO mujun_app
    USING ((SELECT mujun_can('figures')));

-- ------------------------------------------------------------------ grants
GRANT SELECT ON mujun_setting, parcel, footprint, enterprise, enterprise_year, land_right, run,
    app_user_scope TO mujun_app;
GRANT SELECT (user_id, username, display_name, role, active) ON app_user TO mujun_app;
GRANT INSERT ON app_session TO mujun_app;
GRANT SELECT, INSERT ON login_attempt TO mujun_app;
GRANT INSERT ON app_audit TO mujun_app;
GRANT USAGE ON SEQUENCE login_attempt_attempt_id_seq, app_audit_audit_id_seq TO mujun_app;
