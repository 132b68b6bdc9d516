"""A validated policy rule set as frozen dataclasses (what :mod:`.kernel` reads).

Months are whole numbers ``year * 12 + month - 1`` (:func:`month_index`), so a period is
a half-open range of them and "months in force" is a subtraction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

#: Classes a score run gives (T: exempt from evaluation).
SCORE_CLASSES = ("A", "B", "C", "D", "T")
#: Item kinds, their base unit and the unit of their rate.
PRICE_KINDS = ("electricity", "water", "sewage", "gas")
QUOTA_KINDS = ("energy_quota", "emission_quota")
ITEM_KINDS = (*PRICE_KINDS, "land_tax", *QUOTA_KINDS)
BASE_UNIT = {"electricity": "kWh", "water": "m3", "sewage": "m3", "gas": "m3",
             "land_tax": "yuan", "energy_quota": "tce", "emission_quota": "t"}
RATE_UNIT = {"electricity": "元/千瓦时", "water": "元/立方米", "sewage": "元/立方米",
             "gas": "元/立方米", "land_tax": "应纳税额的比例",
             "energy_quota": "上年用量的比例或吨标准煤", "emission_quota": "上年排放的比例或吨"}
#: Where an item's base quantity may come from.
SOURCES = {"electricity": ("accounts", "records"), "water": ("accounts",),
           "sewage": ("accounts",), "gas": ("accounts",), "land_tax": ("land_tax",),
           "energy_quota": ("records", "fixed"), "emission_quota": ("records", "fixed")}
#: The enterprise_year column of last year's use, per quota kind.
QUOTA_FIELD = {"energy_quota": "energy_tce", "emission_quota": "emissions_t"}
FLAGS = ("priority_land", "redevelop_own_land", "no_new_land", "no_land_auction",
         "priority_quota", "awards_withdrawn", "credit_list", "bank_list")
POPULATIONS = ("large", "small")


def month_index(year: int, month: int) -> int:
    """Whole-month number of ``year``-``month`` (``month_index(2018, 7) - month_index(2018, 1) == 6``)."""
    return int(year) * 12 + int(month) - 1


def month_text(index: int) -> str:
    """``YYYY-MM`` of a month number (``month_text(month_index(2018, 7)) == '2018-07'``)."""
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


@dataclass(frozen=True)
class Period:
    """Months ``start`` to ``end``, both included (month numbers)."""

    start: int
    end: int

    @property
    def months(self) -> int:
        return self.end - self.start + 1

    def text(self) -> str:
        return f"{month_text(self.start)}:{month_text(self.end)}"


@dataclass(frozen=True)
class Parameter:
    """A county parameter: a figure the preset leaves to the county (``None``: not set)."""

    name: str
    value: Decimal | None
    unit: str = ""
    note: str = ""


@dataclass(frozen=True)
class DerivedClass:
    """A class cut out of another (Nanjing's C- inside C) that pays a share of a third's rate.

    Members are listed by credit code, or the ``lowest_share`` of ``within`` by score.
    """

    name: str
    within: str
    rate_of: str
    factor: Decimal
    lowest_share: float | None = None
    members: tuple[str, ...] = ()


@dataclass(frozen=True)
class PolicyItem:
    """One item: its kind, rates per class (a number or a parameter name), source, period."""

    name: str
    kind: str
    rates: dict[str, Decimal | str]
    source: str
    basis: str = "share"
    period: Period | None = None
    collector: str = ""
    refundable: bool = False
    borne_by: str = ""
    note: str = ""


@dataclass(frozen=True)
class PolicyRuleSet:
    """A validated policy rule set (see docs/policy.md for every key)."""

    name: str
    title: str
    jurisdiction: str
    year: int
    source: str
    class_year: str
    period: Period
    classes: tuple[str, ...]
    derived: tuple[DerivedClass, ...]
    exempt_classes: tuple[str, ...]
    exempt_industries: tuple[str, ...]
    exempt_enterprises: tuple[str, ...]
    phase_in: dict[str, int]
    items: tuple[PolicyItem, ...]
    flags: dict[str, tuple[str, ...]]
    parameters: dict[str, Parameter] = field(default_factory=dict)
    path: str = ""
    sha256: str = ""

    def derived_class(self, name: str) -> DerivedClass | None:
        """The derived class called ``name``, if any."""
        return next((d for d in self.derived if d.name == name), None)

    def rate(self, item: PolicyItem, klass: str) -> Decimal | None:
        """The rate of ``item`` for ``klass`` (a derived class: its factor × the other's).

        ``None``: the item does not apply to the class, or its county parameter is unset.
        """
        raw = item.rates.get(klass)
        if raw is None:
            d = self.derived_class(klass)
            if d is None:
                return None
            base = self.rate(item, d.rate_of)
            return None if base is None else base * d.factor
        if isinstance(raw, str):
            return self.parameters[raw].value
        return raw

    def applies(self, item: PolicyItem, klass: str) -> bool:
        """Whether ``item`` names ``klass`` (directly, or the class a derived one pays of)."""
        d = self.derived_class(klass)
        return klass in item.rates or (d is not None and d.rate_of in item.rates)

    def unset_parameters(self, item: PolicyItem) -> list[str]:
        """Names of the county parameters ``item`` needs that have no value."""
        return [r for r in item.rates.values()
                if isinstance(r, str) and self.parameters[r].value is None]
