"""Occupancy runs and their result tables in PostGIS (``occupancy``, ``enterprise_land``).

A run records its parameters (rules, engine, year, settings) together with a
fingerprint of its inputs, the import batches it read and the code version
(:func:`gis.db.runs.start_run`). Re-running with identical parameters, inputs and code
**replaces** that run's rows under the same run id (so nothing is ever duplicated);
anything different makes a new run, and earlier runs stay queryable by id.

Nothing here commits: the caller (:func:`parcels.occupancy.run.run_occupancy`) does.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import pandas as pd

from gis.errors import DataError
from gis.run_terms import RUN_STATUS

if TYPE_CHECKING:
    import psycopg

log = logging.getLogger(__name__)

RUN_KIND = "occupancy"

PARCEL_TABLE = "occupancy"
ENTERPRISE_TABLE = "enterprise_land"

PARCEL_COLUMNS = ("parcel_code", "area_m2", "cert_area_m2", "cert_diff_m2", "built_m2",
                  "sliver_m2", "coverage", "floor_area_m2", "far", "n_buildings", "survey_id",
                  "survey_date")
ENTERPRISE_COLUMNS = ("year", "credit_code", "land_m2", "built_m2", "floor_area_m2",
                      "n_parcels", "role", "merged_into")


def input_batches(conn: psycopg.Connection) -> list[int]:
    """Import batches behind the current parcels, footprints and land rights."""
    rows = conn.execute(
        "SELECT batch_id FROM parcel WHERE batch_id IS NOT NULL"
        " UNION SELECT batch_id FROM footprint WHERE batch_id IS NOT NULL"
        " UNION SELECT batch_id FROM land_right WHERE batch_id IS NOT NULL"
        " ORDER BY 1").fetchall()
    return [int(r[0]) for r in rows]


#: The tables a run reads; their generations (migration 0004) identify its inputs.
INPUT_TABLES = ("parcel", "footprint", "land_right", "survey")


def input_fingerprint(conn: psycopg.Connection) -> dict[str, Any]:
    """Generation of each input table: any change to its rows gives a new number.

    Kept by statement triggers (``gis/db/sql/0004_input_state.sql``), so this reads
    three small rows instead of scanning the footprints.
    """
    rows = dict(conn.execute("SELECT table_name, generation FROM input_state"
                             " WHERE table_name = ANY(%s)", (list(INPUT_TABLES),)).fetchall())
    return {f"{t}_generation": int(rows.get(t, 0)) for t in INPUT_TABLES}


def find_identical_run(conn: psycopg.Connection, params: dict[str, Any],
                       batches: list[int]) -> int | None:
    """The latest finished run with exactly these parameters, inputs and code version."""
    from psycopg.types.json import Jsonb

    from gis import __version__

    row = conn.execute(
        "SELECT run_id FROM run WHERE kind = %s AND params = %s AND input_batches = %s::bigint[]"
        " AND code_version = %s AND status = 'done' ORDER BY run_id DESC LIMIT 1",
        (RUN_KIND, Jsonb(params), batches, __version__)).fetchone()
    return int(row[0]) if row else None


def begin_run(conn: psycopg.Connection, params: dict[str, Any],
              batches: list[int]) -> tuple[int, bool]:
    """Start a run, or reopen the identical earlier run with its rows removed.

    Returns
    -------
    (run_id, reused)
    """
    from gis.db.connection import translate_errors
    from gis.db.runs import start_run

    with translate_errors("starting an occupancy run"):
        run_id = find_identical_run(conn, params, batches)
        if run_id is None:
            return start_run(conn, RUN_KIND, params, batches), False
        conn.execute("DELETE FROM occupancy WHERE run_id = %s", (run_id,))
        conn.execute("DELETE FROM enterprise_land WHERE run_id = %s", (run_id,))
        conn.execute("UPDATE run SET status = 'running', started_at = now(), finished_at = NULL"
                     " WHERE run_id = %s", (run_id,))
    log.info("identical inputs and parameters: replacing the rows of run %d", run_id)
    return run_id, True


def save_results(conn: psycopg.Connection, run_id: int, parcels: pd.DataFrame,
                 enterprises: pd.DataFrame) -> None:
    """COPY the per-parcel and per-enterprise tables of ``run_id`` (no commit)."""
    from gis.db.copy import copy_frame

    p = parcels.reindex(columns=list(PARCEL_COLUMNS)).copy()
    p.insert(0, "run_id", run_id)
    dup = p["parcel_code"].duplicated()
    if dup.any():
        raise DataError(f"parcel codes occur more than once: "
                        f"{sorted(p.loc[dup, 'parcel_code'].unique())[:5]}", source="parcel")
    copy_frame(conn, PARCEL_TABLE, p)
    e = enterprises.loc[:, list(ENTERPRISE_COLUMNS)].copy()
    if len(e):
        e.insert(0, "run_id", run_id)
        copy_frame(conn, ENTERPRISE_TABLE, e)


def latest_run(conn: psycopg.Connection) -> int | None:
    """Id of the most recently finished occupancy run (``None`` when there is none)."""
    row = conn.execute("SELECT run_id FROM run WHERE kind = %s AND status = 'done'"
                       " ORDER BY finished_at DESC, run_id DESC LIMIT 1", (RUN_KIND,)).fetchone()
    return int(row[0]) if row else None


def resolve_run(conn: psycopg.Connection, run_id: int | None) -> int:
    """``run_id`` checked to be a finished occupancy run, or the latest one.

    Raises
    ------
    DataError
        No such run, or no run yet (run ``mujun occupancy`` first).
    """
    if run_id is None:
        found = latest_run(conn)
        if found is None:
            raise DataError("尚无占地测算；请先运行 `mujun occupancy`")
        return found
    row = conn.execute("SELECT kind, status FROM run WHERE run_id = %s", (run_id,)).fetchone()
    if row is None or row[0] != RUN_KIND:
        raise DataError(f"第 {run_id} 次运行不是占地测算（--run）；`mujun occupancy runs` "
                        "列出全部测算")
    if row[1] != "done":
        raise DataError(f"第 {run_id} 次运行未完成（状态：{RUN_STATUS.label(row[1])}）")
    return int(run_id)


def list_runs(conn: psycopg.Connection) -> pd.DataFrame:
    """Every occupancy run: id, status, times, parameters, summary."""
    from gis.db.copy import read_frame

    return read_frame(conn, "SELECT run_id, status, started_at, finished_at, code_version,"
                      " input_batches, params, summary FROM run WHERE kind = %s"
                      " ORDER BY run_id", (RUN_KIND,))


def load_parcel_results(conn: psycopg.Connection, run_id: int, *, geometry: bool = False):
    """The per-parcel rows of a run (with parcel geometry and town when ``geometry``)."""
    from gis.db.copy import read_frame

    if geometry:
        return read_frame(
            conn, "SELECT o.*, p.town, p.district, p.geom FROM occupancy o"
            " LEFT JOIN parcel p USING (parcel_code) WHERE o.run_id = %s"
            " ORDER BY o.parcel_code", (run_id,))
    return read_frame(conn, "SELECT * FROM occupancy WHERE run_id = %s ORDER BY parcel_code",
                      (run_id,))


def load_enterprise_results(conn: psycopg.Connection, run_id: int,
                            year: int | None = None) -> pd.DataFrame:
    """The per-enterprise rows of a run, with the enterprise name when known."""
    from gis.db.copy import read_frame

    return read_frame(
        conn, "SELECT l.*, e.name FROM enterprise_land l LEFT JOIN enterprise e"
        " USING (credit_code) WHERE l.run_id = %s AND (%s::int IS NULL OR l.year = %s)"
        " ORDER BY l.year, l.credit_code", (run_id, year, year))
