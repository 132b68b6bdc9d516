-- 0007 imports: what an import *is*, parks, enterprise registration dates.
--
-- * import_batch.identity: SHA-256 over the source file's hash and every
--   option that changes what is read (layer, sheet, encoding, mapping, year,
--   CRS options). "Already imported" compares identities, so a second layer
--   or sheet of the same file is a new import. source_sha256 stays the file's
--   own hash. Older batches have no identity and are never matched.
-- * parcel.park: the industrial park or development zone (园区 / 开发区) a
--   parcel lies in; scoring groups by it.
-- * enterprise.deregistered_date: 注销日期 / 吊销日期 from the registration
--   status columns (status and established_date exist since 0001).

ALTER TABLE import_batch ADD COLUMN identity text;
CREATE INDEX import_batch_identity_idx ON import_batch (kind, identity);

ALTER TABLE parcel ADD COLUMN park text;
CREATE INDEX parcel_park_idx ON parcel (park);

ALTER TABLE enterprise ADD COLUMN deregistered_date date;
