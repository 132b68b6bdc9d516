"""This package's import kinds: their field tables and the names of their checks.

The generic import machinery (:mod:`gis.importing`) knows no domain. Every import
entry point of this package (:func:`~parcels.importing.parcel_import.import_parcels`,
:func:`~parcels.importing.enterprise_import.import_enterprises`,
:func:`~parcels.importing.land_right_import.import_land_rights`, and the ``mujun import``
commands before they read ``--map``) calls :func:`register_import_kinds` first, which hands
the field tables of ``parcels/data/header_synonyms.yaml`` to
:func:`gis.importing.headers.register_field_table` and registers this package's terms
(``parcels/data/terms.yaml``, whose ``import.check.parcels`` names its checks). Importing
this module registers nothing.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

#: Import kinds whose field tables ship in ``parcels/data/header_synonyms.yaml``.
KINDS = ("enterprises", "parcels", "land_rights")

@lru_cache(maxsize=1)
def shipped_field_tables() -> dict[str, Any]:
    """The field tables of :data:`KINDS` (``parcels/data/header_synonyms.yaml``)."""
    from importlib import resources

    import yaml

    text = resources.files("parcels.data").joinpath("header_synonyms.yaml").read_text("utf-8")
    return yaml.safe_load(text)


@lru_cache(maxsize=1)
def policy_field_tables() -> dict[str, Any]:
    """The policy inputs' field tables (``parcels/data/policy_headers.yaml``)."""
    from importlib import resources

    import yaml

    text = resources.files("parcels.data").joinpath("policy_headers.yaml").read_text("utf-8")
    return yaml.safe_load(text)


def _accounts_table(dimension: str, unit: str) -> dict[str, Any]:
    """The account fields, quantities in ``dimension`` (electricity or volume)."""
    out = {}
    for name, spec in policy_field_tables()["accounts"].items():
        fields = {k: v for k, v in spec.items() if k != "quantity"}
        if spec.get("quantity"):
            fields.update(dimension=dimension, unit=unit, default_unit=unit)
        out[name] = fields
    return out


#: Policy input kinds: utility accounts (quantities in kWh or m³), the land-use tax base
#: and the amounts the collecting bodies report.
POLICY_TABLES = {
    "accounts_kwh": lambda: _accounts_table("electricity", "千瓦时"),
    "accounts_m3": lambda: _accounts_table("volume", "立方米"),
    "land_tax": lambda: policy_field_tables()["land_tax"],
    "policy_records": lambda: policy_field_tables()["policy_records"],
}


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
    import parcels.vocabulary  # noqa: F401  (registers this package's check names)
    from gis.importing.headers import register_field_table

    for kind in KINDS:
        register_field_table(kind, lambda kind=kind: shipped_field_tables()[kind])
    for kind, table in POLICY_TABLES.items():
        register_field_table(kind, table)
