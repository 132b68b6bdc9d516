"""Typed attribute columns from a source table: text, numbers, dates, land-use codes.

Pure kernel shared by the layer imports: a frame of source columns and a
field plan in, one typed column per field out, unreadable cells reported on
the row they came from.
"""

from __future__ import annotations

import contextlib
from typing import Any

import numpy as np
import pandas as pd

from gis.importing.report import ImportReport, Severity
from gis.importing.values import parse_date, parse_length, parse_number, parse_text


def parse_attributes(frame: pd.DataFrame, fields: dict[str, tuple[str, float]],
                     rows: np.ndarray, report: ImportReport,
                     kinds: dict[str, str], *, severity: Severity = "error") -> pd.DataFrame:
    """Parse mapped source columns into typed schema columns.

    Parameters
    ----------
    frame : DataFrame of source columns.
    fields : dict
        schema field -> (source column, unit factor).
    rows : feature/row numbers.
    kinds : dict
        schema field -> ``'text' | 'number' | 'length' | 'date' | 'landuse'``
        (``length``: metres, also read from texts such as ``"12 m"``).
    severity : {'error', 'warning'}
        What an unreadable cell is: an error rejects the row; a warning (for
        optional attributes such as a footprint's height) drops the value.

    Returns
    -------
    pandas.DataFrame
        One column per field in ``kinds``; unparseable cells are reported and None.

    Examples
    --------
    >>> from gis.importing.report import ImportReport
    >>> rep = ImportReport(unit="feature")
    >>> frame = pd.DataFrame({"h": ["12 m", "7", "tall"]})
    >>> parse_attributes(frame, {"height_m": ("h", 1.0)}, np.array([1, 2, 3]), rep,
    ...                  {"height_m": "length"}, severity="warning")["height_m"].fillna(-1).tolist()
    [12.0, 7.0, -1.0]
    >>> [(i.row, i.severity) for i in rep.issues]
    [(3, 'warning')]
    """
    out: dict[str, list[Any]] = {}
    n = len(frame)
    for name, kind in kinds.items():
        if name not in fields:
            out[name] = [None] * n
            continue
        column, factor = fields[name]
        series = frame[column]
        if kind in ("number", "length") and pd.api.types.is_numeric_dtype(series.dtype) \
                and not pd.api.types.is_bool_dtype(series.dtype):
            numbers = series.to_numpy(dtype=float) * factor
            bad = ~np.isfinite(numbers) & ~np.isnan(numbers)
            for r in rows[bad]:
                report.add(int(r), "bad_value", severity, f"not a finite number in column "
                           f"{column!r}", field=name)
            out[name] = np.where(np.isfinite(numbers), numbers, np.nan)  # NaN: no value
            continue
        if kind == "date" and pd.api.types.is_datetime64_any_dtype(series.dtype):
            years = series.dt.year
            odd = (years < 1949) | (years > 2100)
            for r in rows[odd.fillna(False).to_numpy()]:
                report.add(int(r), "bad_value", severity, f"implausible date in column {column!r}",
                           field=name)
            out[name] = [None if pd.isna(d) else d for d in series.dt.date.where(~odd, None)]
            continue
        if kind == "text" and pd.api.types.infer_dtype(series, skipna=True) in ("string",
                                                                                "empty"):
            out[name] = _texts(series)
            continue
        cache: dict[Any, tuple[Any, str | None]] = {}
        parsed = []
        for v, r in zip(series.tolist(), rows, strict=True):
            try:
                x, problem = cache[v]
            except (KeyError, TypeError):
                x, problem = _parse_cell(kind, v, factor)
                with contextlib.suppress(TypeError):  # unhashable cell: not cached
                    cache[v] = (x, problem)
            if problem:
                report.add(int(r), "bad_value", severity, problem + f" in column {column!r}",
                           field=name, value=v)
            parsed.append(x)
        out[name] = parsed
    return pd.DataFrame(out)


def _texts(series: pd.Series) -> list[str | None]:
    """A column of strings, stripped, blanks (``-``, ``无`` ...) as None: vectorized parse_text."""
    from gis.importing.values import BLANKS

    stripped = series.str.strip()
    blank = series.isna() | stripped.str.lower().isin(BLANKS)
    return stripped.where(~blank, None).tolist()


def _parse_cell(kind: str, v: Any, factor: float) -> tuple[Any, str | None]:
    if kind == "number":
        x, problem = parse_number(v)
        return (None if x is None else x * factor), problem
    if kind == "length":
        x, problem = parse_length(v)
        return (None if x is None else x * factor), problem
    if kind == "date":
        return parse_date(v)
    x = parse_text(v)
    if kind == "landuse" and x is not None and x.isdigit() and len(x) in (1, 3):
        x = x.zfill(len(x) + 1)  # 601 -> 0601 (a lost leading zero)
    return x, None
