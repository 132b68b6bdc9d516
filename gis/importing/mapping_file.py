"""Mapping files: which column holds which field, read from YAML.

A mapping file (``--mapping FILE``) names the sheet, the header rows, the first
data row, the column of a field (``columns: {field: header}``) and units
(``units: {field: unit}``); ``--map FIELD=COLUMN`` options go on top
(:func:`gis.importing.headers.merge_maps`).

Tool module (reads the file).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gis.errors import MappingError

#: Keys a mapping file may hold.
KEYS = ("sheet", "header_rows", "first_row", "columns", "units")


def load_mapping(path: str | Path | None) -> dict[str, Any]:
    """Read a mapping YAML file (``{}`` when no path).

    Raises
    ------
    MappingError
        Unreadable, not a mapping, or with unknown keys.
    """
    if path is None:
        return {}
    import yaml

    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise MappingError(f"{path}: cannot read the mapping file: {exc}") from exc
    if not isinstance(data, dict):
        raise MappingError(f"{path}: a mapping file is a YAML mapping (sheet, columns, units)")
    unknown = set(data) - set(KEYS)
    if unknown:
        raise MappingError(f"{path}: unknown keys {sorted(unknown)}; use sheet, header_rows, "
                           "first_row, columns, units")
    return data
