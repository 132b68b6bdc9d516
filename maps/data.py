"""Read what maps and exports show from PostGIS: one GeoDataFrame per layer.

Every reader takes an open connection (never opens one) and returns a frame in the
working CRS with plain column names (aliases in :mod:`maps.fields`). Per-mu figures
are plain ratios of the stored records to the occupied land of the occupancy run
(``tax_wan / land_mu``); classes and ranks come from the scoring helper's
``enterprise_score`` table when a score run exists (this package computes no score).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gis.crs import SQM_PER_MU
from gis.errors import DataError
from gis.run_terms import RUN_KINDS, RUN_STATUS

if TYPE_CHECKING:
    import geopandas as gpd
    import psycopg

log = logging.getLogger(__name__)



@dataclass(frozen=True)
class Context:
    """The runs and year a layer is read for (resolved once, shown in titles and sources)."""

    occupancy_run: int | None
    year: int | None
    score_run: int | None
    candidate_run: int | None = None
    year_given: bool = False
    #: Row filters a reader understands (the candidates layer: kind, town, status).
    filters: dict[str, Any] = field(default_factory=dict)
    #: The policy run (the policy layer); ``None``: the latest.
    policy_run: int | None = None


def table_exists(conn: psycopg.Connection, name: str) -> bool:
    """Whether a table exists in the current schema (later migrations add some)."""
    return conn.execute("SELECT to_regclass(%s) IS NOT NULL", (name,)).fetchone()[0]


def column_exists(conn: psycopg.Connection, table: str, column: str) -> bool:
    return conn.execute(
        "SELECT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = "
        "current_schema() AND table_name = %s AND column_name = %s)", (table, column)
    ).fetchone()[0]


def latest_run(conn: psycopg.Connection, kind: str) -> int | None:
    row = conn.execute("SELECT max(run_id) FROM run WHERE kind = %s AND status = 'done'",
                       (kind,)).fetchone()
    return None if row[0] is None else int(row[0])


def resolve_context(conn: psycopg.Connection, *, run_id: int | None = None,
                    year: int | None = None, score_run: int | None = None,
                    run_kind: str = "occupancy",
                    filters: dict[str, Any] | None = None) -> Context:
    """Runs to read: ``run_id`` is of ``run_kind`` (occupancy, score or candidates).

    Raises
    ------
    DataError
        The run does not exist, is of another kind or did not finish.
    """
    year_given = year is not None
    if run_id is not None:
        row = conn.execute("SELECT kind, status, params FROM run WHERE run_id = %s",
                           (run_id,)).fetchone()
        if row is None:
            raise DataError(f"第 {run_id} 次运行不存在（--run）；`mujun {run_kind} runs` "
                            "列出全部运行")
        if row[0] != run_kind:
            raise DataError(f"第 {run_id} 次运行是{RUN_KINDS.label(row[0])}，不是"
                            f"{RUN_KINDS.label(run_kind)}（--run）")
        if row[1] != "done":
            raise DataError(f"第 {run_id} 次运行未完成（状态：{RUN_STATUS.label(row[1])}）")
    occ = run_id if run_kind == "occupancy" and run_id else None
    score = score_run if score_run else (run_id if run_kind == "score" and run_id else None)
    if score is None and table_exists(conn, "enterprise_score"):
        if run_kind == "score" and year is not None:
            from scoring.store import latest_score_run

            score = latest_score_run(conn, year)
            if score is None:
                raise DataError(f"尚无 {year} 年的亩均效益评价（--year）；请先运行 `mujun "
                                f"score --ruleset 规则 --year {year}`")
        else:
            score = latest_run(conn, "score")
    if score is not None and occ is None:
        params = conn.execute("SELECT params FROM run WHERE run_id = %s", (score,)).fetchone()
        occ = (params[0] or {}).get("occupancy_run") if params else None
        if year is None and params and (params[0] or {}).get("year"):
            year = int(params[0]["year"])
    if occ is None:
        occ = latest_run(conn, "occupancy")
    if year is None and occ is not None:
        row = conn.execute("SELECT max(year) FROM enterprise_land WHERE run_id = %s",
                           (occ,)).fetchone()
        year = None if row[0] is None else int(row[0])
    cand = run_id if run_kind == "candidates" and run_id else None
    return Context(occ, year, score, cand, year_given, dict(filters or {}),
                   run_id if run_kind == "policy" and run_id else None)


def _need_occupancy(ctx: Context) -> int:
    if ctx.occupancy_run is None:
        raise DataError("尚无占地测算；请先运行 `mujun occupancy`")
    return ctx.occupancy_run


def _park_sql(conn: psycopg.Connection) -> str:
    return "p.park" if column_exists(conn, "parcel", "park") else "NULL::text AS park"


def _score_join(conn: psycopg.Connection, ctx: Context, alias: str = "s",
                code: str = "h.credit_code") -> tuple[str, str, list[Any]]:
    """Columns and join for the class of an enterprise when a score run exists."""
    if ctx.score_run is None or not table_exists(conn, "enterprise_score"):
        return ("NULL::text AS class, NULL::float8 AS total", "", [])
    cols = f"{alias}.class, {alias}.total"
    join = (f" LEFT JOIN enterprise_score {alias} ON {alias}.run_id = %s "
            f"AND {alias}.credit_code = {code}")
    return cols, join, [ctx.score_run]


def read_parcels(conn: psycopg.Connection, ctx: Context, *,
                 simplify_m: float | None = None) -> gpd.GeoDataFrame:
    """Parcels with occupancy, their main holder, its industry, per-mu figures and class.

    One row per parcel of the occupancy run. The holder is the owner with the largest
    share (ties: the smaller credit code); the per-mu figures are the holder's.
    """
    from gis.db.copy import read_frame

    occ = _need_occupancy(ctx)
    score_cols, score_join, score_params = _score_join(conn, ctx)
    geom = "ST_SimplifyPreserveTopology(p.geom, %s) AS geom" if simplify_m else "p.geom"
    geom_params = [simplify_m] if simplify_m else []
    query = f"""
        WITH holder AS (
            SELECT DISTINCT ON (parcel_code) parcel_code, credit_code
            FROM land_right WHERE right_type = 'owner'
            ORDER BY parcel_code, share DESC NULLS LAST, credit_code)
        SELECT o.parcel_code, p.town, p.district, {_park_sql(conn)}, p.land_use_code,
               o.area_m2, o.area_m2 / {SQM_PER_MU} AS area_mu, o.built_m2, o.coverage, o.far,
               o.n_buildings, h.credit_code, e.name, e.industry_code,
               left(regexp_replace(e.industry_code, '^[A-Za-z]', ''), 2) AS division,
               el.land_m2, el.land_m2 / {SQM_PER_MU} AS land_mu,
               y.tax_wan, y.revenue_wan, y.value_added_wan,
               y.tax_wan / NULLIF(el.land_m2 / {SQM_PER_MU}, 0) AS tax_per_mu,
               y.revenue_wan / NULLIF(el.land_m2 / {SQM_PER_MU}, 0) AS revenue_per_mu,
               y.value_added_wan / NULLIF(el.land_m2 / {SQM_PER_MU}, 0) AS value_added_per_mu,
               {score_cols}, {geom}
        FROM occupancy o
        JOIN parcel p USING (parcel_code)
        LEFT JOIN holder h USING (parcel_code)
        LEFT JOIN enterprise e ON e.credit_code = h.credit_code
        LEFT JOIN enterprise_land el ON el.run_id = o.run_id AND el.year = %s
             AND el.credit_code = h.credit_code
        LEFT JOIN enterprise_year y ON y.credit_code = h.credit_code AND y.year = %s
        {score_join}
        WHERE o.run_id = %s
        ORDER BY o.parcel_code"""
    params = [*geom_params, ctx.year, ctx.year, *score_params, occ]
    frame = read_frame(conn, query, params)
    frame["credit_code"] = frame["credit_code"].str.strip()
    return frame


def read_enterprises(conn: psycopg.Connection, ctx: Context) -> gpd.GeoDataFrame:
    """Enterprises with land in the occupancy run, at the union of their parcels, with scores."""
    from gis.db.copy import read_frame

    occ = _need_occupancy(ctx)
    has_score = ctx.score_run is not None and table_exists(conn, "enterprise_score")
    score_cols = ("s.class, s.total, s.population, s.rank_county, s.rank_town, "
                  "s.rank_industry" if has_score else
                  "NULL::text AS class, NULL::float8 AS total, NULL::text AS population, "
                  "NULL::int AS rank_county, NULL::int AS rank_town, NULL::int AS rank_industry")
    score_join = (" LEFT JOIN enterprise_score s ON s.run_id = %s AND s.credit_code = "
                  "el.credit_code" if has_score else "")
    query = f"""
        WITH parcels AS (
            SELECT credit_code, ST_Multi(ST_Union(p.geom)) AS geom
            FROM (SELECT DISTINCT parcel_code, credit_code FROM land_right) r
            JOIN parcel p USING (parcel_code) GROUP BY credit_code)
        SELECT el.credit_code, e.name, e.industry_code,
               left(regexp_replace(e.industry_code, '^[A-Za-z]', ''), 2) AS division,
               e.size_class, e.town, e.status, el.year, el.land_m2,
               el.land_m2 / {SQM_PER_MU} AS land_mu, el.built_m2, el.n_parcels, el.role,
               y.tax_wan, y.revenue_wan, y.value_added_wan,
               y.tax_wan / NULLIF(el.land_m2 / {SQM_PER_MU}, 0) AS tax_per_mu,
               y.revenue_wan / NULLIF(el.land_m2 / {SQM_PER_MU}, 0) AS revenue_per_mu,
               y.value_added_wan / NULLIF(el.land_m2 / {SQM_PER_MU}, 0) AS value_added_per_mu,
               {score_cols}, g.geom
        FROM enterprise_land el
        JOIN enterprise e USING (credit_code)
        JOIN parcels g USING (credit_code)
        LEFT JOIN enterprise_year y ON y.credit_code = el.credit_code AND y.year = el.year
        {score_join}
        WHERE el.run_id = %s AND el.year = %s
        ORDER BY el.credit_code"""
    params = ([ctx.score_run] if has_score else []) + [occ, ctx.year]
    frame = read_frame(conn, query, params)
    frame["credit_code"] = frame["credit_code"].str.strip()
    return frame


def _need_score(conn: psycopg.Connection, ctx: Context) -> int:
    if ctx.score_run is None or not table_exists(conn, "enterprise_score"):
        raise DataError("尚无亩均效益评价；请先运行 `mujun score --ruleset 规则 --year 年份`")
    return ctx.score_run


def read_scores_table(conn: psycopg.Connection, ctx: Context) -> Any:
    """The score run's table, one row per enterprise (no geometry; CSV and XLSX).

    Every column of :func:`scoring.export.score_table`: indicator values, item scores,
    total, class, ranks in county, town and industry division, the change since the
    previous year, the occupancy run.
    """
    from scoring.export import score_table

    return score_table(conn, _need_score(conn, ctx))


def read_scores(conn: psycopg.Connection, ctx: Context) -> gpd.GeoDataFrame:
    """The score table on the parcels (:func:`scoring.export.score_layer`)."""
    from scoring.export import score_layer

    return score_layer(conn, _need_score(conn, ctx))


def score_fields(conn: psycopg.Connection, ctx: Context) -> dict[str, Any]:
    """The rule set's columns of a score run (indicators, item scores) for the field table.

    Indicator values and item scores are confidential (dropped by ``--desensitize``).
    """
    from maps.fields import FieldInfo
    from scoring.export import column_labels

    if ctx.score_run is None or not table_exists(conn, "enterprise_score"):
        return {}
    return {name: FieldInfo(name, zh, en, "drop")
            for name, (zh, en) in column_labels(conn, ctx.score_run).items()}


def read_candidates(conn: psycopg.Connection, ctx: Context) -> gpd.GeoDataFrame:
    """The ranked land-status candidates at their parcels (``mujun candidates report``).

    :func:`scoring.land_status.report.candidates_layer`; ``ctx.filters`` may hold
    ``kind``, ``town`` and ``status``.
    """
    if not table_exists(conn, "candidate"):
        raise DataError("库中尚无存量用地候选；请先运行 `mujun candidates`")
    from scoring.land_status.report import candidates_layer

    f = ctx.filters
    return candidates_layer(conn, kind=f.get("kind"), town=f.get("town"),
                            status=f.get("status"), run_id=ctx.candidate_run)


def candidate_sheets(conn: psycopg.Connection, ctx: Context) -> dict[str, Any]:
    """The candidate workbook's further sheets: 豁免 (exemptions) and 说明 (notes)."""
    from scoring.land_status.report import report_sheets

    f = ctx.filters
    return report_sheets(conn, kind=f.get("kind"), town=f.get("town"), status=f.get("status"))


