-- 0035 the review app's supply page: what the app role (mujun_app) may write on the
-- standard-land tables of 0033, with the 'supply' permission (0032: planners and admins).
-- The page calls the supply code's own functions (scoring.land_status.supply.plots.set_info and
-- advance); these grants and policies are exactly what those functions write:
--
--   supply_plot        update the supply information, the status and its date (and the
--                      version and time stamp), for a plot in the user's scope;
--   supply_plot_event  insert a step, as oneself (actor = session user), for a visible plot;
--   candidate          a plot reclaimed from a candidate closes it when transferred (出让):
--                      the app may close such a candidate (and only to 'closed') in scope;
--   review_event       and record that closing as oneself.
-- Officials and viewers keep reading only (0033 policies).

GRANT UPDATE (info, status, status_date, version, updated_at) ON supply_plot TO mujun_app;
CREATE POLICY supply_plot_edit ON supply_plot FOR UPDATE TO mujun_app
    USING ((SELECT mujun_can('supply')) AND (
        (SELECT mujun_scope_all())
        OR district = ANY ((SELECT mujun_scope_districts())::text[])
        OR town = ANY ((SELECT mujun_scope_towns())::text[])))
    WITH CHECK ((SELECT mujun_can('supply')) AND (
        (SELECT mujun_scope_all())
        OR district = ANY ((SELECT mujun_scope_districts())::text[])
        OR town = ANY ((SELECT mujun_scope_towns())::text[])));

GRANT INSERT (plot_id, from_status, to_status, on_date, document, reason, actor)
    ON supply_plot_event TO mujun_app;
GRANT USAGE ON SEQUENCE supply_plot_event_event_id_seq TO mujun_app;
CREATE POLICY supply_plot_event_write ON supply_plot_event FOR INSERT TO mujun_app
    WITH CHECK ((SELECT mujun_can('supply'))
                AND actor = (SELECT username FROM mujun_session_info())
                AND EXISTS (SELECT 1 FROM supply_plot p
                            WHERE p.plot_id = supply_plot_event.plot_id));

GRANT UPDATE (closed_reason, run_id) ON candidate TO mujun_app;
CREATE POLICY candidate_supplied ON candidate FOR UPDATE TO mujun_app
    USING ((SELECT mujun_can('supply'))
           AND EXISTS (SELECT 1 FROM supply_plot p WHERE p.candidate_id = candidate.candidate_id))
    WITH CHECK (status = 'closed' AND (SELECT mujun_can('supply'))
                AND EXISTS (SELECT 1 FROM supply_plot p
                            WHERE p.candidate_id = candidate.candidate_id));
CREATE POLICY review_event_supplied ON review_event FOR INSERT TO mujun_app
    WITH CHECK ((SELECT mujun_can('supply')) AND action = 'closed' AND to_status = 'closed'
                AND actor = (SELECT username FROM mujun_session_info())
                AND EXISTS (SELECT 1 FROM supply_plot p
                            WHERE p.candidate_id = review_event.candidate_id));
