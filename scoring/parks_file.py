"""The parks' land-use intensity table as a file (``report parks -o``) and as text."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from gis.errors import ConfigError

#: The table's sheet title.
TITLE = "开发区土地集约利用"


def missing_note(info: dict) -> pd.DataFrame:
    """The indicators the database cannot supply, with the reason (pure)."""
    from scoring.vocabulary import PARK_FIELDS

    na = info["not_available"]
    return pd.DataFrame({"指标": [PARK_FIELDS.label(k) for k in na],
                         "说明": list(na.values())})


def write_parks(table: pd.DataFrame, info: dict, path: str | Path, *,
                overwrite: bool = False) -> dict[str, Any]:
    """Write the table to ``path`` (``.xlsx`` with a note sheet, or ``.csv``).

    Raises
    ------
    ConfigError
        Another format.
    OutputExistsError
        ``path`` exists and ``overwrite`` is false.
    """
    from gis.layer_writer import FieldInfo, write_layer
    from scoring.vocabulary import PARK_FIELDS

    path = Path(path)
    if path.suffix.lower() not in (".xlsx", ".csv"):
        raise ConfigError(f"{path}: 园区土地集约利用表写为 .xlsx 或 .csv 表格")
    fields = {c: FieldInfo(c, PARK_FIELDS.label(c), PARK_FIELDS.label(c, "en"))
              for c in table.columns}
    sheets = {"无法计算的指标": missing_note(info)} if path.suffix.lower() == ".xlsx" else None
    return write_layer(table, path, layer="park_intensity", title=TITLE, overwrite=overwrite,
                       fields=fields, sheets=sheets)


def parks_text(table: pd.DataFrame, info: dict) -> str:
    """The table for a terminal, with the indicators that cannot be computed."""
    from scoring.vocabulary import PARK_FIELDS

    def n(v, fmt):
        return "-" if v is None or v != v else format(v, fmt)

    lines = [f"{info['year']}年开发区土地集约利用（占地测算运行 {info['occupancy_run']}）",
             f"{'园区':<12}{'工业用地(亩)':>12}{'建筑密度':>8}{'综合容积率':>8}"
             f"{'工业容积率':>8}{'地均税收(万元/公顷)':>14}"]
    for r in table.to_dict("records"):
        lines.append(f"{r['park']:<12}{n(r['industrial_land_mu'], ',.1f'):>16}"
                     f"{n(r['built_rate'], '.1%'):>12}{n(r['far'], '.2f'):>13}"
                     f"{n(r['industrial_far'], '.2f'):>13}{n(r['tax_per_ha'], ',.1f'):>20}")
    lines.append("无法计算：" + "；".join(f"{PARK_FIELDS.label(k)}（{why}）"
                                      for k, why in info["not_available"].items()))
    return "\n".join(lines)