def read_footprints(conn: psycopg.Connection, ctx: Context) -> gpd.GeoDataFrame:
    """Building footprints as stored."""
    from gis.db.copy import read_frame

    return read_frame(conn, "SELECT footprint_id, image_date, method, confidence, height_m, "
                            "storeys, source, area_m2, geom FROM footprint ORDER BY footprint_id")


def read_towns(conn: psycopg.Connection, ctx: Context, *,
               simplify_m: float = 5.0) -> gpd.GeoDataFrame:
    """Town aggregates: parcels, area, built area, coverage, enterprises, tax per mu, classes."""
    from gis.db.copy import read_frame

    occ = _need_occupancy(ctx)
    has_score = ctx.score_run is not None and table_exists(conn, "enterprise_score")
    class_cols = ", ".join(
        f"count(*) FILTER (WHERE s.class = '{c}') AS n_class_{c.lower()}" for c in "ABCD"
    ) if has_score else ", ".join(f"NULL::bigint AS n_class_{c.lower()}" for c in "abcd")
    score_join = (" LEFT JOIN enterprise_score s ON s.run_id = %s AND s.credit_code = "
                  "el.credit_code" if has_score else "")
    query = f"""
        WITH geo AS (
            SELECT coalesce(p.town, '') AS town, min(p.district) AS district,
                   count(*) AS n_parcels, sum(o.area_m2) AS area_m2,
                   sum(o.built_m2) AS built_m2,
                   ST_Multi(ST_SimplifyPreserveTopology(ST_Union(ST_SnapToGrid(p.geom, 1.0)),
                            %s)) AS geom
            FROM occupancy o JOIN parcel p USING (parcel_code)
            WHERE o.run_id = %s GROUP BY 1),
        ent AS (
            SELECT coalesce(e.town, '') AS town, count(*) AS n_enterprises,
                   sum(el.land_m2) AS land_m2, sum(y.tax_wan) AS tax_wan,
                   sum(y.revenue_wan) AS revenue_wan, {class_cols}
            FROM enterprise_land el JOIN enterprise e USING (credit_code)
            LEFT JOIN enterprise_year y ON y.credit_code = el.credit_code AND y.year = el.year
            {score_join}
            WHERE el.run_id = %s AND el.year = %s GROUP BY 1)
        SELECT g.town, g.district, g.n_parcels, g.area_m2, g.area_m2 / {SQM_PER_MU} AS area_mu,
               g.built_m2, g.built_m2 / NULLIF(g.area_m2, 0) AS coverage,
               coalesce(n.n_enterprises, 0) AS n_enterprises, n.land_m2, n.tax_wan,
               n.revenue_wan, n.tax_wan / NULLIF(n.land_m2 / {SQM_PER_MU}, 0) AS tax_per_mu,
               n.revenue_wan / NULLIF(n.land_m2 / {SQM_PER_MU}, 0) AS revenue_per_mu,
               n.n_class_a, n.n_class_b, n.n_class_c, n.n_class_d, g.geom
        FROM geo g LEFT JOIN ent n USING (town) ORDER BY g.town"""
    params = [simplify_m, occ, *([ctx.score_run] if has_score else []), occ, ctx.year]
    return read_frame(conn, query, params)


