"""The ranked candidate list (``mujun candidates report``) as tables.

:func:`report_rows`: open candidates ranked by priority, with the rules that fired and
the holders; :func:`exemption_rows`: exemptions in force; :func:`notes_rows`: the run,
the rules file and how the list is ranked. The workbook is written by the one layer
writer of the maps package (its ``candidates`` layer, reached through ``mujun export``),
which this package does not import: Chinese headers come from its field table.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from gis.crs import SQM_PER_MU
from gis.layer_writer.fields import FieldInfo, field_table
from scoring.land_status.vocabulary import HOLDER_STATUSES, KINDS, RULES, STATUSES

if TYPE_CHECKING:
    import psycopg

#: The columns of :func:`report_rows`, in sheet order.
COLUMNS = ("rank", "candidate_id", "parcel_code", "kind", "kind_name", "kinds_name",
           "reasons_name", "status", "status_name",
           "town", "district", "area_m2", "area_mu", "reclaimable_m2", "reclaimable_mu",
           "certainty", "priority", "years_idle", "survey_date", "coverage", "far", "holders",
           "class", "rules", "updated_at")


def _rules_text(rules: list[dict]) -> str:
    parts = []
    for r in rules or []:
        if not r.get("passed") or r["rule"] in ("supplied", "not_exempted", "built", "reasons"):
            continue
        label = RULES.label(r["rule"])
        value, threshold = r.get("value"), r.get("threshold")
        if isinstance(value, float):
            value = round(value, 3)
        parts.append(f"{label}({value} / {threshold})" if threshold is not None
                     else f"{label}({value})")
    return "；".join(parts)


def report_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """The ranked rows (:data:`COLUMNS`) from ``list_candidates(evidence=True)``.

    ``kind`` and ``status`` stay codes (the map style keys on them); ``kind_name`` and
    ``status_name`` are the bureau's words.
    """
    rows = []
    for rank, r in enumerate(frame.to_dict("records"), 1):
        ev = r.get("evidence") or {}
        holders = "、".join(f"{e.get('name') or e['credit_code']}"
                           f"({HOLDER_STATUSES.label(e.get('status')) or '未登记'})"
                           for e in ev.get("enterprises", []))
        rows.append({
            "rank": rank, "candidate_id": r["candidate_id"], "parcel_code": r["parcel_code"],
            "kind": r["kind"], "kind_name": KINDS.label(r["kind"]),
            "kinds_name": "、".join(KINDS.label(k) for k in _kinds(r)),
            "reasons_name": "、".join(RULES.label(x) for x in r.get("reasons") or []
                                     if x not in _kinds(r)),
            "status": r["status"], "status_name": STATUSES.label(r["status"]),
            "town": r["town"], "district": r["district"],
            "area_m2": _round(r["area_m2"], 1), "area_mu": _round(_div(r["area_m2"]), 2),
            "reclaimable_m2": _round(r["reclaimable_m2"], 1),
            "reclaimable_mu": _round(_div(r["reclaimable_m2"]), 2),
            "certainty": _round(r["certainty"], 2), "priority": _round(r["priority"], 1),
            "years_idle": ev.get("years_idle"), "survey_date": (ev.get("survey") or {}).get("date"),
            "coverage": _round(ev.get("coverage"), 3), "far": _round(ev.get("far"), 2),
            "holders": holders, "class": ",".join(ev.get("score_class") or []),
            "rules": _rules_text(r.get("rules")),
            "updated_at": str(r["updated_at"])[:19] if r.get("updated_at") is not None else None,
        })
    return pd.DataFrame(rows, columns=list(COLUMNS))


def _kinds(r: dict) -> list[str]:
    """Every kind of the candidate, the primary first."""
    kinds = r.get("kinds")
    return list(kinds) if kinds is not None and len(kinds) else [r["kind"]]


def _div(v: Any) -> float | None:
    return None if v is None or pd.isna(v) else float(v) / SQM_PER_MU


def _round(v: Any, digits: int) -> float | None:
    return None if v is None or pd.isna(v) else round(float(v), digits)


def exemption_rows(conn: psycopg.Connection) -> pd.DataFrame:
    """The exemptions in force, with Chinese column names (the report's 豁免 sheet)."""
    from scoring.land_status.exemptions import list_exemptions

    exemptions = list_exemptions(conn)
    return pd.DataFrame(
        ([r.exemption_id, r.parcel_code, r.town, r.reason,
          "、".join(KINDS.label(k) for k in r.kinds), r.comment, r.document,
          str(r.valid_until) if r.valid_until else None, r.created_by,
          str(r.created_at)[:19]] for r in exemptions.itertuples(index=False)),
        columns=["编号", "宗地代码", "镇(街道)", "豁免原因", "适用类型", "说明", "文件", "有效至",
                 "登记人", "登记时间"])


def notes_rows(conn: psycopg.Connection, rows: int) -> pd.DataFrame:
    """The report's 说明 sheet: the run, its date and rules file, how the list is ranked."""
    from scoring.land_status.store import latest_run

    run = latest_run(conn)
    notes = [("规则运行", run["run_id"] if run else "-"),
             ("判定日期", (run or {}).get("params", {}).get("as_of", "-")),
             ("规则文件", (run or {}).get("summary", {}).get("rules", "-")),
             ("候选数量", rows),
             ("排序", "按优先级从高到低；优先级 = 面积、闲置年限、区位、评价类别加权，乘以确定性系数"),
             ("依据", "闲置土地处置办法(国土资源部令第53号)；工业项目建设用地控制指标(2008)；"
                      "城镇低效用地再开发指导意见(2016)")]
    return pd.DataFrame([(a, str(b)) for a, b in notes], columns=["项目", "内容"])


_F = FieldInfo

#: Aliases of the report's own columns (beside the parcel and score tables).
REPORT_FIELDS = field_table(
    _F("candidate_id", "候选编号", "candidate id"),
    _F("kind", "候选类型", "candidate kind"),
    _F("kind_name", "类型名称", "kind name"),
    _F("kinds_name", "全部类型（主类型在前）", "every kind (primary first)"),
    _F("reasons_name", "低效原因", "inefficiency reasons"),
    _F("certainty", "可信度", "certainty"),
    _F("priority", "优先级", "priority"),
    _F("reclaimable_m2", "可盘活面积（平方米）", "reclaimable area (m²)"),
    _F("evidence", "证据", "evidence", "drop"),
    _F("rank", "排名", "rank"),
    _F("status_name", "状态名称", "status name"),
    _F("reclaimable_mu", "可盘活面积（亩）", "reclaimable area (mu)"),
    _F("years_idle", "闲置/滞后年限", "years idle or late"),
    _F("survey_date", "影像日期", "survey date"),
    _F("holders", "权利人", "holders", "drop"),
    _F("rules", "触发规则", "rules that fired"),
    _F("updated_at", "更新时间", "updated at"),
    _F("version", "版本", "version"),
)


def report_fields() -> dict[str, Any]:
    """Every column's alias in the report: parcel, score and candidate columns."""
    from parcels.fields import PARCEL_FIELDS
    from scoring.fields import SCORE_FIELDS

    return {**PARCEL_FIELDS, **SCORE_FIELDS, **REPORT_FIELDS}


def candidates_layer(conn: psycopg.Connection, *, kind: str | None = None,
                     town: str | None = None, status: str | None = None,
                     run_id: int | None = None) -> Any:
    """The ranked rows (:func:`report_rows`) at their parcels, as a GeoDataFrame.

    ``run_id`` keeps only the candidates of that run (ranks renumbered).
    """
    import geopandas as gpd

    from gis.db.copy import read_frame
    from scoring.land_status.store import list_candidates

    rows = report_rows(list_candidates(conn, kind=kind, town=town, status=status,
                                       evidence=True))
    if run_id is not None and len(rows):
        found = conn.execute("SELECT candidate_id FROM candidate WHERE run_id = %s",
                             (run_id,)).fetchall()
        rows = rows[rows["candidate_id"].isin({r[0] for r in found})]
        rows = rows.assign(rank=range(1, len(rows) + 1))
    geoms = read_frame(conn, "SELECT parcel_code, geom FROM parcel WHERE parcel_code = ANY(%s)",
                       (list(rows["parcel_code"].unique()),))
    if not hasattr(geoms, "geometry"):  # no candidate: an empty layer in the parcels' CRS
        srid = conn.execute("SELECT Find_SRID(current_schema(), 'parcel', 'geom')").fetchone()[0]
        geoms = gpd.GeoDataFrame({"parcel_code": pd.Series([], dtype=object)},
                                 geometry=gpd.GeoSeries([], crs=srid)).rename_geometry("geom")
    frame = rows.merge(geoms, on="parcel_code", how="left")
    return gpd.GeoDataFrame(frame, geometry="geom", crs=geoms.crs)


def report_sheets(conn: psycopg.Connection, *, kind: str | None = None,
                  town: str | None = None, status: str | None = None) -> dict[str, Any]:
    """The workbook's further sheets: 豁免 (exemptions) and 说明 (notes)."""
    from scoring.land_status.store import list_candidates

    rows = len(list_candidates(conn, kind=kind, town=town, status=status))
    return {"豁免": exemption_rows(conn), "说明": notes_rows(conn, rows)}


def write_report(conn: psycopg.Connection, path: Any, *, kind: str | None = None,
                 town: str | None = None, status: str | None = None,
                 overwrite: bool = False) -> dict[str, Any]:
    """Write the ranked list as a workbook (sheets 候选地块, 豁免, 说明, 字段说明).

    Raises
    ------
    DataError
        No candidate table yet, or ``path`` is not ``.xlsx``.
    """
    from pathlib import Path

    from gis.errors import DataError
    from gis.layer_writer import write_layer

    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        raise DataError(f"{path}: the report is an Excel workbook; name it *.xlsx "
                        "(`mujun export candidates` writes GIS formats)")
    if not conn.execute("SELECT to_regclass('candidate') IS NOT NULL").fetchone()[0]:
        raise DataError("there are no land-status candidates in this database; "
                        "run `mujun candidates` first")
    frame = candidates_layer(conn, kind=kind, town=town, status=status)
    return write_layer(frame, path, layer="candidates", title="候选地块",
                       overwrite=overwrite, fields=report_fields(),
                       sheets=report_sheets(conn, kind=kind, town=town, status=status))
