"""Decisions of the candidates a user may see, as XLSX or GeoPackage bytes.

Rows: every candidate matching the filters (RLS-limited) with its last decision
(who, when, to which status, reason code, comment). The GeoPackage carries the
parcel outlines in the working CRS, so it opens in QGIS/ArcGIS with true areas.
Both are written by the one layer writer (:func:`gis.layer_writer.write_layer`):
Chinese headers and a 字段说明 sheet, and a comment such as ``=HYPERLINK(…)`` stays
text in Excel.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from gis.layer_writer import FieldInfo, write_layer
from maps.review.queries import _CLASS_JOIN, _WHERE, Filters

if TYPE_CHECKING:
    import psycopg

COLUMNS = ("candidate_id", "parcel_code", "kind", "status", "town", "district", "area_m2",
           "reclaimable_m2", "priority", "class", "decided_at", "decided_by", "from_status",
           "to_status", "reason_code", "comment")
HEADERS_ZH = ("候选编号", "宗地代码", "类型", "状态", "镇街", "区县", "面积(m²)", "可盘活面积(m²)",
              "优先级", "企业等级", "决定时间", "决定人", "原状态", "新状态", "理由代码", "意见")
ENGLISH = ("candidate id", "parcel code", "kind", "status", "town", "district", "area (m²)",
           "reclaimable area (m²)", "priority", "class", "decided at", "decided by",
           "previous status", "new status", "reason code", "comment")
MAX_ROWS = 200_000
#: The codes above in words (the land-status vocabulary), appended to every row.
LABEL_COLUMNS = ("kind_name", "status_name", "to_status_name", "reason_name")
LABEL_HEADERS_ZH = ("类型名称", "状态名称", "新状态名称", "理由")
LABEL_ENGLISH = ("kind name", "status name", "new status name", "reason")
#: The export's field table for the one writer (headers and the 字段说明 sheet).
FIELDS = {name: FieldInfo(name, zh, en)
          for name, zh, en in zip((*COLUMNS, *LABEL_COLUMNS), (*HEADERS_ZH, *LABEL_HEADERS_ZH),
                                  (*ENGLISH, *LABEL_ENGLISH), strict=True)}


def _labelled(row) -> list:
    """A row with the words of its kind, status, new status and reason appended."""
    from scoring.land_status.vocabulary import KINDS, REASONS, STATUSES

    out = list(row)
    at = {name: i for i, name in enumerate(COLUMNS)}
    return [*out, KINDS.label(out[at["kind"]]), STATUSES.label(out[at["status"]]),
            STATUSES.label(out[at["to_status"]]) or None,
            REASONS.label(out[at["reason_code"]]) or None]


def _rows(conn: psycopg.Connection, filters: Filters, srid: int | None, *, geometry: bool):
    query = (
        "SELECT c.candidate_id, c.parcel_code, c.kind, c.status, c.town, c.district, c.area_m2,"
        " c.reclaimable_m2, c.priority, cls.class, ev.at, ev.actor, ev.from_status, ev.to_status,"
        " ev.reason_code, ev.comment"
        + (", ST_AsBinary(p.geom)" if geometry else "")
        + " FROM candidate c"
        + (" LEFT JOIN parcel p ON p.parcel_code = c.parcel_code" if geometry else "")
        + _CLASS_JOIN
        + " LEFT JOIN LATERAL (SELECT at, actor, from_status, to_status, reason_code, comment"
          "   FROM review_event e WHERE e.candidate_id = c.candidate_id AND e.action = 'decided'"
          "   ORDER BY e.event_id DESC LIMIT 1) ev ON true"
        + _WHERE + " ORDER BY c.priority DESC NULLS LAST, c.candidate_id LIMIT %(max)s")
    params = filters.params() | {"srid": srid or 4326, "max": MAX_ROWS}
    return conn.execute(query, params).fetchall()


def _frame(rows: list, *, geometry: bool):
    import pandas as pd

    frame = pd.DataFrame([_labelled(r[:-1] if geometry else r) for r in rows],
                         columns=[*COLUMNS, *LABEL_COLUMNS])
    frame["decided_at"] = frame["decided_at"].map(
        lambda v: v.replace(tzinfo=None) if v is not None and hasattr(v, "tzinfo") else v)
    return frame


def _written(frame, name: str) -> bytes:
    with tempfile.TemporaryDirectory(prefix="mujun-export-") as tmp:
        path = Path(tmp) / name
        write_layer(frame, path, layer="decisions", title="决定", fields=FIELDS)
        return path.read_bytes()


def export_xlsx(conn: psycopg.Connection, filters: Filters, srid: int | None) -> bytes:
    """The decisions as an XLSX workbook (Chinese headers, a sheet naming every column)."""
    return _written(_frame(_rows(conn, filters, srid, geometry=False), geometry=False),
                    "decisions.xlsx")


def export_gpkg(conn: psycopg.Connection, filters: Filters, srid: int | None) -> bytes:
    """The decisions with parcel outlines as a GeoPackage layer ``decisions``."""
    import geopandas as gpd
    import shapely

    rows = _rows(conn, filters, srid, geometry=True)
    frame = _frame(rows, geometry=True)
    frame["decided_at"] = frame["decided_at"].astype(str).where(frame["decided_at"].notna())
    geoms = shapely.from_wkb([bytes(r[-1]) if r[-1] is not None else None for r in rows])
    # without a working CRS there are no parcels, so no outline to place
    gdf = gpd.GeoDataFrame(frame, geometry=geoms, crs=f"EPSG:{srid or 4326}")
    return _written(gdf, "decisions.gpkg")
