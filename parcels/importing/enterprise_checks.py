"""Checks on enterprise annual records: codes, industry, duplicates, values.

Pure kernel: a frame of raw cells keyed by schema field in, a typed frame and
report issues out.

* Credit codes (GB 32100): malformed -> error; well formed but failing the
  check character -> warning (early pilot codes are legal, DOMAIN.md §4).
* Industry codes: checked against the shipped GB/T 4754-2017 divisions
  (3/4-digit codes by their division); unknown -> warning (they go to the
  verification queue).
* Duplicates: the same credit code twice with identical figures -> warning,
  one kept; with different figures -> error.
* Values: not a number -> error; negative where the schema forbids it ->
  error; negative tax or value added -> warning; beyond plausible bounds
  (:data:`ABSURD`) -> error.
* Values: the text ``nan`` (a spreadsheet export of an empty cell) -> warning,
  read as empty; a fractional employee count -> warning, rounded.
* Registration status (登记状态/经营状态) -> active, stopped, deregistered,
  relocated (:data:`STATUS_WORDS`); an unknown word -> error naming it.
* Required fields (credit code, name) missing -> error.
"""

from __future__ import annotations

import contextlib
from typing import Any

import numpy as np
import pandas as pd

from gis.importing.report import ImportReport, Issue
from gis.importing.values import (
    column_cells,
    is_blank,
    parse_date,
    parse_distinct,
    parse_number,
    parse_text,
)
from parcels.codes import check_credit_codes, normalize_credit_code
from parcels.industry import check_industry_code

#: Numeric fields of enterprise_year, in schema units.
NUMERIC_FIELDS = ("tax_wan", "revenue_wan", "value_added_wan", "energy_tce", "electricity_kwh",
                  "rd_wan", "employees", "emissions_t")
#: Fields that may legitimately be negative (refunds, losses): a warning only.
MAY_BE_NEGATIVE = frozenset({"tax_wan", "value_added_wan"})
#: Upper bounds beyond which a figure is a typing or unit error (schema units).
ABSURD: dict[str, float] = {
    "tax_wan": 1e7,           # 1,000 亿元 of tax from one plant
    "revenue_wan": 1e8,       # 1 万亿元
    "value_added_wan": 1e8,
    "energy_tce": 5e7,        # more than the largest steelworks
    "electricity_kwh": 1e11,  # 1,000 亿 kWh
    "rd_wan": 1e7,
    "employees": 5e5,
    "emissions_t": 1e7,
}
#: Registration status words (登记状态 / 经营状态) -> ``enterprise.status``.
STATUS_WORDS: dict[str, str] = {
    **dict.fromkeys(("存续", "在业", "开业", "正常", "在营", "营业", "active"), "active"),
    **dict.fromkeys(("停业", "歇业", "停产", "停业整顿", "stopped"), "stopped"),
    **dict.fromkeys(("注销", "吊销", "已注销", "已吊销", "吊销未注销", "deregistered"),
                    "deregistered"),
    **dict.fromkeys(("迁出", "已迁出", "relocated"), "relocated"),
}
_LARGE = {"是", "规上", "规模以上", "规上企业", "y", "yes", "true", "1", "large", "√", "规模以上企业"}
_SMALL = {"否", "规下", "规模以下", "规下企业", "n", "no", "false", "0", "small", "×", "规模以下企业"}


def parse_size_class(value: Any) -> tuple[str | None, str | None]:
    """Read a 规模以上 flag.

    Examples
    --------
    >>> parse_size_class("是"), parse_size_class("规下"), parse_size_class(None)
    (('large', None), ('small', None), (None, None))
    """
    if is_blank(value):
        return None, None
    text = str(value).strip().lower()
    if text.endswith(".0"):
        text = text[:-2]
    if text in _LARGE:
        return "large", None
    if text in _SMALL:
        return "small", None
    return None, f"cannot read the 规模以上 flag {value!r} (use 是/否)"


_YES = {"是", "y", "yes", "true", "1", "√", "高新", "高新技术企业", "高企"}
_NO = {"否", "n", "no", "false", "0", "×", "非高新", "不是"}


