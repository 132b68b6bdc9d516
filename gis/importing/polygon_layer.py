"""One loader for the small polygon layers a floor above imports into a table of its own.

Approved conversions (批次) and area-wide assessments (区域评估) are each a polygon layer
with a few attribute columns found by their header synonyms. They go through the same
steps as every import (:mod:`gis.importing.common`): the kind's import lock and the
import's identity (file hash and reading options: the same file read the same way
changes nothing), the read with its CRS checks (:func:`gis.importing.layers.read_layer`,
then :func:`~gis.importing.layers.to_working_crs`: declared CRS, swapped axes, every
feature against the CRS's area of use, repair, reprojection to the working CRS),
per-feature checks collected in an :class:`~gis.importing.report.ImportReport`, the
all-or-nothing rule (``accept_partial`` loads the good features and writes a rejects
file), and one transaction that records the batch with its report and COPYs the rows —
or a dry run that writes nothing. The caller says which columns to find and how to turn
the features' cells into row values (its ``attributes`` function); this module knows no
domain.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from gis.errors import DataError

if TYPE_CHECKING:
    import geopandas as gpd
    import psycopg

    from gis.importing.common import ImportResult
    from gis.importing.report import ImportReport

#: ``attributes(frame, columns, report) -> {table column: one value per feature}``.
Attributes = Callable[["gpd.GeoDataFrame", dict[str, str], "ImportReport"], dict[str, list]]


def find_columns(columns: Sequence[Any], synonyms: Mapping[str, Sequence[str]],
                 required: Sequence[str], source: str) -> dict[str, str]:
    """Field -> the file's column, by header synonyms (case and spaces ignored).

    Raises
    ------
    DataError
        A required field has no column: the message lists its synonyms and the file's
        columns.

    Examples
    --------
    >>> find_columns(["批次号", "批准日期 "], {"code": ["批次号"], "date": ["批准日期"],
    ...               "town": ["镇"]}, ("code",), "a.gpkg")
    {'code': '批次号', 'date': '批准日期 '}
    """
    norm = {str(c).strip().lower().replace(" ", ""): c for c in columns}
    found: dict[str, str] = {}
    for field, names in synonyms.items():
        for name in names:
            if name.lower().replace(" ", "") in norm:
                found[field] = norm[name.lower().replace(" ", "")]
                break
    missing = [f for f in required if f not in found]
    if missing:
        raise DataError("; ".join(f"no {f} column (one of {', '.join(synonyms[f])})"
                                  for f in missing)
                        + f"; columns are: {', '.join(map(str, columns))}", source=source)
    return found


def text_column(frame: Any, columns: dict[str, str], field: str) -> list:
    """The cells of ``field`` as stripped text (None where empty or the column is absent)."""
    if field not in columns:
        return [None] * len(frame)
    return [None if v is None or v != v or not str(v).strip() else str(v).strip()
            for v in frame[columns[field]].to_numpy(dtype=object)]


def load_polygon_layer(conn: psycopg.Connection, kind: str, table: str, path: str | Path, *,
                       synonyms: Mapping[str, Sequence[str]], required: Sequence[str],
                       attributes: Attributes, what: str, layer: str | None = None,
                       crs: Any = None, encoding: str | None = None, swap_xy: bool = False,
                       dry_run: bool = False, accept_partial: bool = False,
                       rejects: str | Path | None = None, overwrite: bool = False,
                       settings: Any = None, progress: Any = None) -> ImportResult:
    """Load a polygon layer into ``table`` as one ``kind`` batch (commits, or rolls back a
    dry run).

    Parameters
    ----------
    kind, table : str
        The import-batch kind and the target table (columns: those ``attributes``
        returns, ``geom`` and ``batch_id``).
    synonyms, required :
        For :func:`find_columns`.
    attributes : callable
        ``(frame, columns, report) -> {column: values}``, one value per feature; it adds
        the features it rejects to ``report``.
    what : str
        What the layer holds, for messages (``approvals``).
    layer, crs, encoding, swap_xy : see :func:`gis.importing.layers.read_layer`.
    dry_run, accept_partial, rejects, overwrite :
        As for every import.

    Raises
    ------
    ImportRejected
        A rejected feature (named by number) and no ``accept_partial``: nothing is written.
    DataError
        Missing columns, an empty layer, no parcels loaded yet (no working CRS).
    """
    import geopandas as gpd

    from gis.db.batches import start_batch
    from gis.db.copy import copy_frame
    from gis.db.srid import get_working_srid
    from gis.importing.common import (
        ImportResult,
        already_imported,
        close_batch,
        earlier_import,
        rollback_quietly,
        settle,
    )
    from gis.importing.layers import read_layer, to_working_crs
    from gis.importing.report import ImportReport
    from gis.vector_io import resolve_layer

    tick = progress or (lambda n: None)
    source = str(path) + (f":{layer}" if layer else "")
    layer = resolve_layer(path, layer)
    report = ImportReport(source=source, unit="feature")
    options = {"layer": layer, "crs": str(crs) if crs is not None else None,
               "encoding": encoding, "swap_xy": swap_xy or None}
    rejects_path = None
    try:
        ident = earlier_import(conn, kind, path, options)
        if ident.earlier is not None:
            return already_imported(conn, kind, source, report, ident.earlier,
                                    dry_run=dry_run)
        if get_working_srid(conn) is None:
            raise DataError(f"load parcels first: {what} are stored in the working CRS, "
                            "which the first import fixes", source=source)
        frame = read_layer(path, layer=layer, crs=crs, encoding=encoding, swap_xy=swap_xy,
                           report=report)
        report.n_read = len(frame)
        if len(frame) == 0:
            raise DataError(f"the layer holds no {what}", source=source)
        cols = find_columns([c for c in frame.columns if c != frame.geometry.name], synonyms,
                            required, source)
        values = attributes(frame, cols, report)
        rows = np.arange(1, len(frame) + 1)
        geoms, srid, _new, geom_ok = to_working_crs(conn, frame, rows, report,
                                                    settings=settings, swapped=swap_xy)
        tick(len(frame))
        rejects_path = settle(report, accept_partial=accept_partial, source=source,
                              rejects=None if dry_run else rejects, overwrite=overwrite)
        keep = geom_ok & ~np.isin(rows, list(report.rejected_rows))
        out = gpd.GeoDataFrame(
            {**{k: [v for v, ok in zip(vals, keep, strict=True) if ok]
                for k, vals in values.items()},
             "geom": list(geoms[keep])}, geometry="geom", crs=f"EPSG:{srid}")
        batch_id = start_batch(conn, kind, str(path), source_sha256=ident.file_hash,
                               identity=ident.identity, layer=layer,
                               params={k: v for k, v in options.items() if v is not None}
                               | {"accept_partial": accept_partial}, srid=srid)
        out["batch_id"] = batch_id
        copy_frame(conn, table, out, srid=srid)
        close_batch(conn, batch_id, report, n_loaded=len(out), inserted=len(out),
                    dry_run=dry_run)
    except BaseException:
        rollback_quietly(conn)
        raise
    return ImportResult(kind, source, report, batch_id=None if dry_run else batch_id,
                        dry_run=dry_run, rejects_path=rejects_path, srid=srid)
