"""The ``postgis`` engine: the kernel's rules as SQL, run inside the database.

Same rules as :mod:`parcels.occupancy.kernel` (read its docstring), in three statements:

1. pieces of overlapping footprints: a parallel self-join finds the pairs whose
   interiors intersect (stored per footprint generation in ``footprint_overlap`` and
   reused while the footprints are unchanged: the self-join is ~10 s per million
   footprints); each footprint that overlaps higher-ranked ones (weight, then id) is
   cut to ``ST_Difference(geom, ST_Union(higher))`` into the unlogged scratch table
   ``occupancy_piece`` (few rows: only dirty overlaps);
2. the parcel × footprint join (GiST), grouped by parcel: each pair goes once through
   ``mujun_occupancy_part`` (gis/db/sql/0003_occupancy.sql): pairs the parcel contains
   properly are summed whole (``ST_Area`` of the footprint), only boundary pairs are
   intersected (``ST_Intersection``) and tested for slivers. (Written as nested
   subqueries instead, PostgreSQL flattens them and evaluates the intersection once
   per reference: 5× slower.)

The join is written as a plain inner join (a ``LEFT JOIN LATERAL`` never plans in
parallel) and runs with parallel-query costs lowered for this transaction only
(``SET LOCAL``), so PostgreSQL plans a Gather over a parallel scan of ``parcel``.
Parcels without footprints are filled in from a second, cheap query.

**Surveys.** Given the run's :class:`~parcels.surveys.SurveyScope` (which survey each
parcel rests on, decided once by :func:`parcels.surveys.assign_surveys`), the join pairs
each parcel only with footprints of its own survey (the scope is sent as two arrays
and joined to ``parcel``), and only overlaps between footprints of the same survey are
cut into pieces: exactly the ``vector`` engine's per-survey kernel. Parcels resting on
no survey get no footprints.
"""

from __future__ import annotations

import logging
import secrets
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from parcels.occupancy.kernel import COUNT_SLACK, DEFAULT_OPTIONS, RESULT_COLUMNS, KernelOptions
from parcels.surveys import NO_SURVEY

if TYPE_CHECKING:
    import psycopg

    from gis.progress import Progress
    from parcels.surveys import SurveyScope

log = logging.getLogger(__name__)

#: Session settings that let PostgreSQL plan the join in parallel (SET LOCAL).
PARALLEL_SETTINGS = {
    "parallel_setup_cost": "0",
    "parallel_tuple_cost": "0",
    "min_parallel_table_scan_size": "0",
    "min_parallel_index_scan_size": "0",
}

_WEIGHT = "mujun_floor_weight({t}.height_m, {t}.storeys, %(storey_h)s)"

#: Survey of both footprints of a pair (-1: none): pairs of two surveys never interact.
_PAIR_SURVEYS = "coalesce(a.survey_id, -1), coalesce(b.survey_id, -1)"

#: Pairs of footprints whose interiors intersect (each pair once), with their weights
#: and surveys; a plain SELECT, so it runs in parallel (an INSERT ... SELECT would not,
#: in PG 15).
OVERLAPS_SQL = f"""
SELECT a.footprint_id, b.footprint_id, {_WEIGHT.format(t="a")}, {_WEIGHT.format(t="b")},
       {_PAIR_SURVEYS}
FROM footprint a
JOIN footprint b ON ST_Intersects(a.geom, b.geom) AND b.footprint_id - a.footprint_id > 0
WHERE NOT ST_Touches(a.geom, b.geom)
"""

#: The same pairs from the store of an earlier computation (migration 0006).
CACHED_OVERLAPS_SQL = f"""
SELECT a.footprint_id, b.footprint_id, {_WEIGHT.format(t="a")}, {_WEIGHT.format(t="b")},
       {_PAIR_SURVEYS}
FROM footprint_overlap o
JOIN footprint a ON a.footprint_id = o.a_id
JOIN footprint b ON b.footprint_id = o.b_id
WHERE o.generation = %(generation)s
"""

#: Pieces of the lower-ranked footprint of each pair: few rows, only dirty overlaps.
PIECES_SQL = """
INSERT INTO occupancy_piece (token, footprint_id, geom)
SELECT %(token)s, a.footprint_id, ST_Difference(a.geom, ST_Union(b.geom))
FROM unnest(%(low)s::bigint[], %(high)s::bigint[]) AS pr (low, high)
JOIN footprint a ON a.footprint_id = pr.low
JOIN footprint b ON b.footprint_id = pr.high
GROUP BY a.footprint_id, a.geom
"""

