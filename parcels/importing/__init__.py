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


@lru_cache(maxsize=1)
def _policy_headers() -> dict[str, Any]:
    from importlib import resources

    import yaml

    text = resources.files("parcels.data").joinpath("policy_headers.yaml").read_text("utf-8")
    return yaml.safe_load(text)


def _accounts_table(dimension: str, unit: str) -> dict[str, Any]:
    """The account fields, quantities in ``dimension`` (electricity or volume)."""
    out = {}
    for name, spec in _policy_headers()["accounts"].items():
        spec = {k: v for k, v in spec.items() if k != "quantity"}
        if _policy_headers()["accounts"][name].get("quantity"):
            spec.update(dimension=dimension, unit=unit, default_unit=unit)
        out[name] = spec
    return out


#: Policy input kinds: utility accounts (quantities in kWh or m³) and the land-use tax base.
register_field_table("accounts_kwh", lambda: _accounts_table("electricity", "千瓦时"))
register_field_table("accounts_m3", lambda: _accounts_table("volume", "立方米"))
register_field_table("land_tax", lambda: _policy_headers()["land_tax"])
register_field_table("policy_records", lambda: _policy_headers()["policy_records"])

CHECK_LABELS.update({
    "duplicate_code": "duplicate parcel codes",
    "missing_code": "empty parcel codes",
    "code_format": "parcel codes not following GB/T 37346",
    "overlap": "overlapping parcels",
    "area_difference": "certificate areas differing from the measured area",
    "date_order": "dates out of order",
    "credit_code_malformed": "malformed credit codes",
    "credit_code_checksum": "credit codes failing the check character",
    "industry_code": "industry codes not in GB/T 4754",
    "duplicate_code_enterprise": "credit codes repeated with different figures",
    "negative_value": "negative values",
    "year_mismatch": "rows for another year",
    "unknown_parcel": "links to parcels not in the database",
    "unknown_enterprise": "links to enterprises not in the database",
    "share_sum": "owner shares adding up to more than 1",
})
