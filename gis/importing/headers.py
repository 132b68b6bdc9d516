"""Recognise column headers: Chinese synonyms, units, merged multi-row headers.

Bureau workbooks put a title row above the table, group headers merged over
several columns (``经济指标`` over ``税收(万元)``, ``营业收入(万元)``), names merged
down two rows, and units in a row of their own. :func:`find_header_block`
locates the header rows in a grid whose merged cells have already been filled
with their top-left value; :func:`match_columns` maps each column to a schema
field with its unit.

Each import kind has a *field table* (field -> synonyms, unit, required).
:func:`field_specs` turns a table into specs; a loader that owns its table
passes it (the footprint loader its ``FOOTPRINT_FIELDS``). A domain package's
import entry points register their kinds' tables by name with
:func:`register_field_table` before they read, so that :func:`load_field_specs`
and :func:`merge_maps` find them; nothing here knows which kinds exist. A
mapping (``--map`` or a mapping file) adds to or overrides a table.

Matching rules (:func:`match_label`): an exact synonym (ignoring blanks, case,
full-width forms and a unit in brackets) first; then, for Chinese headers, the
longest synonym contained in the header (``2023年实缴税金`` -> tax); ASCII headers
only match whole tokens, and only when what is left is a year or number
(``tax_2023`` -> tax, but ``start_date`` is *not* a date of the survey). Every
match that is not exact is a *guess* and is reported as such.

A kernel: pure functions over the tables they are given (the registry by kind is
the one piece of state, filled only by explicit calls); nothing here reads a file
(mapping files are read by :mod:`gis.importing.mapping_file`) or imports a loader.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from gis.errors import MappingError
from gis.importing.units import conversion_factor, lookup_unit, split_unit

#: Import kind -> function returning its field table ``{field: {synonyms, unit, ...}}``.
FIELD_TABLES: dict[str, Callable[[], Mapping[str, Any]]] = {}


def register_field_table(kind: str, table: Callable[[], Mapping[str, Any]]) -> None:
    """Register the field table of an import kind (a function, called when first needed).

    Called by the owner of the kind, before its import reads (registering again
    replaces the table).
    """
    FIELD_TABLES[kind] = table


_FULLWIDTH = str.maketrans(
    {**{chr(c): chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)}, "\u3000": " "}
)


def normalize_label(text: Any) -> str:
    """Normalise header text for matching: half-width, no blanks, lower case.

    Examples
    --------
    >>> normalize_label(" 统一 社会信用代码 ")
    '统一社会信用代码'
    >>> normalize_label("ＲＤ经费")
    'rd经费'
    """
    if text is None:
        return ""
    return re.sub(r"[\s_\-]+", "", str(text).translate(_FULLWIDTH)).lower()


@dataclass(frozen=True)
class FieldSpec:
    """A schema field and the headers that name it."""

    name: str
    synonyms: tuple[str, ...]
    dimension: str | None = None
    unit: str | None = None
    default_unit: str | None = None
    required: bool = False


def field_specs(table: Mapping[str, Any], mapping: Mapping[str, Any] | None = None, *,
                kind: str = "this import") -> dict[str, FieldSpec]:
    """Field specs from a field table, with a mapping file's additions.

    Parameters
    ----------
    table : mapping
        ``{field: {"synonyms": [...], "dimension", "unit", "default_unit", "required"}}``.
    mapping : mapping, optional
        Parsed mapping file. ``columns: {field: header or [headers]}`` names
        the column of a field (it must exist: :func:`match_columns` checks);
        an empty header (``--map FIELD=``) means "no column for this field";
        ``units: {field: unit}`` overrides units.
    kind : str
        Named in the error about an unknown field.

    Examples
    --------
    >>> specs = field_specs({"height_m": {"synonyms": ["高度", "height"]}},
    ...                     {"columns": {"height_m": "H"}})
    >>> specs["height_m"].synonyms
    ('H', '高度', 'height')
    """
    specs = {}
    for name, raw in table.items():
        specs[name] = FieldSpec(
            name=name, synonyms=tuple(str(s) for s in raw.get("synonyms", ())),
            dimension=raw.get("dimension"), unit=raw.get("unit"),
            default_unit=raw.get("default_unit"), required=bool(raw.get("required", False)),
        )
    for name, headers in dict((mapping or {}).get("columns") or {}).items():
        if name not in specs:
            raise MappingError(
                f"mapping names unknown field {name!r}; fields of {kind}: {', '.join(specs)}"
            )
        if headers is None or headers == "":
            continue
        extra = (headers,) if isinstance(headers, str) else tuple(str(h) for h in headers)
        old = specs[name]
        specs[name] = FieldSpec(old.name, extra + old.synonyms, old.dimension, old.unit,
                                old.default_unit, old.required)
    return specs


def load_field_specs(kind: str, mapping: Mapping[str, Any] | None = None) -> dict[str, FieldSpec]:
    """Field specs of a registered import kind (:func:`register_field_table`).

    Raises
    ------
    MappingError
        No table is registered for ``kind``.

    Examples
    --------
    >>> register_field_table("doc_example", lambda: {"tax": {"synonyms": ["税收"]}})
    >>> load_field_specs("doc_example")["tax"].synonyms
    ('税收',)
    """
    if kind not in FIELD_TABLES:
        raise MappingError(f"unknown import kind {kind!r}; known: {', '.join(FIELD_TABLES)}")
    return field_specs(FIELD_TABLES[kind](), mapping, kind=kind)


@dataclass
class ColumnMatch:
    """How one source column maps to the schema."""

    index: int
    header: str
    field: str | None = None
    unit: str | None = None
    factor: float = 1.0
    unit_assumed: bool = False
    exact: bool = True
    explicit: bool = False

    @property
    def guessed(self) -> bool:
        """True when the field was guessed (neither named by the user nor an exact synonym)."""
        return self.field is not None and not self.exact and not self.explicit


@dataclass
class HeaderPlan:
    """Result of header recognition for one table."""

    columns: list[ColumnMatch]
    header_rows: tuple[int, int]  # first and last header row (0-based, inclusive)
    missing_required: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def by_field(self) -> dict[str, ColumnMatch]:
        """The matched columns, keyed by field."""
        return {c.field: c for c in self.columns if c.field}

    @property
    def data_start(self) -> int:
        """Index of the first data row."""
        return self.header_rows[1] + 1


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or str(value).strip() == ""


def _looks_numeric(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    return bool(re.fullmatch(r"[-+]?[\d,]*\.?\d+(e[-+]?\d+)?", str(value).strip(), re.I))


def _tokens(text: str) -> list[str]:
    return [t for t in re.split(r"[^0-9a-z]+", text.lower()) if t]


def match_label(text: Any, specs: Mapping[str, FieldSpec]) -> tuple[str | None, bool]:
    """The field a header names: exact synonym first, then a guess.

    Guesses: a Chinese header matches the longest synonym it contains
    (``2023年用电量`` -> electricity); an ASCII header matches a synonym made
    of whole tokens of it when every other token is a number (``tax_2023``),
    never a synonym inside another word or qualified by one (``start_date``
    is not ``date``, ``building_id`` is not ``building``).

    Returns
    -------
    field : str or None
    exact : bool
        False for a guess.

    Examples
    --------
    >>> specs = field_specs(_EXAMPLE_TABLE)
    >>> match_label("建筑高度", specs), match_label("Height", specs)
    (('height_m', True), ('height_m', True))
    >>> match_label("start_date", specs), match_label("date_2021", specs)
    ((None, True), ('image_date', False))
    >>> match_label("2021年测绘日期", specs)
    ('image_date', False)
    """
    label, _ = split_unit(str(text)) if text is not None else ("", None)
    key = normalize_label(label)
    if not key:
        return None, True
    ascii_header = label.isascii()
    tokens = _tokens(label) if ascii_header else []
    best: tuple[int, str] | None = None
    for spec in specs.values():
        for syn in spec.synonyms:
            s = normalize_label(syn)
            if s == key:
                return spec.name, True
            if best is not None and len(s) <= best[0]:
                continue
            if ascii_header:
                if syn.isascii() and _token_match(_tokens(syn), tokens):
                    best = (len(s), spec.name)
            elif len(s) >= 2 and not syn.isascii() and s in key:
                best = (len(s), spec.name)
    return (best[1], False) if best else (None, True)


def _token_match(syn: list[str], tokens: list[str]) -> bool:
    """True when ``syn`` is a run of ``tokens`` and every other token is a number."""
    n = len(syn)
    if not n or n >= len(tokens):
        return False
    for i in range(len(tokens) - n + 1):
        if tokens[i:i + n] == syn:
            rest = tokens[:i] + tokens[i + n:]
            return all(t.isdigit() for t in rest)
    return False


def is_unit_cell(value: Any) -> bool:
    """True when a cell holds only a unit (``万元``, ``（万千瓦时）``).

    Examples
    --------
    >>> is_unit_cell("（元）"), is_unit_cell("税收(元)")
    (True, False)
    """
    if _is_blank(value):
        return False
    label, unit = split_unit(str(value))
    return (unit is not None and not label.strip()) or lookup_unit(str(value)) is not None


def _row_is_title(row: Sequence[Any]) -> bool:
    values = {str(v).strip() for v in row if not _is_blank(v)}
    return len(values) == 1 and sum(not _is_blank(v) for v in row) > 1


def find_header_block(grid: Sequence[Sequence[Any]], specs: Mapping[str, FieldSpec],
                      *, max_scan: int = 15, header_rows: int | None = None,
                      first_row: int | None = None) -> tuple[int, int]:
    """Locate the header rows of a grid (merged cells filled with their top-left value).

    The row naming most distinct fields is the core header row. Rows above it
    join the block when they are group headers (not a title spanning the whole
    table, not empty); rows below join while every cell is a unit, a field
    name or a repeat of the cell above (a vertical merge).

    Parameters
    ----------
    grid : sequence of rows
    specs : field specs
    header_rows, first_row : int, optional
        Force the block (from a mapping file).

    Returns
    -------
    (first, last) : tuple of int, 0-based inclusive.
    """
    if first_row is not None:
        return first_row, first_row + (header_rows or 1) - 1
    n = min(len(grid), max_scan)
    best_row, best_score = 0, -1
    for r in range(n):
        row = grid[r]
        if _row_is_title(row):
            continue
        fields = {match_label(v, specs)[0] for v in row if not _is_blank(v)} - {None}
        if len(fields) > best_score:
            best_row, best_score = r, len(fields)
    if best_score <= 0:
        return 0, 0
    first = best_row
    while first > 0 and best_row - first < 2:
        above = grid[first - 1]
        if all(_is_blank(v) for v in above) or _row_is_title(above):
            break
        if any(_looks_numeric(v) for v in above):
            break
        first -= 1
    last = best_row
    while last + 1 < len(grid) and last - best_row < 2:
        below, here = grid[last + 1], grid[last]
        cells = [(i, v) for i, v in enumerate(below) if not _is_blank(v)]
        if not cells:
            break

        def headerish(i: int, v: Any, here: Sequence[Any] = here) -> bool:
            if _looks_numeric(v):
                return False
            same = i < len(here) and str(here[i]).strip() == str(v).strip()
            return same or is_unit_cell(v) or match_label(v, specs)[0] is not None

        if all(headerish(i, v) for i, v in cells):
            last += 1
        else:
            break
    if header_rows is not None:
        last = first + header_rows - 1
    return first, last


def match_columns(grid: Sequence[Sequence[Any]], specs: Mapping[str, FieldSpec],
                  mapping: Mapping[str, Any] | None = None, *, source: str = "") -> HeaderPlan:
    """Map every column of a grid to a schema field with its unit and conversion factor.

    Parameters
    ----------
    grid : sequence of rows
        Cells of the sheet, merged cells filled with their top-left value.
    specs : field specs of the import kind (:func:`load_field_specs`).
    mapping : mapping, optional
        Parsed mapping file or ``--map`` options: ``columns``, ``units``,
        ``header_rows``, ``first_row``. A column named there wins over any
        recognised one (it settles an ambiguity) and must exist; a field
        mapped to ``""`` or ``None`` gets no column at all.
    source : str
        File name for messages.

    Raises
    ------
    gis.errors.MappingError
        A mapped column does not exist (the message lists the columns), a
        header's unit measures the wrong thing, or two columns claim one field
        and nothing says which one is meant.
    """
    mapping = mapping or {}
    first, last = find_header_block(grid, specs, header_rows=mapping.get("header_rows"),
                                    first_row=mapping.get("first_row"))
    width = max((len(r) for r in grid[first:last + 1]), default=0)
    unit_over = dict(mapping.get("units") or {})
    explicit: dict[str, str] = {}
    ignored: set[str] = set()
    for name, headers in dict(mapping.get("columns") or {}).items():
        if headers is None or headers == "" or headers == []:
            ignored.add(name)
            continue
        for h in (headers,) if isinstance(headers, str) else headers:
            explicit[normalize_label(h)] = name
    columns: list[ColumnMatch] = []
    taken: dict[str, ColumnMatch] = {}
    notes: list[str] = []
    found_explicit: set[str] = set()
    for c in range(width):
        parts: list[str] = []
        for r in range(first, last + 1):
            v = grid[r][c] if c < len(grid[r]) else None
            if not _is_blank(v) and (not parts or parts[-1] != str(v).strip()):
                parts.append(str(v).strip())
        header = " / ".join(parts)
        match = ColumnMatch(index=c, header=header)
        for key in (normalize_label(header), *(normalize_label(p) for p in parts)):
            if key in explicit:
                match.field, match.explicit = explicit[key], True
                found_explicit.add(key)
                break
        for part in reversed(parts):  # the lowest (most specific) header row wins
            label, unit = split_unit(part)
            if match.unit is None and unit is not None:
                match.unit = unit
            elif match.unit is None and lookup_unit(part) is not None:
                match.unit = part
                continue
            if match.field is None:
                name = explicit.get(normalize_label(part)) or explicit.get(normalize_label(label))
                exact, is_explicit = True, name is not None
                if is_explicit:
                    found_explicit.add(normalize_label(part) if normalize_label(part) in explicit
                                       else normalize_label(label))
                else:
                    name, exact = match_label(part, specs)
                if name is not None:
                    match.field, match.exact, match.explicit = name, exact, is_explicit
        if match.field in ignored and not match.explicit:
            notes.append(f"column {header!r} not read as {match.field} (mapped to nothing)")
            match.field = None
        if match.field is not None:
            prior = taken.get(match.field)
            if prior is not None:
                keep_prior = _prefer(prior, match)
                if keep_prior is None:
                    how = ("--id-field COLUMN or --map parcel_code=COLUMN"
                           if match.field == "parcel_code" else f"--map {match.field}=COLUMN")
                    raise MappingError(
                        f"{source}: columns {prior.header!r} and {header!r} both map to "
                        f"{match.field}; say which one with {how} (or columns: "
                        f"{{{match.field}: ...}} in a mapping file)"
                    )
                loser = match if keep_prior else prior
                winner = prior if keep_prior else match
                notes.append(f"column {loser.header!r} also looks like {match.field}; ignored "
                             f"(using {winner.header!r})")
                loser.field = None
        if match.field is not None:
            taken[match.field] = match
            spec = specs[match.field]
            if match.field in unit_over:
                match.unit = str(unit_over[match.field])
            if spec.dimension:
                try:
                    match.factor, used, match.unit_assumed = conversion_factor(
                        match.unit, spec.dimension, spec.default_unit or spec.unit or "",
                        column=header)
                except Exception as exc:
                    raise MappingError(f"{source}: {exc}") from exc
                match.unit = used
                if match.unit_assumed:
                    notes.append(f"column {header!r} names no unit; assumed {used}")
        columns.append(match)
    found_fields = {explicit[k] for k in found_explicit}
    missing_mapped = sorted({name for name in explicit.values() if name not in found_fields})
    if missing_mapped:
        wanted = dict(mapping.get("columns") or {})
        raise MappingError(
            f"{source}: no column "
            + ", ".join(f"{wanted[n]!r} (mapped to {n})" for n in missing_mapped)
            + f"; columns: {', '.join(c.header for c in columns if c.header) or '(none)'}")
    missing = [s.name for s in specs.values() if s.required and s.name not in taken]
    return HeaderPlan(columns=columns, header_rows=(first, last), missing_required=missing,
                      notes=notes)


def note_plan(plan: HeaderPlan, report: Any) -> None:
    """Name every guessed column and every header note in an import report (as info).

    ``column start_date read as image_date (guessed; --map image_date= to ignore)``
    """
    for note in plan.notes:
        report.add(None, "header", "info", note)
    for m in plan.columns:
        if m.guessed:
            report.add(None, "guessed_column", "info",
                       f"column {m.header} read as {m.field} (guessed; --map {m.field}= to "
                       f"ignore, --map {m.field}=COLUMN to choose another)", field=m.field,
                       value=m.header)


def _prefer(prior: ColumnMatch, match: ColumnMatch) -> bool | None:
    """True to keep ``prior``, False to take ``match``, None when nothing decides."""
    for attr in ("explicit", "exact"):
        a, b = getattr(prior, attr), getattr(match, attr)
        if a != b:
            return a
    return None


def parse_column_map(pairs: Sequence[str], specs: Mapping[str, FieldSpec]) -> dict[str, Any]:
    """Turn ``--map FIELD=COLUMN`` options into a mapping dict (``{'columns': {...}}``).

    ``FIELD=`` (nothing after the equals sign) means: read no column as FIELD.

    Examples
    --------
    >>> parse_column_map(["height_m=H", "image_date="], field_specs(_EXAMPLE_TABLE))
    {'columns': {'height_m': 'H', 'image_date': ''}}
    """
    columns: dict[str, str] = {}
    for pair in pairs:
        name, sep, column = pair.partition("=")
        if not sep or not name.strip():
            raise MappingError(f"--map expects FIELD=COLUMN (or FIELD= to ignore a column), "
                               f"got {pair!r}")
        if name.strip() not in specs:
            raise MappingError(f"--map: unknown field {name.strip()!r}; fields: {', '.join(specs)}")
        columns[name.strip()] = column.strip()
    return {"columns": columns}


def merge_maps(mapping: Mapping[str, Any] | None, pairs: Sequence[str], kind: str) -> dict[str, Any]:
    """A mapping file's content with ``--map FIELD=COLUMN`` options on top (options win)."""
    out = dict(mapping or {})
    if pairs:
        extra = parse_column_map(pairs, load_field_specs(kind))["columns"]
        out["columns"] = {**dict(out.get("columns") or {}), **extra}
    return out


#: A small field table for the examples above (the footprint loader's is larger).
_EXAMPLE_TABLE = {
    "image_date": {"synonyms": ["测绘日期", "date"]},
    "height_m": {"synonyms": ["高度", "建筑高度", "height"]},
}
