"""Importing parcels, enterprise records and land rights; the verification loop.

The generic machinery (batches, reports, header matching, layer reading,
geometry repair, the footprint loader) lives in :mod:`gis.importing`; this
package keeps what is about land and enterprises: the field tables of its
import kinds (``parcels/data/header_synonyms.yaml``, registered here), the
pure checks (``parcel_checks``, ``enterprise_checks``), the ``*_import`` tools
that write to PostGIS inside one transaction per import, and ``verification``,
which builds and applies the township verification queue.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from gis.importing.headers import register_field_table
from gis.importing.report import CHECK_LABELS

#: Import kinds whose field tables ship in ``parcels/data/header_synonyms.yaml``.
KINDS = ("enterprises", "parcels", "land_rights")


@lru_cache(maxsize=1)
def _shipped() -> dict[str, Any]:
    from importlib import resources

    import yaml

    text = resources.files("parcels.data").joinpath("header_synonyms.yaml").read_text("utf-8")
    return yaml.safe_load(text)


for _kind in KINDS:
    register_field_table(_kind, lambda kind=_kind: _shipped()[kind])

CHECK_LABELS.update({
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
})
