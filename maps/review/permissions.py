"""Roles of the review app and what each may do.

The database holds the same list (``mujun_role_can``, migration 0011), which the
row-level-security policies read; ``tests/test_review`` checks the two agree.
"""

from __future__ import annotations

#: Roles, least to most powerful.
ROLES = ("viewer", "technician", "planner", "official", "admin")

#: Permission → what it allows.
PERMISSIONS = {
    "view": "see candidates, parcels, footprints and decisions in one's districts/towns",
    "field_note": "add field-check notes and photos",
    "export": "download decisions as XLSX or GeoPackage",
    "figures": "see enterprise figures (tax, revenue, energy, scores)",
    "decide": "decide on candidates (confirm, reject, field check, approve)",
    "users": "manage users (`mujun user`)",
    "appeal": "record appeals (申诉) and decide them (under review, upheld, rejected)",
    "supply": "edit standard-land plots: supply information and their step in the pipeline",
}

#: Role → its permissions.
ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "viewer": frozenset({"view"}),
    "technician": frozenset({"view", "field_note"}),
    "planner": frozenset({"view", "export", "figures", "supply"}),
    "official": frozenset({"view", "decide", "export", "figures", "appeal"}),
    "admin": frozenset(PERMISSIONS),
}


def can(role: str | None, permission: str) -> bool:
    """Whether ``role`` has ``permission``.

    Examples
    --------
    >>> can("viewer", "figures"), can("official", "decide")
    (False, True)
    """
    if permission not in PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r}; known: {', '.join(PERMISSIONS)}")
    return permission in ROLE_PERMISSIONS.get(role or "", frozenset())
