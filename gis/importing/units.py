"""Units found in column headers, and conversion to the schema's units.

The schema stores money in 万元 (10,000 yuan), energy in tonnes of standard
coal (吨标煤, tce), electricity in kWh (千瓦时), emissions in tonnes and areas
in square metres. Headers carry the unit in brackets (``税收(万元)``,
``用电量（万千瓦时）``), after a slash or colon, or in a header row of its own.

Pure functions, no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gis.crs import SQM_PER_MU
from gis.errors import DataError

#: Unit spelling (normalised: no blanks, lower case) -> (dimension, factor to the schema unit).
UNITS: dict[str, tuple[str, float]] = {
    # money -> 万元
    "元": ("money", 1e-4),
    "人民币元": ("money", 1e-4),
    "千元": ("money", 1e-1),
    "万元": ("money", 1.0),
    "万": ("money", 1.0),
    "百万元": ("money", 100.0),
    "亿元": ("money", 1e4),
    "亿": ("money", 1e4),
    "yuan": ("money", 1e-4),
    "cny": ("money", 1e-4),
    "rmb": ("money", 1e-4),
    # energy -> 吨标煤
    "吨标煤": ("energy", 1.0),
    "吨标准煤": ("energy", 1.0),
    "tce": ("energy", 1.0),
    "t标煤": ("energy", 1.0),
    "万吨标煤": ("energy", 1e4),
    "万吨标准煤": ("energy", 1e4),
    "千克标煤": ("energy", 1e-3),
    "千克标准煤": ("energy", 1e-3),
    "kgce": ("energy", 1e-3),
    # electricity -> 千瓦时 (kWh)
    "千瓦时": ("electricity", 1.0),
    "度": ("electricity", 1.0),
    "kwh": ("electricity", 1.0),
    "kw·h": ("electricity", 1.0),
    "kw.h": ("electricity", 1.0),
    "万千瓦时": ("electricity", 1e4),
    "万度": ("electricity", 1e4),
    "万kwh": ("electricity", 1e4),
    "兆瓦时": ("electricity", 1e3),
    "mwh": ("electricity", 1e3),
    "亿千瓦时": ("electricity", 1e8),
    "gwh": ("electricity", 1e6),
    # mass -> 吨
    "吨": ("mass", 1.0),
    "t": ("mass", 1.0),
    "千克": ("mass", 1e-3),
    "公斤": ("mass", 1e-3),
    "kg": ("mass", 1e-3),
    "万吨": ("mass", 1e4),
    # area -> 平方米
    "平方米": ("area", 1.0),
    "m2": ("area", 1.0),
    "m²": ("area", 1.0),
    "㎡": ("area", 1.0),
    "亩": ("area", SQM_PER_MU),
    "公顷": ("area", 1e4),
    "ha": ("area", 1e4),
    "平方公里": ("area", 1e6),
    "km2": ("area", 1e6),
    # counts
    "人": ("count", 1.0),
    "个": ("count", 1.0),
    "万人": ("count", 1e4),
}

#: Schema unit of each dimension (for messages).
SCHEMA_UNIT = {"money": "万元", "energy": "吨标煤", "electricity": "千瓦时", "mass": "吨",
               "area": "平方米", "count": "人"}

_FULLWIDTH = str.maketrans("（）【】［］：／，", "()[][]:/,")
_BRACKETED = re.compile(r"[(\[]\s*(?:单位\s*[:]?)?\s*([^()\[\]]+?)\s*[)\]]")
_AFTER_MARK = re.compile(r"(?:单位\s*[:]?|[/:])\s*([^/:()\[\]]+)$")


def normalize_unit(text: str) -> str:
    """Normalise a unit spelling for lookup in :data:`UNITS`.

    Examples
    --------
    >>> normalize_unit(" 万 千瓦时 ")
    '万千瓦时'
    >>> normalize_unit("KWh")
    'kwh'
    """
    return re.sub(r"\s+", "", str(text).translate(_FULLWIDTH)).lower()


@dataclass(frozen=True)
class Unit:
    """A recognised unit: its spelling, dimension and factor to the schema unit."""

    text: str
    dimension: str
    factor: float


def lookup_unit(text: str) -> Unit | None:
    """Return the :class:`Unit` for a spelling, or ``None`` when unknown.

    Examples
    --------
    >>> lookup_unit("万千瓦时").factor
    10000.0
    >>> lookup_unit("元").dimension
    'money'
    >>> lookup_unit("furlongs") is None
    True
    """
    key = normalize_unit(text)
    if key in UNITS:
        dim, factor = UNITS[key]
        return Unit(text.strip(), dim, factor)
    return None


def split_unit(header: str) -> tuple[str, str | None]:
    """Split a header into its label and the unit it names, if any.

    Recognises ``label(unit)``, full-width brackets, ``label（单位：unit）``,
    ``label/unit`` and ``label:unit``. The unit is returned only when it is a
    known unit; otherwise the whole header is the label.

    Examples
    --------
    >>> split_unit("税收（万元）")
    ('税收', '万元')
    >>> split_unit("用电量(单位:万千瓦时)")
    ('用电量', '万千瓦时')
    >>> split_unit("综合能耗/吨标煤")
    ('综合能耗', '吨标煤')
    >>> split_unit("企业名称")
    ('企业名称', None)
    """
    text = str(header).translate(_FULLWIDTH).strip()
    for match in _BRACKETED.finditer(text):
        if lookup_unit(match.group(1)) is not None:
            label = (text[: match.start()] + text[match.end():]).strip()
            return label, match.group(1).strip()
    match = _AFTER_MARK.search(text)
    if match and lookup_unit(match.group(1)) is not None:
        return text[: match.start()].strip(), match.group(1).strip()
    return text, None


def conversion_factor(unit_text: str | None, dimension: str, default_unit: str,
                      *, column: str = "") -> tuple[float, str, bool]:
    """Factor converting values in ``unit_text`` to the schema unit of ``dimension``.

    Parameters
    ----------
    unit_text : str or None
        Unit found in the header; ``None`` means the header named none.
    dimension : str
        Expected dimension (``'money'``, ``'energy'``, ...).
    default_unit : str
        Unit assumed when the header names none.
    column : str
        Header, for error messages.

    Returns
    -------
    factor : float
    unit : str
        The unit used.
    assumed : bool
        True when the default was assumed (callers warn).

    Raises
    ------
    DataError
        The header's unit belongs to another dimension (e.g. 吨 on a money column).

    Examples
    --------
    >>> conversion_factor("元", "money", "万元")
    (0.0001, '元', False)
    >>> conversion_factor(None, "electricity", "千瓦时")
    (1.0, '千瓦时', True)
    """
    assumed = unit_text is None
    text = default_unit if assumed else unit_text
    unit = lookup_unit(text)
    if unit is None:
        raise DataError(f"column {column!r}: unknown unit {text!r}; known units: "
                        + ", ".join(k for k, v in UNITS.items() if v[0] == dimension))
    if unit.dimension != dimension:
        raise DataError(
            f"column {column!r}: unit {text!r} measures {unit.dimension}, but the column needs "
            f"{dimension} (in {SCHEMA_UNIT.get(dimension, '?')}); fix the header or use a mapping file"
        )
    return unit.factor, text, assumed
