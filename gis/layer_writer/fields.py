"""Field tables: each column's Chinese and English alias and how ``--desensitize`` treats it.

The writer knows no domain word: every package that writes a layer passes the table
of its own columns (parcels: :data:`parcels.fields.PARCEL_FIELDS`, scoring: the score
table's, maps: all of them). A column missing from the table is written under its
own name.

Examples
--------
>>> table = {"area_m2": FieldInfo("area_m2", "面积（平方米）", "area (m²)")}
>>> alias("area_m2", "zh", table), alias("other", "zh", table)
('面积（平方米）', 'other')
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

Treatment = Literal["keep", "mask_name", "mask_code", "drop"]


@dataclass(frozen=True)
class FieldInfo:
    """One written column: name, Chinese and English alias, treatment when desensitized."""

    name: str
    zh: str
    en: str
    treatment: Treatment = "keep"


def field_table(*fields: FieldInfo) -> dict[str, FieldInfo]:
    """A field table keyed by column name (later entries win)."""
    return {f.name: f for f in fields}


def alias(name: str, lang: Literal["zh", "en"] = "zh",
          fields: Mapping[str, FieldInfo] | None = None) -> str:
    """Alias of a column in ``fields`` (the column name itself when unknown)."""
    info = (fields or {}).get(name)
    if info is None:
        return name
    return info.zh if lang == "zh" else info.en


def treatment(name: str, fields: Mapping[str, FieldInfo] | None = None) -> Treatment:
    """How ``--desensitize`` treats a column of ``fields`` (unknown columns are kept)."""
    info = (fields or {}).get(name)
    return "keep" if info is None else info.treatment
