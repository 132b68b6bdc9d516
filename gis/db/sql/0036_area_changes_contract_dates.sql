-- 0036 redevelopment areas change over time; a contract sets the dates the idle rules read.
--
-- Areas (片区, 0032) gain candidates, lose them (with a reason), are renamed and closed (with
-- a reason); nothing is deleted:
--   redevelopment_area         closed_at / closed_reason: a closed area stays listed.
--   redevelopment_area_member  one row per stay of a candidate in an area: left_at, left_how
--                              ('removed' with left_reason, or 'area_closed' when the area
--                              closed with the candidate in it). A candidate is in one open
--                              area at most: one row without left_at per candidate.
--   redevelopment_area_event   append-only history: created, added, removed, renamed, closed,
--                              with the candidates, the old and new name, the reason, who, when.
--
-- Contract dates (合同约定日期): the idle rules read a parcel's supply date and agreed start /
-- completion dates. When a plot on the parcel is transferred (出让) or later and has a
-- contract, the contract's dates are the ones in force; the parcel's own columns (the
-- certificate / import) are left as they were and stay visible:
--   parcel_contract_dates      per parcel, the latest contract of a plot at 出让 or later:
--                              supply date (signed, else the date of its 出让 step), agreed
--                              start and completion, the plot and contract number.
--
-- Row-level security for mujun_app as the other area tables: an event is visible when its
-- area is; the view is security_invoker, so supply_contract's and supply_plot's policies hold.

-- --------------------------------------------------------------- areas
ALTER TABLE redevelopment_area
    ADD COLUMN closed_at     timestamptz,
    ADD COLUMN closed_reason text CHECK (closed_reason IS NULL OR
                                         length(btrim(closed_reason)) BETWEEN 1 AND 2000),
    ADD CONSTRAINT redevelopment_area_closed_with_reason
        CHECK ((closed_at IS NULL) = (closed_reason IS NULL));

ALTER TABLE redevelopment_area_member
    DROP CONSTRAINT redevelopment_area_member_pkey,
    DROP CONSTRAINT redevelopment_area_member_candidate_id_key,
    ADD COLUMN member_id   bigserial PRIMARY KEY,
    ADD COLUMN left_at     timestamptz,
    ADD COLUMN left_how    text CHECK (left_how IN ('removed', 'area_closed')),
    ADD COLUMN left_reason text,
    ADD CONSTRAINT redevelopment_area_member_left
        CHECK ((left_at IS NULL) = (left_how IS NULL)
               AND (left_how IS DISTINCT FROM 'removed' OR length(btrim(left_reason)) > 0));
CREATE UNIQUE INDEX redevelopment_area_member_one_open
    ON redevelopment_area_member (candidate_id) WHERE left_at IS NULL;
CREATE INDEX redevelopment_area_member_area_idx ON redevelopment_area_member (area_id);

CREATE TABLE redevelopment_area_event (
    event_id      bigserial PRIMARY KEY,
    area_id       bigint NOT NULL REFERENCES redevelopment_area (area_id),
    action        text NOT NULL CHECK (action IN ('created', 'added', 'removed', 'renamed',
                                                  'closed')),
    candidate_ids bigint[] NOT NULL DEFAULT '{}',
    old_name      text,
    new_name      text,
    reason        text,
    actor         text NOT NULL CHECK (btrim(actor) <> ''),
    at            timestamptz NOT NULL DEFAULT now(),
    CHECK (action NOT IN ('removed', 'closed') OR length(btrim(reason)) > 0),
    CHECK (action <> 'renamed' OR (old_name IS NOT NULL AND new_name IS NOT NULL))
);
CREATE INDEX redevelopment_area_event_area_idx ON redevelopment_area_event (area_id, event_id);
CREATE TRIGGER redevelopment_area_event_no_update BEFORE UPDATE OR DELETE
    ON redevelopment_area_event FOR EACH ROW EXECUTE FUNCTION mujun_append_only();
CREATE TRIGGER redevelopment_area_event_no_truncate BEFORE TRUNCATE
    ON redevelopment_area_event FOR EACH STATEMENT EXECUTE FUNCTION mujun_append_only();

-- the areas recorded before this migration: their creation, from the area row
INSERT INTO redevelopment_area_event (area_id, action, candidate_ids, new_name, actor, at)
SELECT a.area_id, 'created',
       coalesce((SELECT array_agg(m.candidate_id ORDER BY m.candidate_id)
                 FROM redevelopment_area_member m WHERE m.area_id = a.area_id), '{}'),
       a.name, a.created_by, a.created_at
FROM redevelopment_area a ORDER BY a.area_id;

ALTER TABLE redevelopment_area_event ENABLE ROW LEVEL SECURITY;
CREATE POLICY redevelopment_area_event_read ON redevelopment_area_event FOR SELECT TO mujun_app
    USING (EXISTS (SELECT 1 FROM redevelopment_area a
                   WHERE a.area_id = redevelopment_area_event.area_id));
GRANT SELECT ON redevelopment_area_event TO mujun_app;

-- ------------------------------------------------------- contract dates
CREATE VIEW parcel_contract_dates WITH (security_invoker = true) AS
SELECT DISTINCT ON (x.parcel_code) x.*
FROM (SELECT c.parcel_code, c.plot_id, s.code AS plot_code, c.contract_no,
             coalesce(c.signed_date,
                      (SELECT max(e.on_date) FROM supply_plot_event e
                       WHERE e.plot_id = c.plot_id AND e.to_status = 'transferred'))
                 AS supply_date,
             c.start_by AS agreed_start_date, c.complete_by AS agreed_finish_date
      FROM supply_contract c JOIN supply_plot s USING (plot_id)
      WHERE s.status NOT IN ('reserve', 'preparation', 'assessment', 'indicators',
                             'announced')) x
ORDER BY x.parcel_code, x.supply_date DESC NULLS LAST, x.plot_id DESC;
GRANT SELECT ON parcel_contract_dates TO mujun_app;

-- ------------------------------------------- going back from 出让 (the supply page)
-- A plot that goes back from 出让 (or later) to an earlier step gives the candidate it
-- closed on transfer its decision back (scoring.land_status.supply.plots.advance): the app may
-- reopen such a candidate to 'approved' (clearing closed_reason) and record it as itself.
CREATE POLICY candidate_supply_undone ON candidate FOR UPDATE TO mujun_app
    USING ((SELECT mujun_can('supply'))
           AND EXISTS (SELECT 1 FROM supply_plot p WHERE p.candidate_id = candidate.candidate_id))
    WITH CHECK (status = 'approved' AND closed_reason IS NULL AND (SELECT mujun_can('supply'))
                AND EXISTS (SELECT 1 FROM supply_plot p
                            WHERE p.candidate_id = candidate.candidate_id));
CREATE POLICY review_event_supply_undone ON review_event FOR INSERT TO mujun_app
    WITH CHECK ((SELECT mujun_can('supply')) AND action = 'reopened' AND from_status = 'closed'
                AND to_status = 'approved'
                AND actor = (SELECT username FROM mujun_session_info())
                AND EXISTS (SELECT 1 FROM supply_plot p
                            WHERE p.candidate_id = review_event.candidate_id));
