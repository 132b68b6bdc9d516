"""Units of indicators and benchmarks, and the exact conversions between them.

A unit is a factor times a product of base dimensions: money in yuan, energy in tonnes of
standard coal (tce), electricity in kWh, mass in tonnes, people, and area in m². Published
benchmarks come in 万元/mu, 万元/tce, 万元/t, 万元/person, ratios and 元/kWh (= 万元 per
万kWh); a rule set states the unit of every indicator and benchmark, and mujun converts by
the factors below, never by guessing from magnitudes.

Examples
--------
>>> conversion(parse_unit("万元/kWh"), parse_unit("元/kWh"))
10000.0
>>> conversion(parse_unit("元/kWh"), parse_unit("万元/万kWh"))
1.0
>>> parse_unit("万元/mu").same_dimension(parse_unit("万元/tce"))
False
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from gis.crs import SQM_PER_MU

#: symbol -> (factor to the base unit, dimension)
UNITS: dict[str, tuple[float, str | None]] = {
    "元": (1.0, "money"), "yuan": (1.0, "money"),
    "万元": (1e4, "money"), "wan": (1e4, "money"),
    "亿元": (1e8, "money"),
    "tce": (1.0, "energy"), "吨标煤": (1.0, "energy"), "tce_t": (1.0, "energy"),
    "万tce": (1e4, "energy"), "万吨标煤": (1e4, "energy"),
    "kwh": (1.0, "electricity"), "千瓦时": (1.0, "electricity"), "度": (1.0, "electricity"),
    "万kwh": (1e4, "electricity"), "万千瓦时": (1e4, "electricity"),
    "mwh": (1e3, "electricity"),
    "t": (1.0, "mass"), "吨": (1.0, "mass"), "kg": (1e-3, "mass"), "千克": (1e-3, "mass"),
    "person": (1.0, "people"), "人": (1.0, "people"), "people": (1.0, "people"),
    "m2": (1.0, "area"), "m²": (1.0, "area"), "平方米": (1.0, "area"),
    "mu": (SQM_PER_MU, "area"), "亩": (SQM_PER_MU, "area"),
    "ha": (1e4, "area"), "公顷": (1e4, "area"),
    "ratio": (1.0, None), "1": (1.0, None), "%": (0.01, None), "percent": (0.01, None),
    "points": (1.0, None), "year": (1.0, None),
}


@dataclass(frozen=True)
class Unit:
    """``factor`` × Π base^exponent (``dims`` maps dimension -> exponent)."""

    factor: float = 1.0
    dims: tuple[tuple[str, int], ...] = field(default=())
    text: str = "ratio"

    def _dims(self) -> dict[str, int]:
        return dict(self.dims)

    def __mul__(self, other: Unit) -> Unit:
        d = self._dims()
        for k, v in other.dims:
            d[k] = d.get(k, 0) + v
        return _make(self.factor * other.factor, d, f"({self.text})·({other.text})")

    def __truediv__(self, other: Unit) -> Unit:
        d = self._dims()
        for k, v in other.dims:
            d[k] = d.get(k, 0) - v
        return _make(self.factor / other.factor, d, f"({self.text})/({other.text})")

    def power(self, n: int) -> Unit:
        """This unit to an integer power."""
        return _make(self.factor ** n, {k: v * n for k, v in self.dims}, f"({self.text})^{n}")

    def same_dimension(self, other: Unit) -> bool:
        """True when a value in one unit can be converted into the other."""
        return self.dims == other.dims

    @property
    def dimensionless(self) -> bool:
        return not self.dims

    def describe(self) -> str:
        """The dimensions in words, for error messages (``money/area``)."""
        num = [k + (f"^{v}" if v > 1 else "") for k, v in self.dims if v > 0]
        den = [k + (f"^{-v}" if v < -1 else "") for k, v in self.dims if v < 0]
        if not num and not den:
            return "a pure number"
        return ("·".join(num) or "1") + ("/" + "·".join(den) if den else "")


def _make(factor: float, dims: dict[str, int], text: str) -> Unit:
    return Unit(factor, tuple(sorted((k, v) for k, v in dims.items() if v)), text)


DIMENSIONLESS = Unit()


def parse_unit(text: str) -> Unit:
    """Parse ``"万元/mu"``, ``"元/kWh"``, ``"ratio"``, ``"万元/万kWh"``, ``"%"``.

    One optional ``/`` separates numerator and denominator; each side is one symbol of
    :data:`UNITS` (case-insensitive for Latin letters) or ``1``.

    Raises
    ------
    ValueError
        An unknown symbol; the message lists the known ones.
    """
    raw = str(text).strip()
    if not raw:
        raise ValueError("empty unit")
    parts = [p.strip() for p in raw.replace("／", "/").split("/")]
    if len(parts) > 2:
        raise ValueError(f"unit {raw!r} has more than one '/'")
    out = DIMENSIONLESS
    for i, part in enumerate(parts):
        sym = UNITS.get(part) or UNITS.get(part.lower())
        if sym is None:
            raise ValueError(f"unknown unit {part!r} in {raw!r}; known: "
                             + ", ".join(sorted(UNITS)))
        factor, dim = sym
        u = _make(factor, {dim: 1} if dim else {}, part)
        out = out * u if i == 0 else out / u
    return Unit(out.factor, out.dims, raw)


def conversion(source: Unit, target: Unit) -> float:
    """Factor that turns a value in ``source`` into ``target`` (exactly 1.0 when equal).

    Raises
    ------
    ValueError
        The dimensions differ (e.g. 万元/mu into 万元/tce).
    """
    if not source.same_dimension(target):
        raise ValueError(f"{source.text} ({source.describe()}) cannot be converted to "
                         f"{target.text} ({target.describe()})")
    f = source.factor / target.factor
    return 1.0 if math.isclose(f, 1.0, rel_tol=1e-12) else f


#: Latin unit symbols a rule set may write → the Chinese an official reads.
UNIT_WORDS: dict[str, str] = {
    "yuan": "元", "wan": "万元", "tce": "吨标准煤", "tce_t": "吨标准煤", "kwh": "千瓦时",
    "mwh": "兆瓦时", "t": "吨", "kg": "千克", "person": "人", "people": "人", "m2": "平方米",
    "m²": "平方米", "mu": "亩", "ha": "公顷", "ratio": "比值", "1": "比值", "percent": "%",
    "points": "分", "year": "年",
}


def unit_label(text: str) -> str:
    """A rule set's unit in Chinese words (each symbol of a ``a/b`` unit; 万 prefixes kept).

    Examples
    --------
    >>> unit_label("万元/mu"), unit_label("万元/tce"), unit_label("ratio"), unit_label("元/万kWh")
    ('万元/亩', '万元/吨标准煤', '比值', '元/万千瓦时')
    """
    def word(part: str) -> str:
        key = part.strip().lower()
        if key in UNIT_WORDS:
            return UNIT_WORDS[key]
        if key.startswith("万") and key[1:] in UNIT_WORDS:
            return "万" + UNIT_WORDS[key[1:]]
        return part.strip()

    return "/".join(word(p) for p in str(text).split("/"))