def parse_high_tech(value: Any) -> tuple[bool | None, str | None]:
    """Read a 高新技术企业 flag.

    Examples
    --------
    >>> parse_high_tech("是"), parse_high_tech("否"), parse_high_tech(None)
    ((True, None), (False, None), (None, None))
    >>> parse_high_tech("也许")[1]
    "cannot read the 高新技术企业 flag '也许' (use 是/否)"
    """
    if is_blank(value):
        return None, None
    text = str(value).strip().lower()
    if text.endswith(".0"):
        text = text[:-2]
    if text in _YES:
        return True, None
    if text in _NO:
        return False, None
    return None, f"cannot read the 高新技术企业 flag {value!r} (use 是/否)"


def parse_status(value: Any) -> tuple[str | None, str | None]:
    """Read a registration status word.

    Examples
    --------
    >>> parse_status("存续（在营、开业、在册）")[0], parse_status("吊销"), parse_status(None)
    ('active', ('deregistered', None), (None, None))
    >>> parse_status("破产")[1]
    "unknown registration status '破产' (use 存续/在业/开业, 停业/歇业/停产, 注销/吊销 or 迁出)"
    """
    if is_blank(value):
        return None, None
    text = str(value).strip()
    key = text.split("（")[0].split("(")[0].strip().lower()
    if key in STATUS_WORDS:
        return STATUS_WORDS[key], None
    return None, (f"unknown registration status {text!r} (use 存续/在业/开业, 停业/歇业/停产, "
                  "注销/吊销 or 迁出)")


def read_credit_code(cell: Any) -> str | None:
    """A credit code cell normalised (None when blank); a clean one (the usual case) as it is.

    Examples
    --------
    >>> read_credit_code("91350100M000100Y43"), read_credit_code(" 9135 0100m000100y43"), read_credit_code("-")
    ('91350100M000100Y43', '91350100M000100Y43', None)
    """
    if isinstance(cell, str) and len(cell) == 18 and cell.isascii() and cell.isalnum() \
            and not cell.islower() and cell == cell.upper():
        return cell
    return None if is_blank(cell) else normalize_credit_code(cell)


def _credit_codes(cells: list[Any]) -> tuple[list[str | None], list[str | None], list[list[tuple]]]:
    """Codes, statuses and issues of a credit code column (check characters vectorized)."""
    codes = parse_distinct(cells, read_credit_code)
    statuses = check_credit_codes(codes)
    issues: list[list[tuple]] = []
    for cell, code, status in zip(cells, codes, statuses, strict=True):
        if status == "ok" and code == cell:
            issues.append([])
            continue
        found: list[tuple] = []
        if code is None:
            found.append(("missing_field", "error", "统一社会信用代码 (credit code) is empty",
                          "credit_code", None))
        elif status == "malformed":
            found.append(("credit_code_malformed", "error",
                          f"credit code {code!r} is malformed (need 18 characters from "
                          "0-9 and A-Y without I, O, S, V, Z)", "credit_code", cell))
        else:
            if code != str(cell).strip():
                found.append(("credit_code_normalised", "info",
                              f"credit code {str(cell).strip()!r} read as {code}", "credit_code",
                              cell))
            if status == "checksum":
                found.append(("credit_code_checksum", "warning",
                              f"credit code {code} fails the GB 32100 check character (legal "
                              "for some early pilot codes; verify with the market regulator)",
                              "credit_code", code))
        issues.append(found)
    return codes, statuses, issues


def _industry(cell: Any) -> tuple[str | None, str | None, list[tuple]]:
    if is_blank(cell):
        return None, None, []
    ind, status = check_industry_code(cell)
    issues = [] if status == "ok" else [
        ("industry_code", "warning", f"industry code {ind!r} is {status} in GB/T 4754-2017 "
         "(checked at division level)", "industry_code", cell)]
    return ind, status, issues


