-- 0012 approvals are imported as batches: `mujun candidates approvals FILE` loads approved
-- conversions (农转用/征收 批次) into land_approval (0009) for the 批而未供 rule, recorded
-- like every other import.

ALTER TABLE import_batch DROP CONSTRAINT import_batch_kind_check;
ALTER TABLE import_batch ADD CONSTRAINT import_batch_kind_check
    CHECK (kind IN ('parcels', 'footprints', 'enterprises', 'land_rights', 'verification',
                    'sample', 'approvals'));
