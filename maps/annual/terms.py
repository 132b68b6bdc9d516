"""The annual report's words: section titles, summary figures, column headers.

Registered by this package in the one vocabulary (:mod:`gis.vocabulary`) from
``terms.yaml``; the words of the lower floors (classes, candidate kinds, policy items,
land-tax findings) come from their own terms files.

Examples
--------
>>> SECTIONS.label("sources"), FIGURES.label("tax_per_mu"), COLUMNS.label("approved_mu")
('十、数据来源', '亩均税收（万元/亩）', '批准收回/盘活面积（亩）')
"""

from __future__ import annotations

from pathlib import Path

from gis.vocabulary import Vocabulary, register

#: Where the terms are written.
TERMS_FILE = Path(__file__).resolve().parent / "terms.yaml"

_TERMS = register("maps.annual", TERMS_FILE)

#: The report's sections, in order.
SECTIONS: Vocabulary = _TERMS["maps.annual.section"]
#: The summary's figures (units in the label).
FIGURES: Vocabulary = _TERMS["maps.annual.figure"]
#: Column headers of the report's own tables.
COLUMNS: Vocabulary = _TERMS["maps.annual.column"]
#: The rows of the 数据来源 section.
SOURCES: Vocabulary = _TERMS["maps.annual.source"]