def _numbers(cells: list[Any]) -> tuple[np.ndarray, list[tuple[int, str, str, Any]]]:
    """Numeric cells as floats (NaN for empty) and ``(index, check, problem, cell)`` findings.

    Cells that already are numbers are taken as they are, in one vectorized
    step; only texts go through :func:`parse_number` (each distinct text once).
    """
    n = len(cells)
    values = np.full(n, np.nan)
    series = pd.Series(cells, dtype=object)
    kinds = series.map(type)
    numeric = kinds.isin((int, float, np.float64, np.int64)).to_numpy()
    if numeric.any():
        values[numeric] = series[numeric].to_numpy(dtype=float)
        bad = numeric & np.isinf(values)
        values[bad] = np.nan
    else:
        bad = np.zeros(n, dtype=bool)
    found: list[tuple[int, str, str, Any]] = [
        (int(i), "bad_value", f"not a finite number: {cells[i]!r}", cells[i])
        for i in np.flatnonzero(bad)]
    other = np.flatnonzero(~numeric & series.notna().to_numpy())
    if len(other):
        # plain decimal texts (a CSV's every cell) converted in one vectorized step; the rest
        # (blanks, 'nan', separators, units, full-width digits) go through parse_number
        texts = series.iloc[other]
        plain = texts.map(type).eq(str).to_numpy()
        converted = pd.to_numeric(texts[plain], errors="coerce").to_numpy(dtype=float)
        done = np.zeros(len(other), dtype=bool)
        done[plain] = np.isfinite(converted)
        values[other[done]] = converted[done[plain]]
        other = other[~done]
    cache: dict[Any, tuple[float | None, str | None]] = {}
    for i in other:
        cell = cells[i]
        try:
            value, problem = cache[cell]
        except (KeyError, TypeError):
            value, problem = parse_number(cell)
            with contextlib.suppress(TypeError):
                cache[cell] = (value, problem)
        if isinstance(cell, str) and cell.strip().lower() == "nan":
            found.append((int(i), "nan_value", "", cell))
        if problem:
            found.append((int(i), "bad_value", problem, cell))
        elif value is not None:
            values[i] = value
    return values, found


