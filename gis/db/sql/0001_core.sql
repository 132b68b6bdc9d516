-- 0001 core: import batches, parcels, footprints, enterprises, annual records,
-- land rights and derived-result runs.
--
-- Geometry columns carry a geometry-type modifier but no fixed SRID: the
-- working CRS is chosen per deployment (CGCS2000 zone or UTM) and recorded in
-- mujun_setting('working_srid'); loaders check every geometry against it.
-- Areas (area_m2) are generated from the geometry, so they can never drift.

CREATE EXTENSION IF NOT EXISTS postgis;

CREATE TABLE mujun_setting (
    key   text PRIMARY KEY,
    value text NOT NULL
);

CREATE TABLE import_batch (
    batch_id      bigserial PRIMARY KEY,
    kind          text NOT NULL CHECK (kind IN ('parcels', 'footprints', 'enterprises',
                                                'land_rights', 'verification', 'sample')),
    source        text NOT NULL,
    source_sha256 text,
    layer         text,
    params        jsonb NOT NULL DEFAULT '{}'::jsonb,
    srid          integer,
    n_read        integer NOT NULL DEFAULT 0,
    n_loaded      integer NOT NULL DEFAULT 0,
    n_rejected    integer NOT NULL DEFAULT 0,
    n_warnings    integer NOT NULL DEFAULT 0,
    report        jsonb NOT NULL DEFAULT '{}'::jsonb,
    mujun_version text,
    started_at    timestamptz NOT NULL DEFAULT now(),
    finished_at   timestamptz
);
CREATE INDEX import_batch_sha_idx ON import_batch (kind, source_sha256);

CREATE TABLE parcel (
    parcel_id          bigserial PRIMARY KEY,
    parcel_code        text NOT NULL UNIQUE,        -- GB/T 37346 19-char parcel code, or the bureau's id
    geom               geometry(MultiPolygon) NOT NULL CHECK (ST_SRID(geom) > 0),
    area_m2            double precision GENERATED ALWAYS AS (ST_Area(geom)) STORED,
    cert_area_m2       double precision CHECK (cert_area_m2 IS NULL OR cert_area_m2 > 0),
    land_use_code      text,                        -- GB/T 21010-2017, e.g. 0601
    supply_date        date,
    agreed_start_date  date,
    agreed_finish_date date,
    planned_far        double precision CHECK (planned_far IS NULL OR planned_far >= 0),
    town               text,
    district           text,
    attrs              jsonb NOT NULL DEFAULT '{}'::jsonb,
    batch_id           bigint REFERENCES import_batch (batch_id),
    source_fid         bigint
);
CREATE INDEX parcel_geom_idx ON parcel USING gist (geom);
CREATE INDEX parcel_town_idx ON parcel (town);

CREATE TABLE footprint (
    footprint_id bigserial PRIMARY KEY,
    geom         geometry(MultiPolygon) NOT NULL CHECK (ST_SRID(geom) > 0),
    area_m2      double precision GENERATED ALWAYS AS (ST_Area(geom)) STORED,
    image_id     text,
    image_date   date,
    source       text,                              -- survey, vendor or image the footprint came from
    method       text,                              -- ndsm, classify, onnx, mask, survey, sample ...
    ground_res_m real,
    confidence   real CHECK (confidence IS NULL OR confidence BETWEEN 0 AND 1),
    height_m     real CHECK (height_m IS NULL OR height_m >= 0),
    storeys      smallint CHECK (storeys IS NULL OR storeys >= 0),
    attrs        jsonb NOT NULL DEFAULT '{}'::jsonb,
    batch_id     bigint REFERENCES import_batch (batch_id),
    source_fid   bigint
);
CREATE INDEX footprint_geom_idx ON footprint USING gist (geom);
CREATE INDEX footprint_batch_idx ON footprint (batch_id);

