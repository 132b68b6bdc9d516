"""The tool behind ``mujun occupancy``: one engine run, tenants, stored as one run.

Reads nothing but the database given to it: parcels, footprints and land rights in
PostGIS → per-parcel table (engine) → land per enterprise (tenant rule) → the
``occupancy`` and ``enterprise_land`` tables of a run, committed together.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from parcels.occupancy.engines import engine_options as engine_options_for
from parcels.occupancy.engines import get_engine
from parcels.occupancy.kernel import KernelOptions
from parcels.occupancy.tenants import allocate_land
from parcels.surveys import NO_SURVEY, SurveyScope, assign_surveys

if TYPE_CHECKING:
    import psycopg

    from gis.progress import Progress
    from gis.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class OccupancyRun:
    """What :func:`run_occupancy` returns."""

    run_id: int
    reused: bool
    parcels: pd.DataFrame
    enterprises: pd.DataFrame
    summary: dict[str, Any] = field(default_factory=dict)


def default_year(conn: psycopg.Connection) -> int:
    """The newest year with enterprise records, else the current calendar year."""
    row = conn.execute("SELECT max(year) FROM enterprise_year").fetchone()
    return int(row[0]) if row and row[0] is not None else dt.date.today().year


def read_land_rights(conn: psycopg.Connection) -> pd.DataFrame:
    """Land rights as a DataFrame (``credit_code`` stripped of char padding)."""
    from gis.db.copy import read_frame

    frame = read_frame(conn, "SELECT parcel_code, credit_code, right_type, share,"
                             " leased_land_m2, leased_floor_m2, start_date, end_date"
                             " FROM land_right ORDER BY land_right_id")
    if len(frame):
        frame["credit_code"] = frame["credit_code"].astype(str).str.strip()
    else:
        frame = pd.DataFrame(columns=["parcel_code", "credit_code", "right_type", "share",
                                      "leased_land_m2", "leased_floor_m2", "start_date",
                                      "end_date"])
    return frame


def summarize(parcels: pd.DataFrame, enterprises: pd.DataFrame) -> dict[str, Any]:
    """Totals of a run, for the run record and the command's output."""
    from gis.crs import m2_to_mu

    area = float(parcels["area_m2"].sum())
    built = float(parcels["built_m2"].sum())
    floor = float(parcels["floor_area_m2"].sum())
    return {
        "parcels": len(parcels),
        "area_m2": area, "area_mu": float(m2_to_mu(area)),
        "built_m2": built, "sliver_m2": float(parcels["sliver_m2"].sum()),
        "floor_area_m2": floor,
        "coverage": built / area if area else None,
        "far": floor / area if area else None,
        "median_coverage": float(np.nanmedian(parcels["coverage"])) if len(parcels) else None,
        "buildings": int(parcels["n_buildings"].sum()),
        "parcels_without_buildings": int((parcels["n_buildings"] == 0).sum()),
        "enterprises": len(enterprises),
        "enterprise_land_m2": float(enterprises["land_m2"].sum()) if len(enterprises) else 0.0,
    }


def run_occupancy(conn: psycopg.Connection, settings: Settings, *, year: int | None = None,
                  engine: str = "vector", progress: Progress | None = None,
                  engine_options: dict[str, Any] | None = None,
                  as_of: dt.date | str | None = None, survey_id: int | None = None,
                  ) -> OccupancyRun:
    """Compute occupancy with ``engine``, allocate land to enterprises, store and commit.

    Parameters
    ----------
    conn : psycopg.Connection
        The invocation's connection; this function commits on success and rolls
        back on failure (nothing partial is stored).
    settings : Settings
        ``min_overlap_ratio``, ``sliver_tolerance_m``, ``storey_height_m``,
        ``tenant_rule``, ``area_basis``; ``home`` for the dask partition cache.
    year : int, optional
        Year of the land rights and of ``enterprise_land`` (default: newest year with
        enterprise records, else this year).
    engine : str
        A name in :data:`parcels.occupancy.engines.ENGINES`.
    progress : callable, optional
        Called with parcels finished.
    engine_options : dict, optional
        The engine's own keyword options (``processes`` for vector, ``workers`` for
        postgis, ``scheduler``/``workdir`` for dask; ``None`` values mean "not given").
        An option the engine does not take raises :class:`~gis.errors.ConfigError`.
    as_of : date or str, optional
        Use, for each parcel, the latest survey on or before this date whose coverage
        contains it (default: the latest survey; :mod:`parcels.surveys`).
    survey_id : int, optional
        Use only this survey.

    Returns
    -------
    OccupancyRun
    """
    from gis.db.runs import finish_run
    from parcels.occupancy import store

    compute = get_engine(engine)
    extra = engine_options_for(engine, engine_options, settings)
    options = KernelOptions.from_settings(settings)
    year = default_year(conn) if year is None else int(year)
    scope = assign_surveys(conn, as_of=as_of, survey_id=survey_id)
    params: dict[str, Any] = {
        "engine": engine, "year": year, "tenant_rule": settings.tenant_rule,
        "area_basis": settings.area_basis, **options.as_params(),
        "inputs": store.input_fingerprint(conn), **scope.as_params(),
    }
    batches = store.input_batches(conn)
    try:
        # compute before writing anything: the vector engine's worker processes read this
        # transaction's snapshot, which shows them nothing it has written
        started = time.perf_counter()
        parcels = compute(conn, options, scope=scope, progress=progress, **extra)
        seconds = time.perf_counter() - started
        parcels = attach_survey_dates(parcels, scope)
        run_id, reused = store.begin_run(conn, params, batches)
        allocation = allocate_land(parcels, read_land_rights(conn), year=year,
                                   rule=settings.tenant_rule, area_basis=settings.area_basis)
        store.save_results(conn, run_id, parcels, allocation.enterprises)
        summary = summarize(parcels, allocation.enterprises)
        summary.update(engine=engine, year=year, engine_seconds=round(seconds, 3),
                       unallocated_m2=allocation.unallocated_m2,
                       warnings=allocation.warnings, replaced_identical_run=reused,
                       **scope.as_params())
        finish_run(conn, run_id, "done", summary)
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    log.info("occupancy run %d: %d parcels, %d enterprises in %.1f s", run_id, len(parcels),
             len(allocation.enterprises), seconds)
    return OccupancyRun(run_id, reused, parcels, allocation.enterprises, summary)


def attach_survey_dates(parcels: pd.DataFrame, scope: SurveyScope) -> pd.DataFrame:
    """``survey_id`` and ``survey_date`` columns (NULL where no survey) on an engine's table."""
    out = parcels.copy()
    if scope.legacy:
        out["survey_id"] = pd.array([None] * len(out), dtype="Int64")
        out["survey_date"] = None
        return out
    if "survey_id" not in out.columns:
        from gis.errors import ConfigError

        raise ConfigError("the occupancy engine gave no survey per parcel; an engine computes "
                          "each parcel with its own survey's footprints (see "
                          "parcels/occupancy/engines.py)")
    ids = out["survey_id"].to_numpy()
    out["survey_date"] = [scope.survey_dates.get(int(i)) if i != NO_SURVEY else None
                          for i in ids]
    out["survey_id"] = pd.array([None if i == NO_SURVEY else int(i) for i in ids],
                                dtype="Int64")
    return out
