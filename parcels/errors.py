"""Errors of the parcels package: narrow subclasses of :mod:`gis.errors`.

No second root: everything here derives from :class:`gis.errors.MujunError`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gis.errors import ConfigError, DataError

if TYPE_CHECKING:
    from parcels.importing.report import ImportReport


class ImportRejected(DataError):
    """An import found errors, so nothing was written.

    Parameters
    ----------
    message : str
        What is wrong and what to do.
    report : ImportReport, optional
        Every issue found, for ``--json`` output and rejects files.
    """

    def __init__(self, message: str, *, source: str | None = None,
                 location: str | None = None, report: ImportReport | None = None):
        super().__init__(message, source=source, location=location)
        self.report = report


class MappingError(ConfigError):
    """A column mapping (``--map`` or a mapping YAML file) is invalid."""


class VerificationError(DataError):
    """A resolved verification workbook cannot be applied."""