CREATE TABLE enterprise (
    credit_code      char(18) PRIMARY KEY,          -- unified social credit code, GB 32100-2015
    checksum_ok      boolean NOT NULL DEFAULT true, -- early pilot codes may fail the check
    name             text NOT NULL,
    industry_code    text,                          -- GB/T 4754 class/group/division code
    industry_version text NOT NULL DEFAULT '2017' CHECK (industry_version IN ('2002', '2011', '2017')),
    size_class       text CHECK (size_class IN ('large', 'small')),  -- 规上 / 规下
    town             text,
    status           text NOT NULL DEFAULT 'active'
                     CHECK (status IN ('active', 'stopped', 'deregistered', 'relocated')),
    established_date date,
    is_utility       boolean NOT NULL DEFAULT false,
    attrs            jsonb NOT NULL DEFAULT '{}'::jsonb,
    batch_id         bigint REFERENCES import_batch (batch_id)
);
CREATE INDEX enterprise_town_idx ON enterprise (town);

-- One row per enterprise and year. Money in 万元 (10,000 yuan), energy in tonnes
-- of standard coal, electricity in kWh, emissions in tonnes of main pollutants.
CREATE TABLE enterprise_year (
    credit_code     char(18) NOT NULL REFERENCES enterprise (credit_code) ON DELETE CASCADE,
    year            smallint NOT NULL CHECK (year BETWEEN 1990 AND 2100),
    tax_wan         double precision,
    revenue_wan     double precision,
    value_added_wan double precision,
    energy_tce      double precision CHECK (energy_tce IS NULL OR energy_tce >= 0),
    electricity_kwh double precision CHECK (electricity_kwh IS NULL OR electricity_kwh >= 0),
    rd_wan          double precision CHECK (rd_wan IS NULL OR rd_wan >= 0),
    employees       integer CHECK (employees IS NULL OR employees >= 0),
    emissions_t     double precision CHECK (emissions_t IS NULL OR emissions_t >= 0),
    attrs           jsonb NOT NULL DEFAULT '{}'::jsonb,
    batch_id        bigint REFERENCES import_batch (batch_id),
    PRIMARY KEY (credit_code, year)
);

-- Ownership and tenancy. No foreign keys to parcel/enterprise on purpose:
-- unmatched rows are what the verification queue is made of.
CREATE TABLE land_right (
    land_right_id   bigserial PRIMARY KEY,
    parcel_code     text NOT NULL,
    credit_code     char(18) NOT NULL,
    right_type      text NOT NULL CHECK (right_type IN ('owner', 'tenant')),
    share           double precision CHECK (share IS NULL OR (share > 0 AND share <= 1)),
    leased_land_m2  double precision CHECK (leased_land_m2 IS NULL OR leased_land_m2 >= 0),
    leased_floor_m2 double precision CHECK (leased_floor_m2 IS NULL OR leased_floor_m2 >= 0),
    start_date      date,
    end_date        date CHECK (end_date IS NULL OR start_date IS NULL OR end_date >= start_date),
    attrs           jsonb NOT NULL DEFAULT '{}'::jsonb,
    batch_id        bigint REFERENCES import_batch (batch_id),
    UNIQUE (parcel_code, credit_code, right_type, start_date)
);
CREATE INDEX land_right_parcel_idx ON land_right (parcel_code);
CREATE INDEX land_right_credit_idx ON land_right (credit_code);

-- Every derived row (occupancy, scores, candidates, extracted footprints)
-- records the run that made it: parameters, code version and input batches.
CREATE TABLE run (
    run_id        bigserial PRIMARY KEY,
    kind          text NOT NULL,
    params        jsonb NOT NULL DEFAULT '{}'::jsonb,
    input_batches bigint[] NOT NULL DEFAULT '{}',
    code_version  text NOT NULL,
    status        text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'done', 'failed')),
    started_at    timestamptz NOT NULL DEFAULT now(),
    finished_at   timestamptz,
    summary       jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX run_kind_idx ON run (kind, started_at DESC);
