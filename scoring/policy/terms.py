"""The policy package's words (items, units, flags, statuses, warnings, appeals).

Registered by this floor in the one vocabulary (:mod:`gis.vocabulary`) from
``terms.yaml`` (code, zh, en, unit, in display order); the CLI, exports, notices and
maps read every policy label through these helpers.

Examples
--------
>>> label("policy.item", "sewage")
'差别化污水处理费'
>>> label("policy.flag", "no_land_auction", "en")
'barred from industrial land auctions'
>>> label("policy.item", "unknown")          # an unknown code is shown as it is
'unknown'
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from gis.vocabulary import Vocabulary, register

#: Where the terms are written.
TERMS_FILE = Path(__file__).resolve().parent / "terms.yaml"


@lru_cache(maxsize=1)
def vocabularies() -> dict[str, Vocabulary]:
    """Domain -> its :class:`~gis.vocabulary.Vocabulary` (registered on first use)."""
    return register("scoring.policy", TERMS_FILE)


def codes(domain: str) -> tuple[str, ...]:
    """The codes of ``domain`` in display order."""
    return vocabularies()[domain].codes()


def label(domain: str, code: str | None, lang: str = "zh") -> str:
    """The label of ``code`` in ``domain`` (the code itself when unknown, ``""`` for None)."""
    return vocabularies()[domain].label(code, lang)


def unit(domain: str, code: str) -> str:
    """The unit a term carries (``""`` when none)."""
    term = vocabularies()[domain].get(code)
    return (term.unit or "") if term is not None else ""
