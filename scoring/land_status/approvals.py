"""Approved conversions (批次) for the 批而未供 rule: ``mujun candidates approvals FILE``.

A polygon layer with, per approval, its code (批次号/批准文号) and date (批准日期), and
optionally the town and purpose. It goes through the same steps as every import
(:mod:`gis.importing.common`): the ``approvals`` import lock and the import's identity
(file hash and reading options: the same file read the same way changes nothing), the
read with its CRS checks (:func:`gis.importing.layers.read_layer`: declared CRS, swapped
axes, every feature against the CRS's area of use, repair, reprojection to the working
CRS), per-feature checks collected in an :class:`~gis.importing.report.ImportReport`,
the all-or-nothing rule (``accept_partial`` loads the good features and writes a rejects
file), and one transaction that records the ``approvals`` batch with its report — or
a dry run that writes nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from gis.errors import DataError

if TYPE_CHECKING:
    import psycopg

    from gis.importing.common import ImportResult

KIND = "approvals"
#: field -> header synonyms (compared case-insensitively, spaces ignored).
SYNONYMS = {
    "approval_code": ["批次号", "批次编号", "批准文号", "批复文号", "批次名称", "approval_code", "code"],
    "approved_date": ["批准日期", "批复日期", "批准时间", "approved_date", "date"],
    "town": ["镇", "乡镇", "镇街", "镇(街道)", "town"],
    "purpose": ["用途", "批准用途", "purpose"],
}


def _columns(columns: list[str], source: str) -> dict[str, str]:
    norm = {str(c).strip().lower().replace(" ", ""): c for c in columns}
    found = {}
    for field, names in SYNONYMS.items():
        for name in names:
            if name.lower() in norm:
                found[field] = norm[name.lower()]
                break
    for field in ("approval_code", "approved_date"):
        if field not in found:
            raise DataError(f"no {field} column (one of {', '.join(SYNONYMS[field])}); "
                            f"columns are: {', '.join(map(str, columns))}", source=source)
    return found


def check_approvals(frame: Any, cols: dict[str, str], report: Any) -> tuple[list, list]:
    """Approval codes and dates per feature; a missing code or an unreadable date is an
    error of that feature in ``report`` (pure).

    Returns
    -------
    codes, dates : lists (None where the feature is rejected)
    """
    from gis.importing.values import is_blank, parse_date

    codes, dates = [], []
    for i, rec in enumerate(frame[[cols[k] for k in ("approval_code", "approved_date")]]
                            .itertuples(index=False, name=None), 1):
        code, raw_date = rec
        code = None if is_blank(code) or not str(code).strip() else str(code).strip()
        if code is None:
            report.add(i, "missing_approval_code", "error", "no approval code",
                       field=cols["approval_code"])
        date, problem = parse_date(raw_date)
        if date is None:
            report.add(i, "bad_approval_date", "error", problem or "no approval date",
                       field=cols["approved_date"], value=raw_date)
        codes.append(code)
        dates.append(date)
    return codes, dates


def load_approvals(conn: psycopg.Connection, path: str | Path, *, layer: str | None = None,
                   crs: Any = None, encoding: str | None = None, swap_xy: bool = False,
                   dry_run: bool = False, accept_partial: bool = False,
                   rejects: str | Path | None = None, overwrite: bool = False,
                   settings: Any = None, progress: Any = None) -> ImportResult:
    """Load an approvals layer into ``land_approval`` as one batch (commits, or rolls back
    a dry run).

    Parameters
    ----------
    layer, crs, encoding, swap_xy : see :func:`gis.importing.layers.read_layer`.
    dry_run : bool
        Check and count everything, write nothing.
    accept_partial : bool
        Load the good features, list rejected ones in ``rejects``.
    rejects : path, optional
        Rejects CSV (with ``accept_partial``).

    Returns
    -------
    ImportResult

    Raises
    ------
    ImportRejected
        A feature without code, date or usable polygon (named by number), and no
        ``accept_partial``: nothing is written.
    DataError
        Missing columns; no parcels loaded yet (no working CRS).
    """
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
    import scoring.land_status.vocabulary  # noqa: F401  (names this import's checks)

    report = ImportReport(source=source, unit="feature")
    options = {"layer": layer, "crs": str(crs) if crs is not None else None,
               "encoding": encoding, "swap_xy": swap_xy or None}
    rejects_path = None
    try:
        ident = earlier_import(conn, KIND, path, options)
        if ident.earlier is not None:
            return already_imported(conn, KIND, source, report, ident.earlier,
                                    dry_run=dry_run)
        srid = get_working_srid(conn)
        if srid is None:
            raise DataError("load parcels first: approvals are compared with supplied "
                            "parcels in the working CRS", source=source)
        frame = read_layer(path, layer=layer, crs=crs, encoding=encoding, swap_xy=swap_xy,
                           report=report)
        report.n_read = len(frame)
        if len(frame) == 0:
            raise DataError("the layer holds no approvals", source=source)
        cols = _columns([c for c in frame.columns if c != frame.geometry.name], source)
        codes, dates = check_approvals(frame, cols, report)
        rows = np.arange(1, len(frame) + 1)
        geoms, srid, _new, geom_ok = to_working_crs(conn, frame, rows, report,
                                                    settings=settings, swapped=swap_xy)
        tick(len(frame))
        rejects_path = settle(report, accept_partial=accept_partial, source=source,
                              rejects=None if dry_run else rejects, overwrite=overwrite)
        keep = geom_ok & ~np.isin(rows, list(report.rejected_rows))
        import geopandas as gpd

        def column(field: str) -> list:
            if field not in cols:
                return [None] * int(keep.sum())
            return [None if v is None or v != v else str(v)
                    for v in frame[cols[field]].to_numpy(dtype=object)[keep]]

        out = gpd.GeoDataFrame({
            "approval_code": [c for c, k in zip(codes, keep, strict=True) if k],
            "approved_date": [d for d, k in zip(dates, keep, strict=True) if k],
            "town": column("town"), "purpose": column("purpose"),
            "geom": list(geoms[keep])}, geometry="geom", crs=f"EPSG:{srid}")
        batch_id = start_batch(conn, KIND, str(path), source_sha256=ident.file_hash,
                               identity=ident.identity, layer=layer,
                               params={k: v for k, v in options.items() if v is not None}
                               | {"accept_partial": accept_partial}, srid=srid)
        out["batch_id"] = batch_id
        copy_frame(conn, "land_approval", out, srid=srid)
        close_batch(conn, batch_id, report, n_loaded=len(out), inserted=len(out),
                    dry_run=dry_run)
    except BaseException:
        rollback_quietly(conn)
        raise
    return ImportResult(KIND, source, report, batch_id=None if dry_run else batch_id,
                        dry_run=dry_run, rejects_path=rejects_path, srid=srid)
