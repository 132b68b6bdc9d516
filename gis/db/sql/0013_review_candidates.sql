-- 0013 review app on candidates: field-check notes and photos, row-level security and
-- grants for the restricted role mujun_app (0011) on the land-status tables (0009)
-- and the scores (0008).
--
-- field_note   a technician's note on a candidate (append-only for the app).
-- field_photo  its photos, re-encoded JPEG/PNG/WebP bytes, reached only through a
--              random photo_key after a permission check (never a file path).
--
-- Policies (for mujun_app only; owners and superusers bypass RLS):
--   candidate     read in scope; update only in scope and with 'decide'
--   review_event  read when its candidate is visible; insert only with 'decide',
--                 for a visible candidate, and as oneself (actor = session user)
--   field_note/photo  read when the candidate is visible; insert with 'field_note'
--   enterprise_score  the app may read the class columns only, never the figures

CREATE TABLE field_note (
    note_id      bigserial PRIMARY KEY,
    candidate_id bigint NOT NULL REFERENCES candidate (candidate_id),
    at           timestamptz NOT NULL DEFAULT now(),
    author       text NOT NULL CHECK (author <> ''),
    note         text NOT NULL CHECK (length(note) BETWEEN 1 AND 5000)
);
CREATE INDEX field_note_candidate_idx ON field_note (candidate_id, note_id);

CREATE TABLE field_photo (
    photo_id     bigserial PRIMARY KEY,
    note_id      bigint NOT NULL REFERENCES field_note (note_id),
    photo_key    text NOT NULL UNIQUE CHECK (length(photo_key) >= 32),
    content_type text NOT NULL CHECK (content_type IN ('image/jpeg', 'image/png', 'image/webp')),
    data         bytea NOT NULL,
    size_bytes   integer NOT NULL CHECK (size_bytes > 0),
    width        integer,
    height       integer,
    sha256       text NOT NULL,
    at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX field_photo_note_idx ON field_photo (note_id);

-- ------------------------------------------------------ row-level security
ALTER TABLE candidate ENABLE ROW LEVEL SECURITY;
CREATE POLICY candidate_scope ON candidate FOR SELECT TO mujun_app USING (
    (SELECT mujun_scope_all())
    OR district = ANY ((SELECT mujun_scope_districts())::text[])
    OR town = ANY ((SELECT mujun_scope_towns())::text[]));
CREATE POLICY candidate_decide ON candidate FOR UPDATE TO mujun_app
    USING ((SELECT mujun_can('decide')) AND (
        (SELECT mujun_scope_all())
        OR district = ANY ((SELECT mujun_scope_districts())::text[])
        OR town = ANY ((SELECT mujun_scope_towns())::text[])))
    WITH CHECK ((SELECT mujun_can('decide')) AND (
        (SELECT mujun_scope_all())
        OR district = ANY ((SELECT mujun_scope_districts())::text[])
        OR town = ANY ((SELECT mujun_scope_towns())::text[])));

ALTER TABLE review_event ENABLE ROW LEVEL SECURITY;
CREATE POLICY review_event_read ON review_event FOR SELECT TO mujun_app
    USING (EXISTS (SELECT 1 FROM candidate c WHERE c.candidate_id = review_event.candidate_id));
CREATE POLICY review_event_write ON review_event FOR INSERT TO mujun_app
    WITH CHECK ((SELECT mujun_can('decide'))
                AND actor = (SELECT username FROM mujun_session_info())
                AND EXISTS (SELECT 1 FROM candidate c
                            WHERE c.candidate_id = review_event.candidate_id));

ALTER TABLE field_note ENABLE ROW LEVEL SECURITY;
CREATE POLICY field_note_read ON field_note FOR SELECT TO mujun_app
    USING (EXISTS (SELECT 1 FROM candidate c WHERE c.candidate_id = field_note.candidate_id));
CREATE POLICY field_note_write ON field_note FOR INSERT TO mujun_app
    WITH CHECK ((SELECT mujun_can('field_note'))
                AND author = (SELECT username FROM mujun_session_info())
                AND EXISTS (SELECT 1 FROM candidate c
                            WHERE c.candidate_id = field_note.candidate_id));

ALTER TABLE field_photo ENABLE ROW LEVEL SECURITY;
CREATE POLICY field_photo_read ON field_photo FOR SELECT TO mujun_app
    USING (EXISTS (SELECT 1 FROM field_note n WHERE n.note_id = field_photo.note_id));
CREATE POLICY field_photo_write ON field_photo FOR INSERT TO mujun_app
    WITH CHECK ((SELECT mujun_can('field_note'))
                AND EXISTS (SELECT 1 FROM field_note n WHERE n.note_id = field_photo.note_id));

-- ------------------------------------------------------------------ grants
GRANT SELECT ON candidate, review_event, field_note, field_photo, survey, survey_change
    TO mujun_app;
GRANT UPDATE (status) ON candidate TO mujun_app;
GRANT INSERT ON review_event, field_note, field_photo TO mujun_app;
GRANT USAGE ON SEQUENCE review_event_event_id_seq, field_note_note_id_seq,
    field_photo_photo_id_seq TO mujun_app;
GRANT SELECT (run_id, credit_code, year, population, name, town, district, class)
    ON enterprise_score TO mujun_app;
