"""The rule-set model: what a validated rule set is, as frozen dataclasses.

The YAML's shape is declared in :mod:`scoring.ruleset_schema`, which builds these;
:mod:`scoring.ruleset` loads presets and files. Nothing here reads a file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scoring.formula import Formula
from scoring.units import Unit

CLASSES = ("A", "B", "C", "D")
SIZE_CLASSES = ("large", "small", "unknown")
BENCHMARK_METHODS = {
    "fixed": "a published value (value, and its unit when it differs from the indicator's)",
    "population_average": "k × the mean of the indicator over the population (k default 1)",
    "previous_average": "k × the population's mean of the indicator in the previous year",
    "best": "the best value in the population (highest, or lowest when lower is better)",
    "min_max": "weight × (floor + (100 − floor) × (x − min)/(max − min)) / 100",
}
MISSING_RULES = {
    "zero": "the item scores 0",
    "population_average": "the mean item score of the population's firms that have the value",
    "penalty": "a fixed number of points (negative or positive), e.g. {penalty: -3}",
}
DIRECTIONS = ("higher", "lower")
TIE_RULES = {
    "ordered": "ties are broken by tie_break, so the quotas are met exactly",
    "shared": "firms with equal totals share the better class (a quota may be exceeded)",
}
ROUNDINGS = ("half_up", "floor", "ceil")


@dataclass(frozen=True)
class Indicator:
    """A named formula with its stated unit (``conversion``: formula unit → stated unit)."""

    name: str
    label: str
    formula: Formula
    unit: Unit
    conversion: float

    def evaluate(self, columns) -> Any:
        """Indicator values in the stated unit (NaN where missing)."""
        values = self.formula.evaluate(columns)
        return values if self.conversion == 1.0 else values * self.conversion


@dataclass(frozen=True)
class Benchmark:
    """How an item's reference value is found. ``value`` is in the indicator's unit."""

    method: str
    value: float | None = None
    k: float = 1.0
    floor: float = 0.0


@dataclass(frozen=True)
class Item:
    """One weighted indicator of a population."""

    name: str
    indicator: Indicator
    weight: float
    benchmark: Benchmark
    direction: str = "higher"
    cap: float | None = None          # points
    floor: float | None = None        # points
    missing: str = "zero"
    penalty: float = 0.0


@dataclass(frozen=True)
class Population:
    """Who is scored together (and ranked together) under which items."""

    name: str
    label: str
    size_classes: tuple[str, ...]
    min_land_mu: float
    min_floor_m2: float | None
    items: tuple[Item, ...]


@dataclass(frozen=True)
class TRules:
    """Class T: exempt or deferred firms, not ranked."""

    industry_divisions: tuple[str, ...] = ()
    utility_flag: bool = False
    min_years_producing: int | None = None
    construction_period_years: float | None = None
    relocated: bool = False


@dataclass(frozen=True)
class ClassRules:
    """How totals become classes."""

    method: str = "quota"
    within: str = "county"
    quotas: dict[str, float] = field(default_factory=dict)
    cutoffs: dict[str, float] = field(default_factory=dict)
    tie_break: tuple[str, ...] = ("credit_code",)
    ties: str = "ordered"
    rounding: str = "half_up"


#: Default of ``adjustments.max_points``: the largest bonus or penalty one list row may
#: give. Published schemes give 1-10 points a row (a certified high-tech firm +3, a
#: safety incident -5); graver cases are vetoes. A row beyond it is a typing error.
DEFAULT_MAX_POINTS = 20.0


@dataclass(frozen=True)
class AdjustmentRules:
    """Bonus, penalty, veto and exemption lists keyed by credit code.

    ``max_points`` bounds one row's points (a list row beyond it fails the run, naming the
    file and row); ``max_bonus`` and ``max_penalty`` cap a firm's summed points.
    """

    files: tuple[Path, ...] = ()
    max_bonus: float | None = None
    max_penalty: float | None = None
    max_points: float = DEFAULT_MAX_POINTS


@dataclass(frozen=True)
class ProtectionRules:
    """The protection period (保护期): firms scored and listed, but not classed or ranked.

    ``first_year_above_scale``: size class ``large`` this year, and in the previous year's
    score run in a population without ``large`` or absent from it (only when that run
    exists). ``years_after_start``: registered (成立日期) less than N years before the
    year's end.
    """

    first_year_above_scale: bool = False
    years_after_start: float | None = None

    @property
    def active(self) -> bool:
        """Whether any protection rule is on."""
        return self.first_year_above_scale or self.years_after_start is not None


@dataclass(frozen=True)
class WarningRules:
    """Thresholds of the data warnings sent to the verification queue."""

    power_no_tax_kwh: float | None = 1_000_000.0
    power_no_tax_max_tax_wan: float = 1.0
    zero_electricity: bool = True
    tax_per_mu_high: float | None = 500.0
    yoy_factor: float | None = 10.0
    yoy_fields: tuple[str, ...] = ("tax_wan", "revenue_wan", "electricity_kwh")
    records_no_land: bool = True
    land_no_records: bool = True


@dataclass(frozen=True)
class RuleSet:
    """A validated rule set."""

    name: str
    title: str
    source: str
    data_year: int | None
    indicators: dict[str, Indicator]
    populations: tuple[Population, ...]
    t_rules: TRules
    classes: ClassRules
    adjustments: AdjustmentRules
    warnings: WarningRules
    path: str
    sha256: str
    protection: ProtectionRules = ProtectionRules()

    def population(self, name: str) -> Population:
        """The population called ``name``."""
        for p in self.populations:
            if p.name == name:
                return p
        raise KeyError(name)
