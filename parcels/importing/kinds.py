"""This package's import kinds: their field tables and the labels of their checks.

The generic import machinery (:mod:`gis.importing`) knows no domain. Every import
entry point of this package (:func:`~parcels.importing.parcel_import.import_parcels`,
:func:`~parcels.importing.enterprise_import.import_enterprises`,
:func:`~parcels.importing.land_right_import.import_land_rights`, and the ``mujun import``
commands before they read ``--map``) calls :func:`register_import_kinds` first, which hands
the field tables of ``parcels/data/header_synonyms.yaml`` to
:func:`gis.importing.headers.register_field_table` and the labels of this package's
checks to :func:`gis.importing.report.register_check_labels`. Importing a module
registers nothing.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

#: Import kinds whose field tables ship in ``parcels/data/header_synonyms.yaml``.
KINDS = ("enterprises", "parcels", "land_rights")

#: Check name -> how a count of them reads in an import report.
CHECK_LABELS = {
    "duplicate_code": "duplicate parcel codes (宗地代码重复)",
    "missing_code": "empty parcel codes (宗地代码为空)",
    "code_format": "parcel codes not following GB/T 37346 (宗地代码不符合 GB/T 37346)",
    "overlap": "overlapping parcels (宗地重叠)",
    "area_difference": "certificate areas differing from the measured area (证载面积与量算面积不符)",
    "date_order": "dates out of order (日期先后颠倒)",
    "credit_code_malformed": "malformed credit codes (统一社会信用代码格式错误)",
    "credit_code_checksum": "credit codes failing the check character (统一社会信用代码校验位不符)",
    "credit_code_normalised": "credit codes normalised (统一社会信用代码已规范化)",
    "industry_code": "industry codes not in GB/T 4754 (行业代码不在 GB/T 4754)",
    "duplicate_credit_code": "credit codes repeated with different figures "
                             "(统一社会信用代码重复且数据不同)",
    "negative_value": "negative values (负值)",
    "year_mismatch": "rows for another year (年份不符)",
    "unknown_parcel": "links to parcels not in the database (宗地不在库中)",
    "unknown_enterprise": "links to enterprises not in the database (企业不在库中)",
    "share_sum": "owner shares adding up to more than 1 (份额合计超过 1)",
    "renamed": "enterprises renamed (企业名称变更)",
}


@lru_cache(maxsize=1)
def shipped_field_tables() -> dict[str, Any]:
    """The field tables of :data:`KINDS` (``parcels/data/header_synonyms.yaml``)."""
    from importlib import resources

    import yaml

    text = resources.files("parcels.data").joinpath("header_synonyms.yaml").read_text("utf-8")
    return yaml.safe_load(text)


def register_import_kinds() -> None:
    """Register this package's field tables and check labels with the import machinery.

    Cheap and idempotent: every import entry point calls it before it reads.

    Examples
    --------
    >>> from gis.importing.headers import load_field_specs
    >>> register_import_kinds()
    >>> "credit_code" in load_field_specs("enterprises")
    True
    """
    from gis.importing.headers import register_field_table
    from gis.importing.report import register_check_labels

    for kind in KINDS:
        register_field_table(kind, lambda kind=kind: shipped_field_tables()[kind])
    register_check_labels(CHECK_LABELS)
