-- 0033 standard-land plots (标准地), area-wide assessments (区域评估), supply information
-- and contracts (履约), and the land-status kind their breaches are recorded under.
--
-- supply_plot        one row per plot: code, polygon, area (the parcel's area to 0.01 m² when
--                    reclaimed from a candidate, else the polygon's), town, district, park,
--                    origin (new / reclaimed from an approved candidate / judicial disposal),
--                    planned use, industry (GB/T 4754-2017), the control indicators copied
--                    from the per-industry table (with the table's name and version), the
--                    free supply information a firm asks for (utility prices and capacity,
--                    policies, nearby services) and the current status with its date.
-- supply_plot_event  every step of the status pipeline, append-only: from, to, the date it
--                    happened, the document (文号), the reason for going back, who.
-- area_assessment    coverage polygons of the area-wide assessments (区域评估) with topic,
--                    conclusion and validity; a plot inherits those it lies in.
-- supply_contract    the land contract (出让合同) of a plot: holder, committed investment,
--                    start / completion / production dates, committed per-mu figures and
--                    the parcel it is checked on.
--
-- The order of the pipeline and what a valid step is are decided in
-- scoring/land_status/supply/pipeline.py; the CHECKs here are the database's last word.
-- Policies (mujun_app only): read in district or town scope, like candidates; no writes.

CREATE TABLE supply_plot (
    plot_id          bigserial PRIMARY KEY,
    code             text NOT NULL UNIQUE CHECK (length(btrim(code)) BETWEEN 1 AND 64),
    geom             geometry(MultiPolygon) NOT NULL CHECK (ST_SRID(geom) > 0),
    area_m2          numeric(14, 2) NOT NULL CHECK (area_m2 > 0),
    town             text,
    district         text,
    park             text,
    origin           text NOT NULL CHECK (origin IN ('new', 'reclaimed', 'judicial')),
    candidate_id     bigint UNIQUE REFERENCES candidate (candidate_id),
    parcel_code      text,
    planned_use      text,
    industry_code    text,
    indicators       jsonb NOT NULL DEFAULT '{}'::jsonb,
    indicator_table  text,                        -- "name version" of the table they came from
    info             jsonb NOT NULL DEFAULT '{}'::jsonb,
    status           text NOT NULL DEFAULT 'reserve'
                     CHECK (status IN ('reserve', 'preparation', 'assessment', 'indicators',
                                       'announced', 'transferred', 'contracted', 'started',
                                       'completed', 'in_production', 'output_review',
                                       'performed', 'breached')),
    status_date      date NOT NULL,
    version          integer NOT NULL DEFAULT 1,
    created_by       text NOT NULL CHECK (created_by <> ''),
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CHECK ((origin = 'reclaimed') = (candidate_id IS NOT NULL))
);
CREATE INDEX supply_plot_geom_idx ON supply_plot USING gist (geom);
CREATE INDEX supply_plot_status_idx ON supply_plot (status);
CREATE INDEX supply_plot_parcel_idx ON supply_plot (parcel_code);

CREATE TABLE supply_plot_event (
    event_id     bigserial PRIMARY KEY,
    plot_id      bigint NOT NULL REFERENCES supply_plot (plot_id),
    from_status  text,
    to_status    text NOT NULL,
    on_date      date NOT NULL,
    document     text,                             -- 文号 of the step
    reason       text,                             -- why the plot went back a step
    actor        text NOT NULL CHECK (actor <> ''),
    at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX supply_plot_event_plot_idx ON supply_plot_event (plot_id, event_id);

-- append-only through the one guard of migration 0032
CREATE TRIGGER supply_plot_event_no_update BEFORE UPDATE OR DELETE ON supply_plot_event
    FOR EACH ROW EXECUTE FUNCTION mujun_append_only();
CREATE TRIGGER supply_plot_event_no_truncate BEFORE TRUNCATE ON supply_plot_event
    FOR EACH STATEMENT EXECUTE FUNCTION mujun_append_only();

CREATE TABLE area_assessment (
    assessment_id bigserial PRIMARY KEY,
    topic         text NOT NULL CHECK (topic IN ('environment', 'energy', 'geohazard',
                                                 'seismic', 'water', 'soil', 'relics',
                                                 'flood')),
    title         text,
    conclusion    text NOT NULL,
    document      text,
    valid_from    date,
    valid_until   date,
    geom          geometry(MultiPolygon) NOT NULL CHECK (ST_SRID(geom) > 0),
    batch_id      bigint REFERENCES import_batch (batch_id),
    CHECK (valid_until IS NULL OR valid_from IS NULL OR valid_until >= valid_from)
);
CREATE INDEX area_assessment_geom_idx ON area_assessment USING gist (geom);

CREATE TABLE supply_contract (
    plot_id                  bigint PRIMARY KEY REFERENCES supply_plot (plot_id),
    contract_no              text,
    holder                   text,
    credit_code              char(18),
    parcel_code              text NOT NULL,       -- the parcel the contract is checked on
    signed_date              date,
    investment_wan           double precision CHECK (investment_wan IS NULL OR investment_wan >= 0),
    start_by                 date NOT NULL,
    complete_by              date NOT NULL,
    produce_by               date,
    far_min                  double precision CHECK (far_min IS NULL OR far_min > 0),
    coverage_min             double precision CHECK (coverage_min IS NULL
                                                     OR coverage_min BETWEEN 0 AND 1),
    tax_per_mu_wan           double precision CHECK (tax_per_mu_wan IS NULL OR tax_per_mu_wan >= 0),
    committed                jsonb NOT NULL DEFAULT '{}'::jsonb,   -- other per-mu figures
    created_by               text NOT NULL CHECK (created_by <> ''),
    created_at               timestamptz NOT NULL DEFAULT now(),
    updated_at               timestamptz NOT NULL DEFAULT now(),
    CHECK (complete_by >= start_by),
    CHECK (produce_by IS NULL OR produce_by >= complete_by)
);
CREATE INDEX supply_contract_parcel_idx ON supply_contract (parcel_code);

-- the assessments are imported as batches
ALTER TABLE import_batch DROP CONSTRAINT import_batch_kind_check;
ALTER TABLE import_batch ADD CONSTRAINT import_batch_kind_check
    CHECK (kind IN ('parcels', 'footprints', 'enterprises', 'land_rights', 'verification',
                    'sample', 'approvals', 'accounts', 'land_tax', 'policy_records',
                    'assessments'));

-- a contract breach is a land-status candidate of its own kind (one candidate per parcel)
ALTER TABLE candidate DROP CONSTRAINT candidate_kind_check;
ALTER TABLE candidate ADD CONSTRAINT candidate_kind_check
    CHECK (kind IN ('idle_not_started', 'idle_stalled', 'unfinished', 'inefficient',
                    'built_unused', 'approved_unsupplied', 'contract_breach'));

-- ------------------------------------------------------ row-level security
ALTER TABLE supply_plot ENABLE ROW LEVEL SECURITY;
CREATE POLICY supply_plot_scope ON supply_plot FOR SELECT TO mujun_app USING (
    (SELECT mujun_scope_all())
    OR district = ANY ((SELECT mujun_scope_districts())::text[])
    OR town = ANY ((SELECT mujun_scope_towns())::text[]));

ALTER TABLE supply_plot_event ENABLE ROW LEVEL SECURITY;
CREATE POLICY supply_plot_event_read ON supply_plot_event FOR SELECT TO mujun_app
    USING (EXISTS (SELECT 1 FROM supply_plot p WHERE p.plot_id = supply_plot_event.plot_id));

ALTER TABLE supply_contract ENABLE ROW LEVEL SECURITY;
CREATE POLICY supply_contract_read ON supply_contract FOR SELECT TO mujun_app
    USING (EXISTS (SELECT 1 FROM supply_plot p WHERE p.plot_id = supply_contract.plot_id));

-- assessments cover whole areas and name no firm: every signed-in user may read them
ALTER TABLE area_assessment ENABLE ROW LEVEL SECURITY;
CREATE POLICY area_assessment_read ON area_assessment FOR SELECT TO mujun_app
    USING ((SELECT mujun_can('view')));

GRANT SELECT ON supply_plot, supply_plot_event, supply_contract, area_assessment TO mujun_app;
