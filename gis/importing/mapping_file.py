"""Mapping files: which column holds which field, read from YAML.

A mapping file (``--mapping FILE``) names the sheet, the header rows, the first
data row, the column of a field (``columns: {field: header}``) and units
(``units: {field: unit}``); ``--map FIELD=COLUMN`` options go on top
(:func:`gis.importing.headers.merge_maps`). Its shape is declared once
(:func:`mapping_schema`) with the rule-file helper :mod:`gis.yaml_schema`, so a
mistake is named with the file, line and key.

Tool module (reads the file).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from gis.errors import MappingError

#: Keys a mapping file may hold.
KEYS = ("sheet", "header_rows", "first_row", "columns", "units")


@lru_cache(maxsize=1)
def mapping_schema():
    """The mapping file's shape, declared with :mod:`gis.yaml_schema`."""
    from gis.yaml_schema import Number, OneOf, Record, Table, Text, TextList

    return Record({
        "sheet": OneOf(Number(integer=True, minimum=0), Text(), what="a sheet name or number",
                       help="sheet name or 0-based number"),
        "header_rows": Number(integer=True, minimum=1, maximum=20,
                              help="height of the header block"),
        "first_row": Number(integer=True, minimum=0, help="first header row (0-based)"),
        "columns": Table(OneOf(Text(nonempty=False), TextList(),
                               what="a header or a list of headers", default=""),
                         help="field -> header (or headers; empty: no column)"),
        "units": Table(Text(), help="field -> unit"),
    }, partial=True, shape=", ".join(KEYS))


def load_mapping(path: str | Path | None) -> dict[str, Any]:
    """Read a mapping YAML file (``{}`` when no path).

    Raises
    ------
    MappingError
        Unreadable file, bad YAML, unknown key or wrong value; names the file, line and key.
    """
    if path is None:
        return {}
    from gis.yaml_schema import Doc, read_text, validate

    doc = Doc(str(path), MappingError)
    return validate(mapping_schema(), read_text(path, doc), source=str(path),
                    error=MappingError, empty={})
