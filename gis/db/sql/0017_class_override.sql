-- 0017 class adjustments (调档): an official's change of an enterprise's class, with its trace.
--
-- class_override  one row per adjustment, append-only: the enterprise and data year, the
--                 score run it was recorded against and the class that run gave
--                 (initial_class), the adjusted class, why, who decided, who approved,
--                 when. The effective adjusted class of an enterprise and year is its
--                 latest row; it applies to every score run of that year, later ones
--                 included (a re-run keeps the adjustment visible; `score explain` says
--                 when the computed class has changed since). Nothing is updated or
--                 deleted: a new adjustment (to the computed class, if need be) supersedes.
--
-- Policies (for mujun_app only; owners and superusers bypass RLS): read in district or
-- town scope, like parcels and candidates; the app role cannot write adjustments.

CREATE TABLE class_override (
    override_id   bigserial PRIMARY KEY,
    credit_code   char(18) NOT NULL,
    year          smallint NOT NULL CHECK (year BETWEEN 1990 AND 2100),
    run_id        bigint NOT NULL,                 -- the score run it was recorded against
    initial_class text CHECK (initial_class IN ('A', 'B', 'C', 'D', 'T')),
    class         text NOT NULL CHECK (class IN ('A', 'B', 'C', 'D', 'T')),
    reason        text NOT NULL CHECK (length(btrim(reason)) BETWEEN 1 AND 2000),
    decided_by    text NOT NULL CHECK (length(btrim(decided_by)) BETWEEN 1 AND 200),
    approved_by   text CHECK (approved_by IS NULL OR length(btrim(approved_by)) BETWEEN 1 AND 200),
    at            timestamptz NOT NULL DEFAULT now(),
    town          text,                            -- as scored, for the access scope
    district      text
);
CREATE INDEX class_override_code_year_idx ON class_override (credit_code, year, override_id);

CREATE FUNCTION mujun_class_override_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        -- the table owner (a test database, `mujun db reset`) may empty it; no one else
        IF pg_has_role(current_user, (SELECT relowner FROM pg_class WHERE oid = TG_RELID),
                       'MEMBER') THEN
            RETURN NULL;
        END IF;
    END IF;
    RAISE EXCEPTION 'class_override is append-only: % is not allowed (record a new adjustment instead)',
        TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER class_override_no_update BEFORE UPDATE OR DELETE ON class_override
    FOR EACH ROW EXECUTE FUNCTION mujun_class_override_append_only();
CREATE TRIGGER class_override_no_truncate BEFORE TRUNCATE ON class_override
    FOR EACH STATEMENT EXECUTE FUNCTION mujun_class_override_append_only();

-- ------------------------------------------------------ row-level security
ALTER TABLE class_override ENABLE ROW LEVEL SECURITY;
CREATE POLICY class_override_scope ON class_override FOR SELECT TO mujun_app USING (
    (SELECT mujun_scope_all())
    OR district = ANY ((SELECT mujun_scope_districts())::text[])
    OR town = ANY ((SELECT mujun_scope_towns())::text[]));

GRANT SELECT ON class_override TO mujun_app;