_SUMS = f"""
SELECT p.parcel_id,
       sum(CASE WHEN x.sliver THEN 0 ELSE x.area END) AS built_m2,
       sum(CASE WHEN x.sliver THEN x.area ELSE 0 END) AS sliver_m2,
       sum(CASE WHEN x.sliver THEN 0 ELSE x.area END * {_WEIGHT.format(t="f")}) AS floor_area_m2,
       count(*) FILTER (WHERE NOT x.sliver AND x.area > 0
                        AND x.area >= %(ratio)s * f.area_m2 * (1 - %(slack)s)) AS n_buildings
FROM parcel p
"""
_PIECES = """
LEFT JOIN occupancy_piece o ON o.token = %(token)s AND o.footprint_id = f.footprint_id
CROSS JOIN LATERAL mujun_occupancy_part(p.geom, COALESCE(o.geom, f.geom), %(tol)s) AS x
GROUP BY p.parcel_id
"""

#: Every parcel with every footprint (no survey recorded: every footprint counts).
JOIN_SQL = _SUMS + "JOIN footprint f ON ST_Intersects(p.geom, f.geom)" + _PIECES

#: Each parcel with the footprints of the survey it rests on (``%(parcels)s``,
#: ``%(surveys)s``: parallel arrays; parcels resting on no survey are left out).
SCOPED_JOIN_SQL = (
    _SUMS
    + "JOIN unnest(%(parcels)s::bigint[], %(surveys)s::bigint[]) AS s (parcel_id, survey_id)"
    " ON s.parcel_id = p.parcel_id\n"
    "JOIN footprint f ON ST_Intersects(p.geom, f.geom) AND f.survey_id = s.survey_id"
    + _PIECES)

PARCELS_SQL = """
SELECT parcel_id, parcel_code, ST_Area(geom) AS area_m2, cert_area_m2
FROM parcel ORDER BY parcel_id
"""


def ranked_pairs(pairs: list[tuple]) -> tuple[list[int], list[int]]:
    """Split overlapping pairs ``(id_a, id_b, w_a, w_b, ...)`` (``id_a < id_b``) into
    (lower-ranked, higher-ranked) ids: higher weight wins, then the smaller id."""
    low, high = [], []
    for a, b, wa, wb, *_ in pairs:
        if wb > wa:
            low.append(a)
            high.append(b)
        else:                        # wa > wb, or equal weights: the smaller id (a) wins
            low.append(b)
            high.append(a)
    return low, high


def set_parallel(conn: psycopg.Connection, workers: int | None = None) -> None:
    """Lower parallel-query costs for the current transaction (``SET LOCAL``)."""
    values = dict(PARALLEL_SETTINGS)
    if workers is not None:
        values["max_parallel_workers_per_gather"] = str(int(workers))
    for name, value in values.items():
        conn.execute("SELECT set_config(%s, %s, true)", (name, value))


def same_survey_pairs(pairs: list[tuple], surveys: list[int]) -> list[tuple]:
    """The pairs ``(..., survey_a, survey_b)`` of two footprints of one of ``surveys``.

    >>> same_survey_pairs([(1, 2, 1.0, 1.0, 7, 7), (1, 3, 1.0, 1.0, 7, 8),
    ...                    (4, 5, 1.0, 1.0, 9, 9)], [7, 8])
    [(1, 2, 1.0, 1.0, 7, 7)]
    """
    wanted = set(surveys)
    return [p for p in pairs if p[4] == p[5] and p[4] in wanted]


def overlapping_pairs(conn: psycopg.Connection, params: dict[str, Any]) -> list[tuple]:
    """``(id_a, id_b, weight_a, weight_b, survey_a, survey_b)`` of footprints whose
    interiors intersect (survey -1: none).

    Taken from ``footprint_overlap`` when stored for the footprint table's current
    generation; otherwise found by the self-join and stored under it (older
    generations are dropped).
    """
    row = conn.execute("SELECT generation FROM input_state WHERE table_name = 'footprint'"
                       ).fetchone()
    generation = int(row[0]) if row else None
    if generation is not None:
        known = conn.execute("SELECT n_pairs FROM footprint_overlap_state"
                             " WHERE generation = %s", (generation,)).fetchone()
        if known is not None:
            log.info("footprint overlaps of generation %d reused (%d pairs)", generation,
                     known[0])
            return conn.execute(CACHED_OVERLAPS_SQL,
                                {**params, "generation": generation}).fetchall()
    pairs = conn.execute(OVERLAPS_SQL, params).fetchall()
    if generation is not None:
        conn.execute("DELETE FROM footprint_overlap_state WHERE generation <> %s",
                     (generation,))
        stored = conn.execute(
            "INSERT INTO footprint_overlap_state (generation, n_pairs) VALUES (%s, %s)"
            " ON CONFLICT (generation) DO NOTHING RETURNING generation",
            (generation, len(pairs))).fetchone()
        if stored and pairs:
            conn.execute(
                "INSERT INTO footprint_overlap (generation, a_id, b_id)"
                " SELECT %s, a, b FROM unnest(%s::bigint[], %s::bigint[]) AS t (a, b)",
                (generation, [p[0] for p in pairs], [p[1] for p in pairs]))
    return pairs


