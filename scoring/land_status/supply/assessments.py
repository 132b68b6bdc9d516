"""Area-wide assessments (区域评估): ``mujun import assessments FILE``.

A polygon layer with, per assessment, its topic (环境影响评价, 节能评估, 地质灾害危险性评估,
地震安全性评价, 水资源论证, 水土保持, 文物考古调查, 洪水影响评价 — or their codes), its
conclusion, and optionally a title, document number and validity dates. It goes through
the same steps as every import (:mod:`gis.importing.common`): the ``assessments`` lock
and the import's identity (the same file read the same way changes nothing), the read
with its CRS checks (:func:`gis.importing.layers.read_layer`, then
:func:`~gis.importing.layers.to_working_crs`: declared CRS, area of use, repair,
reprojection), per-feature checks in an :class:`~gis.importing.report.ImportReport`
(their names in this floor's terms file, ``import.check.land_supply``, registered with
:mod:`scoring.land_status.supply.vocabulary`), the all-or-nothing rule
(``accept_partial`` loads the good features and writes a rejects file) and one
transaction that records the batch with its report — or a dry run that writes nothing.

A plot inherits the assessments whose coverage contains it
(:func:`scoring.land_status.supply.plots.assessments_of`), each valid, expired or not yet in
force on the day asked.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from scoring.land_status.supply.vocabulary import TOPICS

if TYPE_CHECKING:
    import pandas as pd
    import psycopg

    from gis.importing.common import ImportResult

KIND = "assessments"
#: field -> header synonyms (compared case-insensitively, spaces ignored).
SYNONYMS = {
    "topic": ["评估事项", "评估类型", "事项", "类型", "topic"],
    "conclusion": ["评估结论", "结论", "conclusion"],
    "title": ["名称", "评估名称", "项目名称", "title", "name"],
    "document": ["文号", "批复文号", "document"],
    "valid_from": ["生效日期", "批复日期", "valid_from"],
    "valid_until": ["有效期至", "截止日期", "失效日期", "valid_until"],
}
REQUIRED = ("topic", "conclusion")
#: Short names officials use for the topics.
TOPIC_ALIASES = {"环评": "environment", "能评": "energy", "地灾": "geohazard",
                 "地灾评估": "geohazard", "地震": "seismic", "地震安评": "seismic",
                 "水资源": "water", "水保": "soil", "文物": "relics", "考古": "relics",
                 "洪评": "flood", "防洪": "flood"}

def topic_code(value: Any) -> str | None:
    """The topic code of a cell: a code, a Chinese name or a short name (None if unknown).

    >>> topic_code("环评"), topic_code("地震安全性评价"), topic_code("flood"), topic_code("x")
    ('environment', 'seismic', 'flood', None)
    """
    text = str(value).strip()
    if text in TOPICS:
        return text
    by_zh = {t.zh: t.code for t in TOPICS}
    return by_zh.get(text) or TOPIC_ALIASES.get(text) or next(
        (code for zh, code in by_zh.items() if text and (text in zh or zh in text)), None)


def check_assessments(frame: pd.DataFrame, cols: dict[str, str], report: Any) -> dict[str, list]:
    """Topic, conclusion and validity per feature; problems go to ``report`` (pure)."""
    from gis.importing.values import is_blank, parse_date

    out: dict[str, list] = {"topic": [], "conclusion": [], "valid_from": [], "valid_until": []}
    for i, rec in enumerate(frame.to_dict("records"), 1):
        raw = rec[cols["topic"]]
        code = None if is_blank(raw) else topic_code(raw)
        if is_blank(raw):
            report.add(i, "missing_topic", "error", "评估事项为空", field=cols["topic"])
        elif code is None:
            report.add(i, "unknown_topic", "error",
                       f"评估事项无法识别；可用：{TOPICS.choices()}", field=cols["topic"],
                       value=raw)
        conclusion = rec[cols["conclusion"]]
        if is_blank(conclusion) or not str(conclusion).strip():
            report.add(i, "missing_conclusion", "error", "评估结论为空",
                       field=cols["conclusion"])
            conclusion = None
        dates = {}
        for key in ("valid_from", "valid_until"):
            value = rec.get(cols[key]) if key in cols else None
            day = None
            if key in cols and not is_blank(value):
                day, problem = parse_date(value)
                if day is None:
                    report.add(i, "bad_validity_date", "error", problem or "日期无法识别",
                               field=cols[key], value=value)
            dates[key] = day
        if dates["valid_from"] and dates["valid_until"] and dates["valid_until"] < dates["valid_from"]:
            report.add(i, "validity_order", "error", "有效期截止早于生效日期",
                       field=cols["valid_until"], value=dates["valid_until"].isoformat())
        out["topic"].append(code)
        out["conclusion"].append(None if conclusion is None else str(conclusion).strip())
        out["valid_from"].append(dates["valid_from"])
        out["valid_until"].append(dates["valid_until"])
    return out


def _attributes(frame: Any, cols: dict[str, str], report: Any) -> dict[str, list]:
    from gis.importing.polygon_layer import text_column

    return {**check_assessments(frame, cols, report), "title": text_column(frame, cols, "title"),
            "document": text_column(frame, cols, "document")}


def load_assessments(conn: psycopg.Connection, path: str | Path, *, layer: str | None = None,
                     crs: Any = None, encoding: str | None = None, swap_xy: bool = False,
                     dry_run: bool = False, accept_partial: bool = False,
                     rejects: str | Path | None = None, overwrite: bool = False,
                     settings: Any = None) -> ImportResult:
    """Load an assessments layer into ``area_assessment`` as one batch (commits, or rolls
    back a dry run) through :func:`gis.importing.polygon_layer.load_polygon_layer`.

    Raises
    ------
    ImportRejected
        A feature without topic, conclusion or usable polygon (named by number), or with
        unreadable or inverted validity dates, and no ``accept_partial``: nothing is
        written.
    DataError
        Missing columns; no parcels loaded yet (no working CRS).
    """
    from gis.importing.polygon_layer import load_polygon_layer

    return load_polygon_layer(
        conn, KIND, "area_assessment", path, synonyms=SYNONYMS, required=REQUIRED,
        attributes=_attributes, what="area-wide assessments (区域评估)", layer=layer,
        crs=crs, encoding=encoding, swap_xy=swap_xy, dry_run=dry_run,
        accept_partial=accept_partial, rejects=rejects, overwrite=overwrite,
        settings=settings)
