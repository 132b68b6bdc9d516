-- 0014 review app: district scope for footprints, enterprises, land rights and surveys;
-- sessions opened only by a function that checks the password; login throttling per
-- (user name, client address) kept in the database.
--
-- Scope (for mujun_app only; owners and superusers bypass RLS). Parcels (0011) carry the
-- district and town; the other tables follow them:
--   land_right       visible when its parcel is visible
--   enterprise       visible when it holds a visible land right, or its town is granted
--   enterprise_year  figures of a visible enterprise, and only with 'figures' (0011)
--   enterprise_score scores of a visible enterprise
--   footprint        visible when it overlaps a visible parcel (a footprint on no parcel
--                    is shown only to users granted everywhere)
--   survey           visible when its coverage overlaps a visible parcel
--   survey_change    visible when its parcel is visible
-- A user granted no area sees none of them. The subqueries run under the invoking
-- user's own policies (a land right's parcel must pass the parcel policy), and the
-- spatial tests use the GiST indexes (&& is LEAKPROOF, see gis.db.roles).
--
-- Sessions: the app role can no longer insert into app_session nor read a password
-- hash. A login is two calls:
--   mujun_login_begin(name, client)  → seconds to wait (0: go on) and the Argon2
--        parameters and salt of the user's hash (made-up but stable ones for an unknown
--        or disabled name, so the answer does not tell whether the name exists);
--   mujun_login_finish(name, client, hash, token_hash, csrf, hours)  → the app hashes the
--        password with those parameters and passes the result; the function compares it
--        with the stored hash, records the attempt, and opens the session only when they
--        match. The hash part itself never leaves the database.
--
-- Throttling (login_throttle): per user name AND client address, never per name or per
-- address alone, so neither an office behind one NAT address nor a named official can
-- be locked out by someone else. The first 3 failures are free; after n >= 3 failures
-- the next try from that address for that name must wait 2^(n-3) seconds (1, 2, 4 …,
-- at most 900 s) after the last failure; a success, or a day without failures, clears it
-- (rows quiet for a day are deleted at the next failure).

-- ------------------------------------------------------ row-level security
ALTER TABLE land_right ENABLE ROW LEVEL SECURITY;
CREATE POLICY land_right_scope ON land_right FOR SELECT TO mujun_app USING (
    (SELECT mujun_scope_all())
    OR EXISTS (SELECT 1 FROM parcel p WHERE p.parcel_code = land_right.parcel_code));

ALTER TABLE enterprise ENABLE ROW LEVEL SECURITY;
CREATE POLICY enterprise_scope ON enterprise FOR SELECT TO mujun_app USING (
    (SELECT mujun_scope_all())
    OR town = ANY ((SELECT mujun_scope_towns())::text[])
    OR EXISTS (SELECT 1 FROM land_right lr WHERE lr.credit_code = enterprise.credit_code));

DROP POLICY enterprise_year_figures ON enterprise_year;
CREATE POLICY enterprise_year_figures ON enterprise_year FOR SELECT TO mujun_app USING (
    (SELECT mujun_can('figures'))
    AND EXISTS (SELECT 1 FROM enterprise e WHERE e.credit_code = enterprise_year.credit_code));

ALTER TABLE enterprise_score ENABLE ROW LEVEL SECURITY;
CREATE POLICY enterprise_score_scope ON enterprise_score FOR SELECT TO mujun_app USING (
    EXISTS (SELECT 1 FROM enterprise e WHERE e.credit_code = enterprise_score.credit_code));

ALTER TABLE footprint ENABLE ROW LEVEL SECURITY;
CREATE POLICY footprint_scope ON footprint FOR SELECT TO mujun_app USING (
    (SELECT mujun_scope_all())
    OR EXISTS (SELECT 1 FROM parcel p
               WHERE p.geom && footprint.geom AND ST_Intersects(p.geom, footprint.geom)));

ALTER TABLE survey ENABLE ROW LEVEL SECURITY;
CREATE POLICY survey_scope ON survey FOR SELECT TO mujun_app USING (
    (SELECT mujun_scope_all())
    OR EXISTS (SELECT 1 FROM parcel p
               WHERE p.geom && survey.coverage AND ST_Intersects(p.geom, survey.coverage)));

ALTER TABLE survey_change ENABLE ROW LEVEL SECURITY;
CREATE POLICY survey_change_scope ON survey_change FOR SELECT TO mujun_app USING (
    (SELECT mujun_scope_all())
    OR EXISTS (SELECT 1 FROM parcel p WHERE p.parcel_code = survey_change.parcel_code));

-- ------------------------------------------------------------- throttling
CREATE TABLE login_throttle (
    username     text NOT NULL,
    client       text NOT NULL,            -- '' when the address is unknown
    failures     integer NOT NULL DEFAULT 0 CHECK (failures >= 0),
    last_failure timestamptz,
    PRIMARY KEY (username, client)
);
CREATE INDEX login_throttle_last_idx ON login_throttle (last_failure);

