"""Errors of the scoring package: narrow subclasses of :mod:`gis.errors`.

No second root: everything here derives from :class:`gis.errors.MujunError`.
"""

from __future__ import annotations

from gis.errors import DataError, MujunError, RuleFileError


class RuleSetError(RuleFileError):
    """A rule set (YAML) is invalid: the message names the file, line, key and problem.

    Parameters
    ----------
    message : str
        What is wrong and what to do.
    source : str, optional
        The rule-set file (or preset name); ``<rule set>`` when not given.
    line : int, optional
        1-based line in the file where the offending key or value stands.
    key : str, optional
        Dotted path of the key at fault, e.g. ``populations.large.items.tax_per_mu.weight``.
    """

    def __init__(self, message: str, *, source: str | None = None, line: int | None = None,
                 key: str | None = None):
        super().__init__(message, source=source or "<rule set>", line=line, key=key)


class FormulaError(RuleSetError):
    """An indicator formula cannot be parsed or uses a name or operation not allowed."""


class AdjustmentError(DataError):
    """An adjustment list (CSV/XLSX of bonuses, penalties, vetoes, exemptions) is unusable."""


class ScoreRunError(DataError):
    """Scoring cannot run on the stored data (no occupancy run, no records for the year)."""


class OverrideError(DataError):
    """A class adjustment cannot be recorded (unknown class, empty reason, firm not scored)."""


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


class LandRulesError(RuleSetError):
    """A land-status rules file (YAML) is invalid: names the file, line and key at fault."""


class PolicyError(RuleFileError):
    """A policy rule set (YAML) is invalid: the message names the file, line and key."""

    def __init__(self, message: str, *, source: str | None = None, line: int | None = None,
                 key: str | None = None):
        super().__init__(message, source=source or "<policy rule set>", line=line, key=key)


class PolicyRunError(DataError):
    """A policy run cannot be made or read (no classes, unknown run, unset parameter)."""


class PolicyRecordError(DataError):
    """A file of collected or granted amounts (``policy record``) is unusable."""


class AppealError(DataError):
    """An appeal cannot be recorded or decided (unknown appeal, wrong step, empty reason)."""


class AreaError(DataError):
    """A redevelopment area (片区) cannot be made or changed as asked: bad method, month,
    target, name, candidate, polygon or plan note; the message says which and what to do."""


class AreaNotFound(AreaError, LookupError):
    """No redevelopment area has the given name or number."""
