-- 0028 appeals in the review app: officials record and decide appeals (申诉) as the app role.
--
-- The app role (mujun_app) gets no INSERT or UPDATE on appeal, appeal_event,
-- class_override, enterprise_year or import_batch. It writes appeals only through two
-- SECURITY DEFINER functions, each checked against the session user (mujun.session):
--
--   mujun_appeal_add(code, run, kind, claim, field, value, class) → appeal_id
--       the role may 'appeal' and the firm, as scored in that run, lies in the user's
--       districts/towns; the user is the one who records it.
--   mujun_appeal_step(appeal_id, from_status, to_status, reason, approved_by)
--       the same checks on the appeal; the appeal must still be in from_status (what the
--       official saw: a concurrent decision makes this one fail) and undecided. An upheld
--       class appeal records its class adjustment (class_override, the appeal named in
--       the reason, approved_by as who approved it); an upheld data appeal writes the claimed figure to enterprise_year
--       in a verification batch. Every step is a row of the append-only appeal_event.
--
-- Which steps are allowed (submitted → under_review → upheld / rejected) and what a valid
-- appeal is (kinds, figures, classes, texts) is decided by scoring/appeals.py before it
-- calls these functions; the table CHECKs of 0025 and the "still undecided" test here
-- are the database's last word.
--
-- Errors (SQLSTATE): MJ403 no permission or no session; MJ404 no such appeal or firm in
-- the user's area (the same answer: nothing is revealed about other areas); MJ409 the
-- appeal moved on since the official looked; MJ422 the firm was not evaluated (no class
-- to adjust).
--
-- Reading: appeals and their history only for roles with 'figures' (a data appeal
-- names a claimed figure) and in the user's area.

