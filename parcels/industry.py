"""GB/T 4754 industry classification: shipped division tables and the 2002↔2017 crosswalk.

Shipped in ``parcels/data/`` as CSV:

* ``gbt4754_2017_divisions.csv``: the 20 sections (A-T) and 97 divisions of
  GB/T 4754-2017 with their Chinese names;
* ``gbt4754_2002_divisions.csv``: the 20 sections and 95 divisions of the 2002
  edition (needed for the 2008 industrial land control indicators);
* ``gbt4754_crosswalk_2002_2017.csv``: division-level correspondence, with
  ``relation`` ``main`` (where most of the old division went) or ``part``.

Only divisions are shipped. A 3- or 4-digit group/class code is validated by
its division (first two digits); classes themselves are not checked.

Examples
--------
>>> check_industry_code("C3311")
('3311', 'ok')
>>> check_industry_code("9999")
('9999', 'unknown')
>>> divisions_2017()["39"]
'计算机、通信和其他电子设备制造业'
>>> sorted(crosswalk_2017_to_2002("29"))
['29', '30']
"""

from __future__ import annotations

import csv
import io
import re
from functools import cache
from importlib import resources
from typing import Literal

IndustryStatus = Literal["ok", "section", "unknown", "malformed"]


@cache
def _table(name: str) -> tuple[dict[str, str], ...]:
    text = resources.files("parcels.data").joinpath(name).read_text("utf-8")
    return tuple(csv.DictReader(io.StringIO(text)))


def divisions_2017() -> dict[str, str]:
    """Division code -> name, GB/T 4754-2017 (97 divisions)."""
    return {r["division"]: r["name"] for r in _table("gbt4754_2017_divisions.csv")}


def divisions_2002() -> dict[str, str]:
    """Division code -> name, GB/T 4754-2002 (95 divisions)."""
    return {r["division"]: r["name"] for r in _table("gbt4754_2002_divisions.csv")}


def sections(version: str = "2017") -> dict[str, str]:
    """Section letter -> name."""
    name = f"gbt4754_{version}_divisions.csv"
    return {r["section"]: r["section_name"] for r in _table(name)}


def section_of(division: str, version: str = "2017") -> str | None:
    """Section letter of a division code."""
    name = f"gbt4754_{version}_divisions.csv"
    return next((r["section"] for r in _table(name) if r["division"] == division), None)


def crosswalk_2017_to_2002(division: str, *, main_only: bool = False) -> set[str]:
    """2002 divisions that fed a 2017 division."""
    return {r["division_2002"] for r in _table("gbt4754_crosswalk_2002_2017.csv")
            if r["division_2017"] == division and (not main_only or r["relation"] == "main")}


def crosswalk_2002_to_2017(division: str, *, main_only: bool = False) -> set[str]:
    """2017 divisions a 2002 division went to."""
    return {r["division_2017"] for r in _table("gbt4754_crosswalk_2002_2017.csv")
            if r["division_2002"] == division and (not main_only or r["relation"] == "main")}


def normalize_industry_code(code: object) -> str:
    """Strip blanks, a leading section letter and a float's ``.0``.

    Examples
    --------
    >>> normalize_industry_code(" c 3311 "), normalize_industry_code(3311.0)
    ('3311', '3311')
    """
    if isinstance(code, float) and code.is_integer():
        code = int(code)
    text = re.sub(r"\s+", "", str(code)).upper()
    match = re.fullmatch(r"[A-T](\d{2,4})", text)
    return match.group(1) if match else text


def check_industry_code(code: object, version: str = "2017") -> tuple[str, IndustryStatus]:
    """Normalise and validate an industry code at division level.

    Returns
    -------
    code : str
        Normalised code.
    status : {'ok', 'section', 'unknown', 'malformed'}
        ``'section'`` for a bare section letter; ``'unknown'`` when the
        division is not in the table; ``'malformed'`` for anything that is not
        2-4 digits.
    """
    text = normalize_industry_code(code)
    if re.fullmatch(r"[A-T]", text):
        return text, "section"
    if not re.fullmatch(r"\d{2,4}", text):
        return text, "malformed"
    table = divisions_2017() if version == "2017" else divisions_2002()
    return text, "ok" if text[:2] in table else "unknown"
