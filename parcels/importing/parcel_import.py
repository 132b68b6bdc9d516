"""Import a parcel layer into ``parcel``: validated, reprojected, upserted by parcel code.

Tool module (reads files, writes through the connection it is given).

Examples
--------
With an open connection ``conn`` (``mujun import parcels`` does this)::

    result = import_parcels(conn, "zongdi.shp", crs=4549)
    result.batch_id, result.report.n_loaded      # -> (1, 812)
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from gis.errors import DataError
from gis.importing.attributes import parse_attributes
from gis.importing.common import (
    ImportResult,
    already_imported,
    close_batch,
    earlier_import,
    rollback_quietly,
    settle,
)
from gis.importing.headers import load_field_specs, match_columns, note_plan
from gis.importing.layers import extra_attributes, read_layer, to_working_crs
from gis.importing.report import ImportReport
from gis.importing.store import upsert_frame
from parcels.importing.kinds import register_import_kinds
from parcels.importing.parcel_checks import (
    PARCEL_FIELDS,
    check_parcel_codes,
    check_ranges,
    compare_cert_area,
    find_overlaps,
    report_overlaps,
)

if TYPE_CHECKING:
    import geopandas as gpd
    import psycopg

    from gis.progress import Progress

log = logging.getLogger(__name__)

#: Columns written to ``parcel`` (attribute columns only when the source carries them).
PARCEL_COLUMNS = ("parcel_code", "geom", "cert_area_m2", "land_use_code", "supply_date",
                  "agreed_start_date", "agreed_finish_date", "planned_far", "town", "district",
                  "park", "attrs", "batch_id", "source_fid")


def with_id_field(mapping: Mapping[str, Any] | None, id_field: str | None) -> dict[str, Any]:
    """``--id-field COLUMN`` as the mapping ``parcel_code: COLUMN`` (which settles ambiguity)."""
    out = dict(mapping or {})
    if id_field is not None:
        out["columns"] = {**dict(out.get("columns") or {}), "parcel_code": id_field}
    return out


def map_columns(gdf: gpd.GeoDataFrame, kind: str, mapping: Mapping[str, Any] | None,
                id_field: str | None, source: str, report: ImportReport | None = None,
                ) -> tuple[dict[str, tuple[str, float]], list[str]]:
    """Schema field -> (source column, unit factor) for a layer's attribute columns.

    Returns
    -------
    fields : dict
    unmapped : list of str
        Source columns kept in ``attrs``.

    Raises
    ------
    gis.errors.MappingError
        ``--id-field`` or a ``--map`` column does not exist; two columns
        claim one field and no option says which.
    """
    mapping = with_id_field(mapping, id_field)
    specs = load_field_specs(kind, mapping)
    names = [c for c in gdf.columns if c != gdf.geometry.name]
    plan = match_columns([names], specs, mapping, source=source)
    if report is not None:
        note_plan(plan, report)
    fields = {m.field: (names[m.index], m.factor) for m in plan.columns if m.field}
    used = {v[0] for v in fields.values()}
    return fields, [c for c in names if c not in used]


def check_parcels(conn: psycopg.Connection, gdf: gpd.GeoDataFrame, report: ImportReport, *,
                  fields: dict[str, tuple[str, float]], unmapped: list[str],
                  settings: Any = None, min_overlap_m2: float = 1.0,
                  area_tolerance: float = 0.05, swapped: bool = False,
                  ) -> tuple[pd.DataFrame, int, bool]:
    """Run every parcel check; return the frame to load (all rows), the SRID and whether it is new."""
    n = len(gdf)
    rows = np.arange(1, n + 1)
    if "parcel_code" not in fields:
        raise DataError("no parcel code column found (looked for 宗地代码, 宗地号, 不动产单元号, "
                        "ZDDM, parcel_code ...); name it with --id-field or --map "
                        "parcel_code=COLUMN", source=report.source)
    attrs = parse_attributes(gdf, fields, rows, report, PARCEL_FIELDS)
    check_ranges(attrs, rows, report)
    geoms, srid, new_srid, geom_ok = to_working_crs(conn, gdf, rows, report, settings=settings,
                                                    swapped=swapped)
    codes = attrs["parcel_code"]
    code_ok = check_parcel_codes(codes, rows, report)
    ok = geom_ok & code_ok
    idx = np.flatnonzero(ok)
    overlaps = find_overlaps(geoms[idx], min_area_m2=min_overlap_m2)
    overlaps["i"], overlaps["j"] = idx[overlaps["i"]], idx[overlaps["j"]]
    report_overlaps(overlaps, rows, codes, report)
    import shapely

    measured = np.full(n, np.nan)
    present = ~shapely.is_missing(geoms)
    measured[present] = shapely.area(geoms[present])
    cert = pd.to_numeric(attrs["cert_area_m2"], errors="coerce").to_numpy(dtype=float)
    compare_cert_area(measured[ok], cert[ok], rows[ok], codes[ok], report,
                      tolerance=area_tolerance)
    frame = attrs.copy()
    frame["geom"] = geoms
    frame["attrs"] = extra_attributes(gdf, unmapped)
    frame["source_fid"] = rows
    return frame, srid, new_srid


def import_parcels(conn: psycopg.Connection, path: str | Path, *, layer: str | None = None,
                   crs: Any = None, encoding: str | None = None, id_field: str | None = None,
                   mapping: Mapping[str, Any] | None = None, swap_xy: bool = False,
                   dry_run: bool = False, accept_partial: bool = False,
                   rejects: str | Path | None = None, overwrite: bool = False,
                   clear_blanks: bool = False, settings: Any = None,
                   min_overlap_m2: float = 1.0, area_tolerance: float = 0.05,
                   progress: Progress | None = None) -> ImportResult:
    """Validate a parcel layer and upsert it into ``parcel`` in one transaction.

    Parameters
    ----------
    conn : psycopg.Connection
        Committed on success, rolled back on error or for a dry run.
    path : vector source (Shapefile, GPKG, GeoJSON, TopoJSON, FileGDB, ...).
    layer, crs, encoding, swap_xy : see :func:`gis.importing.layers.read_layer`.
    id_field : str, optional
        Column holding the parcel code (default: recognised from the headers);
        it wins over any other column that looks like a parcel code.
    mapping : mapping, optional
        ``{'columns': {field: column}}`` (from ``--map``) and ``units``.
    clear_blanks : bool
        An empty cell clears the stored value. By default an update changes
        only the columns the file carries, and only with values it has: a
        geometry-only file keeps certificate areas, land use and dates.
    dry_run : bool
        Check and count everything, write nothing.
    accept_partial : bool
        Load good features, list rejected ones in ``rejects``.
    rejects : path, optional
        Rejects CSV (with ``accept_partial``).
    settings : Settings, optional
        ``working_crs`` overrides the CRS chosen from the data.
    min_overlap_m2 : float
        Overlaps smaller than this are digitising noise and not listed.
    area_tolerance : float
        Relative certificate/measured area difference above which a parcel is listed.

    Returns
    -------
    ImportResult

    Raises
    ------
    parcels.errors.ImportRejected
        Errors found (and not ``accept_partial``): nothing was written.
    gis.errors.CRSError, gis.errors.DataError
        Unreadable input, no CRS, swapped axes.
    """
    from gis.db.batches import start_batch
    from gis.db.srid import set_working_srid
    from gis.vector_io import resolve_layer

    register_import_kinds()
    tick = progress or (lambda n: None)
    source = str(path) + (f":{layer}" if layer else "")
    layer = resolve_layer(path, layer)
    report = ImportReport(source=source, unit="feature")
    options = {"layer": layer, "crs": str(crs) if crs is not None else None,
               "encoding": encoding, "id_field": id_field,
               "mapping": dict(mapping or {}) or None, "swap_xy": swap_xy or None,
               "clear_blanks": clear_blanks or None}
    try:
        ident = earlier_import(conn, "parcels", path, options)
        if ident.earlier is not None:
            return already_imported(conn, "parcels", source, report, ident.earlier,
                                    dry_run=dry_run)
        gdf = read_layer(path, layer=layer, crs=crs, encoding=encoding, swap_xy=swap_xy,
                         report=report)
        report.n_read = len(gdf)
        tick(len(gdf) // 2)
        fields, unmapped = map_columns(gdf, "parcels", mapping, id_field, source, report)
        frame, srid, new_srid = check_parcels(conn, gdf, report, fields=fields,
                                              unmapped=unmapped, settings=settings,
                                              min_overlap_m2=min_overlap_m2,
                                              area_tolerance=area_tolerance, swapped=swap_xy)
        tick(len(gdf) - len(gdf) // 2)
        rejects_path = settle(report, accept_partial=accept_partial, source=source,
                              rejects=None if dry_run else rejects, overwrite=overwrite)
        keep = ~np.isin(frame["source_fid"].to_numpy(), list(report.rejected_rows))
        load = frame[keep].reset_index(drop=True)
        if new_srid:
            set_working_srid(conn, srid)
        batch_id = start_batch(conn, "parcels", str(path), source_sha256=ident.file_hash,
                               identity=ident.identity, layer=layer,
                               params={k: v for k, v in options.items() if v is not None}
                               | {"accept_partial": accept_partial}, srid=srid)
        load["batch_id"] = batch_id
        carried = ["parcel_code", "geom", *[f for f in PARCEL_FIELDS if f in fields
                                            and f != "parcel_code"],
                   "attrs", "batch_id", "source_fid"]
        inserted, updated = upsert_frame(
            conn, "parcel", load, ["parcel_code"], carried, srid=srid,
            keep_when_null=() if clear_blanks else carried, merge_json=("attrs",))
        report.extra["columns_written"] = [c for c in carried if c in PARCEL_FIELDS]
        close_batch(conn, batch_id, report, n_loaded=len(load), inserted=inserted,
                    updated=updated, dry_run=dry_run)
    except BaseException:
        rollback_quietly(conn)
        raise
    return ImportResult("parcels", source, report, batch_id=None if dry_run else batch_id,
                        dry_run=dry_run, rejects_path=rejects_path, srid=srid)
