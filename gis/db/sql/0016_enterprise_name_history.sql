-- Earlier names of enterprises. An import that renames an enterprise (same credit code,
-- another name) reports the rename and keeps the name it replaced here, with the batch
-- that brought that name (NULL when it is unknown) and the batch that replaced it.
CREATE TABLE enterprise_name_history (
    history_id           bigserial PRIMARY KEY,
    credit_code          char(18) NOT NULL,
    name                 text NOT NULL,
    batch_id             bigint REFERENCES import_batch (batch_id),
    replaced_by_batch_id bigint NOT NULL REFERENCES import_batch (batch_id),
    replaced_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX enterprise_name_history_code_idx ON enterprise_name_history (credit_code);
