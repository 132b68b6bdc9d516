"""Removing enterprise figures from candidate evidence for roles that may not see them (pure).

The land-status rules keep what they looked at in ``candidate.evidence`` and
``candidate.rules`` — including the holders' tax, tax per mu and electricity. Row-level
security hides the figure tables themselves (``enterprise_year``) from such roles; the
copies inside a candidate's evidence are removed here before the detail is sent.
"""

from __future__ import annotations

from typing import Any

#: Key fragments that mark a confidential enterprise figure.
FIGURE_MARKERS = ("tax", "revenue", "value_added", "electric", "energy", "emission", "rd_wan",
                  "employees", "benchmark", "profit", "output", "indicator", "total", "items")

REDACTED = "—"


def is_figure(key: str) -> bool:
    """Whether an evidence key or rule name names an enterprise figure.

    Examples
    --------
    >>> is_figure("tax_per_mu"), is_figure("electricity_kwh"), is_figure("coverage")
    (True, True, False)
    """
    low = str(key).lower()
    return any(marker in low for marker in FIGURE_MARKERS)


def redact_evidence(value: Any) -> Any:
    """A copy of ``value`` (evidence JSON) without figure keys, at any depth."""
    if isinstance(value, dict):
        return {k: redact_evidence(v) for k, v in value.items() if not is_figure(k)}
    if isinstance(value, list):
        return [redact_evidence(v) for v in value]
    return value


def redact_rules(rules: Any) -> Any:
    """Rules fired with the value and threshold of figure rules replaced by a dash."""
    if not isinstance(rules, list):
        return redact_evidence(rules)
    out = []
    for rule in rules:
        if isinstance(rule, dict) and is_figure(rule.get("rule", "")):
            rule = {k: (REDACTED if k in ("value", "threshold") else v)
                    for k, v in rule.items() if not is_figure(k)}
        out.append(redact_evidence(rule) if isinstance(rule, dict) else rule)
    return out
