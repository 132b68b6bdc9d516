-- 0022 policy inputs: utility accounts (户号) with their quantities, and the land-use tax base.
--
-- utility_account   one row per (kind, account, user): the electricity, water, sewage or gas
--                   account a utility bills, the enterprise that uses it (credit code; ''
--                   when the file gave none), the share of the account's quantity that
--                   enterprise uses (one account may serve a landlord and its tenants) and
--                   who is billed for it (the user itself, or the landlord holding the
--                   account: payer_code). matched: the credit code is a known enterprise;
--                   unmatched accounts join the township verification queue.
-- account_quantity  the quantity billed on an account per month (1-12) or for the whole
--                   year (month 0), in kWh (electricity) or m³ (water, sewage, gas).
-- land_tax_base     the tax bureau's land-use tax base per taxpayer and year and land grade:
--                   taxable area (m²) and unit tax (元/m²); tax due = area × unit tax.
--
-- Imports upsert by the keys and never erase what a file did not carry. Row-level security
-- (mujun_app only): rows in the user's districts or towns, figures for roles with 'figures'.

CREATE TABLE utility_account (
    kind         text NOT NULL CHECK (kind IN ('electricity', 'water', 'sewage', 'gas')),
    account_no   text NOT NULL CHECK (length(btrim(account_no)) BETWEEN 1 AND 64),
    credit_code  text NOT NULL DEFAULT '' CHECK (credit_code = '' OR length(credit_code) = 18),
    holder_name  text,                              -- 户名 as the utility has it
    share        numeric(7, 6) NOT NULL DEFAULT 1 CHECK (share > 0 AND share <= 1),
    payer        text NOT NULL DEFAULT 'self' CHECK (payer IN ('self', 'landlord')),
    payer_code   text CHECK (payer_code IS NULL OR length(payer_code) = 18),
    matched      boolean NOT NULL DEFAULT false,
    town         text,
    district     text,
    attrs        jsonb NOT NULL DEFAULT '{}'::jsonb,
    batch_id     bigint REFERENCES import_batch (batch_id),
    PRIMARY KEY (kind, account_no, credit_code)
);
CREATE INDEX utility_account_credit_idx ON utility_account (credit_code, kind);

CREATE TABLE account_quantity (
    kind        text NOT NULL CHECK (kind IN ('electricity', 'water', 'sewage', 'gas')),
    account_no  text NOT NULL,
    year        smallint NOT NULL CHECK (year BETWEEN 1990 AND 2100),
    month       smallint NOT NULL CHECK (month BETWEEN 0 AND 12),   -- 0: the whole year
    quantity    numeric(18, 3) NOT NULL CHECK (quantity >= 0),
    batch_id    bigint REFERENCES import_batch (batch_id),
    PRIMARY KEY (kind, account_no, year, month)
);

CREATE TABLE land_tax_base (
    credit_code     char(18) NOT NULL,
    year            smallint NOT NULL CHECK (year BETWEEN 1990 AND 2100),
    land_grade      text NOT NULL DEFAULT '',      -- 土地等级 (一级 ... ); '' when not given
    taxable_area_m2 numeric(14, 2) NOT NULL CHECK (taxable_area_m2 > 0),
    unit_tax        numeric(10, 2) NOT NULL CHECK (unit_tax >= 0 AND unit_tax <= 1000),
    town            text,
    district        text,
    attrs           jsonb NOT NULL DEFAULT '{}'::jsonb,
    batch_id        bigint REFERENCES import_batch (batch_id),
    PRIMARY KEY (credit_code, year, land_grade)
);

-- The new import kinds (policy records are imported as batches too). NOTE for merges:
-- other branches may extend this list as well; the last migration must name them all.
ALTER TABLE import_batch DROP CONSTRAINT import_batch_kind_check;
ALTER TABLE import_batch ADD CONSTRAINT import_batch_kind_check
    CHECK (kind IN ('parcels', 'footprints', 'enterprises', 'land_rights', 'verification',
                    'sample', 'approvals', 'accounts', 'land_tax', 'policy_records'));

-- Unmatched accounts join the township verification queue.
ALTER TABLE verification_item DROP CONSTRAINT verification_item_kind_check;
ALTER TABLE verification_item ADD CONSTRAINT verification_item_kind_check
    CHECK (kind IN ('enterprise_no_land', 'parcel_no_holder', 'unknown_code', 'power_no_tax',
                    'duplicate',
                    'zero_electricity', 'tax_per_mu_high', 'records_no_land',
                    'land_no_records', 'yoy_jump', 'account_unmatched'));

-- ------------------------------------------------------ row-level security
ALTER TABLE utility_account ENABLE ROW LEVEL SECURITY;
CREATE POLICY utility_account_scope ON utility_account FOR SELECT TO mujun_app USING (
    (SELECT mujun_can('figures')) AND (
        (SELECT mujun_scope_all())
        OR district = ANY ((SELECT mujun_scope_districts())::text[])
        OR town = ANY ((SELECT mujun_scope_towns())::text[])));

-- a quantity is visible with an account the user may see
ALTER TABLE account_quantity ENABLE ROW LEVEL SECURITY;
CREATE POLICY account_quantity_scope ON account_quantity FOR SELECT TO mujun_app USING (
    EXISTS (SELECT 1 FROM utility_account a
            WHERE a.kind = account_quantity.kind AND a.account_no = account_quantity.account_no));

ALTER TABLE land_tax_base ENABLE ROW LEVEL SECURITY;
CREATE POLICY land_tax_base_scope ON land_tax_base FOR SELECT TO mujun_app USING (
    (SELECT mujun_can('figures')) AND (
        (SELECT mujun_scope_all())
        OR district = ANY ((SELECT mujun_scope_districts())::text[])
        OR town = ANY ((SELECT mujun_scope_towns())::text[])));

GRANT SELECT ON utility_account, account_quantity, land_tax_base TO mujun_app;
