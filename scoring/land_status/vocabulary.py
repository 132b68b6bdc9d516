"""The words of land status: kinds, statuses, reason codes, sort keys, rules, evidence fields.

Registered here, by the floor that owns them, in the one vocabulary machinery
(:mod:`gis.vocabulary`) from ``data/terms.yaml``; every label a person reads about
land status — reports, map legends and QGIS styles, the sheet, the review app, the
command line — comes from these tables.

Examples
--------
>>> KINDS.label("unfinished"), STATUSES.label("closed"), REASONS.label("in_use", "en")[:6]
('未竣工', '已关闭', 'in use')
"""

from __future__ import annotations

from pathlib import Path

from gis.vocabulary import Vocabulary, register

#: Where the terms are written.
TERMS_FILE = Path(__file__).resolve().parent / "data" / "terms.yaml"

_TERMS = register("scoring.land_status", TERMS_FILE)

KINDS: Vocabulary = _TERMS["land_status.kind"]
STATUSES: Vocabulary = _TERMS["land_status.status"]
REASONS: Vocabulary = _TERMS["land_status.reason"]
SORTS: Vocabulary = _TERMS["land_status.sort"]
ACTIONS: Vocabulary = _TERMS["land_status.action"]
RULES: Vocabulary = _TERMS["land_status.rule"]
EVIDENCE: Vocabulary = _TERMS["land_status.evidence"]
HOLDER_STATUSES: Vocabulary = _TERMS["land_status.holder_status"]
HOLDER_ROLES: Vocabulary = _TERMS["land_status.holder_role"]
AREA_METHODS: Vocabulary = _TERMS["land_status.area_method"]
AREA_STATUSES: Vocabulary = _TERMS["land_status.area_status"]
AREA_EVENTS: Vocabulary = _TERMS["land_status.area_event"]
AREA_FIELDS: Vocabulary = _TERMS["land_status.area_field"]
PLAN_REASONS: Vocabulary = _TERMS["land_status.plan_reason"]
PIPELINE_STAGES: Vocabulary = _TERMS["land_status.pipeline_stage"]
CONTRACT_STATES: Vocabulary = _TERMS["land_status.contract_state"]

#: Every domain this floor registers (name → vocabulary), e.g. for the review app's JSON.
ALL: dict[str, Vocabulary] = dict(_TERMS)


def labels(lang: str = "zh") -> dict[str, dict[str, str]]:
    """domain (without the ``land_status.`` prefix) → code → label, for pages and scripts."""
    return {domain.split(".", 1)[1]: vocab.labels(lang) for domain, vocab in ALL.items()}
