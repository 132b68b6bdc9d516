-- 0025 appeals (申诉) against a score run: data appeals (a figure is wrong) and class appeals.
--
-- appeal        one row per appeal: enterprise, data year, the score run appealed, kind
--               (data: field and claimed value; class: the class asked for), the claim, its
--               status submitted → under_review → upheld / rejected, and the decision.
-- appeal_event  every step, append-only: status, who, why, when. An upheld class appeal
--               becomes a class adjustment (class_override, with the appeal named); an
--               upheld data appeal writes the corrected figure to enterprise_year in a
--               verification batch, and the firm is re-scored by the next score run.
--
-- Policies (mujun_app only): read in district or town scope, like class adjustments.

CREATE TABLE appeal (
    appeal_id       bigserial PRIMARY KEY,
    credit_code     char(18) NOT NULL,
    year            smallint NOT NULL CHECK (year BETWEEN 1990 AND 2100),
    run_id          bigint NOT NULL,
    kind            text NOT NULL CHECK (kind IN ('data', 'class')),
    claim           text NOT NULL CHECK (length(btrim(claim)) BETWEEN 1 AND 2000),
    field           text CHECK (field IS NULL OR field IN ('tax_wan', 'revenue_wan',
                        'value_added_wan', 'energy_tce', 'electricity_kwh', 'rd_wan',
                        'employees', 'emissions_t')),
    claimed_value   double precision,
    requested_class text CHECK (requested_class IS NULL
                                OR requested_class IN ('A', 'B', 'C', 'D', 'T')),
    status          text NOT NULL DEFAULT 'submitted'
                    CHECK (status IN ('submitted', 'under_review', 'upheld', 'rejected')),
    submitted_by    text NOT NULL,
    submitted_at    timestamptz NOT NULL DEFAULT now(),
    decision        text,
    decided_by      text,
    decided_at      timestamptz,
    override_id     bigint,                 -- the adjustment an upheld class appeal made
    batch_id        bigint REFERENCES import_batch (batch_id),  -- an upheld data appeal's
    town            text,
    district        text,
    CHECK (kind = 'class' OR (field IS NOT NULL AND claimed_value IS NOT NULL)),
    CHECK (kind = 'data' OR requested_class IS NOT NULL)
);
CREATE INDEX appeal_code_idx ON appeal (credit_code, year);

CREATE TABLE appeal_event (
    event_id    bigserial PRIMARY KEY,
    appeal_id   bigint NOT NULL REFERENCES appeal (appeal_id),
    status      text NOT NULL,
    by_name     text NOT NULL,
    reason      text,
    at          timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION mujun_appeal_event_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        IF pg_has_role(current_user, (SELECT relowner FROM pg_class WHERE oid = TG_RELID),
                       'MEMBER') THEN
            RETURN NULL;
        END IF;
    END IF;
    RAISE EXCEPTION 'appeal_event is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER appeal_event_no_update BEFORE UPDATE OR DELETE ON appeal_event
    FOR EACH ROW EXECUTE FUNCTION mujun_appeal_event_append_only();
CREATE TRIGGER appeal_event_no_truncate BEFORE TRUNCATE ON appeal_event
    FOR EACH STATEMENT EXECUTE FUNCTION mujun_appeal_event_append_only();

ALTER TABLE appeal ENABLE ROW LEVEL SECURITY;
CREATE POLICY appeal_scope ON appeal FOR SELECT TO mujun_app USING (
    (SELECT mujun_scope_all())
    OR district = ANY ((SELECT mujun_scope_districts())::text[])
    OR town = ANY ((SELECT mujun_scope_towns())::text[]));
ALTER TABLE appeal_event ENABLE ROW LEVEL SECURITY;
CREATE POLICY appeal_event_scope ON appeal_event FOR SELECT TO mujun_app USING (
    EXISTS (SELECT 1 FROM appeal a WHERE a.appeal_id = appeal_event.appeal_id));
GRANT SELECT ON appeal, appeal_event TO mujun_app;
