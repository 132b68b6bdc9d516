-- 0032 redevelopment areas (片区): candidates grouped into an area with a chosen way of
-- revitalizing them, a planned month and a target area; "one firm, one plan" (一企一策)
-- notes for the class-D and low-efficiency firms in it.
--
-- redevelopment_area       name (unique), method (land_status.area_method), planned month
--                          (first day of the month), target in mu (> 0), the outline (the
--                          polygon given, else the union of the member parcels).
-- redevelopment_area_member  which candidates are in which area; a candidate is in one
--                          area at most.
-- firm_plan_note           a note of the plan for one firm of an area, append-only (a
--                          revised plan is a new note), with its author and time.
--
-- Area reclaimed and progress are computed when read: from the members' parcels and the
-- 'approved' decisions in review_event (0009), so they can never drift from the decisions.
--
-- Row-level security for mujun_app (owners and superusers bypass it), as 0013/0014:
--   redevelopment_area         visible when one of its candidates is visible
--   redevelopment_area_member  visible when its candidate is visible
--   firm_plan_note             visible when its area is visible; the app may add one with
--                              'decide', as itself (author = session user), for a visible area

CREATE TABLE redevelopment_area (
    area_id     bigserial PRIMARY KEY,
    name        text NOT NULL UNIQUE CHECK (btrim(name) <> '' AND length(name) <= 200),
    method      text NOT NULL CHECK (method IN ('upgrade', 'merge', 'reclaim', 'cluster', 'close')),
    planned     date NOT NULL CHECK (extract(day FROM planned) = 1),
    target_mu   double precision NOT NULL CHECK (target_mu > 0 AND target_mu < 1e9),
    geom        geometry(MultiPolygon) NOT NULL CHECK (ST_SRID(geom) > 0),
    source      text,                          -- the polygon file, when drawn from one
    created_by  text NOT NULL CHECK (created_by <> ''),
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX redevelopment_area_geom_idx ON redevelopment_area USING gist (geom);

CREATE TABLE redevelopment_area_member (
    area_id      bigint NOT NULL REFERENCES redevelopment_area (area_id),
    candidate_id bigint NOT NULL UNIQUE REFERENCES candidate (candidate_id),
    added_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (area_id, candidate_id)
);

CREATE TABLE firm_plan_note (
    note_id     bigserial PRIMARY KEY,
    area_id     bigint NOT NULL REFERENCES redevelopment_area (area_id),
    credit_code char(18) NOT NULL,
    at          timestamptz NOT NULL DEFAULT now(),
    author      text NOT NULL CHECK (btrim(author) <> ''),
    note        text NOT NULL CHECK (length(btrim(note)) BETWEEN 1 AND 5000)
);
CREATE INDEX firm_plan_note_area_idx ON firm_plan_note (area_id, credit_code, note_id);

-- One guard for append-only tables, naming the table in its message (later append-only
-- tables can use it too instead of a function of their own).
CREATE FUNCTION mujun_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' AND pg_has_role(current_user,
            (SELECT relowner FROM pg_class WHERE oid = TG_RELID), 'MEMBER') THEN
        RETURN NULL;       -- the table owner may empty it (a test database, `mujun db reset`)
    END IF;
    RAISE EXCEPTION '% is append-only: % is not allowed (record a new row instead)',
        TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER firm_plan_note_no_update BEFORE UPDATE OR DELETE ON firm_plan_note
    FOR EACH ROW EXECUTE FUNCTION mujun_append_only();
CREATE TRIGGER firm_plan_note_no_truncate BEFORE TRUNCATE ON firm_plan_note
    FOR EACH STATEMENT EXECUTE FUNCTION mujun_append_only();

-- ------------------------------------------------------ row-level security
ALTER TABLE redevelopment_area_member ENABLE ROW LEVEL SECURITY;
CREATE POLICY redevelopment_area_member_scope ON redevelopment_area_member FOR SELECT
    TO mujun_app USING (EXISTS (SELECT 1 FROM candidate c
                                WHERE c.candidate_id = redevelopment_area_member.candidate_id));

ALTER TABLE redevelopment_area ENABLE ROW LEVEL SECURITY;
CREATE POLICY redevelopment_area_scope ON redevelopment_area FOR SELECT TO mujun_app USING (
    (SELECT mujun_scope_all())
    OR EXISTS (SELECT 1 FROM redevelopment_area_member m
               WHERE m.area_id = redevelopment_area.area_id));

ALTER TABLE firm_plan_note ENABLE ROW LEVEL SECURITY;
CREATE POLICY firm_plan_note_read ON firm_plan_note FOR SELECT TO mujun_app
    USING (EXISTS (SELECT 1 FROM redevelopment_area a WHERE a.area_id = firm_plan_note.area_id));
CREATE POLICY firm_plan_note_write ON firm_plan_note FOR INSERT TO mujun_app
    WITH CHECK ((SELECT mujun_can('decide'))
                AND author = (SELECT username FROM mujun_session_info())
                AND EXISTS (SELECT 1 FROM redevelopment_area a
                            WHERE a.area_id = firm_plan_note.area_id));

-- ------------------------------------------------------------------ grants
GRANT SELECT ON redevelopment_area, redevelopment_area_member, firm_plan_note TO mujun_app;
GRANT INSERT (area_id, credit_code, author, note) ON firm_plan_note TO mujun_app;
GRANT USAGE ON SEQUENCE firm_plan_note_note_id_seq TO mujun_app;

-- ------------------------------------------------- the 'supply' permission
-- Planners (and admins) may edit standard-land plots in the review app's supply page: their
-- supply information and their step in the pipeline (maps/review/permissions.py holds the
-- same list). The table grants and policies that use it follow the supply tables (0035).
CREATE OR REPLACE FUNCTION mujun_role_can(role text, permission text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT EXISTS (SELECT 1 FROM (VALUES
        ('viewer', 'view'),
        ('technician', 'view'), ('technician', 'field_note'),
        ('planner', 'view'), ('planner', 'export'), ('planner', 'figures'),
        ('planner', 'supply'),
        ('official', 'view'), ('official', 'decide'), ('official', 'export'),
        ('official', 'figures'), ('official', 'appeal'),
        ('admin', 'view'), ('admin', 'field_note'), ('admin', 'export'), ('admin', 'figures'),
        ('admin', 'decide'), ('admin', 'users'), ('admin', 'appeal'),
        ('admin', 'supply')) AS t (r, p)
        WHERE t.r = $1 AND t.p = $2)
$$;
