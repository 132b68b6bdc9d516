"""The policy package's words (items, units, flags, statuses, warnings) from ``terms.yaml``.

One data file (code, zh, en, unit, in display order), in the format of the project's
vocabulary terms files, so it can be registered there as it is; until then this small
reader serves the CLI, exports and notices.

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
from typing import Any


@lru_cache(maxsize=1)
def terms() -> dict[str, list[dict[str, Any]]]:
    """Domain -> its terms (dicts with ``code``, ``zh``, ``en``, optional ``unit``)."""
    from importlib import resources

    import yaml

    text = resources.files("scoring.policy").joinpath("terms.yaml").read_text("utf-8")
    return yaml.safe_load(text)


def codes(domain: str) -> tuple[str, ...]:
    """The codes of ``domain`` in display order."""
    return tuple(t["code"] for t in terms()[domain])


def label(domain: str, code: str | None, lang: str = "zh") -> str:
    """The label of ``code`` in ``domain`` (the code itself when unknown)."""
    for t in terms()[domain]:
        if t["code"] == code:
            return str(t[lang])
    return "" if code is None else str(code)


def unit(domain: str, code: str) -> str:
    """The unit a term carries (``""`` when none)."""
    for t in terms()[domain]:
        if t["code"] == code:
            return str(t.get("unit", ""))
    return ""
