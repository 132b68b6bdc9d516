-- 0023 policy runs and the policy ledger (差别化政策台账).
--
-- A policy run is a `run` row of kind 'policy' (params: rule set, its SHA-256, the score
-- run whose classes it used, the period, county parameters). Per enterprise:
-- policy_enterprise  the effective class (the adjusted class when an adjustment exists,
--                    a derived class such as C-), the flags, the warnings of missing inputs.
-- policy_line        one row per enterprise and item: base quantity with its unit and
--                    source, rate, months in force, the amount in whole fen (money items)
--                    or the quota (tce, t), who collects, whether it may be refunded.
-- policy_record      what the collecting bodies report, per quarter (append-only): amounts
--                    collected, refunded or granted. A line's ledger status is its latest
--                    record's (notified when there is none).

CREATE TABLE policy_enterprise (
    run_id        bigint NOT NULL,
    credit_code   char(18) NOT NULL,
    name          text,
    town          text,
    district      text,
    industry_division text,
    size_class    text,
    score_class   text,                 -- the class the score run computed
    class         text,                 -- the class in force (adjusted, derived)
    adjusted      boolean NOT NULL DEFAULT false,
    exempt_reason text,                 -- why nothing applies (class T, industry, listed)
    flags         text[] NOT NULL DEFAULT '{}',
    warnings      jsonb NOT NULL DEFAULT '[]'::jsonb,
    PRIMARY KEY (run_id, credit_code)
);

CREATE TABLE policy_line (
    run_id        bigint NOT NULL,
    credit_code   char(18) NOT NULL,
    item          text NOT NULL,        -- the rule set's item name
    kind          text NOT NULL,        -- electricity, water, sewage, gas, land_tax, *_quota
    class         text NOT NULL,
    base          numeric(20, 3),       -- quantity (kWh, m³), tax due (元) or last year's use
    base_unit     text NOT NULL,
    base_source   text NOT NULL,
    rate          numeric(18, 9),
    months        smallint NOT NULL CHECK (months BETWEEN 0 AND 120),
    amount_fen    bigint,               -- money items: + surcharge, - relief, in fen (分)
    quota         numeric(20, 3),       -- quota items: + granted, - cut (tce or t)
    collector     text,
    refundable    boolean NOT NULL DEFAULT false,
    borne_by      text,                 -- who bears a relief the province has not delegated
    town          text,
    district      text,
    PRIMARY KEY (run_id, credit_code, item)
);
CREATE INDEX policy_line_item_idx ON policy_line (run_id, item);

CREATE TABLE policy_record (
    record_id     bigserial PRIMARY KEY,
    run_id        bigint NOT NULL,
    credit_code   char(18) NOT NULL,
    item          text NOT NULL,
    quarter       text NOT NULL CHECK (quarter ~ '^[0-9]{4}Q[1-4]$'),
    status        text NOT NULL CHECK (status IN ('collected', 'refunded', 'granted')),
    amount_fen    bigint,
    quota         numeric(20, 3),
    note          text,
    batch_id      bigint REFERENCES import_batch (batch_id),
    at            timestamptz NOT NULL DEFAULT now(),
    town          text,
    district      text
);
CREATE INDEX policy_record_line_idx ON policy_record (run_id, credit_code, item, record_id);

CREATE TRIGGER policy_enterprise_run_exists_ins AFTER INSERT ON policy_enterprise
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION mujun_check_result_runs();
CREATE TRIGGER policy_line_run_exists_ins AFTER INSERT ON policy_line
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION mujun_check_result_runs();
CREATE TRIGGER policy_record_run_exists_ins AFTER INSERT ON policy_record
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION mujun_check_result_runs();

CREATE FUNCTION mujun_policy_record_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        IF pg_has_role(current_user, (SELECT relowner FROM pg_class WHERE oid = TG_RELID),
                       'MEMBER') THEN
            RETURN NULL;
        END IF;
    END IF;
    RAISE EXCEPTION 'policy_record is append-only: % is not allowed (record a new line instead)',
        TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER policy_record_no_update BEFORE UPDATE OR DELETE ON policy_record
    FOR EACH ROW EXECUTE FUNCTION mujun_policy_record_append_only();
CREATE TRIGGER policy_record_no_truncate BEFORE TRUNCATE ON policy_record
    FOR EACH STATEMENT EXECUTE FUNCTION mujun_policy_record_append_only();

-- Deleting runs removes their policy lines (records stay: they are the ledger's history).
CREATE FUNCTION mujun_delete_policy_results() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        DELETE FROM policy_enterprise;
        DELETE FROM policy_line;
    ELSE
        DELETE FROM policy_enterprise WHERE run_id IN (SELECT run_id FROM old_runs);
        DELETE FROM policy_line WHERE run_id IN (SELECT run_id FROM old_runs);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER run_delete_policy AFTER DELETE ON run
    REFERENCING OLD TABLE AS old_runs FOR EACH STATEMENT EXECUTE FUNCTION mujun_delete_policy_results();
CREATE TRIGGER run_truncate_policy AFTER TRUNCATE ON run
    FOR EACH STATEMENT EXECUTE FUNCTION mujun_delete_policy_results();

-- ------------------------------------------------------ row-level security
ALTER TABLE policy_enterprise ENABLE ROW LEVEL SECURITY;
CREATE POLICY policy_enterprise_scope ON policy_enterprise FOR SELECT TO mujun_app USING (
    (SELECT mujun_scope_all())
    OR district = ANY ((SELECT mujun_scope_districts())::text[])
    OR town = ANY ((SELECT mujun_scope_towns())::text[]));
ALTER TABLE policy_line ENABLE ROW LEVEL SECURITY;
CREATE POLICY policy_line_scope ON policy_line FOR SELECT TO mujun_app USING (
    (SELECT mujun_can('figures')) AND (
        (SELECT mujun_scope_all())
        OR district = ANY ((SELECT mujun_scope_districts())::text[])
        OR town = ANY ((SELECT mujun_scope_towns())::text[])));
ALTER TABLE policy_record ENABLE ROW LEVEL SECURITY;
CREATE POLICY policy_record_scope ON policy_record FOR SELECT TO mujun_app USING (
    (SELECT mujun_can('figures')) AND (
        (SELECT mujun_scope_all())
        OR district = ANY ((SELECT mujun_scope_districts())::text[])
        OR town = ANY ((SELECT mujun_scope_towns())::text[])));

GRANT SELECT ON policy_enterprise, policy_line, policy_record TO mujun_app;
