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