-- A secret of this database for the made-up salts of unknown user names.
CREATE TABLE login_secret (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    secret   bytea NOT NULL
);
INSERT INTO login_secret (secret)
VALUES (sha256(convert_to(gen_random_uuid()::text || gen_random_uuid()::text
                          || clock_timestamp()::text, 'UTF8')));

-- Seconds before ``failures`` failures, the last at ``last_failure``, allow another try.
-- (clock_timestamp, not now(): a login's transaction spans the password hashing)
CREATE FUNCTION mujun_login_wait(failures integer, last_failure timestamptz) RETURNS integer
LANGUAGE sql VOLATILE SET search_path = public, pg_temp AS $$
    SELECT CASE
        WHEN $1 < 3 OR $2 IS NULL OR $2 < clock_timestamp() - interval '1 day' THEN 0
        ELSE greatest(0, ceil(extract(epoch FROM
                 $2 + make_interval(secs => least(900, 2 ^ least($1 - 3, 20)))
                 - clock_timestamp())))::integer
    END
$$;

CREATE FUNCTION mujun_login_begin(name text, client text)
RETURNS TABLE (wait_s integer, params text, hash_chars integer)
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT coalesce((SELECT mujun_login_wait(t.failures, t.last_failure) FROM login_throttle t
                     WHERE t.username = $1 AND t.client = coalesce($2, '')), 0),
           coalesce(left(u.password_hash, length(u.password_hash)
                         - length(split_part(u.password_hash, '$', 6)) - 1),
                    '$argon2id$v=19$m=65536,t=3,p=4$' || rtrim(encode(substring(sha256(
                        (SELECT secret FROM login_secret) || convert_to($1, 'UTF8'))
                        FROM 1 FOR 16), 'base64'), '=')),
           coalesce(length(split_part(u.password_hash, '$', 6)), 43)
    FROM (SELECT 1) one
    LEFT JOIN app_user u ON u.username = $1 AND u.active
$$;

-- Returns 'ok' (session opened), 'refused' (wrong name or password; the failure is
-- counted) or 'wait' (too early after failures; nothing checked), with the wait.
CREATE FUNCTION mujun_login_finish(name text, client text, candidate_hash text,
                                   session_hash bytea, csrf text, hours double precision)
RETURNS TABLE (outcome text, wait_s integer)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    who  text := coalesce(client, '');
    t    login_throttle;
    uid  bigint;
    wait integer;
BEGIN
    IF hours IS NULL OR NOT hours > 0 OR hours > 24 * 366 OR length(session_hash) <> 32
       OR coalesce(length(csrf), 0) < 32 THEN
        RAISE EXCEPTION 'mujun_login_finish: bad session parameters'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    INSERT INTO login_throttle (username, client) VALUES (name, who)
    ON CONFLICT DO NOTHING;
    SELECT * INTO t FROM login_throttle
    WHERE username = name AND login_throttle.client = who FOR UPDATE;
    wait := mujun_login_wait(t.failures, t.last_failure);
    IF wait > 0 THEN
        RETURN QUERY SELECT 'wait'::text, wait;
        RETURN;
    END IF;
    SELECT u.user_id INTO uid FROM app_user u
    WHERE u.username = name AND u.active AND candidate_hash IS NOT NULL
      AND sha256(convert_to(u.password_hash, 'UTF8'))
          = sha256(convert_to(candidate_hash, 'UTF8'));
    INSERT INTO login_attempt (username, client, ok) VALUES (name, client, uid IS NOT NULL);
    IF uid IS NULL THEN
        UPDATE login_throttle SET
            failures = CASE WHEN last_failure < clock_timestamp() - interval '1 day' THEN 1
                            ELSE failures + 1 END,
            last_failure = clock_timestamp()
        WHERE username = name AND login_throttle.client = who
        RETURNING mujun_login_wait(failures, last_failure) INTO wait;
        -- forget pairs quiet for a day (made-up names would otherwise pile up)
        DELETE FROM login_throttle WHERE last_failure < clock_timestamp() - interval '1 day';
        RETURN QUERY SELECT 'refused'::text, wait;
        RETURN;
    END IF;
    DELETE FROM login_throttle WHERE username = name AND login_throttle.client = who;
    INSERT INTO app_session (token_hash, user_id, csrf_token, client, expires_at)
    VALUES (session_hash, uid, csrf, client, now() + make_interval(secs => hours * 3600));
    RETURN QUERY SELECT 'ok'::text, 0;
END
$$;

-- ------------------------------------------------------------------ grants
REVOKE ALL ON FUNCTION mujun_login_wait(integer, timestamptz),
    mujun_login_begin(text, text),
    mujun_login_finish(text, text, text, bytea, text, double precision) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION mujun_login_begin(text, text),
    mujun_login_finish(text, text, text, bytea, text, double precision) TO mujun_app;
REVOKE INSERT, UPDATE, DELETE ON app_session FROM mujun_app;
REVOKE SELECT, INSERT ON login_attempt FROM mujun_app;
REVOKE USAGE ON SEQUENCE login_attempt_attempt_id_seq FROM mujun_app;
REVOKE EXECUTE ON FUNCTION mujun_login_hash(text) FROM mujun_app;
