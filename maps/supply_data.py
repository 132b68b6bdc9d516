"""What the supply map shows, read from PostGIS: standard-land plots with their
indicators, assessments and contract, the area-wide assessments, the redevelopment
areas with their figures, and the candidates on their way from found to supplied.

The readers take a connection (tools); :func:`pipeline_stage` and
:func:`contract_state` are the pure rules that place a candidate on the pipeline and
a contract in its state (codes of ``land_status.pipeline_stage`` and
``land_status.contract_state``).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import pandas as pd

from gis.crs import SQM_PER_MU
from gis.errors import DataError

if TYPE_CHECKING:
    import geopandas as gpd
    import psycopg

#: Plot statuses from which the land counts as supplied again (出让 and after).
SUPPLIED_FROM = "transferred"


def pipeline_stage(status: str, approved: bool, plot_rank: int | None,
                   supplied_rank: int) -> str:
    """Where a candidate stands: found, decided, approved, supplied or rejected.

    Parameters
    ----------
    status : str
        The candidate's status (``land_status.status``).
    approved : bool
        A decision approved it for reclamation (it may have been closed since, e.g.
        when its plot was transferred).
    plot_rank, supplied_rank : int
        Rank of its plot's status in the supply pipeline (None: no plot), and the rank
        of 出让.

    Examples
    --------
    >>> pipeline_stage("approved", True, None, 5), pipeline_stage("closed", True, 6, 5)
    ('approved', 'supplied')
    >>> pipeline_stage("confirmed", False, None, 5), pipeline_stage("new", False, None, 5)
    ('decided', 'found')
    """
    if plot_rank is not None and plot_rank >= supplied_rank:
        return "supplied"
    if approved or status == "approved":
        return "approved"
    if status == "confirmed":
        return "decided"
    if status == "rejected":
        return "rejected"
    return "found"


def contract_state(plot_status: str, breach_open: bool) -> str:
    """The state of a plot's contract.

    Examples
    --------
    >>> contract_state("performed", False), contract_state("breached", True)
    ('performed', 'breached')
    >>> contract_state("started", True), contract_state("started", False)
    ('breach_found', 'in_force')
    """
    if plot_status in ("performed", "breached"):
        return plot_status
    return "breach_found" if breach_open else "in_force"


def _has_supply(conn: psycopg.Connection) -> bool:
    from maps.data import table_exists

    return table_exists(conn, "supply_plot")


def read_plots(conn: psycopg.Connection, on: dt.date) -> gpd.GeoDataFrame:
    """Plots with area in mu, indicators (one column per ``supply.indicator`` code),
    the assessments they lie in (as text), and their contract and its state."""
    import geopandas as gpd

    from gis.db.copy import read_frame
    from scoring.land_status.supply.vocabulary import INDICATORS, TOPIC_STATES, TOPICS

    if not _has_supply(conn):
        return gpd.GeoDataFrame({"plot_id": []}, geometry=[], crs=None)
    frame = read_frame(
        conn,
        "SELECT p.plot_id, p.code, p.status, p.status_date, p.area_m2::float8 AS area_m2,"
        " p.town, p.park, p.origin, p.candidate_id, p.industry_code, p.indicators,"
        " c.contract_no, c.holder, c.start_by, c.complete_by, c.produce_by,"
        " c.plot_id IS NOT NULL AS has_contract,"
        " EXISTS (SELECT 1 FROM candidate b WHERE b.parcel_code = c.parcel_code"
        "   AND b.status <> 'closed' AND 'contract_breach' = ANY (b.kinds)) AS breach_open,"
        " (SELECT string_agg(a.topic || '|' || CASE"
        "     WHEN a.valid_from > %(on)s THEN 'not_yet'"
        "     WHEN a.valid_until < %(on)s THEN 'expired' ELSE 'valid' END, ';'"
        "     ORDER BY a.topic) FROM area_assessment a WHERE ST_Covers(a.geom, p.geom))"
        "   AS assessments, p.geom"
        " FROM supply_plot p LEFT JOIN supply_contract c USING (plot_id) ORDER BY p.code",
        {"on": on})
    if len(frame) == 0:
        return frame
    frame["area_mu"] = (frame["area_m2"].astype(float) / SQM_PER_MU).round(2)
    for term in INDICATORS:
        frame[f"ind_{term.code}"] = [(ind or {}).get(term.code) for ind in frame["indicators"]]

    def assessed(text: Any) -> str | None:
        if not text:
            return None
        parts = [p.split("|") for p in str(text).split(";")]
        return "；".join(f"{TOPICS.label(t)}：{TOPIC_STATES.label(s)}" for t, s in parts)

    frame["assessments"] = frame["assessments"].map(assessed)
    frame["contract_state"] = [
        contract_state(s, bool(b)) if c else None
        for s, b, c in zip(frame["status"], frame["breach_open"], frame["has_contract"],
                           strict=True)]
    return frame.drop(columns=["indicators"])


def read_assessments(conn: psycopg.Connection, on: dt.date) -> gpd.GeoDataFrame:
    """Area-wide assessment coverages with their state on ``on``."""
    import geopandas as gpd

    from gis.db.copy import read_frame

    if not _has_supply(conn):
        return gpd.GeoDataFrame({"assessment_id": []}, geometry=[], crs=None)
    return read_frame(
        conn, "SELECT assessment_id, topic, title, conclusion, document, valid_from, valid_until,"
              " CASE WHEN valid_from > %(on)s THEN 'not_yet' WHEN valid_until < %(on)s"
              " THEN 'expired' ELSE 'valid' END AS state, geom FROM area_assessment"
              " ORDER BY topic, assessment_id", {"on": on})


def read_areas(conn: psycopg.Connection, on: dt.date) -> gpd.GeoDataFrame:
    """Redevelopment areas with their figures (:func:`scoring.land_status.areas.store.list_areas`)
    and outlines."""
    import geopandas as gpd

    from gis.db.copy import read_frame
    from maps.data import table_exists
    from scoring.land_status.areas.store import list_areas

    if not table_exists(conn, "redevelopment_area"):
        return gpd.GeoDataFrame({"area_id": []}, geometry=[], crs=None)
    figures = pd.DataFrame(list_areas(conn, as_of=on))
    geoms = read_frame(conn, "SELECT area_id, geom FROM redevelopment_area ORDER BY area_id")
    if len(figures) == 0:
        return geoms
    return geoms.merge(figures.drop(columns=["created_at"]), on="area_id")


def read_pipeline(conn: psycopg.Connection) -> gpd.GeoDataFrame:
    """Candidates on the way to supply, at their parcels: the open ones and those closed
    after an approval; ``stage`` places each (:func:`pipeline_stage`)."""
    from gis.db.copy import read_frame

    if not _has_supply(conn):
        plots_sql = "NULL::text AS plot_status, NULL::text AS plot_code"
    else:
        plots_sql = ("(SELECT s.status FROM supply_plot s WHERE s.candidate_id = c.candidate_id)"
                     " AS plot_status, (SELECT s.code FROM supply_plot s"
                     " WHERE s.candidate_id = c.candidate_id) AS plot_code")
    frame = read_frame(
        conn,
        "SELECT c.candidate_id, c.parcel_code, c.kind, c.status, c.town, p.area_m2,"
        " EXISTS (SELECT 1 FROM review_event e WHERE e.candidate_id = c.candidate_id"
        "   AND e.action = 'decided' AND e.to_status = 'approved') AS approved,"
        f" {plots_sql}, p.geom"
        " FROM candidate c JOIN parcel p ON p.parcel_code = c.parcel_code"
        " WHERE c.status <> 'closed' OR EXISTS (SELECT 1 FROM review_event e"
        "   WHERE e.candidate_id = c.candidate_id AND e.action = 'decided'"
        "   AND e.to_status = 'approved') ORDER BY c.candidate_id")
    if len(frame) == 0:
        return frame
    order = _supply_order()
    frame["stage"] = [pipeline_stage(s, bool(a), order.get(ps) if ps else None,
                                     order[SUPPLIED_FROM])
                      for s, a, ps in zip(frame["status"], frame["approved"],
                                          frame["plot_status"], strict=True)]
    frame["area_mu"] = (frame["area_m2"].astype(float) / SQM_PER_MU).round(2)
    return frame


def _supply_order() -> dict[str, int]:
    from scoring.land_status.supply.vocabulary import STATUSES

    return {code: i for i, code in enumerate(STATUSES.codes())}


def check_something(*frames: Any) -> None:
    """Refuse a supply map with nothing on it, saying what to record first.

    Examples
    --------
    >>> check_something(pd.DataFrame({"a": [1]}), pd.DataFrame())
    >>> check_something(pd.DataFrame(), pd.DataFrame())
    Traceback (most recent call last):
    ...
    gis.errors.DataError: nothing to draw on the supply map: no plot (`mujun supply add`), no redevelopment area (`mujun areas add`) and no candidate (`mujun candidates`) is recorded yet
    """
    if all(len(f) == 0 for f in frames):
        raise DataError("nothing to draw on the supply map: no plot (`mujun supply add`), no "
                        "redevelopment area (`mujun areas add`) and no candidate "
                        "(`mujun candidates`) is recorded yet")
