-- 0004 input state: a generation number per input table, bumped by a statement
-- trigger whenever its rows change (INSERT, UPDATE, DELETE, TRUNCATE).
--
-- An occupancy run records the generations of parcel, footprint and land_right in
-- its parameters: identical generations mean identical inputs, learned without
-- scanning millions of footprints (summing their areas took ~1 s per million).
-- A rolled-back change rolls back its bump too; numbers may skip, never repeat.

CREATE SEQUENCE input_generation_seq;

CREATE TABLE input_state (
    table_name  text PRIMARY KEY,
    generation  bigint NOT NULL
);

CREATE FUNCTION mujun_input_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO input_state (table_name, generation)
    VALUES (TG_TABLE_NAME, nextval('input_generation_seq'))
    ON CONFLICT (table_name) DO UPDATE SET generation = EXCLUDED.generation;
    RETURN NULL;
END
$$;

CREATE TRIGGER parcel_input_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON parcel FOR EACH STATEMENT EXECUTE FUNCTION mujun_input_changed();
CREATE TRIGGER footprint_input_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON footprint FOR EACH STATEMENT EXECUTE FUNCTION mujun_input_changed();
CREATE TRIGGER land_right_input_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON land_right FOR EACH STATEMENT EXECUTE FUNCTION mujun_input_changed();

-- Tables loaded before this migration start at a known generation.
INSERT INTO input_state (table_name, generation)
SELECT t, nextval('input_generation_seq') FROM unnest(ARRAY['parcel', 'footprint', 'land_right']) AS t;
