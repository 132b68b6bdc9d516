-- 0008 scores: per-enterprise results of score runs, their data warnings, and the
-- warning kinds of the township verification queue.
--
-- A score run is a `run` row of kind 'score' (params: ruleset, year, occupancy_run).
-- One `enterprise_score` row per (run, enterprise): the population it was scored in
-- (NULL: outside every population), indicator values, item scores, total (NULL for
-- class T), class, ranks and the rules that fired, so every class can be explained
-- later exactly as it was computed. Rule sets and column meanings: docs/scoring.md.

CREATE TABLE enterprise_score (
    run_id          bigint NOT NULL,
    credit_code     char(18) NOT NULL,
    year            smallint NOT NULL CHECK (year BETWEEN 1990 AND 2100),
    ruleset         text NOT NULL,
    population      text,                          -- e.g. large / small; NULL: not evaluated
    name            text,
    town            text,
    district        text,
    industry_division text,                        -- GB/T 4754-2017 two-digit division
    land_m2         double precision,              -- occupied land from the occupancy run
    total           double precision,              -- NULL for class T and the unevaluated
    class           text CHECK (class IN ('A', 'B', 'C', 'D', 'T')),
    rank_county     integer,                       -- 1 = best, within population
    rank_town       integer,
    rank_industry   integer,
    indicators      jsonb NOT NULL DEFAULT '{}'::jsonb,   -- indicator -> value (its unit)
    items           jsonb NOT NULL DEFAULT '{}'::jsonb,   -- item -> {score, benchmark, weight, rule}
    rules_fired     jsonb NOT NULL DEFAULT '[]'::jsonb,   -- [{rule, detail}, ...]
    occupancy_run   bigint,                        -- the run that gave land_m2
    prev_run        bigint,                        -- the previous year's score run compared with
    prev_total      double precision,
    prev_class      text,
    PRIMARY KEY (run_id, credit_code)
);
CREATE INDEX enterprise_score_credit_idx ON enterprise_score (credit_code, year);

CREATE TABLE score_warning (
    run_id      bigint NOT NULL,
    credit_code char(18),
    year        smallint NOT NULL,
    kind        text NOT NULL,
    town        text,
    detail      jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX score_warning_run_idx ON score_warning (run_id, kind);

-- Result rows name an existing run (the set-based check of 0005).
CREATE TRIGGER enterprise_score_run_exists_ins AFTER INSERT ON enterprise_score
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION mujun_check_result_runs();
CREATE TRIGGER enterprise_score_run_exists_upd AFTER UPDATE ON enterprise_score
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION mujun_check_result_runs();
CREATE TRIGGER score_warning_run_exists_ins AFTER INSERT ON score_warning
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION mujun_check_result_runs();

-- Deleting or truncating runs removes their scores and warnings.
CREATE FUNCTION mujun_delete_score_results() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        DELETE FROM enterprise_score;
        DELETE FROM score_warning;
    ELSE
        DELETE FROM enterprise_score WHERE run_id IN (SELECT run_id FROM old_runs);
        DELETE FROM score_warning WHERE run_id IN (SELECT run_id FROM old_runs);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER run_delete_scores AFTER DELETE ON run
    REFERENCING OLD TABLE AS old_runs FOR EACH STATEMENT EXECUTE FUNCTION mujun_delete_score_results();
CREATE TRIGGER run_truncate_scores AFTER TRUNCATE ON run
    FOR EACH STATEMENT EXECUTE FUNCTION mujun_delete_score_results();

-- Score warnings join the township verification queue beside the import problems.
-- power_no_tax (0002) also receives "high electricity, near-zero tax" from score runs.
ALTER TABLE verification_item DROP CONSTRAINT verification_item_kind_check;
ALTER TABLE verification_item ADD CONSTRAINT verification_item_kind_check
    CHECK (kind IN ('enterprise_no_land', 'parcel_no_holder', 'unknown_code', 'power_no_tax',
                    'duplicate',
                    'zero_electricity', 'tax_per_mu_high', 'records_no_land',
                    'land_no_records', 'yoy_jump'));
