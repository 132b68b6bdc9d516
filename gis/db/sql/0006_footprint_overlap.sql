-- 0006 footprint overlaps, kept per footprint generation (0004).
--
-- The postgis occupancy engine needs every pair of footprints whose interiors
-- intersect. Finding them is a parallel self-join of the footprint table, ~10 s per
-- million footprints, usually to learn that there are none; the pairs only change
-- when the footprints do. So they are stored under the footprint table's generation
-- and reused by later runs until the footprints change; storing a new generation
-- drops the old one. Written in the run's transaction: a failed run leaves none.

CREATE TABLE footprint_overlap_state (
    generation  bigint PRIMARY KEY,
    n_pairs     bigint NOT NULL,
    computed_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE footprint_overlap (
    generation  bigint NOT NULL REFERENCES footprint_overlap_state (generation) ON DELETE CASCADE,
    a_id        bigint NOT NULL,      -- the smaller footprint_id of the pair
    b_id        bigint NOT NULL,
    PRIMARY KEY (generation, a_id, b_id)
);