def read_enterprise_land(conn: psycopg.Connection, ctx: Context) -> Any:
    """The per-enterprise land table of the occupancy run (no geometry): all years, or
    the year asked for (:func:`parcels.occupancy.export.enterprise_land_table`)."""
    from parcels.occupancy.export import enterprise_land_table

    return enterprise_land_table(conn, _need_occupancy(ctx),
                                 ctx.year if ctx.year_given else None)


def read_occupancy_parcels(conn: psycopg.Connection, ctx: Context) -> gpd.GeoDataFrame:
    """The per-parcel occupancy table of the run as stored (with mu columns)."""
    from parcels.occupancy.export import occupancy_layer

    return occupancy_layer(conn, _need_occupancy(ctx))


def read_policy_table(conn: psycopg.Connection, ctx: Context) -> Any:
    """The notification list of a policy run (``filters["kind"]``: the collecting body)."""
    from scoring.policy.export import notification_table
    from scoring.policy.store import resolve_policy_run

    return notification_table(conn, resolve_policy_run(conn, ctx.policy_run),
                              ctx.filters.get("kind"))


def policy_fields(conn: psycopg.Connection, ctx: Context) -> dict[str, Any]:
    """Chinese and English labels of the notification list's columns."""
    from maps.fields import FieldInfo
    from scoring.policy.export import COLUMNS

    return {name: FieldInfo(name, zh, en) for name, (zh, en) in COLUMNS.items()
            if name not in ("credit_code", "name", "town")}
