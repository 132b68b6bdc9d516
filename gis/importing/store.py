"""Upserting a frame into a table through a temporary staging table.

The frame is COPYed into a temporary table shaped like the target, then one
``INSERT ... ON CONFLICT ... DO UPDATE ... WHERE (...) IS DISTINCT FROM (...)``
moves it across: rows that would not change are not touched (no new row
version, no batch id change), so re-importing identical data changes nothing.
Only the columns passed are written: a source that does not carry a column
leaves it alone (departments deliver separately: tax bureau, power company,
statistics bureau). Everything happens inside the caller's transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd
    import psycopg

    from gis.progress import Progress

log = logging.getLogger(__name__)


def upsert_frame(conn: psycopg.Connection, table: str, frame: pd.DataFrame,
                 keys: Sequence[str], columns: Sequence[str], *,
                 srid: int | None = None, keep_when_null: Sequence[str] = (),
                 merge_json: Sequence[str] = (),
                 not_compared: Sequence[str] = ("batch_id", "source_fid"),
                 progress: Progress | None = None,
                 written: list[tuple] | None = None) -> tuple[int, int]:
    """Insert new rows and update changed ones; return ``(inserted, updated)``.

    Parameters
    ----------
    conn : psycopg.Connection
        Nothing is committed here.
    table : str
        Target table (a fixed name from the code, never from input).
    frame : DataFrame
        Has every name in ``columns``.
    keys : columns of the conflict target (a unique constraint).
    columns : all columns to write, keys included.
    srid : int, optional
        SRID of geometry columns.
    keep_when_null : columns whose stored value is kept when the new one is NULL.
    merge_json : jsonb columns merged key by key (stored keys the new value lacks are kept).
    not_compared : columns that change only along with others (batch id).
    written : list, optional
        Gets ``(inserted, *key values)`` for every row inserted or changed (rows
        that would not change are not listed), so a caller can tell which
        records a delivery changed.
    """
    from psycopg import sql

    from gis.db.connection import translate_errors
    from gis.db.copy import copy_frame

    stage = f"_mujun_stage_{table}"
    t, s = sql.Identifier(table), sql.Identifier(stage)
    cols = [sql.Identifier(c) for c in columns]
    if len(keys) == 1 and len(frame):
        # Fast path: none of the keys is stored yet (a first load): COPY straight in.
        key = keys[0]
        with translate_errors(f"looking up existing {key} values in {table}"):
            clash = conn.execute(
                sql.SQL("SELECT EXISTS (SELECT 1 FROM {} WHERE {} = ANY(%s))").format(
                    t, sql.Identifier(key)),
                (list(frame[key].astype(str)),)).fetchone()[0]
        if not clash:
            n = copy_frame(conn, table, frame, list(columns), srid=srid, progress=progress)
            if written is not None:
                written.extend((True, k) for k in frame[key].tolist())
            return n, 0
    with translate_errors(f"staging rows for {table}"):
        conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(s))
        conn.execute(sql.SQL("CREATE TEMP TABLE {} ON COMMIT DROP AS SELECT {} FROM {} WITH NO DATA")
                     .format(s, sql.SQL(", ").join(cols), t))
    copy_frame(conn, stage, frame, list(columns), srid=srid, progress=progress)

    def new(c: str) -> sql.Composable:
        if c in merge_json:
            return sql.SQL("COALESCE({t}.{c}, '{{}}'::jsonb) || COALESCE(EXCLUDED.{c}, '{{}}'::jsonb)"
                           ).format(c=sql.Identifier(c), t=t)
        if c in keep_when_null:
            return sql.SQL("COALESCE(EXCLUDED.{c}, {t}.{c})").format(c=sql.Identifier(c), t=t)
        return sql.SQL("EXCLUDED.{}").format(sql.Identifier(c))

    updatable = [c for c in columns if c not in keys]
    compared = [c for c in updatable if c not in not_compared]
    if updatable:
        action = sql.SQL("DO UPDATE SET {sets} WHERE ({old}) IS DISTINCT FROM ({new})").format(
            sets=sql.SQL(", ").join(sql.SQL("{} = {}").format(sql.Identifier(c), new(c))
                                    for c in updatable),
            old=sql.SQL(", ").join(sql.SQL("{}.{}").format(t, sql.Identifier(c))
                                   for c in (compared or updatable)),
            new=sql.SQL(", ").join(new(c) for c in (compared or updatable)),
        )
    else:
        action = sql.SQL("DO NOTHING")
    stmt = sql.SQL("INSERT INTO {t} ({cols}) SELECT {cols} FROM {s} ON CONFLICT ({keys}) {action} "
                   "RETURNING (xmax = 0){returned}").format(
        t=t, s=s, cols=sql.SQL(", ").join(cols),
        keys=sql.SQL(", ").join(sql.Identifier(k) for k in keys), action=action,
        returned=sql.SQL("").join(sql.SQL(", {}.{}").format(t, sql.Identifier(k)) for k in keys)
        if written is not None else sql.SQL(""))
    with translate_errors(f"writing {len(frame)} rows into {table}"):
        returned = conn.execute(stmt).fetchall()
        flags = [r[0] for r in returned]
        conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(s))
    if written is not None:
        written.extend((r[0], *(v.strip() if isinstance(v, str) else v for v in r[1:]))
                       for r in returned)
    inserted = sum(1 for f in flags if f)
    return inserted, len(flags) - inserted
