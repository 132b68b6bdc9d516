-- 0029 the enterprise file (一企一档): where each annual figure came from, and what the
-- review app's enterprise page may read.
--
-- Sources: enterprise_year.sources maps each figure (tax_wan, electricity_kwh ...) to the
-- import batch that wrote its current value. A trigger keeps it for every writer (the
-- enterprise import, an upheld data appeal, the sample): on insert every figure given,
-- on update every figure whose value changed; a figure set to NULL loses its source. Rows
-- stored before this migration get their row's batch for every figure they hold (the
-- best that is known).
--
-- The app role (mujun_app), following the visible parcels as 0014 does, and figures only
-- where mujun_can('figures'):
--   occupancy          built area, coverage, FAR of a visible parcel
--   verification_item  warnings of a visible enterprise, with 'figures' (a warning quotes
--                      figures: "用电量高但税收接近零")
--   import_batch       kind, file and date of imports, with 'figures' (the sources of figures)
--   enterprise_score_figures  a view of the score columns the app is not granted on the
--                      table (total, ranks, land, the rules that fired), with 'figures' and
--                      in the user's districts/towns (the score row's own, as class_override)
--   mujun_per_mu_sums(run, code)  Σ figure and Σ scored land of the evaluated firms of the
--                      firm's industry division and town in a run (the per-mu averages of
--                      the file), with 'figures' and for a firm in the user's area only.

-- ------------------------------------------------------------- sources
ALTER TABLE enterprise_year ADD COLUMN sources jsonb NOT NULL DEFAULT '{}'::jsonb;

UPDATE enterprise_year SET sources = jsonb_strip_nulls(jsonb_build_object(
    'tax_wan', CASE WHEN tax_wan IS NOT NULL THEN batch_id END,
    'revenue_wan', CASE WHEN revenue_wan IS NOT NULL THEN batch_id END,
    'value_added_wan', CASE WHEN value_added_wan IS NOT NULL THEN batch_id END,
    'energy_tce', CASE WHEN energy_tce IS NOT NULL THEN batch_id END,
    'electricity_kwh', CASE WHEN electricity_kwh IS NOT NULL THEN batch_id END,
    'rd_wan', CASE WHEN rd_wan IS NOT NULL THEN batch_id END,
    'employees', CASE WHEN employees IS NOT NULL THEN batch_id END,
    'emissions_t', CASE WHEN emissions_t IS NOT NULL THEN batch_id END))
WHERE batch_id IS NOT NULL;

CREATE FUNCTION mujun_enterprise_year_sources() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    ins boolean := TG_OP = 'INSERT';
BEGIN
    IF NEW.batch_id IS NOT NULL THEN
        NEW.sources := CASE WHEN ins THEN coalesce(NEW.sources, '{}'::jsonb)
                            ELSE coalesce(OLD.sources, '{}'::jsonb) END
            || jsonb_strip_nulls(jsonb_build_object(
            'tax_wan', CASE WHEN NEW.tax_wan IS NOT NULL AND (ins OR NEW.tax_wan
                IS DISTINCT FROM OLD.tax_wan) THEN NEW.batch_id END,
            'revenue_wan', CASE WHEN NEW.revenue_wan IS NOT NULL AND (ins OR NEW.revenue_wan
                IS DISTINCT FROM OLD.revenue_wan) THEN NEW.batch_id END,
            'value_added_wan', CASE WHEN NEW.value_added_wan IS NOT NULL AND (ins OR
                NEW.value_added_wan IS DISTINCT FROM OLD.value_added_wan) THEN NEW.batch_id END,
            'energy_tce', CASE WHEN NEW.energy_tce IS NOT NULL AND (ins OR NEW.energy_tce
                IS DISTINCT FROM OLD.energy_tce) THEN NEW.batch_id END,
            'electricity_kwh', CASE WHEN NEW.electricity_kwh IS NOT NULL AND (ins OR
                NEW.electricity_kwh IS DISTINCT FROM OLD.electricity_kwh) THEN NEW.batch_id END,
            'rd_wan', CASE WHEN NEW.rd_wan IS NOT NULL AND (ins OR NEW.rd_wan
                IS DISTINCT FROM OLD.rd_wan) THEN NEW.batch_id END,
            'employees', CASE WHEN NEW.employees IS NOT NULL AND (ins OR NEW.employees
                IS DISTINCT FROM OLD.employees) THEN NEW.batch_id END,
            'emissions_t', CASE WHEN NEW.emissions_t IS NOT NULL AND (ins OR NEW.emissions_t
                IS DISTINCT FROM OLD.emissions_t) THEN NEW.batch_id END));
    END IF;
    NEW.sources := NEW.sources - array_remove(ARRAY[
        CASE WHEN NEW.tax_wan IS NULL THEN 'tax_wan' END,
        CASE WHEN NEW.revenue_wan IS NULL THEN 'revenue_wan' END,
        CASE WHEN NEW.value_added_wan IS NULL THEN 'value_added_wan' END,
        CASE WHEN NEW.energy_tce IS NULL THEN 'energy_tce' END,
        CASE WHEN NEW.electricity_kwh IS NULL THEN 'electricity_kwh' END,
        CASE WHEN NEW.rd_wan IS NULL THEN 'rd_wan' END,
        CASE WHEN NEW.employees IS NULL THEN 'employees' END,
        CASE WHEN NEW.emissions_t IS NULL THEN 'emissions_t' END], NULL);
    RETURN NEW;
