"""The land-tax check as a file (``report land-tax -o``) and as text for a terminal.

Written by the project's one table writer, :func:`gis.layer_writer.write_layer`: atomic,
never over an existing file without ``--overwrite``, headers from the vocabulary
(``scoring.land_tax_field``), findings and rate sources in Chinese. An ``.xlsx`` carries
the firms, the totals per town and a note; a ``.csv`` the firms.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from gis.errors import ConfigError

#: The firms' sheet title.
TITLE = "土地使用税核查"


def _labelled(frame: pd.DataFrame) -> pd.DataFrame:
    """Statuses, rate sources and headers in Chinese (pure)."""
    from scoring.vocabulary import (
        LAND_TAX_FIELDS,
        LAND_TAX_RATE_SOURCE,
        LAND_TAX_ROLE,
        LAND_TAX_STATUS,
    )

    out = frame.copy()
    if "land_role" in out:
        out["land_role"] = out["land_role"].map(LAND_TAX_ROLE.label)
    if "status" in out:
        out["status"] = out["status"].map(LAND_TAX_STATUS.label)
    if "rate_source" in out:
        out["rate_source"] = out["rate_source"].map(LAND_TAX_RATE_SOURCE.label)
    return out.rename(columns=LAND_TAX_FIELDS.labels())


def note(info: dict) -> pd.DataFrame:
    """The workbook's note: inputs and how differences are priced (pure)."""
    return pd.DataFrame({"项目": ["年度", "实测占地", "计税面积", "相符口径", "税额差"],
                         "内容": [f"{info['year']}年",
                                f"占地测算运行 {info['occupancy_run']}（该年度最新一次）",
                                "土地使用税计税依据（mujun import land-tax）",
                                f"两面积之差不超过较大者的 {info['tolerance']:.0%}",
                                "面积差 × 单位税额（多个等级按面积加权；未登记企业按所在镇街"
                                "加权税额，镇街无纳税人时按全县）；正数为少征，负数为多征"]})


def write_land_tax(table: pd.DataFrame, towns: pd.DataFrame, info: dict, path: str | Path, *,
                   overwrite: bool = False) -> dict[str, Any]:
    """Write the check to ``path`` (``.xlsx`` or ``.csv``) through the one writer.

    Raises
    ------
    ConfigError
        Another format (the check is a table).
    OutputExistsError
        ``path`` exists and ``overwrite`` is false.
    """
    from gis.layer_writer import FieldInfo, write_layer
    from scoring.vocabulary import (
        LAND_TAX_FIELDS,
        LAND_TAX_RATE_SOURCE,
        LAND_TAX_ROLE,
        LAND_TAX_STATUS,
    )

    path = Path(path)
    if path.suffix.lower() not in (".xlsx", ".csv"):
        raise ConfigError(f"{path}: 土地使用税核查写为 .xlsx 或 .csv 表格")
    frame = table.assign(status=table["status"].map(LAND_TAX_STATUS.label),
                         land_role=table["land_role"].map(LAND_TAX_ROLE.label),
                         rate_source=table["rate_source"].map(LAND_TAX_RATE_SOURCE.label))
    fields = {c: FieldInfo(c, LAND_TAX_FIELDS.label(c), LAND_TAX_FIELDS.label(c, "en"))
              for c in frame.columns}
    sheets = {"各镇街合计": _labelled(towns), "说明": note(info)} \
        if path.suffix.lower() == ".xlsx" else None
    return write_layer(frame, path, layer="land_tax_check", title=TITLE, overwrite=overwrite,
                       fields=fields, sheets=sheets)


def land_tax_text(table: pd.DataFrame, towns: pd.DataFrame, info: dict, *, limit: int = 20
                  ) -> str:
    """The check for a terminal: totals per town, then the firms with a finding."""
    from scoring.vocabulary import LAND_TAX_ROLE, LAND_TAX_STATUS

    lines = [f"{info['year']}年土地使用税核查（占地测算运行 {info['occupancy_run']}；面积单位"
             "平方米，税额单位元/年，税额差正数为少征）",
             f"{'镇街':<10}{'企业':>6}{'未登记':>6}{'少计':>6}{'多计':>6}{'实测占地':>14}"
             f"{'计税面积':>14}{'少征税额':>14}{'多征税额':>14}"]
    for r in towns.to_dict("records"):
        lines.append(f"{r['town']:<10}{r['firms']:>8,}{r['unregistered']:>8,}"
                     f"{r['untaxed_land']:>8,}{r['over_taxed']:>8,}{r['occupied_m2']:>16,.0f}"
                     f"{r['taxed_m2']:>16,.0f}{r['tax_missing_yuan']:>16,.2f}"
                     f"{r['tax_excess_yuan']:>16,.2f}")
    found = table[table["status"] != "matched"]
    if len(found):
        lines.append(f"\n有问题的企业 {len(found):,} 家"
                     + (f"（列出前 {limit} 家，全部见 -o 文件）" if len(found) > limit else "")
                     + "：")
        shown = found.head(limit)
        shown = shown.astype(object).where(shown.notna(), None)
        for r in shown.to_dict("records"):
            lines.append(f"  {r['credit_code']} {r['name'] or '（企业库中无此企业）'}（{r['town'] or '-'}）"
                         f"{LAND_TAX_STATUS.label(r['status'])}（{LAND_TAX_ROLE.label(r['land_role'])}）"
                         f"：实测 {r['occupied_m2']:,.0f}"
                         f"，计税 {r['taxed_m2']:,.0f}，税额差 {r['tax_difference_yuan']:,.2f} 元")
    return "\n".join(lines)
