-- 0027 one candidate per parcel: every kind that fired on it (primary first), the reasons,
-- one decision. Existing duplicates (the same parcel open under two kinds) are merged:
-- the survivor is the one with the latest human decision, else the first kind by the
-- shipped precedence (idle_not_started, idle_stalled, unfinished, built_unused,
-- inefficient); it carries every kind, a 'merged' event names each merged candidate with
-- its kind and status. The others are closed ('closed' event), pointing to the survivor
-- (merged_into); their events stay where they are and show in the survivor's history.
ALTER TABLE candidate ADD COLUMN kinds text[];
ALTER TABLE candidate ADD COLUMN reasons text[];
ALTER TABLE candidate ADD COLUMN merged_into bigint REFERENCES candidate (candidate_id);
UPDATE candidate SET kinds = ARRAY[kind], reasons = ARRAY[kind];
ALTER TABLE candidate ALTER COLUMN kinds SET NOT NULL;
ALTER TABLE candidate ALTER COLUMN reasons SET NOT NULL;
ALTER TABLE candidate ADD CONSTRAINT candidate_primary_kind_first CHECK (kinds[1] = kind);

-- a candidate written without its kinds (one kind) carries that kind
CREATE FUNCTION mujun_candidate_kinds() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.kinds := coalesce(NEW.kinds, ARRAY[NEW.kind]);
    NEW.reasons := coalesce(NEW.reasons, NEW.kinds);
    RETURN NEW;
END
$$;
CREATE TRIGGER candidate_kinds BEFORE INSERT ON candidate
    FOR EACH ROW EXECUTE FUNCTION mujun_candidate_kinds();

-- the kinds and reasons are part of what a reviewer sees: a change bumps the version
CREATE OR REPLACE FUNCTION mujun_candidate_version() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF (NEW.status, NEW.kind, NEW.kinds, NEW.reasons, NEW.parcel_code, NEW.evidence, NEW.rules,
        NEW.area_m2, NEW.reclaimable_m2, NEW.certainty, NEW.priority, NEW.closed_reason,
        NEW.town, NEW.district)
       IS DISTINCT FROM
       (OLD.status, OLD.kind, OLD.kinds, OLD.reasons, OLD.parcel_code, OLD.evidence, OLD.rules,
        OLD.area_m2, OLD.reclaimable_m2, OLD.certainty, OLD.priority, OLD.closed_reason,
        OLD.town, OLD.district) THEN
        NEW.version := OLD.version + 1;
        NEW.updated_at := now();
    ELSE
        NEW.version := OLD.version;
    END IF;
    RETURN NEW;
END
$$;

CREATE TEMP TABLE candidate_merge AS
WITH open AS (
    SELECT c.candidate_id, c.parcel_code, c.kind, c.status,
           (SELECT max(e.event_id) FROM review_event e
            WHERE e.candidate_id = c.candidate_id AND e.action = 'decided') AS decided,
           array_position(ARRAY['idle_not_started', 'idle_stalled', 'unfinished',
                                'built_unused', 'inefficient'], c.kind) AS rank
    FROM candidate c
    WHERE c.status <> 'closed' AND c.kind <> 'approved_unsupplied'
),
ranked AS (
    SELECT o.*, first_value(candidate_id) OVER w AS survivor, count(*) OVER (PARTITION BY parcel_code) AS n
    FROM open o
    WINDOW w AS (PARTITION BY parcel_code ORDER BY decided DESC NULLS LAST, rank, candidate_id)
)
SELECT candidate_id, parcel_code, kind, status, rank, survivor FROM ranked WHERE n > 1;

UPDATE candidate c SET kinds = k.kinds, reasons = k.kinds
FROM (SELECT survivor,
             array_agg(kind ORDER BY candidate_id = survivor DESC, rank, candidate_id) AS kinds
      FROM candidate_merge GROUP BY survivor) k
WHERE c.candidate_id = k.survivor;

INSERT INTO review_event (candidate_id, actor, action, from_status, to_status, comment)
SELECT m.survivor, 'system', 'merged', s.status, s.status,
       'migration 0027: merged candidate ' || m.candidate_id || ' (' || m.kind || ', '
       || m.status || ')'
FROM candidate_merge m JOIN candidate s ON s.candidate_id = m.survivor
WHERE m.candidate_id <> m.survivor ORDER BY m.survivor, m.candidate_id;

INSERT INTO review_event (candidate_id, actor, action, from_status, to_status, comment)
SELECT m.candidate_id, 'system', 'closed', m.status, 'closed',
       'migration 0027: merged into candidate ' || m.survivor
FROM candidate_merge m WHERE m.candidate_id <> m.survivor ORDER BY m.candidate_id;

UPDATE candidate c SET status = 'closed', merged_into = m.survivor,
       closed_reason = 'migration 0027: merged into candidate ' || m.survivor
FROM candidate_merge m WHERE c.candidate_id = m.candidate_id AND m.candidate_id <> m.survivor;

DROP INDEX candidate_open_idx;
-- one open candidate per parcel (approvals are keyed by their batch code, apart)
CREATE UNIQUE INDEX candidate_open_idx ON candidate (parcel_code, (kind = 'approved_unsupplied'))
    WHERE status <> 'closed';
DROP TABLE candidate_merge;
