"""Errors of the parcels package: narrow subclasses of :mod:`gis.errors`.

No second root: everything here derives from :class:`gis.errors.MujunError`.
:class:`ImportRejected` and :class:`MappingError` belong to the generic import
machinery in :mod:`gis.importing` and are re-exported here.
"""

from __future__ import annotations

from gis.errors import DataError, ImportRejected, MappingError

__all__ = ["ImportRejected", "MappingError", "VerificationError"]


class VerificationError(DataError):
    """A resolved verification workbook cannot be applied."""
