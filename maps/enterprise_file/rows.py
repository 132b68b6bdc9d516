"""Rows of a query as plain data (JSON-ready values) for the panels of the file."""

from __future__ import annotations

from typing import Any


def clean(value: Any) -> Any:
    """A database or numpy value as plain JSON data (dates as ISO text, NaN as None)."""
    if value is None:
        return None
    if isinstance(value, float) and value != value:
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "item"):
        return value.item()
    if hasattr(value, "as_integer_ratio") and not isinstance(value, (int, float)):
        return float(value)                         # Decimal
    return value.strip() if isinstance(value, str) else value


def rows(cur) -> list[dict[str, Any]]:
    """Every row of an executed cursor as a dict of clean values."""
    names = [d.name for d in cur.description]
    return [{k: clean(v) for k, v in zip(names, r, strict=True)} for r in cur.fetchall()]
