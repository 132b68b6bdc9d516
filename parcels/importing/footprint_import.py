"""Import building footprints surveyed or delivered elsewhere into ``footprint``.

Tool module. Validated and reprojected like parcels
(:mod:`parcels.importing.layers`), stored with their survey date and source,
``method = 'survey'``. Footprints have no natural key: a file is loaded once
(the batch's SHA-256 guards repeats); loading a corrected delivery adds a new
batch, and consumers pick footprints by batch or date.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from gis.errors import DataError
from parcels.importing.common import ImportResult, close_batch, earlier_import, settle
from parcels.importing.layers import extra_attributes, read_layer, to_working_crs
from parcels.importing.parcel_checks import parse_attributes
from parcels.importing.report import ImportReport
from parcels.importing.values import parse_date

if TYPE_CHECKING:
    import psycopg

    from gis.progress import Progress

log = logging.getLogger(__name__)

FOOTPRINT_COLUMNS = ("geom", "image_date", "source", "method", "height_m", "storeys", "attrs",
                     "batch_id", "source_fid")
_KINDS = {"image_date": "date", "source": "text", "height_m": "number", "storeys": "number"}


def import_footprints(conn: psycopg.Connection, path: str | Path, *, layer: str | None = None,
                      crs: Any = None, encoding: str | None = None,
                      survey_date: str | None = None, source_name: str | None = None,
                      swap_xy: bool = False, dry_run: bool = False, accept_partial: bool = False,
                      rejects: str | Path | None = None, overwrite: bool = False,
                      settings: Any = None, min_area_m2: float = 1.0,
                      progress: Progress | None = None) -> ImportResult:
    """Validate a footprint layer and append it to ``footprint`` in one transaction.

    Parameters
    ----------
    survey_date : str, optional
        Date of the survey or imagery (``YYYY-MM-DD``); overrides a date column.
    source_name : str, optional
        Vendor or survey name; overrides a source column; default the file name.

    Other parameters as for :func:`parcels.importing.parcel_import.import_parcels`.
    """
    from gis.db.batches import start_batch
    from gis.db.copy import copy_frame, set_working_srid
    from parcels.importing.headers import load_field_specs, match_columns

    tick = progress or (lambda n: None)
    source = str(path) + (f":{layer}" if layer else "")
    date, problem = parse_date(survey_date)
    if problem:
        raise DataError(f"--date: {problem}; use YYYY-MM-DD")
    report = ImportReport(source=source, unit="feature")
    sha, repeat = earlier_import(conn, "footprints", path, source, report, dry_run=dry_run)
    if repeat is not None:
        return repeat
    gdf = read_layer(path, layer=layer, crs=crs, encoding=encoding, swap_xy=swap_xy,
                     report=report)
    report.n_read = n = len(gdf)
    rows = np.arange(1, n + 1)
    names = [c for c in gdf.columns if c != gdf.geometry.name]
    plan = match_columns([names], load_field_specs("footprints"), source=source)
    fields = {m.field: (names[m.index], m.factor) for m in plan.columns if m.field}
    attrs = parse_attributes(gdf, fields, rows, report, _KINDS)
    geoms, srid, new_srid, ok = to_working_crs(conn, gdf, rows, report, settings=settings,
                                               min_area_m2=min_area_m2)
    tick(n)
    frame = pd.DataFrame({
        "geom": geoms,
        "image_date": [date] * n if date else attrs["image_date"],
        "source": [source_name or Path(path).name] * n if source_name or "source" not in fields
        else attrs["source"],
        "method": "survey",
        "height_m": attrs["height_m"],
        "storeys": attrs["storeys"],
        "attrs": extra_attributes(gdf, [c for c in names if c not in
                                        {v[0] for v in fields.values()}]),
        "source_fid": rows,
    })
    h = pd.to_numeric(frame["height_m"], errors="coerce")
    for r in rows[(h < 0).to_numpy()]:
        report.add(int(r), "absurd_value", "error", "negative building height", "height_m")
    rejects_path = settle(report, accept_partial=accept_partial, source=source,
                          rejects=None if dry_run else rejects, overwrite=overwrite)
    keep = ok & ~np.isin(rows, list(report.rejected_rows))
    load = frame[keep].reset_index(drop=True)
    load["storeys"] = pd.array([None if pd.isna(v) else round(v) for v in load["storeys"]],
                               dtype="Int64")
    try:
        if new_srid:
            set_working_srid(conn, srid)
        batch_id = start_batch(conn, "footprints", str(path), source_sha256=sha, layer=layer,
                               params={"date": str(date) if date else None,
                                       "source": source_name, "swap_xy": swap_xy}, srid=srid)
        load["batch_id"] = batch_id
        copy_frame(conn, "footprint", load, list(FOOTPRINT_COLUMNS), srid=srid)
        close_batch(conn, batch_id, report, n_loaded=len(load), inserted=len(load),
                    dry_run=dry_run)
    except BaseException:
        conn.rollback()
        raise
    return ImportResult("footprints", source, report, batch_id=None if dry_run else batch_id,
                        dry_run=dry_run, rejects_path=rejects_path, srid=srid)
