"""The Shapefile's limits, kept in one place: field names and text values in bytes.

dBASE field names hold at most 10 bytes and text values 254 bytes *in the file's
encoding*: a Chinese character takes 3 bytes in UTF-8 and 2 in GBK. Every Shapefile
mujun writes (:func:`gis.layer_writer.write_layer`, :func:`gis.vector_io.write_vector`)
goes through :func:`shapefile_safe`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from gis.errors import DataError

log = logging.getLogger(__name__)

SHP_FIELD_BYTES = 10
SHP_TEXT_BYTES = 254


def cut(text: str, limit: int, encoding: str = "utf-8") -> str:
    """``text`` shortened to at most ``limit`` bytes of ``encoding`` without splitting a character.

    Examples
    --------
    >>> cut("建筑系数", 10, "utf-8"), cut("建筑系数", 10, "gbk")
    ('建筑系', '建筑系数')
    """
    return text.encode(encoding)[:limit].decode(encoding, errors="ignore")


def shapefile_field_names(names: Sequence[Any], encoding: str = "utf-8") -> dict[Any, str]:
    """Unique field names of at most 10 bytes *in the Shapefile's encoding*.

    Names that fit keep their spelling; longer ones are cut and, on a clash (compared
    case-insensitively, as dBASE does), numbered.

    Examples
    --------
    >>> shapefile_field_names(["parcel_code", "建筑系数"], "gbk")
    {'parcel_code': 'parcel_cod', '建筑系数': '建筑系数'}
    >>> shapefile_field_names(["parcel_code", "建筑系数"], "utf-8")
    {'parcel_code': 'parcel_cod', '建筑系数': '建筑系'}
    >>> shapefile_field_names(["id", "parcel_code", "parcel_code2"])
    {'id': 'id', 'parcel_code': 'parcel_cod', 'parcel_code2': 'parcel_c_1'}
    """
    result: dict[Any, str] = {}
    used: set[str] = set()
    for name in names:  # names that fit claim their spelling first
        text = str(name)
        if len(text.encode(encoding)) <= SHP_FIELD_BYTES and text.lower() not in used:
            result[name] = text
            used.add(text.lower())
    for name in names:
        if name in result:
            continue
        candidate = cut(str(name), SHP_FIELD_BYTES, encoding)
        n = 0
        while candidate.lower() in used:
            n += 1
            candidate = cut(str(name), SHP_FIELD_BYTES - len(f"_{n}"), encoding) + f"_{n}"
        result[name] = candidate
        used.add(candidate.lower())
    return {name: result[name] for name in names}


def _text_columns(frame: Any, columns: Sequence[Any]) -> list[Any]:
    return [c for c in columns
            if frame[c].dtype == object or str(frame[c].dtype) in ("string", "str")]


def check_encoding(frame: Any, encoding: str, source: str) -> None:
    """Refuse text that ``encoding`` cannot hold, naming the field and row."""
    geom = getattr(frame, "_geometry_column_name", None)
    for column in _text_columns(frame, [c for c in frame.columns if c != geom]):
        for row, value in enumerate(frame[column]):
            if isinstance(value, str):
                try:
                    value.encode(encoding)
                except UnicodeEncodeError:
                    raise DataError(
                        f"field {column}, row {row + 1}: {value!r} cannot be written in "
                        f"{encoding.upper()}; write the Shapefile as UTF-8 (the default)",
                        source=source) from None


def shapefile_safe(frame: Any, *, encoding: str = "utf-8", source: str = "shapefile"
                   ) -> tuple[Any, dict[Any, str]]:
    """A copy fit for a Shapefile: field names ≤ 10 bytes, text ≤ 254 bytes, changes logged.

    Returns
    -------
    (frame, names)
        The renamed copy and the map column -> field name written.
    """
    check_encoding(frame, encoding, source)
    geom = getattr(frame, "_geometry_column_name", None)
    attrs = [c for c in frame.columns if c != geom]
    names = shapefile_field_names(attrs, encoding)
    renamed = {old: new for old, new in names.items() if old != new}
    out = frame.rename(columns=renamed) if renamed else frame.copy()
    if renamed:
        log.warning("%s: Shapefile field names hold %d bytes; renamed %s", source,
                 SHP_FIELD_BYTES, ", ".join(f"{a} -> {b}" for a, b in renamed.items()))
    for column in _text_columns(out, [names[c] for c in attrs]):
        series = out[column]
        long = series.map(lambda v: isinstance(v, str)
                          and len(v.encode(encoding)) > SHP_TEXT_BYTES)
        if long.any():
            out.loc[long, column] = series[long].map(lambda v: cut(v, SHP_TEXT_BYTES, encoding))
            log.warning("%s: %d value(s) of field %s longer than %d bytes were truncated",
                        source, int(long.sum()), column, SHP_TEXT_BYTES)
    return out, names
