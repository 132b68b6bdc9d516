"""Approved conversions (批次) for the 批而未供 rule: ``mujun candidates approvals FILE``.

A polygon layer with, per approval, its code (批次号/批准文号) and date (批准日期), and
optionally the town and purpose. Read with :func:`gis.vector_io.read_vector` (any OGR
format, GBK shapefiles included), headers recognised in Chinese or English, reprojected to
the working CRS, validated feature by feature, and written in one transaction as an
``approvals`` batch. The same file loaded again changes nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from gis.errors import DataError

if TYPE_CHECKING:
    import psycopg

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


def load_approvals(conn: psycopg.Connection, path: str | Path, *, layer: str | None = None,
                   crs: Any = None) -> dict[str, Any]:
    """Load an approvals layer into ``land_approval`` as one batch (commits).

    Returns
    -------
    dict
        ``batch_id``, ``loaded`` (rows), ``already_imported``.

    Raises
    ------
    DataError
        Missing columns, a feature without code, date or polygon (named by number);
        nothing is written.
    """
    import shapely

    from gis.db.batches import find_batch_by_sha, finish_batch, start_batch
    from gis.db.connection import translate_errors
    from gis.db.copy import copy_frame, get_working_srid
    from gis.importing.common import file_sha256
    from gis.importing.values import parse_date
    from gis.vector_io import read_vector

    source = str(path)
    sha = file_sha256(path) if Path(path).is_file() else None
    if sha is not None:
        earlier = find_batch_by_sha(conn, KIND, sha)
        if earlier is not None:
            conn.rollback()
            return {"batch_id": earlier, "loaded": 0, "already_imported": True}
    frame = read_vector(path, layer, crs=crs)
    cols = _columns([c for c in frame.columns if c != frame.geometry.name], source)
    srid = get_working_srid(conn)
    if srid is None:
        raise DataError("load parcels first: approvals are compared with supplied parcels "
                        "in the working CRS", source=source)
    if frame.crs is not None and frame.crs.to_epsg() != srid:
        frame = frame.to_crs(epsg=srid)
    rows = []
    for i, (geom, rec) in enumerate(zip(frame.geometry.values, frame.to_dict("records"),
                                        strict=True), 1):
        where = f"feature {i}"
        code = rec.get(cols["approval_code"])
        if code is None or not str(code).strip() or str(code) == "nan":
            raise DataError("no approval code", source=source, location=where)
        date, problem = parse_date(rec.get(cols["approved_date"]))
        if date is None:
            raise DataError(problem or "no approval date", source=source, location=where)
        if geom is None or geom.is_empty:
            raise DataError("no geometry", source=source, location=where)
        geom = shapely.make_valid(geom)
        if geom.geom_type == "GeometryCollection":
            geom = shapely.union_all([g for g in geom.geoms
                                      if g.geom_type in ("Polygon", "MultiPolygon")])
        if geom.is_empty or geom.geom_type not in ("Polygon", "MultiPolygon"):
            raise DataError("not a polygon", source=source, location=where)
        rows.append({"approval_code": str(code).strip(), "approved_date": date, "geom": geom,
                     "town": rec.get(cols["town"]) if "town" in cols else None,
                     "purpose": rec.get(cols["purpose"]) if "purpose" in cols else None})
    if not rows:
        raise DataError("the layer holds no approvals", source=source)
    import geopandas as gpd

    out = gpd.GeoDataFrame(rows, geometry="geom", crs=f"EPSG:{srid}")
    try:
        with translate_errors("loading approvals"):
            batch = start_batch(conn, KIND, source, source_sha256=sha, layer=layer, srid=srid)
            out["batch_id"] = batch
            copy_frame(conn, "land_approval", out, srid=srid)
            finish_batch(conn, batch, n_read=len(frame), n_loaded=len(out))
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    return {"batch_id": batch, "loaded": len(out), "already_imported": False}