def postgis_occupancy(conn: psycopg.Connection, options: KernelOptions = DEFAULT_OPTIONS,
                      *, workers: int | None = None, scope: SurveyScope | None = None,
                      progress: Progress | None = None) -> pd.DataFrame:
    """Per-parcel occupancy computed in PostGIS (same table as the kernel).

    Parameters
    ----------
    conn : psycopg.Connection
        Runs inside the caller's transaction; scratch rows are removed before returning.
    options : KernelOptions
    workers : int, optional
        ``max_parallel_workers_per_gather`` for this transaction (default: server's).
    scope : SurveyScope, optional
        Which survey each parcel rests on (:func:`parcels.surveys.assign_surveys`):
        each parcel is computed with its survey's footprints only, and the result has
        ``survey_id`` (-1: none). Default: every footprint.
    progress : callable, optional
        Called once with the number of parcels when done.

    Returns
    -------
    DataFrame
        One row per parcel ordered by ``parcel_id``, columns ``RESULT_COLUMNS`` (and
        ``survey_id`` with a selecting ``scope``).
    """
    from gis.db.connection import translate_errors

    token = secrets.randbits(62)
    params = {"token": token, "storey_h": options.storey_height_m,
              "ratio": options.min_overlap_ratio, "tol": options.sliver_tolerance_m,
              "slack": COUNT_SLACK}
    selects = scope is not None and not scope.legacy
    join = JOIN_SQL
    if selects:
        surveyed = scope.survey_ids != NO_SURVEY
        join = SCOPED_JOIN_SQL
        params.update(parcels=scope.parcel_ids[surveyed].tolist(),
                      surveys=scope.survey_ids[surveyed].tolist())
    with translate_errors("computing occupancy in PostGIS"):
        set_parallel(conn, workers)
        pairs = overlapping_pairs(conn, params)
        if selects:
            pairs = same_survey_pairs(pairs, scope.surveys_used())
        if pairs:
            low, high = ranked_pairs(pairs)
            cur = conn.execute(PIECES_SQL, {**params, "low": low, "high": high})
            log.info("%d overlapping footprints cut into pieces", cur.rowcount)
        conn.execute("ANALYZE occupancy_piece")
        with conn.cursor() as c:
            c.execute(join, params)
            joined = c.fetchall()
        with conn.cursor() as c:
            c.execute(PARCELS_SQL)
            parcels = c.fetchall()
        conn.execute("DELETE FROM occupancy_piece WHERE token = %s", (token,))
    base = pd.DataFrame(parcels, columns=["parcel_id", "parcel_code", "area_m2", "cert_area_m2"])
    sums = pd.DataFrame(joined, columns=["parcel_id", "built_m2", "sliver_m2", "floor_area_m2",
                                         "n_buildings"])
    out = base.merge(sums, on="parcel_id", how="left")
    for col in ("built_m2", "sliver_m2", "floor_area_m2"):
        out[col] = pd.to_numeric(out[col]).astype("float64").fillna(0.0)
    out["n_buildings"] = pd.to_numeric(out["n_buildings"]).fillna(0).astype("int64")
    out["area_m2"] = out["area_m2"].astype("float64")
    out["cert_area_m2"] = pd.to_numeric(out["cert_area_m2"], errors="coerce").astype("float64")
    area = out["area_m2"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        out["coverage"] = np.where(area > 0, out["built_m2"] / area, np.nan)
        out["far"] = np.where(area > 0, out["floor_area_m2"] / area, np.nan)
    out["cert_diff_m2"] = out["area_m2"] - out["cert_area_m2"]
    if progress is not None:
        progress(len(out))
    if not selects:
        return out[list(RESULT_COLUMNS)]
    out["survey_id"] = scope.survey_of(out["parcel_id"].to_numpy())
    return out[[*RESULT_COLUMNS, "survey_id"]]
