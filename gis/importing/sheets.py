"""Reading tables (XLSX, XLS, CSV) into a grid of cells, merged cells filled.

Tool module: opens files. The grid is a list of rows (lists of cell values);
a merged range's value is copied into every cell of the range so that
:func:`gis.importing.headers.find_header_block` sees multi-row headers
as they look on screen. CSV encoding is detected (UTF-8, else GB18030, a
superset of GBK) unless given.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from gis.importing.headers import HeaderPlan

from gis.errors import DataError, DriverError, EmptyInputError

log = logging.getLogger(__name__)

#: Table suffixes this module reads.
TABLE_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".csv", ".txt")


def detect_encoding(data: bytes) -> str:
    """Encoding of CSV bytes: ``utf-8-sig`` when they decode as UTF-8, else ``gb18030``.

    Examples
    --------
    >>> detect_encoding("企业".encode("gbk")), detect_encoding("企业".encode("utf-8"))
    ('gb18030', 'utf-8-sig')
    """
    try:
        data.decode("utf-8")
        return "utf-8-sig"
    except UnicodeDecodeError:
        pass
    try:
        data.decode("gb18030")
        return "gb18030"
    except UnicodeDecodeError:
        from charset_normalizer import from_bytes

        best = from_bytes(data[:200_000]).best()
        if best is None:
            raise DataError("cannot tell the text encoding; pass --encoding") from None
        return best.encoding


def read_grid(path: str | Path, *, sheet: str | int | None = None,
              encoding: str | None = None) -> tuple[list[list[Any]], str]:
    """Read a table file into a grid of cells.

    Parameters
    ----------
    path : path of an XLSX/XLSM, XLS or CSV file.
    sheet : str or int, optional
        Sheet name or 0-based index (spreadsheets); default the first sheet.
    encoding : str, optional
        CSV text encoding; detected when omitted.

    Returns
    -------
    grid : list of list
    sheet_name : str
        The sheet read (``""`` for CSV).

    Raises
    ------
    DriverError
        Unknown suffix or a file the reader cannot open.
    EmptyInputError
        No non-empty cell.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if not path.exists():
        raise DataError("file does not exist", source=str(path))
    if suffix in (".xlsx", ".xlsm"):
        grid, name = _read_xlsx(path, sheet)
    elif suffix == ".xls":
        grid, name = _read_xls(path, sheet)
    elif suffix in (".csv", ".txt"):
        grid, name = _read_csv(path, encoding), ""
    else:
        raise DriverError(f"cannot read {suffix or 'suffix-less'} tables; use "
                          f"{', '.join(TABLE_SUFFIXES)}", source=str(path))
    while grid and all(v is None or str(v).strip() == "" for v in grid[-1]):
        grid.pop()
    if not grid:
        raise EmptyInputError("the table is empty", source=f"{path}{':' + name if name else ''}")
    return grid, name


def _read_csv(path: Path, encoding: str | None) -> list[list[Any]]:
    data = path.read_bytes()
    if encoding:
        from gis.encodings import check_text_encoding

        check_text_encoding(data, encoding, source=str(path))
    enc = encoding or detect_encoding(data)
    try:
        text = data.decode(enc)
    except (UnicodeDecodeError, LookupError) as exc:
        raise DataError(f"cannot decode as {enc}: {exc}; pass the right --encoding",
                        source=str(path)) from exc
    sample = text[:10000]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    return [[c if c != "" else None for c in row] for row in csv.reader(io.StringIO(text), dialect)]


def _pick_sheet(names: list[str], sheet: str | int | None, path: Path) -> str:
    if sheet is None:
        return names[0]
    if isinstance(sheet, int) or str(sheet).isdigit():
        i = int(sheet)
        if not 0 <= i < len(names):
            raise DataError(f"no sheet number {i}; sheets: {names}", source=str(path))
        return names[i]
    if sheet not in names:
        raise DataError(f"no sheet {sheet!r}; sheets: {names}", source=str(path))
    return str(sheet)


