"""The words of standard-land supply: statuses, origins, indicators, assessments, fields.

Registered by this floor in the one vocabulary machinery (:mod:`gis.vocabulary`) from
``data/terms.yaml``; ``mujun supply``, its exports and the pages built on it read every
label through these tables. The words of a contract breach, which is a land-status
candidate, live with the land-status terms (``contract_breach`` and its rules).

Examples
--------
>>> STATUSES.label("transferred"), ORIGINS.label("judicial"), INDICATORS.get("tax_wan_per_mu").unit
('出让', '司法处置', '万元/亩')
"""

from __future__ import annotations

from pathlib import Path

from gis.vocabulary import Vocabulary, register

#: Where the terms are written.
TERMS_FILE = Path(__file__).resolve().parent / "data" / "terms.yaml"

_TERMS = register("scoring.land_status.supply", TERMS_FILE)

STATUSES: Vocabulary = _TERMS["supply.status"]
ORIGINS: Vocabulary = _TERMS["supply.origin"]
INDICATORS: Vocabulary = _TERMS["supply.indicator"]
TOPICS: Vocabulary = _TERMS["supply.assessment_topic"]
TOPIC_STATES: Vocabulary = _TERMS["supply.assessment_state"]
INFO: Vocabulary = _TERMS["supply.info"]
FIELDS: Vocabulary = _TERMS["supply.field"]

#: Every domain this floor registers (name → vocabulary).
ALL: dict[str, Vocabulary] = dict(_TERMS)


def header(code: str, lang: str = "zh") -> str:
    """A column header with its unit: ``面积（平方米）``."""
    term = FIELDS.get(code) or INDICATORS.get(code) or INFO.get(code)
    if term is None:
        return code
    return term.label(lang) + (f"（{term.unit}）" if term.unit and lang != "en"
                               else f" ({term.unit})" if term.unit else "")
