"""Parsing cell values the way bureau spreadsheets hold them.

Numbers come with thousands separators, full-width digits, trailing units or
blanks like ``-``/``/``/``无``; dates as Excel serials, ``2019/5/1``,
``20190501`` or ``2019年5月1日``. Every parser returns ``(value, problem)``:
``problem`` is ``None`` or the reason the cell could not be read.

Pure functions, no I/O.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any

from gis.errors import DataError, MujunError

_FULLWIDTH = str.maketrans({chr(c): chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)})
#: Cell texts that mean "no value".
BLANKS = frozenset({"", "-", "--", "—", "/", "无", "空", "n/a", "na", "nan", "none", "null", "#n/a"})


def is_blank(value: Any) -> bool:
    """True for None, NaN/NaT and texts that mean no value.

    Examples
    --------
    >>> is_blank(" - "), is_blank(0)
    (True, False)
    """
    if value is None:
        return True
    if isinstance(value, str):
        return value.strip().lower() in BLANKS
    if isinstance(value, float):
        return math.isnan(value)
    return type(value).__name__ in ("NaTType", "NAType")


def parse_number(value: Any) -> tuple[float | None, str | None]:
    """Read a number from a cell.

    Examples
    --------
    >>> parse_number("1,234.5")
    (1234.5, None)
    >>> parse_number("１２")
    (12.0, None)
    >>> parse_number("abc")
    (None, "not a number: 'abc'")
    >>> parse_number(None)
    (None, None)
    """
    if is_blank(value):
        return None, None
    if isinstance(value, bool):
        return None, f"not a number: {value!r}"
    if isinstance(value, int | float):
        number = float(value)
    else:
        text = str(value).translate(_FULLWIDTH).strip().replace(",", "").replace(" ", "")
        text = re.sub(r"(元|万元|人|吨|度|千瓦时|%)$", "", text)
        try:
            number = float(text)
        except ValueError:
            return None, f"not a number: {value!r}"
    if not math.isfinite(number):
        return None, f"not a finite number: {value!r}"
    return number, None


_LENGTH_UNITS = {"m": 1.0, "米": 1.0, "meters": 1.0, "metres": 1.0, "ft": 0.3048, "'": 0.3048}


def parse_length(value: Any) -> tuple[float | None, str | None]:
    """Read a length in metres, as OpenStreetMap's ``height`` holds it (``12``, ``"12 m"``, ``"40 ft"``).

    Examples
    --------
    >>> parse_length("12 m"), parse_length("12.5米"), parse_length("40 ft")[0]
    ((12.0, None), (12.5, None), 12.192)
    >>> parse_length("tall")
    (None, "not a length: 'tall'")
    """
    if is_blank(value):
        return None, None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return parse_number(value)
    text = str(value).translate(_FULLWIDTH).strip().lower().replace(",", ".")
    match = re.fullmatch(r"([-+]?\d*\.?\d+)\s*(m|米|meters|metres|ft|')?", text)
    if not match:
        return None, f"not a length: {value!r}"
    number = float(match.group(1)) * _LENGTH_UNITS.get(match.group(2) or "m", 1.0)
    return round(number, 6), None


_EXCEL_EPOCH = dt.date(1899, 12, 30)
_DATE_PATTERNS = (
    re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:[ T].*)?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)


def parse_date(value: Any) -> tuple[dt.date | None, str | None]:
    """Read a date from a cell.

    Examples
    --------
    >>> parse_date("2019年5月1日")
    (datetime.date(2019, 5, 1), None)
    >>> parse_date("20190501")[0]
    datetime.date(2019, 5, 1)
    >>> parse_date(43586)[0]
    datetime.date(2019, 5, 1)
    >>> parse_date("2019-13-01")[1]
    "not a date: '2019-13-01'"
    """
    if is_blank(value):
        return None, None
    if isinstance(value, dt.datetime):
        return value.date(), None
    if isinstance(value, dt.date):
        return value, None
    if hasattr(value, "to_pydatetime"):
        return value.to_pydatetime().date(), None
    if isinstance(value, int | float) and not isinstance(value, bool):
        if 20000 < value < 80000:  # Excel serial day number
            return _EXCEL_EPOCH + dt.timedelta(days=int(value)), None
        value = str(int(value)) if float(value).is_integer() else str(value)
    text = str(value).translate(_FULLWIDTH).strip()
    for pattern in _DATE_PATTERNS:
        match = pattern.match(text)
        if match:
            try:
                date = dt.date(*(int(g) for g in match.groups()))
            except ValueError:
                break
            if not 1949 <= date.year <= 2100:
                return None, f"implausible date: {value!r}"
            return date, None
    return None, f"not a date: {value!r}"


def as_date(value: Any, what: str = "date", error: type[MujunError] = DataError) -> dt.date:
    """A date given as an option or argument, read by :func:`parse_date`, or a clear error.

    Parameters
    ----------
    value : str or date
        ``YYYY-MM-DD`` (or any form :func:`parse_date` reads).
    what : str
        How the message names the value (``--as-of date``).
    error : MujunError subclass
        Raised when ``value`` is not a date (:class:`~gis.errors.DataError` by
        default; :class:`~gis.errors.ConfigError` for a command's option).

    Examples
    --------
    >>> as_date("2024-06-15"), as_date(dt.date(2024, 6, 15))
    (datetime.date(2024, 6, 15), datetime.date(2024, 6, 15))
    >>> as_date("15/06/2024", "--date")
    Traceback (most recent call last):
    ...
    gis.errors.DataError: --date '15/06/2024' is not a date; write it as YYYY-MM-DD
    """
    date, problem = parse_date(value)
    if date is None:
        why = f" ({problem})" if problem and not problem.startswith("not a date") else ""
        raise error(f"{what} {value!r} is not a date{why}; write it as YYYY-MM-DD")
    return date


def parse_text(value: Any) -> str | None:
    """Cell as stripped text (integers without ``.0``), or None when blank.

    Examples
    --------
    >>> parse_text(601.0), parse_text("  镇 ")
    ('601', '镇')
    """
    if is_blank(value):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def column_cells(frame: Any, name: str, n: int) -> list[Any]:
    """A frame's column as a list of cells, or ``n`` Nones when the column is absent.

    Called once per column, never per row: ``frame[name].tolist()`` inside a
    loop over rows makes an import quadratic in the file's length.

    Examples
    --------
    >>> import pandas as pd
    >>> column_cells(pd.DataFrame({"a": [1, 2]}), "a", 2), column_cells(pd.DataFrame(), "b", 2)
    ([1, 2], [None, None])
    """
    return frame[name].tolist() if name in frame else [None] * n


def parse_distinct(cells: list[Any], parse: Any) -> list[Any]:
    """``parse(cell)`` for every cell, each distinct (hashable) value parsed once.

    Bureau columns repeat a few values (towns, 是/否, industry codes, blanks)
    over many rows; parsing each once keeps a 100,000-row table cheap.

    Examples
    --------
    >>> parse_distinct(["1", "1", None], parse_number)
    [(1.0, None), (1.0, None), (None, None)]
    """
    try:
        distinct = dict.fromkeys(cells)
    except TypeError:  # an unhashable cell: the careful way below
        distinct = None
    if distinct is not None and not any(type(v) is bool for v in distinct):
        # numbers equal as keys (1 and 1.0) parse alike; only True/False would not
        parsed = {v: parse(v) for v in distinct}
        return [parsed[v] for v in cells]
    cache: dict[Any, Any] = {}
    out = []
    for v in cells:
        key = (v.__class__, v)  # 1, 1.0 and True are equal keys but not equal cells
        try:
            out.append(cache[key])
        except KeyError:
            cache[key] = res = parse(v)
            out.append(res)
        except TypeError:  # an unhashable cell
            out.append(parse(v))
    return out
