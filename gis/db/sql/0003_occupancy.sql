-- 0003 occupancy: per-parcel and per-enterprise results of occupancy runs.
--
-- Every row belongs to a run (run.kind = 'occupancy'); the primary keys make a
-- re-run unable to duplicate rows, and past runs stay queryable. Rules and
-- column meanings: parcels/occupancy/kernel.py and parcels/occupancy/tenants.py.

CREATE TABLE occupancy (
    run_id        bigint NOT NULL REFERENCES run (run_id) ON DELETE CASCADE,
    parcel_code   text NOT NULL,
    area_m2       double precision NOT NULL,     -- measured (geometry) area
    cert_area_m2  double precision,              -- certificate area
    cert_diff_m2  double precision,              -- measured minus certificate
    built_m2      double precision NOT NULL,     -- exact area of footprints ∩ parcel, overlaps once
    sliver_m2     double precision NOT NULL,     -- misregistration slivers not counted as built
    coverage      double precision,              -- 建筑系数 = built / measured area
    floor_area_m2 double precision NOT NULL,     -- built × storeys (storeys > 8 m count double)
    far           double precision,              -- 容积率 = floor area / measured area
    n_buildings   integer NOT NULL,
    PRIMARY KEY (run_id, parcel_code)
);

CREATE TABLE enterprise_land (
    run_id        bigint NOT NULL REFERENCES run (run_id) ON DELETE CASCADE,
    year          smallint NOT NULL CHECK (year BETWEEN 1990 AND 2100),
    credit_code   char(18) NOT NULL,
    land_m2       double precision NOT NULL,     -- occupied land (basis: run.params.area_basis)
    built_m2      double precision NOT NULL,
    floor_area_m2 double precision NOT NULL,
    n_parcels     integer NOT NULL,
    role          text NOT NULL,                 -- owner, tenant or owner+tenant
    merged_into   char(18),                      -- merge_with_holder: the holder sharing the result
    PRIMARY KEY (run_id, year, credit_code)
);
CREATE INDEX enterprise_land_credit_idx ON enterprise_land (credit_code, year);

-- Scratch space of the postgis engine: pieces of overlapping footprints, keyed by a
-- per-computation token. Unlogged (not temporary) so parallel workers can read it.
CREATE UNLOGGED TABLE occupancy_piece (
    token        bigint NOT NULL,
    footprint_id bigint NOT NULL,
    geom         geometry NOT NULL,
    PRIMARY KEY (token, footprint_id)
);

-- Floor-area weight of a footprint (parcels/occupancy/storeys.py, same formula):
-- storeys = recorded (> 0), else round-half-up(height / storey height) (>= 1), else 1;
-- doubled when height / storeys > double_height_m (8 m, 2008 control indicators).
-- One expression (no FROM), so the planner inlines it into queries.
CREATE FUNCTION mujun_floor_weight(height_m double precision, storeys double precision,
                                   storey_height_m double precision,
                                   double_height_m double precision DEFAULT 8.0)
RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT (CASE WHEN storeys > 0 AND storeys <> 'NaN' THEN floor(storeys)
                 WHEN height_m > 0 AND height_m <> 'NaN'
                      THEN greatest(1.0, floor(height_m / storey_height_m + 0.5))
                 ELSE 1.0 END)
         * (CASE WHEN height_m > 0 AND height_m <> 'NaN'
                      AND height_m / (CASE WHEN storeys > 0 AND storeys <> 'NaN' THEN floor(storeys)
                                           ELSE greatest(1.0, floor(height_m / storey_height_m + 0.5))
                                      END) > double_height_m
                 THEN 2.0 ELSE 1.0 END)
$$;

-- One (parcel, footprint piece) pair of the postgis engine, evaluated once per pair
-- (plpgsql, so the planner cannot inline it and compute the intersection twice):
-- area = the whole piece when the parcel contains it properly, else area(parcel ∩ piece);
-- sliver = the part's mean width 2 × area / boundary length is below tol and the parcel
-- does not cover the piece.
CREATE FUNCTION mujun_occupancy_part(parcel geometry, piece geometry, tol double precision,
                                     OUT area double precision, OUT sliver boolean)
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    part geometry;
BEGIN
    IF ST_ContainsProperly(parcel, piece) THEN
        area := ST_Area(piece);
        sliver := false;
        RETURN;
    END IF;
    part := ST_Intersection(parcel, piece);
    area := ST_Area(part);
    sliver := tol > 0 AND area > 0
              AND 2.0 * area < tol * (ST_Perimeter(part) + ST_Length(part))
              AND NOT ST_Covers(parcel, piece);
END
$$;
