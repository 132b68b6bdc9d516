"""Surveys: dated sets of footprints with the area they cover.

Bureaus survey every year or two, so the ``footprint`` table holds several surveys of
the same place. A **survey** (table ``survey``, migration 0009) has a date and a
coverage polygon (the image outline for extracted footprints; for imported ones the
coverage file given, else the imported extent); every footprint batch belongs to one.

Occupancy *as of* a date uses, for each parcel, the **latest survey on or before that
date whose coverage contains the parcel** (:func:`assign_surveys`); when none contains it
whole, the latest one covering part of it (its built area is what that survey shows, and
the land-status rules claim no absence of buildings there). A parcel no survey
covers has no survey: it gets no footprints and no built area, and the land-status
rules say nothing about it. While the database holds no survey at all, occupancy
uses every footprint as before (``legacy`` scope).

The functions here are tools (they take a connection and do not commit).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from gis.errors import DataError
from gis.importing.values import as_date

if TYPE_CHECKING:
    import pandas as pd
    import psycopg

log = logging.getLogger(__name__)

#: Survey id given to parcels no survey covers.
NO_SURVEY = -1


@dataclass(frozen=True)
class SurveyScope:
    """Which survey each parcel's occupancy rests on.

    Attributes
    ----------
    parcel_ids, survey_ids : ndarray of int64
        Parallel arrays over every parcel; :data:`NO_SURVEY` where no survey covers it.
    survey_dates : dict
        ``survey_id -> date`` of the surveys used.
    as_of : date or None
        The date asked for (``None``: latest).
    legacy : bool
        The database holds no survey: every footprint is used, no parcel has a survey.
    partial : ndarray of bool, optional
        Parcels resting on a survey that covers them only in part (no survey covers them
        whole); the land-status rules claim no absence of buildings on them.
    """

    parcel_ids: np.ndarray
    survey_ids: np.ndarray
    survey_dates: dict[int, dt.date]
    as_of: dt.date | None = None
    legacy: bool = False
    partial: np.ndarray | None = None

    def surveys_used(self) -> list[int]:
        """Ids of the surveys some parcel rests on, ascending."""
        return sorted(int(s) for s in np.unique(self.survey_ids) if s != NO_SURVEY)

    def survey_of(self, parcel_ids: np.ndarray) -> np.ndarray:
        """Survey id of each of ``parcel_ids`` (:data:`NO_SURVEY` when unknown)."""
        if self.legacy or len(self.parcel_ids) == 0:
            return np.full(len(parcel_ids), NO_SURVEY, dtype="int64")
        order = np.argsort(self.parcel_ids)
        sorted_ids = self.parcel_ids[order]
        pos = np.clip(np.searchsorted(sorted_ids, parcel_ids), 0, len(sorted_ids) - 1)
        found = sorted_ids[pos] == parcel_ids
        return np.where(found, self.survey_ids[order][pos], NO_SURVEY)

    def as_params(self) -> dict[str, Any]:
        """What a run records about its surveys."""
        used = self.surveys_used()
        return {"as_of": self.as_of.isoformat() if self.as_of else None,
                "surveys": used,
                "survey_dates": {str(s): self.survey_dates[s].isoformat() for s in used},
                "parcels_without_survey": int((self.survey_ids == NO_SURVEY).sum())
                if not self.legacy else None,
                "parcels_partly_covered": int(self.partial.sum())
                if self.partial is not None else None,
                "legacy_all_footprints": self.legacy}


def create_survey(conn: psycopg.Connection, *, survey_date: dt.date | str,
                  coverage=None, batch_id: int | None = None, source: str | None = None,
                  method: str | None = None, footprint_ids=None,
                  attrs: dict[str, Any] | None = None) -> int:
    """Record a survey and attach its footprints (no commit); returns the survey id.

    :func:`gis.importing.surveys.create_survey` with the date parsed; loads of footprints
    record their survey themselves (the footprint loader calls
    :func:`gis.importing.surveys.record_survey`).
    """
    from gis.importing import surveys

    return surveys.create_survey(conn, survey_date=as_date(survey_date, "survey date"),
                                 coverage=coverage, batch_id=batch_id, source=source,
                                 method=method, footprint_ids=footprint_ids, attrs=attrs)


def list_surveys(conn: psycopg.Connection) -> pd.DataFrame:
    """Every survey: id, date, source, method, batch, footprints, covered area."""
    from gis.db.copy import read_frame

    return read_frame(
        conn,
        "SELECT s.survey_id, s.survey_date, s.source, s.method, s.batch_id,"
        " ST_Area(s.coverage) AS coverage_m2,"
        " (SELECT count(*) FROM footprint f WHERE f.survey_id = s.survey_id) AS footprints"
        " FROM survey s ORDER BY s.survey_date, s.survey_id")


def survey_date(conn: psycopg.Connection, survey_id: int) -> dt.date:
    """The date of ``survey_id`` (:class:`DataError` when it does not exist)."""
    row = conn.execute("SELECT survey_date FROM survey WHERE survey_id = %s",
                       (int(survey_id),)).fetchone()
    if row is None:
        raise DataError(f"调查 {survey_id} 不存在（--survey）；`mujun occupancy surveys` "
                        "列出全部调查")
    return row[0]


#: Per parcel, the latest survey on or before the date whose coverage contains it.
_ASSIGN_SQL = """
SELECT p.parcel_id, coalesce(s.survey_id, -1), s.survey_date, coalesce(s.full_cover, false)
FROM parcel p
LEFT JOIN LATERAL (
    SELECT survey_id, survey_date, ST_Covers(s.coverage, p.geom) AS full_cover FROM survey s
    WHERE s.survey_date <= %(as_of)s AND (%(only)s::bigint IS NULL OR s.survey_id = %(only)s)
      AND s.coverage && p.geom AND ST_Intersects(s.coverage, p.geom)
    ORDER BY ST_Covers(s.coverage, p.geom) DESC, s.survey_date DESC, s.survey_id DESC LIMIT 1
) s ON true
"""


def assign_surveys(conn: psycopg.Connection, *, as_of: dt.date | str | None = None,
                   survey_id: int | None = None) -> SurveyScope:
    """Which survey each parcel's occupancy rests on.

    Parameters
    ----------
    as_of : date or str, optional
        Use surveys on or before this date (default: the latest survey).
    survey_id : int, optional
        Use only this survey (parcels outside its coverage get none).

    Returns
    -------
    SurveyScope
    """
    has_surveys = conn.execute("SELECT EXISTS (SELECT 1 FROM survey)").fetchone()[0]
    date = as_date(as_of, "--as-of date") if as_of is not None else None
    if survey_id is not None:
        sdate = survey_date(conn, survey_id)
        date = min(date, sdate) if date else sdate
    if not has_surveys:
        if date is not None:
            raise DataError("尚未登记任何调查，无法按日期（--as-of）选择；请先把建筑轮廓作为"
                            "调查载入（见 docs/land_status.md）")
        empty = np.empty(0, dtype="int64")
        return SurveyScope(empty, empty, {}, None, legacy=True)
    with conn.cursor(binary=True) as cur:
        cur.execute(_ASSIGN_SQL, {"as_of": date or dt.date(9999, 12, 31), "only": survey_id})
        rows = cur.fetchall()
    pids = np.array([r[0] for r in rows], dtype="int64")
    sids = np.array([r[1] for r in rows], dtype="int64")
    partial = np.array([r[1] != NO_SURVEY and not r[3] for r in rows], dtype=bool)
    dates = {int(r[1]): r[2] for r in rows if r[1] != NO_SURVEY}
    n_none = int((sids == NO_SURVEY).sum())
    if n_none:
        log.warning("%d of %d parcels lie outside every survey%s: no built area for them",
                    n_none, len(pids), f" on or before {date}" if date else "")
    if partial.any():
        log.warning("%d parcels lie partly outside the survey they rest on (no survey covers "
                    "them whole): their built area is what that survey shows", int(partial.sum()))
    return SurveyScope(pids, sids, dates, date, partial=partial)


def unsurveyed_footprints(conn: psycopg.Connection) -> int:
    """Footprints attached to no survey (ignored once surveys exist)."""
    return int(conn.execute("SELECT count(*) FROM footprint WHERE survey_id IS NULL"
                            ).fetchone()[0])
