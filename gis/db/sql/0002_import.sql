-- 0002 import: the township verification queue.
--
-- `mujun verify export` records one open item per problem (an enterprise with
-- no land, a parcel with no holder, an unknown code, a power user with no tax
-- record, a likely duplicate) and writes them to a workbook; `mujun verify
-- apply` reads the resolutions back, changes the linked rows and closes the
-- items, all in one batch of kind 'verification'.

CREATE TABLE verification_item (
    item_id           bigserial PRIMARY KEY,
    kind              text NOT NULL CHECK (kind IN ('enterprise_no_land', 'parcel_no_holder',
                                                    'unknown_code', 'power_no_tax', 'duplicate')),
    item_key          text NOT NULL,             -- what the item is about (codes joined by |)
    town              text,
    credit_code       text,
    parcel_code       text,
    detail            jsonb NOT NULL DEFAULT '{}'::jsonb,
    status            text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved', 'dismissed')),
    created_at        timestamptz NOT NULL DEFAULT now(),
    resolved_at       timestamptz,
    resolution        jsonb,
    resolved_batch_id bigint REFERENCES import_batch (batch_id)
);
CREATE UNIQUE INDEX verification_item_open_idx ON verification_item (kind, item_key)
    WHERE status = 'open';
CREATE INDEX verification_item_town_idx ON verification_item (town);
