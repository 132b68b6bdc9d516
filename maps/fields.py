"""The fields of exported layers: Chinese and English aliases, and what is confidential.

Every column a layer export can carry is listed in :data:`FIELDS` with its Chinese
alias (XLSX headers, QGIS aliases, the Shapefile alias table, popups), its English
alias and how ``--desensitize`` treats it:

``mask_name``
    enterprise names: keep the first character, the rest becomes ``*``
    (``苏州某某纺织有限公司`` -> ``苏*********``);
``mask_code``
    credit codes: keep the first 8 characters (registration authority, entity type
    and administrative division), mask the organisation code and check character;
``drop``
    confidential figures (tax, revenue, value added, energy, electricity, R&D,
    employees, per-mu figures derived from them, score items): removed;
``keep``
    everything else (areas, coverage, industry, class, town).

The table is the union of the tables of the packages that own the columns
(:data:`parcels.fields.PARCEL_FIELDS`, :data:`scoring.fields.SCORE_FIELDS`, the candidate
report's :data:`scoring.land_status.report.REPORT_FIELDS`), so that ``occupancy export``,
``score export`` and ``candidates report`` write the same headers as ``mujun export``
without importing this package. The list is printed by ``mujun export --fields`` and
documented in docs/maps.md.
"""

from __future__ import annotations

from typing import Literal

from gis.layer_writer.fields import FieldInfo, Treatment
from gis.layer_writer.fields import alias as _alias
from gis.layer_writer.fields import treatment as _treatment
from parcels.fields import PARCEL_FIELDS
from scoring.fields import SCORE_FIELDS
from scoring.land_status.report import REPORT_FIELDS

__all__ = ["FIELDS", "FieldInfo", "Treatment", "alias", "treatment"]

FIELDS: dict[str, FieldInfo] = {**PARCEL_FIELDS, **SCORE_FIELDS, **REPORT_FIELDS}


def alias(name: str, lang: Literal["zh", "en"] = "zh",
          extra: dict[str, FieldInfo] | None = None) -> str:
    """Alias of a column (the column name itself when unknown).

    ``extra`` adds a layer's own fields (e.g. a rule set's indicators) to :data:`FIELDS`.
    """
    return _alias(name, lang, {**FIELDS, **(extra or {})})


def treatment(name: str, extra: dict[str, FieldInfo] | None = None) -> Treatment:
    """How ``--desensitize`` treats a column (unknown columns are kept)."""
    return _treatment(name, {**FIELDS, **(extra or {})})
