"""Legal periods in years, counted as the Civil Code counts them.

Civil Code of the PRC, articles 201-203: a period in years starts counting on the day
*after* the start day, and its last day is the day of the last year that corresponds
to the start day; when that year has no corresponding day (29 February), the last day
of that month is the last day. The period has passed only after its last day ends.

So "one full year after the agreed start date 2023-06-30" ends with 2024-06-30: the
land can be idle from 2024-07-01 on. From 2020-02-29 the year ends with 2021-02-28.

>>> period_end(dt.date(2020, 2, 29), 1)
datetime.date(2021, 2, 28)
>>> has_passed(dt.date(2023, 6, 30), 1, dt.date(2024, 6, 30))
False
>>> has_passed(dt.date(2023, 6, 30), 1, dt.date(2024, 7, 1))
True
"""

from __future__ import annotations

import calendar
import datetime as dt


def period_end(start: dt.date, years: int) -> dt.date:
    """Last day of a period of ``years`` full years from ``start``."""
    year = start.year + int(years)
    last = calendar.monthrange(year, start.month)[1]
    return dt.date(year, start.month, min(start.day, last))


def has_passed(start: dt.date | None, years: int, as_of: dt.date) -> bool:
    """Whether ``years`` full years from ``start`` have passed by ``as_of`` (False without a start)."""
    if start is None:
        return False
    return as_of > period_end(start, years)


def years_between(a: dt.date, b: dt.date) -> float:
    """``b - a`` in years of 365.25 days (for evidence and priority, not for legal tests)."""
    return (b - a).days / 365.25
