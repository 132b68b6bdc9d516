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

from typing import Any

import numpy as np
import pandas as pd

from gis.importing.report import ImportReport
from gis.importing.values import is_blank, parse_date, parse_number, parse_text
from parcels.codes import check_credit_code, normalize_credit_code
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


def check_enterprises(raw: pd.DataFrame, factors: dict[str, float], rows: np.ndarray,
                      report: ImportReport, *, year: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Type and check enterprise records.

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

    def col(name: str) -> list[Any]:
        return raw[name].tolist() if name in raw else [None] * n

    out: dict[str, list[Any]] = {k: [] for k in (
        "credit_code", "checksum_ok", "name", "industry_code", "industry_status",
        "size_class", "town", "status", "established_date", "deregistered_date",
        *NUMERIC_FIELDS)}
    for i, r in enumerate(rows):
        r = int(r)
        code_cell = col("credit_code")[i]
        code = None if is_blank(code_cell) else normalize_credit_code(code_cell)
        status = None
        if code is None:
            report.add(r, "missing_field", "error", "统一社会信用代码 (credit code) is empty",
                       "credit_code")
        else:
            status = check_credit_code(code)
            if status != "malformed" and code != str(code_cell).strip():
                report.add(r, "credit_code_normalised", "info",
                           f"credit code {str(code_cell).strip()!r} read as {code}",
                           "credit_code", code_cell)
            if status == "malformed":
                report.add(r, "credit_code_malformed", "error",
                           f"credit code {code!r} is malformed (need 18 characters from "
                           "0-9 and A-Y without I, O, S, V, Z)", "credit_code", code_cell)
            elif status == "checksum":
                report.add(r, "credit_code_checksum", "warning",
                           f"credit code {code} fails the GB 32100 check character (legal for "
                           "some early pilot codes; verify with the market regulator)",
                           "credit_code", code)
        out["credit_code"].append(code)
        out["checksum_ok"].append(status == "ok")
        name = parse_text(col("name")[i])
        if name is None:
            report.add(r, "missing_field", "error", "企业名称 (name) is empty", "name")
        out["name"].append(name)
        ind_cell = col("industry_code")[i]
        if is_blank(ind_cell):
            out["industry_code"].append(None)
            out["industry_status"].append(None)
        else:
            ind, ind_status = check_industry_code(ind_cell)
            if ind_status != "ok":
                report.add(r, "industry_code", "warning",
                           f"industry code {ind!r} is {ind_status} in GB/T 4754-2017 "
                           "(checked at division level)", "industry_code", ind_cell)
            out["industry_code"].append(ind)
            out["industry_status"].append(ind_status)
        size, problem = parse_size_class(col("size_class")[i])
        if problem:
            report.add(r, "bad_value", "error", problem, "size_class", col("size_class")[i])
        out["size_class"].append(size)
        out["town"].append(parse_text(col("town")[i]))
        status, problem = parse_status(col("status")[i])
        if problem:
            report.add(r, "bad_value", "error", problem, "status", col("status")[i])
        out["status"].append(status)
        for f in ("established_date", "deregistered_date"):
            d, problem = parse_date(col(f)[i])
            if problem:
                report.add(r, "bad_value", "error", problem, f, col(f)[i])
            out[f].append(d)
        for f in NUMERIC_FIELDS:
            cell = col(f)[i]
            if isinstance(cell, str) and cell.strip().lower() == "nan":
                report.add(r, "nan_value", "warning",
                           f"{f} holds the text {cell.strip()!r}; read as empty", f, cell)
            value, problem = parse_number(cell)
            if problem:
                report.add(r, "bad_value", "error", problem, f, col(f)[i])
            elif value is not None:
                value *= factors.get(f, 1.0)
                if value < 0 and f in MAY_BE_NEGATIVE:
                    report.add(r, "negative_value", "warning", f"{f} is negative ({value:g})",
                               f, value)
                elif value < 0:
                    report.add(r, "negative_value", "error",
                               f"{f} is negative ({value:g}); it cannot be", f, value)
                    value = None
                elif abs(value) > ABSURD[f]:
                    report.add(r, "absurd_value", "error",
                               f"{f} = {value:g} is beyond any plausible value ({ABSURD[f]:g}); "
                               "check the unit in the header", f, value)
                    value = None
                elif f == "employees" and not float(value).is_integer():
                    report.add(r, "rounded", "warning",
                               f"{value:g} employees is not a whole number; rounded to "
                               f"{int(value + 0.5)}", f, value)
                    value = float(int(value + 0.5))
            out[f].append(value)
        if "year" in raw:
            y, problem = parse_number(col("year")[i])
            if y is not None and int(y) != year:
                report.add(r, "year_mismatch", "error",
                           f"row is for year {int(y)}, but the import is for {year}", "year", y)
    typed = pd.DataFrame(out)
    keep = ~np.isin(rows, list(report.rejected_rows))
    _check_duplicates(typed, rows, report, keep)
    keep &= ~np.isin(rows, list(report.rejected_rows))
    return typed, keep


def _check_duplicates(typed: pd.DataFrame, rows: np.ndarray, report: ImportReport,
                      keep: np.ndarray) -> None:
    seen: dict[str, tuple[int, tuple]] = {}
    values = typed.drop(columns=["industry_status"]).astype(object).where(typed.notna(), None)
    for i, code in enumerate(typed["credit_code"]):
        if code is None:
            continue
        record = tuple(values.iloc[i].tolist())
        if code not in seen:
            seen[code] = (int(rows[i]), record)
            continue
        first, first_record = seen[code]
        if record == first_record:
            report.add(int(rows[i]), "duplicate_row", "warning",
                       f"repeats row {first} exactly; loaded once", "credit_code", code)
            keep[i] = False
        else:
            report.add(int(rows[i]), "duplicate_code", "error",
                       f"credit code {code} already appears in row {first} with different "
                       "figures; keep one row per enterprise and year", "credit_code", code)
