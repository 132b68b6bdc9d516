"""A defect planted in the sample's dirty copies, as ``MANIFEST.json`` lists it.

Import tests read the manifest to check that every planted defect is caught.
"""

from __future__ import annotations


def defect(file: str, index: int, key: str, kind: str, detail: str, **extra) -> dict:
    """One planted defect as ``MANIFEST.json`` lists it (file, feature or row, kind, detail)."""
    item = {"file": file, "kind": kind, "detail": detail, "key": key}
    if file.endswith(".shp"):
        item["feature"] = int(index)
    else:
        item["record"] = int(index)
    item.update(extra)
    return item
