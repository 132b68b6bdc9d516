"""Bulk transfer of (Geo)DataFrames to and from PostGIS (the functions that talk to it).

:func:`copy_frame` streams a frame into a table with ``COPY ... FROM STDIN``
inside the caller's transaction (it never commits, so a failed load leaves the
table as it was); :func:`copy_frames` streams several frames (batches of a big
file) through one COPY. The bytes come from the pure encoders of
:mod:`gis.db.encoding` (EWKB in one vectorized call, columns encoded with numpy);
this module asks the server for the target columns and streams the rows.

Two wire formats are implemented: ``"binary"`` (default) and ``"text"``.
Measured on 1M footprint polygons on this machine, building the binary payload
took ~2.6 s client time and 146 MB (assembled with numpy, no per-row Python)
versus ~11 s and 234 MB for text (hex EWKB is twice the bytes, and each text
row is joined in Python), and the binary COPY finished ~30 % sooner end to
end. Text remains for column types the binary encoder does not know (binary
raises a clear error naming the column).

:func:`read_frame` runs a query and decodes every geometry column with one
vectorized ``shapely.from_wkb`` call; the CRS comes from the geometries' SRID.
The working SRID lives in :mod:`gis.db.srid` (also importable from here).
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from gis.db.encoding import (
    BINARY_SIGNATURE,
    BINARY_TRAILER,
    binary_chunk,
    binary_supported,
    encode_frame,
    encode_geometries,
    text_chunk,
)
from gis.db.srid import get_working_srid, set_working_srid
from gis.errors import DatabaseError, DataError

if TYPE_CHECKING:
    import pandas as pd
    import psycopg

    from gis.progress import Progress

__all__ = ["CHUNK_ROWS", "copy_frame", "copy_frames", "encode_geometries", "get_working_srid",
           "read_frame", "set_working_srid", "table_columns"]

log = logging.getLogger(__name__)

#: Rows per chunk sent to the server; encoding the next chunk overlaps with the
#: server parsing the previous one.
CHUNK_ROWS = 50_000


def _split_name(table: str | Sequence[str]) -> tuple[str, ...]:
    if isinstance(table, str):
        return tuple(table.split(".", 1)) if "." in table else (table,)
    return tuple(table)


def _table_ident(table: str | Sequence[str]):
    from psycopg import sql

    return sql.Identifier(*_split_name(table))


def table_columns(conn: psycopg.Connection, table: str | Sequence[str]) -> dict[str, dict[str, Any]]:
    """Column name -> ``{"type": format_type, "generated": bool}`` for ``table``.

    Raises
    ------
    DatabaseError
        The table does not exist.
    """
    parts = _split_name(table)
    qualified = ".".join('"' + p.replace('"', '""') + '"' for p in parts)
    row = conn.execute("SELECT to_regclass(%s)::oid", (qualified,)).fetchone()
    if not row or row[0] is None:
        raise DatabaseError(f"table {'.'.join(parts)} does not exist; run `mujun db migrate`")
    rows = conn.execute(
        "SELECT attname, format_type(atttypid, atttypmod), attgenerated <> '', "
        "atthasdef OR attidentity <> '', attnotnull "
        "FROM pg_attribute WHERE attrelid = %s AND attnum > 0 AND NOT attisdropped "
        "ORDER BY attnum",
        (row[0],),
    ).fetchall()
    return {
        name: {"type": typ, "generated": gen, "has_default": hasdef, "not_null": notnull}
        for name, typ, gen, hasdef, notnull in rows
    }


# -------------------------------------------------------------------- copy
def copy_frame(
    conn: psycopg.Connection,
    table: str | Sequence[str],
    frame: pd.DataFrame,
    columns: Sequence[str] | None = None,
    *,
    srid: int | None = None,
    format: Literal["text", "binary"] = "binary",
    chunk_rows: int = CHUNK_ROWS,
    progress: Progress | None = None,
) -> int:
    """Bulk-load ``frame`` into ``table`` with COPY, inside the caller's transaction.

    Parameters
    ----------
    conn : psycopg.Connection
        Open connection; nothing is committed here.
    table : str or sequence of str
        Target table, ``"name"``, ``"schema.name"`` or ``("schema", "name")``.
    frame : DataFrame or GeoDataFrame
        Column names are the target column names.
    columns : sequence of str, optional
        Frame columns to load (default: all). Generated columns are refused.
    srid : int, optional
        SRID of the geometries. Default: the frame's CRS as EPSG code, else the
        column's fixed SRID (a frame in another CRS than the column's is refused).
    format : {"binary", "text"}
        COPY wire format ("binary" measured faster; see the module docstring).
    chunk_rows : int
        Rows per write to the server.
    progress : callable, optional
        Called with the number of rows sent after each chunk.

    Returns
    -------
    int
        Rows loaded.

    Raises
    ------
    DataError
        Unknown or generated columns, geometries of the wrong type, missing SRID.
    DatabaseError
        The server rejected a row (the transaction is then aborted; roll back).

    Examples
    --------
    With an open connection ``conn`` (not run as a doctest; ``tests/test_gis/test_db_copy.py``
    runs this against PostGIS)::

        gdf = gpd.GeoDataFrame({"parcel_code": ["A"]},
                               geometry=[shapely.box(0, 0, 10, 10)], crs=4549)
        copy_frame(conn, "parcel", gdf.rename_geometry("geom"))   # -> 1
    """
    from gis.db.connection import translate_errors

    if format not in ("text", "binary"):
        raise ValueError(f"format must be 'text' or 'binary', not {format!r}")
    names = list(frame.columns if columns is None else columns)
    table_name = ".".join(_split_name(table))
    if not names:
        raise DataError("no columns to load", source=table_name)
    with translate_errors(f"reading the columns of {table_name}"):
        target = table_columns(conn, table)
    unknown = [c for c in names if c not in target]
    if unknown:
        raise DataError(
            f"columns {unknown} are not in the table; it has {list(target)}", source=table_name
        )
    generated = [c for c in names if target[c]["generated"]]
    if generated:
        raise DataError(f"columns {generated} are generated by the database; drop them from "
                        "the frame", source=table_name)
    missing_cols = [c for c in names if c not in frame.columns]
    if missing_cols:
        raise DataError(f"the frame has no columns {missing_cols}", source=table_name)
    if len(frame) == 0:
        return 0
    return _copy_stream(conn, table, names, target, iter([frame]), srid=srid, format=format,
                        chunk_rows=chunk_rows, progress=progress)


def copy_frames(
    conn: psycopg.Connection,
    table: str | Sequence[str],
    frames: Iterable[pd.DataFrame],
    columns: Sequence[str],
    *,
    srid: int | None = None,
    format: Literal["text", "binary"] = "binary",
    chunk_rows: int = CHUNK_ROWS,
    progress: Progress | None = None,
) -> int:
    """Stream several frames (e.g. batches of a big file) through ONE COPY statement.

    Each frame is encoded with the same vectorized calls as :func:`copy_frame`
    when it arrives, so a producer (a reader thread) can read and validate the
    next batch while the server parses this one. All rows land in the caller's
    transaction; nothing is committed.

    Parameters
    ----------
    frames : iterable of DataFrame or GeoDataFrame
        All with the given ``columns``.
    columns : sequence of str
        Columns to load (required: the first frame may not have arrived yet).
    Other parameters are as for :func:`copy_frame`.

    Returns
    -------
    int
        Rows loaded.
    """
    from gis.db.connection import translate_errors

    names = list(columns)
    table_name = ".".join(_split_name(table))
    with translate_errors(f"reading the columns of {table_name}"):
        target = table_columns(conn, table)
    unknown = [c for c in names if c not in target or target[c]["generated"]]
    if unknown:
        raise DataError(f"columns {unknown} are not loadable columns of the table",
                        source=table_name)
    return _copy_stream(conn, table, names, target, iter(frames), srid=srid, format=format,
                        chunk_rows=chunk_rows, progress=progress)


def _copy_stream(conn: psycopg.Connection, table: str | Sequence[str], names: list[str],
                 target: dict[str, dict[str, Any]], frames: Iterator[pd.DataFrame], *,
                 srid: int | None, format: str, chunk_rows: int,
                 progress: Progress | None) -> int:
    from psycopg import sql

    from gis.db.connection import translate_errors

    if format not in ("text", "binary"):
        raise ValueError(f"format must be 'text' or 'binary', not {format!r}")
    table_name = ".".join(_split_name(table))
    if format == "binary":
        unsupported = [c for c in names if not binary_supported(target[c]["type"])]
        if unsupported:
            log.debug("text COPY for %s: no binary encoder for columns %s", table_name,
                      unsupported)
            format = "text"
    stmt = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT {})").format(
        _table_ident(table),
        sql.SQL(", ").join(sql.Identifier(c) for c in names),
        sql.SQL(format),
    )
    def encoded_frames() -> Iterator[tuple[int, list[Any]]]:
        for frame in frames:
            if len(frame):
                yield len(frame), encode_frame(frame, names, target, srid=srid, format=format,
                                                table_name=table_name)

    batches = encoded_frames()
    # Encode the first frame before COPY starts: a DataError in it then leaves the
    # caller's transaction usable. (An error in a later frame aborts the COPY.)
    first = next(batches, None)
    if first is None:
        return 0
    sent = 0
    from psycopg.copy import QueuedLibpqWriter

    with translate_errors(f"loading rows into {table_name}"), conn.cursor() as cur, \
            cur.copy(stmt, writer=QueuedLibpqWriter(cur)) as copy:
        # The queued writer sends from a thread, so encoding the next batch overlaps
        # with the server parsing this one.
        if format == "binary":
            copy.write(BINARY_SIGNATURE)
        for n, encoded in itertools.chain([first], batches):
            for start in range(0, n, chunk_rows):
                stop = min(start + chunk_rows, n)
                if format == "text":
                    copy.write(text_chunk([col[start:stop] for col in encoded]))
                else:
                    copy.write(binary_chunk([f.slice(start, stop) for f in encoded]))
                sent += stop - start
                if progress is not None:
                    progress(stop - start)
        if format == "binary":
            copy.write(BINARY_TRAILER)
    log.debug("copied %d rows into %s", sent, table_name)
    return sent


# -------------------------------------------------------------------- read
def read_frame(
    conn: psycopg.Connection,
    query: Any,
    params: Sequence[Any] | dict[str, Any] | None = None,
    geom_col: str = "geom",
) -> pd.DataFrame:
    """Run ``query`` and return a GeoDataFrame (or a DataFrame when it has no geometry).

    Every geometry column is decoded with one vectorized ``shapely.from_wkb``
    call; the CRS is taken from the SRID of ``geom_col``. ``date`` columns become
    ``datetime64``.

    Parameters
    ----------
    conn : psycopg.Connection
    query : str or psycopg.sql.Composable
        A SELECT; values go in ``params``, never into the text.
    params : sequence or mapping, optional
    geom_col : str
        The active geometry column when several are returned.

    Examples
    --------
    With an open connection ``conn``::

        gdf = read_frame(conn, "SELECT parcel_code, geom FROM parcel WHERE town = %s",
                         ["城南镇"])
    """
    import geopandas as gpd
    import pandas as pd
    import shapely

    from gis.db.connection import translate_errors

    with translate_errors("reading a query result"), conn.cursor() as cur:
        cur.execute(query, params)
        if cur.description is None:
            raise DatabaseError("the query returned no result set (use SELECT)")
        names = [d.name for d in cur.description]
        oids = [d.type_code for d in cur.description]
        rows = cur.fetchall()
        geom_oid = _geometry_oid(conn)
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(names)
    data: dict[str, Any] = {}
    geom_names = []
    for name, oid, values in zip(names, oids, columns, strict=True):
        arr = np.empty(len(values), dtype=object)
        arr[:] = values
        if geom_oid is not None and oid == geom_oid:
            data[name] = shapely.from_wkb(arr)
            geom_names.append(name)
        elif oid == 1082:  # date
            data[name] = pd.to_datetime(pd.Series(arr, dtype=object), errors="coerce")
        else:
            data[name] = pd.Series(values, dtype=object).infer_objects() if len(values) else \
                pd.Series([], dtype=object)
    frame = pd.DataFrame(data, columns=names)
    if not geom_names:
        return frame
    active = geom_col if geom_col in geom_names else geom_names[0]
    geoms = data[active]
    srids = shapely.get_srid(geoms[~shapely.is_missing(geoms)]) if len(geoms) else np.array([])
    unique = np.unique(srids[srids > 0]) if len(srids) else np.array([])
    crs = None
    if len(unique) == 1:
        crs = f"EPSG:{int(unique[0])}"
    elif len(unique) > 1:
        log.warning("column %s mixes SRIDs %s; returning it without a CRS", active, unique)
    gdf = gpd.GeoDataFrame(frame, geometry=active, crs=crs)
    for other in geom_names:
        if other != active:
            gdf[other] = gpd.GeoSeries(data[other], index=gdf.index, crs=crs)
    return gdf


def _geometry_oid(conn: psycopg.Connection) -> int | None:
    row = conn.execute("SELECT to_regtype('geometry')::oid").fetchone()
    return int(row[0]) if row and row[0] is not None else None


