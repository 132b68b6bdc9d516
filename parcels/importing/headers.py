"""Recognise column headers: Chinese synonyms, units, merged multi-row headers.

Bureau workbooks put a title row above the table, group headers merged over
several columns (``经济指标`` over ``税收(万元)``, ``营业收入(万元)``), names merged
down two rows, and units in a row of their own. :func:`find_header_block`
locates the header rows in a grid whose merged cells have already been filled
with their top-left value; :func:`match_columns` maps each column to a schema
field with its unit.

The synonyms ship in ``parcels/data/header_synonyms.yaml``; a mapping file
adds to or overrides them (:func:`load_field_specs`).

Pure functions apart from reading the shipped YAML.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

from parcels.errors import MappingError
from parcels.importing.units import conversion_factor, lookup_unit, split_unit

#: Import kinds with a synonym table.
KINDS = ("enterprises", "parcels", "land_rights", "footprints")

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


@lru_cache(maxsize=1)
def _shipped() -> dict[str, Any]:
    import yaml

    text = resources.files("parcels.data").joinpath("header_synonyms.yaml").read_text("utf-8")
    return yaml.safe_load(text)


def load_field_specs(kind: str, mapping: Mapping[str, Any] | None = None) -> dict[str, FieldSpec]:
    """Field specs of one import kind, with a mapping file's additions.

    Parameters
    ----------
    kind : {'enterprises', 'parcels', 'land_rights', 'footprints'}
    mapping : mapping, optional
        Parsed mapping file. ``columns: {field: header or [headers]}`` adds
        headers (tried first); ``units: {field: unit}`` overrides units.

    Examples
    --------
    >>> specs = load_field_specs("enterprises")
    >>> specs["tax_wan"].unit, specs["credit_code"].required
    ('万元', True)
    """
    if kind not in KINDS:
        raise MappingError(f"unknown import kind {kind!r}; known: {', '.join(KINDS)}")
    specs = {}
    for name, raw in _shipped()[kind].items():
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
        extra = (headers,) if isinstance(headers, str) else tuple(str(h) for h in headers)
        old = specs[name]
        specs[name] = FieldSpec(old.name, extra + old.synonyms, old.dimension, old.unit,
                                old.default_unit, old.required)
    return specs


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


def match_label(text: Any, specs: Mapping[str, FieldSpec]) -> tuple[str | None, bool]:
    """The field a header names: exact synonym first, then the longest contained synonym.

    Returns
    -------
    field : str or None
    exact : bool
        False when found by containment (``2023年实缴税金`` -> tax).

    Examples
    --------
    >>> specs = load_field_specs("enterprises")
    >>> match_label("实缴税金（万元）", specs)
    ('tax_wan', True)
    >>> match_label("2023年用电量", specs)
    ('electricity_kwh', False)
    """
    label, _ = split_unit(str(text)) if text is not None else ("", None)
    key = normalize_label(label)
    if not key:
        return None, True
    best: tuple[int, str] | None = None
    for spec in specs.values():
        for syn in spec.synonyms:
            s = normalize_label(syn)
            if s == key:
                return spec.name, True
            if len(s) >= 2 and s in key and (best is None or len(s) > best[0]):
                best = (len(s), spec.name)
    return (best[1], False) if best else (None, True)


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
        Parsed mapping file: ``columns``, ``units``, ``header_rows``, ``first_row``.
    source : str
        File name for messages.

    Raises
    ------
    parcels.errors.MappingError
        A header's unit measures the wrong thing, or two columns claim one field.
    """
    mapping = mapping or {}
    first, last = find_header_block(grid, specs, header_rows=mapping.get("header_rows"),
                                    first_row=mapping.get("first_row"))
    width = max((len(r) for r in grid[first:last + 1]), default=0)
    unit_over = dict(mapping.get("units") or {})
    explicit = {}
    for name, headers in dict(mapping.get("columns") or {}).items():
        for h in (headers,) if isinstance(headers, str) else headers:
            explicit[normalize_label(h)] = name
    columns: list[ColumnMatch] = []
    taken: dict[str, ColumnMatch] = {}
    notes: list[str] = []
    for c in range(width):
        parts: list[str] = []
        for r in range(first, last + 1):
            v = grid[r][c] if c < len(grid[r]) else None
            if not _is_blank(v) and (not parts or parts[-1] != str(v).strip()):
                parts.append(str(v).strip())
        header = " / ".join(parts)
        match = ColumnMatch(index=c, header=header)
        for part in reversed(parts):  # the lowest (most specific) header row wins
            label, unit = split_unit(part)
            if match.unit is None and unit is not None:
                match.unit = unit
            elif match.unit is None and lookup_unit(part) is not None:
                match.unit = part
                continue
            if match.field is None:
                name = explicit.get(normalize_label(part)) or explicit.get(normalize_label(label))
                exact = True
                if name is None:
                    name, exact = match_label(part, specs)
                if name is not None:
                    match.field, match.exact = name, exact
        if match.field is not None:
            prior = taken.get(match.field)
            if prior is not None:
                if prior.exact and not match.exact:
                    notes.append(f"column {header!r} also looks like {match.field}; ignored "
                                 f"(using {prior.header!r})")
                    match.field = None
                elif match.exact and not prior.exact:
                    notes.append(f"column {prior.header!r} also looks like {match.field}; ignored "
                                 f"(using {header!r})")
                    prior.field = None
                else:
                    raise MappingError(
                        f"{source}: columns {prior.header!r} and {header!r} both map to "
                        f"{match.field}; name the right one in a mapping file "
                        f"(columns: {{{match.field}: ...}})"
                    )
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
    missing = [s.name for s in specs.values() if s.required and s.name not in taken]
    return HeaderPlan(columns=columns, header_rows=(first, last), missing_required=missing,
                      notes=notes)


def parse_column_map(pairs: Sequence[str], specs: Mapping[str, FieldSpec]) -> dict[str, Any]:
    """Turn ``--map FIELD=COLUMN`` options into a mapping dict (``{'columns': {...}}``).

    Examples
    --------
    >>> parse_column_map(["town=XZ"], load_field_specs("parcels"))
    {'columns': {'town': 'XZ'}}
    """
    columns: dict[str, str] = {}
    for pair in pairs:
        name, sep, column = pair.partition("=")
        if not sep or not name.strip() or not column.strip():
            raise MappingError(f"--map expects FIELD=COLUMN, got {pair!r}")
        if name.strip() not in specs:
            raise MappingError(f"--map: unknown field {name.strip()!r}; fields: {', '.join(specs)}")
        columns[name.strip()] = column.strip()
    return {"columns": columns}
