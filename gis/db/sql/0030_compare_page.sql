-- 0030 review app: the comparison page (two score runs side by side).
--
-- The page compares the classes, totals, item points and land of two stored score runs.
-- Those are figures: the app role still cannot read total, land_m2 or items from
-- enterprise_score itself (the security tests check it). It reads them through the
-- view enterprise_score_figures, which shows a row only when the session's role has 'figures' (planner,
-- official, admin) and the row's district or town is granted to the user (the test of
-- the appeal functions, 0028). The view runs with its owner's rights (not the
-- invoker's), so the checks are in its WHERE clause; security_barrier keeps the
-- caller's own conditions from being evaluated before them.
-- Migration 0029 (the enterprise page) made this view with the columns that page reads;
-- the comparison page needs more of the row, added here after them (the same checks).
CREATE OR REPLACE VIEW enterprise_score_figures WITH (security_barrier) AS
SELECT s.run_id, s.credit_code, s.year, s.total, s.land_m2, s.rank_county, s.rank_town,
       s.rank_industry, s.industry_division, s.rules_fired,
       s.ruleset, s.population, s.name, s.town, s.district, s.class, s.items
FROM enterprise_score s
WHERE (SELECT mujun_can('figures'))
  AND ((SELECT mujun_scope_all())
       OR s.district = ANY ((SELECT mujun_scope_districts())::text[])
       OR s.town = ANY ((SELECT mujun_scope_towns())::text[]));

GRANT SELECT ON enterprise_score_figures TO mujun_app;
