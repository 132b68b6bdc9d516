-- 0037 the yearly flags a firm's file shows as tags: 规上/规下 of the year (the enterprise
-- row keeps only the latest, so "first year above designated size" needs the year's own)
-- and 高新技术企业 (high-tech enterprise) of the year. Both are written by `mujun import
-- enterprises` when the file carries the column; an empty cell keeps the stored value,
-- as for the figures.
ALTER TABLE enterprise_year
    ADD COLUMN size_class text CHECK (size_class IN ('large', 'small')),
    ADD COLUMN high_tech boolean;
