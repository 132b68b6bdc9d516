"""The words of the scoring core: classes, class shifts, column headers of comparisons.

Registered here, by the floor that owns them, in the one vocabulary machinery
(:mod:`gis.vocabulary`) from ``data/terms.yaml``; ``score compare``, ``score rank`` and
their files take every label a person reads from these tables.

Examples
--------
>>> CLASSES.label("T"), SHIFTS.label("up"), FIELDS.label("tax_per_mu")
('T类（暂不评价）', '升档', '亩均税收（万元/亩）')
>>> CLASSES.codes()
('A', 'B', 'C', 'D', 'T', 'none')
"""

from __future__ import annotations

from pathlib import Path

from gis.vocabulary import Vocabulary, register

#: Where the terms are written.
TERMS_FILE = Path(__file__).resolve().parent / "data" / "terms.yaml"

_TERMS = register("scoring", TERMS_FILE)

#: A-D, T and ``none`` (not evaluated), in the order of the rule sets' classes.
CLASSES: Vocabulary = _TERMS["scoring.class"]
#: How a firm's class moved between two runs.
SHIFTS: Vocabulary = _TERMS["scoring.shift"]
#: Column headers (with units) of comparisons and rankings.
FIELDS: Vocabulary = _TERMS["scoring.field"]
#: What a score run found about a firm beyond its class (veto, class T, protection).
TAGS: Vocabulary = _TERMS["scoring.tag"]
#: Findings of the land-tax check (``report land-tax``), most urgent first.
LAND_TAX_STATUS: Vocabulary = _TERMS["scoring.land_tax_status"]
#: Column headers (with units) of the land-tax check.
LAND_TAX_FIELDS: Vocabulary = _TERMS["scoring.land_tax_field"]
#: Where the unit tax of a firm's difference comes from.
LAND_TAX_RATE_SOURCE: Vocabulary = _TERMS["scoring.land_tax_rate_source"]
#: How a firm of the land-tax check holds its land (owner, tenant …).
LAND_TAX_ROLE: Vocabulary = _TERMS["scoring.land_tax_role"]
#: How an item's benchmark is found, which direction is better, how its points were given.
BENCHMARKS: Vocabulary = _TERMS["scoring.benchmark"]
DIRECTIONS: Vocabulary = _TERMS["scoring.direction"]
ITEM_RULES: Vocabulary = _TERMS["scoring.item_rule"]
#: The rules a run records as fired for a firm (``score explain``).
RULES: Vocabulary = _TERMS["scoring.rule"]
#: How an occupancy run shared land among tenants, and the area it counted.
TENANT_RULES: Vocabulary = _TERMS["scoring.tenant_rule"]
AREA_BASES: Vocabulary = _TERMS["scoring.area_basis"]
#: Where class quotas apply, and how equal totals are placed.
CLASS_WITHIN: Vocabulary = _TERMS["scoring.class_within"]
CLASS_TIES: Vocabulary = _TERMS["scoring.class_ties"]
#: Column headers of the parks' land-use intensity table (``report parks``).
PARK_FIELDS: Vocabulary = _TERMS["scoring.park_field"]


def headers(columns, lang: str = "zh") -> dict[str, str]:
    """column → header for the columns that have one (others keep their name)."""
    return {c: FIELDS.label(c, lang) for c in columns}