def _read_xlsx(path: Path, sheet: str | int | None) -> tuple[list[list[Any]], str]:
    """An XLSX/XLSM sheet as a grid from A1, merged ranges filled, read with calamine.

    python-calamine (Rust) reads a 116,000-row bureau workbook in about 4 s
    where openpyxl takes over a minute. Formula cells are read as the value
    the spreadsheet program stored; a formula without one is refused
    (:func:`formulas_without_values`), never read as an empty cell.
    """
    from python_calamine import CalamineWorkbook

    try:
        wb = CalamineWorkbook.from_path(str(path))
    except Exception as exc:
        raise DriverError(f"cannot open as an Excel workbook: {exc}", source=str(path)) from exc
    name = _pick_sheet(list(wb.sheet_names), sheet, path)
    missing = formulas_without_values(path, name)
    if missing:
        shown = ", ".join(missing[:10]) + (f" … ({len(missing)} cells)" if len(missing) > 10
                                           else "")
        raise DataError(
            f"sheet {name!r}: cells {shown} hold formulas without a computed value (公式无计算结果; "
            "the program that saved the file did not calculate them), so their figures cannot be "
            "read and the stored ones would silently stay; open the workbook in Excel or WPS, "
            "let it calculate and save it again, or paste the values instead of the formulas",
            source=str(path))
    try:
        ws = wb.get_sheet_by_name(name)
        grid = [[None if v == "" else v for v in row]
                for row in ws.to_python(skip_empty_area=False)]
        merged = ws.merged_cell_ranges or []
    except Exception as exc:
        raise DriverError(f"cannot read sheet {name!r}: {exc}", source=str(path)) from exc
    for (r0, c0), (r1, c1) in merged:
        if r0 >= len(grid) or c0 >= len(grid[r0]):
            continue
        value = grid[r0][c0]
        for r in range(r0, min(r1 + 1, len(grid))):
            row = grid[r]
            for c in range(c0, min(c1 + 1, len(row))):
                row[c] = value
    return grid, name


_SHEET_TAG = re.compile(rb"<(?:\w+:)?sheet\b[^>]*>")
_ATTR = re.compile(rb'([\w:]+)="([^"]*)"')
_REL_TAG = re.compile(rb"<(?:\w+:)?Relationship\b[^>]*>")
_CELL = re.compile(rb"<(?:\w+:)?c\b([^>]*?)(?:/>|>(.*?)</(?:\w+:)?c>)", re.S)
_FORMULA = re.compile(rb"<(?:\w+:)?f[\s>/]")
_VALUE = re.compile(rb"<(?:\w+:)?v>[^<]+</(?:\w+:)?v>")


def _sheet_member(zf: Any, sheet_name: str) -> str | None:
    """The zip member holding a worksheet, from ``workbook.xml`` and its relationships."""
    from html import unescape

    try:
        book = zf.read("xl/workbook.xml")
        rels = zf.read("xl/_rels/workbook.xml.rels")
    except KeyError:
        return None
    rid = None
    for tag in _SHEET_TAG.findall(book):
        attrs = {k.split(b":")[-1]: v for k, v in _ATTR.findall(tag)}
        if unescape(attrs.get(b"name", b"").decode("utf-8")) == sheet_name:
            rid = attrs.get(b"id")
            break
    if rid is None:
        return None
    for tag in _REL_TAG.findall(rels):
        attrs = dict(_ATTR.findall(tag))
        if attrs.get(b"Id") == rid:
            target = attrs.get(b"Target", b"").decode("utf-8")
            return target.lstrip("/") if target.startswith("/") else f"xl/{target}"
    return None


