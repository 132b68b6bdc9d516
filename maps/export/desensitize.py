"""``--desensitize``: a copy of a layer fit for public release.

Each column is treated as :mod:`maps.fields` says: enterprise names keep their first
character (``苏州某某纺织有限公司`` -> ``苏*********``), credit codes keep their first 8
characters (registration authority, entity type, administrative division) and mask
the rest, confidential figures (tax, revenue, value added, energy, electricity, R&D,
employees, per-mu figures, scores and ranks, evidence) are dropped. Other columns are
kept. The list is in docs/maps.md and printed by ``mujun export --fields``.

Examples
--------
>>> mask_name("苏州某某纺织有限公司")
'苏*********'
>>> mask_code("91320509MA1XXXXX0A")
'91320509**********'
"""

from __future__ import annotations

from typing import Any

from maps.fields import FieldInfo, treatment


def mask_name(value: Any) -> Any:
    """First character kept, the rest replaced by ``*`` (None stays None)."""
    if not isinstance(value, str) or not value:
        return value
    return value[0] + "*" * (len(value) - 1)


def mask_code(value: Any) -> Any:
    """First 8 characters of a credit code kept, the other 10 masked."""
    if not isinstance(value, str) or not value.strip():
        return value
    value = value.strip()
    return value[:8] + "*" * (len(value) - 8)


def desensitize(frame: Any, fields: dict[str, FieldInfo] | None = None
                ) -> tuple[Any, dict[str, list[str]]]:
    """A copy of ``frame`` with names and codes masked and confidential columns dropped.

    ``fields`` adds the layer's own fields to :data:`maps.fields.FIELDS`.

    Returns
    -------
    (frame, report)
        ``report`` lists the columns ``masked`` and ``dropped``.
    """
    geom = getattr(frame, "_geometry_column_name", None)
    dropped = [c for c in frame.columns if c != geom and treatment(str(c), fields) == "drop"]
    out = frame.drop(columns=dropped).copy()
    masked = []
    for column in out.columns:
        how = treatment(str(column), fields)
        if how == "mask_name":
            out[column] = out[column].map(mask_name)
            masked.append(str(column))
        elif how == "mask_code":
            out[column] = out[column].map(mask_code)
            masked.append(str(column))
    return out, {"masked": masked, "dropped": [str(c) for c in dropped]}