-- ---------------------------------------------------------------- roles
-- 'appeal': record and decide appeals (official, admin). Same list as
-- maps/review/permissions.py; tests/test_review keep them equal.
CREATE OR REPLACE FUNCTION mujun_role_can(role text, permission text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT EXISTS (SELECT 1 FROM (VALUES
        ('viewer', 'view'),
        ('technician', 'view'), ('technician', 'field_note'),
        ('planner', 'view'), ('planner', 'export'), ('planner', 'figures'),
        ('official', 'view'), ('official', 'decide'), ('official', 'export'),
        ('official', 'figures'), ('official', 'appeal'),
        ('admin', 'view'), ('admin', 'field_note'), ('admin', 'export'), ('admin', 'figures'),
        ('admin', 'decide'), ('admin', 'users'), ('admin', 'appeal')) AS t (r, p)
        WHERE t.r = $1 AND t.p = $2)
$$;

-- ------------------------------------------------------ row-level security
DROP POLICY appeal_scope ON appeal;
CREATE POLICY appeal_scope ON appeal FOR SELECT TO mujun_app USING (
    (SELECT mujun_can('figures')) AND (
        (SELECT mujun_scope_all())
        OR district = ANY ((SELECT mujun_scope_districts())::text[])
        OR town = ANY ((SELECT mujun_scope_towns())::text[])));

-- ------------------------------------------------------------ helpers
-- The session's user name when it may 'appeal' (MJ403 otherwise).
CREATE FUNCTION mujun_appeal_actor() RETURNS text
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    who text;
BEGIN
    SELECT username INTO who FROM mujun_session_info();
    IF who IS NULL OR NOT mujun_can('appeal') THEN
        RAISE EXCEPTION 'no permission to record or decide appeals' USING ERRCODE = 'MJ403';
    END IF;
    RETURN who;
END
$$;

CREATE FUNCTION mujun_appeal_in_scope(p_district text, p_town text) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT mujun_scope_all()
        OR coalesce(p_district = ANY (mujun_scope_districts()), false)
        OR coalesce(p_town = ANY (mujun_scope_towns()), false)
$$;

-- --------------------------------------------------------------- record
CREATE FUNCTION mujun_appeal_add(p_code text, p_run bigint, p_kind text, p_claim text,
                                 p_field text, p_value double precision, p_class text)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    who text := mujun_appeal_actor();
    s record;
    new_id bigint;
BEGIN
    SELECT year, town, district INTO s FROM enterprise_score
    WHERE run_id = p_run AND credit_code = p_code;
    IF NOT FOUND OR NOT mujun_appeal_in_scope(s.district, s.town) THEN
        RAISE EXCEPTION 'enterprise % is not in score run % of your area', p_code, p_run
            USING ERRCODE = 'MJ404';
    END IF;
    INSERT INTO appeal (credit_code, year, run_id, kind, claim, field, claimed_value,
                        requested_class, submitted_by, town, district)
    VALUES (p_code, s.year, p_run, p_kind, p_claim, p_field, p_value, p_class, who,
            s.town, s.district)
    RETURNING appeal_id INTO new_id;
    INSERT INTO appeal_event (appeal_id, status, by_name, reason)
    VALUES (new_id, 'submitted', who, p_claim);
    RETURN new_id;
END
$$;

-- ----------------------------------------------------------------- step
CREATE FUNCTION mujun_appeal_step(p_appeal bigint, p_from text, p_to text, p_reason text,
                                  p_approved text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    who text := mujun_appeal_actor();
    a appeal%ROWTYPE;
    sc record;
    new_override bigint;
    new_batch bigint;
BEGIN
    SELECT * INTO a FROM appeal WHERE appeal_id = p_appeal FOR UPDATE;
    IF NOT FOUND OR NOT mujun_appeal_in_scope(a.district, a.town) THEN
        RAISE EXCEPTION 'no appeal % in your area', p_appeal USING ERRCODE = 'MJ404';
    END IF;
    IF a.status IS DISTINCT FROM p_from OR a.status NOT IN ('submitted', 'under_review')
       OR p_to NOT IN ('under_review', 'upheld', 'rejected') THEN
        RAISE EXCEPTION 'appeal % is %, not %', p_appeal, a.status, p_from
            USING ERRCODE = 'MJ409';
    END IF;
    IF p_to = 'upheld' AND a.kind = 'class' THEN
        SELECT class, population INTO sc FROM enterprise_score
        WHERE run_id = a.run_id AND credit_code = a.credit_code;
        IF NOT FOUND OR sc.population IS NULL THEN
            RAISE EXCEPTION 'enterprise % was not evaluated in score run %', a.credit_code,
                a.run_id USING ERRCODE = 'MJ422';
        END IF;
        INSERT INTO class_override (credit_code, year, run_id, initial_class, class, reason,
                                    decided_by, approved_by, town, district)
        VALUES (a.credit_code, a.year, a.run_id, sc.class, a.requested_class,
                format('调档申诉 %s 成立：%s', a.appeal_id, p_reason), who, p_approved,
                a.town, a.district)
        RETURNING override_id INTO new_override;
    ELSIF p_to = 'upheld' AND a.kind = 'data' THEN
        INSERT INTO import_batch (kind, source, params, n_read, n_loaded, finished_at)
        VALUES ('verification', format('appeal %s', a.appeal_id),
                jsonb_build_object('appeal_id', a.appeal_id, 'by', who, 'reason', p_reason,
                                   'field', a.field, 'value', a.claimed_value), 1, 1, now())
        RETURNING batch_id INTO new_batch;
        -- a.field is one of the enterprise_year columns (CHECK of table appeal)
        EXECUTE format('INSERT INTO enterprise_year (credit_code, year, %1$I, batch_id)'
                       ' VALUES ($1, $2, $3, $4) ON CONFLICT (credit_code, year)'
                       ' DO UPDATE SET %1$I = EXCLUDED.%1$I, batch_id = EXCLUDED.batch_id',
                       a.field)
            USING a.credit_code, a.year,
                  CASE WHEN a.field = 'employees' THEN trunc(a.claimed_value)
                       ELSE a.claimed_value END, new_batch;
    END IF;
    IF p_to IN ('upheld', 'rejected') THEN
        UPDATE appeal SET status = p_to, decision = p_reason, decided_by = who,
                          decided_at = now(), override_id = new_override, batch_id = new_batch
        WHERE appeal_id = p_appeal;
    ELSE
        UPDATE appeal SET status = p_to WHERE appeal_id = p_appeal;
    END IF;
    INSERT INTO appeal_event (appeal_id, status, by_name, reason)
    VALUES (p_appeal, p_to, who, p_reason);
END
$$;

REVOKE ALL ON FUNCTION mujun_appeal_actor(), mujun_appeal_in_scope(text, text),
    mujun_appeal_add(text, bigint, text, text, text, double precision, text),
    mujun_appeal_step(bigint, text, text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION mujun_appeal_add(text, bigint, text, text, text, double precision,
    text), mujun_appeal_step(bigint, text, text, text, text) TO mujun_app;
