-- 0009 surveys of several dates, land-status candidates and their review history.
--
-- survey          a dated set of footprints with the area it covers (the image
--                 outline, a coverage file, or the imported extent); each footprint
--                 batch belongs to one survey. Occupancy "as of" a date uses, per
--                 parcel, the latest survey on or before it whose coverage contains
--                 the parcel.
-- survey_change   built-area change per parcel between two surveys (new,
--                 demolished, expanded buildings), stored for the land-status rules.
-- land_exemption  a recorded reason (政府原因 ...) that keeps a parcel out of the
--                 idle kinds; revoked, never deleted.
-- land_approval   approved conversions (农转用/征收 批次) for the 批而未供 rule.
-- candidate       one row per (parcel, kind) found by the land-status rules, with
--                 evidence, priority and a lifecycle status; at most one open
--                 (not closed) row per parcel and kind; closed, never deleted.
-- review_event    the append-only decision history of candidates.

-- ---------------------------------------------------------------- surveys
CREATE TABLE survey (
    survey_id   bigserial PRIMARY KEY,
    survey_date date NOT NULL,
    coverage    geometry(MultiPolygon) NOT NULL CHECK (ST_SRID(coverage) > 0),
    source      text,
    method      text,
    batch_id    bigint UNIQUE REFERENCES import_batch (batch_id),
    attrs       jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX survey_date_idx ON survey (survey_date);
CREATE INDEX survey_coverage_idx ON survey USING gist (coverage);

ALTER TABLE footprint ADD COLUMN survey_id bigint REFERENCES survey (survey_id);
CREATE INDEX footprint_survey_idx ON footprint (survey_id);

-- Surveys change which footprints a parcel's occupancy rests on: bump the input
-- generation (0004) like any other input table.
CREATE TRIGGER survey_input_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON survey FOR EACH STATEMENT EXECUTE FUNCTION mujun_input_changed();
INSERT INTO input_state (table_name, generation)
VALUES ('survey', nextval('input_generation_seq'))
ON CONFLICT (table_name) DO NOTHING;

-- Footprints loaded before this migration: one survey per batch (and one for
-- footprints without a batch), dated by the newest image date of the batch (else the
-- day it was loaded), covering the batch's extent.
INSERT INTO survey (survey_date, coverage, source, method, batch_id, attrs)
SELECT coalesce(max(f.image_date), min(b.started_at)::date, current_date),
       ST_Multi(ST_Envelope(ST_Collect(f.geom))),
       min(coalesce(b.source, f.source)), min(f.method), f.batch_id,
       '{"backfilled": true, "coverage": "extent"}'::jsonb
FROM footprint f LEFT JOIN import_batch b ON b.batch_id = f.batch_id
GROUP BY f.batch_id;
UPDATE footprint f SET survey_id = s.survey_id
FROM survey s WHERE s.batch_id IS NOT DISTINCT FROM f.batch_id;

-- Occupancy rows say which survey and date they rest on (NULL: no survey covered
-- the parcel, or the run predates surveys).
ALTER TABLE occupancy ADD COLUMN survey_id bigint;
ALTER TABLE occupancy ADD COLUMN survey_date date;

CREATE TABLE survey_change (
    before_survey_id  bigint NOT NULL REFERENCES survey (survey_id) ON DELETE CASCADE,
    after_survey_id   bigint NOT NULL REFERENCES survey (survey_id) ON DELETE CASCADE,
    parcel_code       text NOT NULL,
    built_before_m2   double precision NOT NULL,
    built_after_m2    double precision NOT NULL,
    new_m2            double precision NOT NULL DEFAULT 0,
    demolished_m2     double precision NOT NULL DEFAULT 0,
    expanded_m2       double precision NOT NULL DEFAULT 0,
    n_new             integer NOT NULL DEFAULT 0,
    n_demolished      integer NOT NULL DEFAULT 0,
    n_expanded        integer NOT NULL DEFAULT 0,
    params            jsonb NOT NULL DEFAULT '{}'::jsonb,
    computed_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (before_survey_id, after_survey_id, parcel_code),
    CHECK (before_survey_id <> after_survey_id)
);
CREATE INDEX survey_change_parcel_idx ON survey_change (parcel_code);

-- ---------------------------------------------------------- exemptions
CREATE TABLE land_exemption (
    exemption_id bigserial PRIMARY KEY,
    parcel_code  text NOT NULL,
    reason       text NOT NULL,                 -- 政府原因, 规划调整, 拆迁未完成 ...
    kinds        text[] NOT NULL DEFAULT ARRAY['idle_not_started', 'idle_stalled'],
    comment      text,
    document     text,                          -- file number of the supporting document
    valid_until  date,                          -- NULL: until revoked
    created_by   text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz,
    revoked_by   text
);
CREATE INDEX land_exemption_parcel_idx ON land_exemption (parcel_code);

-- ------------------------------------------------------------- approvals
CREATE TABLE land_approval (
    approval_id   bigserial PRIMARY KEY,
    approval_code text NOT NULL,                -- 批次 / approval document number
    approved_date date NOT NULL,
    geom          geometry(MultiPolygon) NOT NULL CHECK (ST_SRID(geom) > 0),
    area_m2       double precision GENERATED ALWAYS AS (ST_Area(geom)) STORED,
    purpose       text,
    town          text,
    attrs         jsonb NOT NULL DEFAULT '{}'::jsonb,
    batch_id      bigint REFERENCES import_batch (batch_id)
);
CREATE INDEX land_approval_geom_idx ON land_approval USING gist (geom);

-- ------------------------------------------------------------ candidates
CREATE TABLE candidate (
    candidate_id   bigserial PRIMARY KEY,
    parcel_code    text NOT NULL,
    kind           text NOT NULL CHECK (kind IN ('idle_not_started', 'idle_stalled', 'unfinished',
                                                 'inefficient', 'built_unused',
                                                 'approved_unsupplied')),
    status         text NOT NULL DEFAULT 'new'
                   CHECK (status IN ('new', 'under_review', 'confirmed', 'rejected',
                                     'field_check', 'approved', 'closed')),
    town           text,
    district       text,
    area_m2        double precision,
    reclaimable_m2 double precision,
    certainty      real CHECK (certainty IS NULL OR certainty BETWEEN 0 AND 1),
    priority       real,
    evidence       jsonb NOT NULL DEFAULT '{}'::jsonb,
    rules          jsonb NOT NULL DEFAULT '[]'::jsonb,
    run_id         bigint,                        -- the run that last refreshed it (no foreign key:
                                                  -- candidates outlive deleted or truncated runs)
    version        integer NOT NULL DEFAULT 1,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    closed_reason  text,
    CHECK ((status = 'closed') = (closed_reason IS NOT NULL))
);
CREATE UNIQUE INDEX candidate_open_idx ON candidate (parcel_code, kind) WHERE status <> 'closed';
CREATE INDEX candidate_status_idx ON candidate (status, kind);
CREATE INDEX candidate_town_idx ON candidate (town);

-- Optimistic locking: any change of what a reviewer sees bumps the version (a
-- refresh that only re-stamps the run does not).
CREATE FUNCTION mujun_candidate_version() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF (NEW.status, NEW.kind, NEW.parcel_code, NEW.evidence, NEW.rules, NEW.area_m2,
        NEW.reclaimable_m2, NEW.certainty, NEW.priority, NEW.closed_reason, NEW.town,
        NEW.district)
       IS DISTINCT FROM
       (OLD.status, OLD.kind, OLD.parcel_code, OLD.evidence, OLD.rules, OLD.area_m2,
        OLD.reclaimable_m2, OLD.certainty, OLD.priority, OLD.closed_reason, OLD.town,
        OLD.district) THEN
        NEW.version := OLD.version + 1;
        NEW.updated_at := now();
    ELSE
        NEW.version := OLD.version;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER candidate_version BEFORE UPDATE ON candidate
    FOR EACH ROW EXECUTE FUNCTION mujun_candidate_version();

-- ---------------------------------------------------------- review events
CREATE TABLE review_event (
    event_id     bigserial PRIMARY KEY,
    candidate_id bigint NOT NULL REFERENCES candidate (candidate_id),
    at           timestamptz NOT NULL DEFAULT now(),
    actor        text NOT NULL CHECK (actor <> ''),
    action       text NOT NULL,                 -- created, refreshed, decided, closed, reopened ...
    from_status  text,
    to_status    text,
    reason_code  text,
    comment      text,
    run_id       bigint                         -- no foreign key: events outlive deleted runs
);
CREATE INDEX review_event_candidate_idx ON review_event (candidate_id, event_id);

CREATE FUNCTION mujun_review_event_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        -- the table owner (and superusers) may empty it, e.g. a test database or
        -- `mujun db reset`; anyone else (the review app's role) may not
        IF pg_has_role(current_user, (SELECT relowner FROM pg_class WHERE oid = TG_RELID),
                       'MEMBER') THEN
            RETURN NULL;
        END IF;
    END IF;
    RAISE EXCEPTION 'review_event is append-only: % is not allowed (record a new event instead)',
        TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER review_event_no_update BEFORE UPDATE OR DELETE ON review_event
    FOR EACH ROW EXECUTE FUNCTION mujun_review_event_append_only();
CREATE TRIGGER review_event_no_truncate BEFORE TRUNCATE ON review_event
    FOR EACH STATEMENT EXECUTE FUNCTION mujun_review_event_append_only();
