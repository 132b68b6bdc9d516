"""Errors of standard-land supply (all under :class:`gis.errors.MujunError`)."""

from __future__ import annotations

from gis.errors import DataError, RuleFileError


class SupplyError(DataError):
    """A plot, step, contract or supply-information value that cannot be accepted."""


class PlotNotFound(SupplyError, LookupError):
    """No plot with that id or code."""


class StepError(SupplyError):
    """A status step out of order, dated before the previous one, or without a reason."""


class IndicatorTableError(RuleFileError):
    """A control-indicator table (YAML or CSV) that is malformed, or lacks an industry."""