END
$$;
CREATE TRIGGER enterprise_year_sources BEFORE INSERT OR UPDATE ON enterprise_year
    FOR EACH ROW EXECUTE FUNCTION mujun_enterprise_year_sources();

-- ------------------------------------------------------ row-level security
ALTER TABLE occupancy ENABLE ROW LEVEL SECURITY;
CREATE POLICY occupancy_scope ON occupancy FOR SELECT TO mujun_app USING (
    (SELECT mujun_scope_all())
    OR EXISTS (SELECT 1 FROM parcel p WHERE p.parcel_code = occupancy.parcel_code));

ALTER TABLE verification_item ENABLE ROW LEVEL SECURITY;
CREATE POLICY verification_item_figures ON verification_item FOR SELECT TO mujun_app USING (
    (SELECT mujun_can('figures'))
    AND length(verification_item.credit_code) <= 18     -- a cast to char(18) would cut it
    AND EXISTS (SELECT 1 FROM enterprise e
                WHERE e.credit_code = verification_item.credit_code::char(18)));

ALTER TABLE import_batch ENABLE ROW LEVEL SECURITY;
CREATE POLICY import_batch_figures ON import_batch FOR SELECT TO mujun_app
    USING ((SELECT mujun_can('figures')));

CREATE VIEW enterprise_score_figures WITH (security_barrier) AS
    SELECT s.run_id, s.credit_code, s.year, s.total, s.land_m2, s.rank_county, s.rank_town,
           s.rank_industry, s.industry_division, s.rules_fired
    FROM enterprise_score s
    WHERE (SELECT mujun_can('figures')) AND (
        (SELECT mujun_scope_all())
        OR s.district = ANY ((SELECT mujun_scope_districts())::text[])
        OR s.town = ANY ((SELECT mujun_scope_towns())::text[]));

CREATE FUNCTION mujun_per_mu_sums(p_run bigint, p_code text)
RETURNS TABLE (grp text, field text, figure_sum double precision, land_m2_sum double precision)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    WITH me AS (
        SELECT s.town, s.industry_division FROM enterprise_score s
        WHERE s.run_id = p_run AND s.credit_code = p_code AND mujun_can('figures')
          AND (mujun_scope_all() OR s.district = ANY (mujun_scope_districts())
               OR s.town = ANY (mujun_scope_towns()))),
    f AS (
        SELECT s.town = me.town AS same_town,
               s.industry_division = me.industry_division AS same_industry,
               s.land_m2, v.field, v.value
        FROM me, enterprise_score s
        JOIN enterprise_year y ON y.credit_code = s.credit_code AND y.year = s.year
        CROSS JOIN LATERAL (VALUES ('tax_wan', y.tax_wan), ('value_added_wan', y.value_added_wan),
                                   ('revenue_wan', y.revenue_wan)) AS v (field, value)
        WHERE s.run_id = p_run AND s.population IS NOT NULL AND s.land_m2 > 0
          AND v.value IS NOT NULL)
    SELECT 'industry_division', field, sum(value), sum(land_m2) FROM f WHERE same_industry
    GROUP BY field
    UNION ALL
    SELECT 'town', field, sum(value), sum(land_m2) FROM f WHERE same_town GROUP BY field
$$;
REVOKE ALL ON FUNCTION mujun_per_mu_sums(bigint, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION mujun_per_mu_sums(bigint, text) TO mujun_app;

-- ------------------------------------------------------------------ grants
GRANT SELECT ON occupancy, verification_item, enterprise_score_figures TO mujun_app;
GRANT SELECT (batch_id, kind, source, started_at, finished_at) ON import_batch TO mujun_app;
