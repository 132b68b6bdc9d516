"""Parts every map kind builds with: a categorized polygon layer with its legend, and the
towns overlay (shared by :mod:`maps.web.kinds` and :mod:`maps.web.supply_map`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from maps import data
from maps.fields import alias
from maps.styles import LayerStyle
from maps.web.page import MapSpec, PolygonLayer

if TYPE_CHECKING:
    import psycopg


def _t(lang: str, zh: str, en: str) -> str:
    return zh if lang == "zh" else en


def _categorical_layer(layer_id: str, name: str, frame: Any, style: LayerStyle,
                       lang: str, popup: tuple[list[str], list[str], list[list[Any]]]
                       ) -> tuple[PolygonLayer, dict[str, Any]]:
    values = frame[style.field].astype("object").where(frame[style.field].notna(), None)
    index = {c.value: i for i, c in enumerate(style.categories)}
    keys = np.array([index.get(str(v).strip(), -1) if v is not None else -1 for v in values],
                    dtype=np.int64)
    columns, labels, rows = popup
    layer = PolygonLayer(layer_id, name, frame, keys, style,
                         [c.colour for c in style.categories],
                         [c.label(lang) for c in style.categories], columns, labels, rows)
    present = {str(v).strip() for v in values if v is not None}
    legend_rows = style.legend(lang, values=present) if present else []
    if (keys < 0).any():
        legend_rows.append(("#bdbdbd", _t(lang, "无数据 / 未评价", "no data")))
    legend = {"title": style.title.get(lang, style.layer), "rows": legend_rows,
              "note": _t(lang, f"{len(frame):,} 宗地", f"{len(frame):,} parcels")}
    return layer, legend


def _towns_overlay(spec: MapSpec, conn: psycopg.Connection, ctx: data.Context,
                   lang: str) -> None:
    towns = data.read_towns(conn, ctx)
    spec.towns = towns
    spec.towns_name = _t(lang, "镇街（汇总）", "Towns (aggregates)")
    spec.towns_fields = ["town", "n_parcels", "area_mu", "coverage", "n_enterprises",
                         "tax_per_mu", "revenue_per_mu", "n_class_a", "n_class_d"]
    spec.towns_aliases = [alias(f, lang) if not f.startswith("n_class") else
                          _t(lang, f"{f[-1].upper()} 类企业数", f"class {f[-1].upper()} firms")
                          for f in spec.towns_fields]
    spec.towns_aliases[1] = _t(lang, "宗地数", "parcels")