def formulas_without_values(path: str | Path, sheet_name: str) -> list[str]:
    """Addresses of the cells of a sheet that hold a formula but no stored value.

    A workbook written by a program that does not calculate (a script, an
    export tool) keeps the formula only; every reader then sees an empty cell.
    The sheet's XML is searched only when it holds a formula at all.

    Examples
    --------
    >>> import tempfile, pathlib, openpyxl
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "f.xlsx"
    >>> wb = openpyxl.Workbook(); ws = wb.active; ws.title = "2024年"
    >>> ws["A1"], ws["B1"] = 2, "=A1*2"
    >>> wb.save(p)
    >>> formulas_without_values(p, "2024年")
    ['B1']
    """
    import zipfile

    try:
        with zipfile.ZipFile(path) as zf:
            member = _sheet_member(zf, sheet_name)
            if member is None or member not in zf.namelist():
                return []
            data = zf.read(member)
    except (zipfile.BadZipFile, OSError):
        return []
    if not _FORMULA.search(data):
        return []
    out = []
    for attrs, body in _CELL.findall(data):
        if body and _FORMULA.search(body) and not _VALUE.search(body):
            ref = dict(_ATTR.findall(attrs)).get(b"r", b"?")
            out.append(ref.decode("ascii", "replace"))
    return out


def _read_xls(path: Path, sheet: str | int | None) -> tuple[list[list[Any]], str]:
    import xlrd

    try:
        book = xlrd.open_workbook(str(path), formatting_info=True)
    except Exception as exc:
        raise DriverError(f"cannot open as an XLS workbook: {exc}", source=str(path)) from exc
    name = _pick_sheet(book.sheet_names(), sheet, path)
    ws = book.sheet_by_name(name)
    grid: list[list[Any]] = []
    for r in range(ws.nrows):
        row = []
        for c in range(ws.ncols):
            cell = ws.cell(r, c)
            value = cell.value
            if cell.ctype == xlrd.XL_CELL_DATE:
                value = xlrd.xldate.xldate_as_datetime(value, book.datemode)
            elif cell.ctype == xlrd.XL_CELL_EMPTY:
                value = None
            row.append(value)
        grid.append(row)
    for r0, r1, c0, c1 in ws.merged_cells:
        value = grid[r0][c0]
        for r in range(r0, r1):
            for c in range(c0, c1):
                grid[r][c] = value
    return grid, name


def table_records(grid: list[list[Any]], plan: HeaderPlan) -> tuple[pd.DataFrame, np.ndarray]:
    """Data rows of a grid as a frame of raw cells keyed by field, and their row numbers.

    Blank rows are skipped; row numbers are 1-based like a spreadsheet's.
    """
    import numpy as np
    import pandas as pd

    by_field = plan.by_field
    extra_cols = [c for c in plan.columns if c.field is None and c.header]
    body = grid[plan.data_start:]
    width = max((len(r) for r in body), default=0)
    if any(len(r) != width for r in body):
        body = [list(r) + [None] * (width - len(r)) for r in body]
    columns = list(zip(*body, strict=True))  # the sheet transposed once, in C: one tuple per column

    def empty(v: Any) -> bool:
        return v is None or (isinstance(v, str) and not v.strip())

    # blank rows: each column is looked at only for the rows still without a value
    candidates = range(len(body))
    for column in columns:
        candidates = [i for i in candidates if empty(column[i])]
        if not candidates:
            break
    blank = set(candidates)
    keep = [i for i in range(len(body)) if i not in blank] if blank else None
    rows = np.asarray([i + plan.data_start + 1 for i in (keep if keep is not None
                                                          else range(len(body)))], dtype=int)

    def cells(index: int) -> pd.Series:
        if index >= width:
            values: list[Any] = [None] * len(rows)
        else:
            column = columns[index]
            values = list(column) if keep is None else [column[i] for i in keep]
        return pd.Series(values, dtype=object)

    data: dict[str, pd.Series] = {f: cells(m.index) for f, m in by_field.items()}
    data.update({f"_extra:{c.header}": cells(c.index) for c in extra_cols})
    return pd.DataFrame(data, index=pd.RangeIndex(len(rows))), rows
