"""The words of land and enterprise records: enterprise status and size, how a firm holds
a parcel, the status of a verification item.

Registered here, by the floor that owns them, in the one vocabulary machinery
(:mod:`gis.vocabulary`) from ``data/terms.yaml``.

Examples
--------
>>> ENTERPRISE_STATUS.label("relocated"), RIGHT_ROLES.label("tenant"), SIZES.label("large")
('已搬迁', '承租', '规上')
"""

from __future__ import annotations

from pathlib import Path

from gis.vocabulary import Vocabulary, register

#: Where the terms are written.
TERMS_FILE = Path(__file__).resolve().parent / "data" / "terms.yaml"

_TERMS = register("parcels", TERMS_FILE)

ENTERPRISE_STATUS: Vocabulary = _TERMS["enterprise.status"]
SIZES: Vocabulary = _TERMS["enterprise.size"]
ENTERPRISE_TAGS: Vocabulary = _TERMS["enterprise.tag"]
RIGHT_ROLES: Vocabulary = _TERMS["land_right.role"]
VERIFICATION_STATUS: Vocabulary = _TERMS["verification.status"]
#: The problems of the verification queue (sheet titles; score-run warnings among them).
VERIFICATION_KINDS: Vocabulary = _TERMS["verification.kind"]
FIGURES: Vocabulary = _TERMS["enterprise.figure"]
DEPARTMENTS: Vocabulary = _TERMS["enterprise.department"]