def check_enterprises(raw: pd.DataFrame, factors: dict[str, float], rows: np.ndarray,
                      report: ImportReport, *, year: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Type and check enterprise records.

    Column by column: every cell is read once, each distinct text parsed once,
    numbers checked with numpy; the work grows with the number of cells only.

    Parameters
    ----------
    raw : pandas.DataFrame
        Raw cells, one column per recognised schema field.
    factors : dict
        Unit conversion factor per numeric field (header unit -> schema unit).
    rows : numpy.ndarray
        Row numbers as the user sees them (spreadsheet rows).
    report : ImportReport
    year : int
        The year being imported; a ``year`` column that disagrees is an error.

    Returns
    -------
    typed : pandas.DataFrame
        ``credit_code, checksum_ok, name, industry_code, industry_status,
        size_class, town`` and the numeric fields in schema units.
    keep : numpy.ndarray of bool
        Rows without errors that are not exact duplicates of an earlier row.
    """
    n = len(raw)
    rows = np.asarray(rows)
    found: list[tuple[int, int, Issue]] = []  # (position, field order, issue): sorted at the end

    def add(i: int, order: int, check: str, severity: str, message: str,
            field: str | None = None, value: Any = None) -> None:
        found.append((i, order, Issue(int(rows[i]), check, severity, message,  # type: ignore[arg-type]
                                      field, None if value is None else str(value))))

    out: dict[str, Any] = {}
    codes, statuses, code_issues = _credit_codes(column_cells(raw, "credit_code", n))
    out["credit_code"] = codes
    out["checksum_ok"] = [s == "ok" for s in statuses]
    for i, found_here in enumerate(code_issues):
        for issue in found_here:
            add(i, 0, *issue)
    names = parse_distinct(column_cells(raw, "name", n), parse_text)
    for i in (i for i, v in enumerate(names) if v is None):
        add(i, 1, "missing_field", "error", "企业名称 (name) is empty", "name")
    out["name"] = names
    parsed = parse_distinct(column_cells(raw, "industry_code", n), _industry)
    out["industry_code"] = [p[0] for p in parsed]
    out["industry_status"] = [p[1] for p in parsed]
    for i, p in enumerate(parsed):
        for issue in p[2]:
            add(i, 2, *issue)
    for order, (f, parse) in enumerate((("size_class", parse_size_class), ("town", None),
                                        ("status", parse_status),
                                        ("established_date", parse_date),
                                        ("deregistered_date", parse_date),
                                        ("high_tech", parse_high_tech)), start=3):
        cells = column_cells(raw, f, n)
        if parse is None:
            out[f] = parse_distinct(cells, parse_text)
            continue
        parsed = parse_distinct(cells, parse)
        out[f] = [p[0] for p in parsed]
        for i in (i for i, p in enumerate(parsed) if p[1]):
            add(i, order, "bad_value", "error", parsed[i][1], f, cells[i])
    for order, f in enumerate(NUMERIC_FIELDS, start=10):
        if f not in raw:
            out[f] = np.full(n, np.nan)
            continue
        cells = column_cells(raw, f, n)
        values, problems = _numbers(cells)
        for i, check, problem, cell in problems:
            if check == "nan_value":
                add(i, order, "nan_value", "warning",
                    f"{f} holds the text {cell.strip()!r}; read as empty", f, cell)
            else:
                add(i, order, "bad_value", "error", problem, f, cell)
        values = values * factors.get(f, 1.0)
        with np.errstate(invalid="ignore"):
            negative = values < 0
            absurd = ~negative & (np.abs(values) > ABSURD[f])
        for i in np.flatnonzero(negative):
            if f in MAY_BE_NEGATIVE:
                add(i, order, "negative_value", "warning", f"{f} is negative ({values[i]:g})", f,
                    values[i])
            else:
                add(i, order, "negative_value", "error",
                    f"{f} is negative ({values[i]:g}); it cannot be", f, values[i])
        for i in np.flatnonzero(absurd):
            add(i, order, "absurd_value", "error",
                f"{f} = {values[i]:g} is beyond any plausible value ({ABSURD[f]:g}); "
                "check the unit in the header", f, values[i])
        drop = absurd | (negative if f not in MAY_BE_NEGATIVE else np.zeros(n, dtype=bool))
        values[drop] = np.nan
        if f == "employees":
            with np.errstate(invalid="ignore"):
                fractional = np.isfinite(values) & (values != np.floor(values))
            for i in np.flatnonzero(fractional):
                add(i, order, "rounded", "warning",
                    f"{values[i]:g} employees is not a whole number; rounded to "
                    f"{int(values[i] + 0.5)}", f, values[i])
            values[fractional] = np.floor(values[fractional] + 0.5)
        out[f] = values
    if "year" in raw:
        cells = column_cells(raw, "year", n)
        for i, (y, _problem) in enumerate(parse_distinct(cells, parse_number)):
            if y is not None and int(y) != year:
                add(i, 20, "year_mismatch", "error",
                    f"row is for year {int(y)}, but the import is for {year}", "year", y)
    found.sort(key=lambda t: (t[0], t[1]))
    report.extend(issue for _, _, issue in found)
    typed = pd.DataFrame(out)
    rejected = np.zeros(n, dtype=bool)
    rejected[[i for i, _, issue in found if issue.severity == "error"]] = True
    keep = ~rejected
    _check_duplicates(typed, rows, report, keep)
    return typed, keep


def _check_duplicates(typed: pd.DataFrame, rows: np.ndarray, report: ImportReport,
                      keep: np.ndarray) -> None:
    """Repeated credit codes: identical rows load once (warning); differing ones are errors.

    Only the rows whose code repeats are compared (found with one vectorized
    ``duplicated``); ``keep`` is updated in place.
    """
    codes = typed["credit_code"]
    repeated = np.flatnonzero((codes.notna() & codes.duplicated(keep=False)).to_numpy())
    if not len(repeated):
        return
    values = typed.drop(columns=["industry_status"]).iloc[repeated]
    values = values.astype(object).where(values.notna(), None).to_numpy()
    seen: dict[str, tuple[int, tuple]] = {}
    for k, i in enumerate(repeated):
        code = codes.iat[i]
        record = tuple(values[k].tolist())
        if code not in seen:
            seen[code] = (int(rows[i]), record)
            continue
        first, first_record = seen[code]
        if record == first_record:
            report.add(int(rows[i]), "duplicate_row", "warning",
                       f"repeats row {first} exactly; loaded once", "credit_code", code)
        else:
            report.add(int(rows[i]), "duplicate_credit_code", "error",
                       f"credit code {code} already appears in row {first} with different "
                       "figures; keep one row per enterprise and year", "credit_code", code)
        keep[i] = False
