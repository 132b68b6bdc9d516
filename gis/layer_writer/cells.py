"""Text cells that a spreadsheet would run as formulas: neutralised in XLSX and CSV.

A name or comment such as ``=HYPERLINK("http://…")`` or ``+cmd|' /C calc'!A0`` is data,
but Excel and LibreOffice evaluate a CSV cell or an XLSX formula cell that starts with
``=``, ``+``, ``-`` or ``@`` (and some readers also after a leading tab or carriage
return). The one writer therefore

* writes every text cell of a workbook as a string cell, never as a formula;
* prefixes such text in a CSV with an apostrophe (``'=1+1``), the mark spreadsheets
  show as "text"; numbers stay numbers.

Examples
--------
>>> risky("=1+1"), risky("-"), risky("-5"), risky("北桥镇")
(True, False, True, False)
>>> csv_text("=1+1"), csv_text("@SUM(A1)"), csv_text("甲公司"), csv_text(3)
("'=1+1", "'@SUM(A1)", '甲公司', 3)
"""

from __future__ import annotations

from typing import Any

#: First characters that make a spreadsheet read a cell as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def risky(value: Any) -> bool:
    """Whether ``value`` is text a spreadsheet would evaluate (a lone ``-`` is not)."""
    return isinstance(value, str) and len(value) > 1 and value.startswith(FORMULA_STARTS)


def csv_text(value: Any) -> Any:
    """``value`` as a CSV cell: risky text gets a leading apostrophe, the rest is unchanged."""
    return "'" + value if risky(value) else value


def csv_safe(table: Any, skip: tuple[str, ...] = ()) -> Any:
    """A copy of a DataFrame with every risky text cell of its text columns prefixed.

    Columns in ``skip`` (e.g. the ``wkt`` geometry column) are left alone.
    """
    out = None
    for column in table.columns:
        if column in skip:
            continue
        series = table[column]
        if series.dtype != object and str(series.dtype) not in ("string", "str"):
            continue
        flags = series.map(risky)
        if flags.any():
            if out is None:
                out = table.copy()
            out.loc[flags, column] = series[flags].map(csv_text)
    return table if out is None else out


def keep_text(cells: Any) -> None:
    """Make openpyxl cells that hold risky text string cells (openpyxl reads ``=…`` as a formula).

    For workbooks built cell by cell outside the layer writer (the verification workbook).
    """
    for cell in cells:
        if cell.data_type == "f" and risky(cell.value):
            cell.data_type = "s"
