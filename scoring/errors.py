"""Errors of the scoring package: narrow subclasses of :mod:`gis.errors`.

No second root: everything here derives from :class:`gis.errors.MujunError`.
"""

from __future__ import annotations

from gis.errors import ConfigError, DataError, MujunError


class DecisionConflict(MujunError, RuntimeError):
    """A candidate changed since the caller read it (stale ``expected_version``).

    Parameters
    ----------
    message : str
        What happened and what to do (reload and decide again).
    candidate_id : int
    expected : int
        The version the caller read.
    actual : int
        The version in the database now.
    """

    exit_code = 6

    def __init__(self, message: str, *, candidate_id: int, expected: int, actual: int):
        super().__init__(message)
        self.candidate_id = candidate_id
        self.expected = expected
        self.actual = actual


class CandidateNotFound(DataError, LookupError):
    """No candidate has the given id."""


class RulesConfigError(ConfigError):
    """A land-status rules file is invalid (names the file and the key at fault)."""
