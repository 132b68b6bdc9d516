"""Rule sets: a county's scoring method as a validated YAML file.

A rule set says which enterprises are scored in which population (规上 / 规下 with land
or floor-area thresholds), the indicators (formulas over the annual fields and occupied
land, each with its unit), per population the weighted items with their benchmark,
direction, limits and missing-data rule, which firms are class T, how bonuses, penalties
and vetoes apply, how classes are given (rank quotas or cut-offs, with a tie rule) and
when data warnings fire. docs/scoring.md is the reference; ``scoring/presets/template.yaml``
is a commented example to copy.

:func:`load_ruleset` accepts a preset name (:func:`preset_names`) or a file path, and
fails with a :class:`~scoring.errors.RuleSetError` naming the file, line, key and problem.
"""

from __future__ import annotations

import difflib
import hashlib
import math
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from scoring.errors import FormulaError, RuleSetError
from scoring.formula import Formula, FormulaProblem, compile_formula
from scoring.units import Unit, conversion, parse_unit
from scoring.yaml_lines import MarkedDict, load_marked

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


@dataclass(frozen=True)
class AdjustmentRules:
    """Bonus, penalty, veto and exemption lists keyed by credit code."""

    files: tuple[Path, ...] = ()
    max_bonus: float | None = None
    max_penalty: float | None = None


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

    def population(self, name: str) -> Population:
        """The population called ``name``."""
        for p in self.populations:
            if p.name == name:
                return p
        raise KeyError(name)


# ---------------------------------------------------------------- presets
def _preset_dir():
    return resources.files("scoring") / "presets"


def preset_names() -> list[str]:
    """Names of the bundled rule sets (the commented ``template`` included)."""
    return sorted(p.name[:-5] for p in _preset_dir().iterdir() if p.name.endswith(".yaml"))


def preset_text(name: str) -> str:
    """The YAML text of a bundled rule set."""
    path = _preset_dir() / f"{name}.yaml"
    if not path.is_file():
        raise RuleSetError(f"no bundled rule set {name!r}; bundled: {', '.join(preset_names())}"
                           "; or give a path to a YAML file")
    return path.read_text(encoding="utf-8")


def list_presets() -> list[dict[str, str]]:
    """One record per bundled rule set: name, title, source."""
    out = []
    for name in preset_names():
        rs = load_ruleset(name)
        out.append({"name": name, "title": rs.title, "source": rs.source})
    return out


def load_ruleset(name_or_path: str | Path) -> RuleSet:
    """Load and validate a rule set: a bundled preset name or a YAML file path.

    Raises
    ------
    RuleSetError
        Unknown preset, unreadable file, YAML syntax, or any schema problem; the message
        names the file, line and key.

    Examples
    --------
    >>> rs = load_ruleset("zhejiang-huangyan-2022")
    >>> [p.name for p in rs.populations], rs.population("large").items[0].weight
    (['large', 'small'], 30.0)
    """
    text_path = Path(str(name_or_path))
    if text_path.suffix.lower() in (".yaml", ".yml") or text_path.exists():
        try:
            text = text_path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise RuleSetError(f"cannot read the rule set: {exc}", source=str(text_path)) from exc
        return parse_ruleset(text, source=str(text_path), base_dir=text_path.parent)
    return parse_ruleset(preset_text(str(name_or_path)), source=str(name_or_path),
                         base_dir=None)


def parse_ruleset(text: str, *, source: str = "<rule set>",
                  base_dir: Path | None = None) -> RuleSet:
    """Validate rule-set YAML ``text`` (``base_dir`` resolves relative adjustment files)."""
    try:
        doc = load_marked(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise RuleSetError(f"YAML syntax: {problem}", source=source,
                           line=mark.line + 1 if mark else None) from exc
    v = _Validator(source, base_dir)
    rs = v.ruleset(doc)
    return RuleSet(**rs, path=source, sha256=hashlib.sha256(text.encode()).hexdigest())


# ---------------------------------------------------------------- validation
class _Validator:
    def __init__(self, source: str, base_dir: Path | None):
        self.source = source
        self.base_dir = base_dir

    def fail(self, msg: str, m: MarkedDict | None, key: Any, path: str,
             cls: type[RuleSetError] = RuleSetError):
        line = None
        if isinstance(m, MarkedDict):
            line = m.line_of(key) if key is not None else m.line
        raise cls(msg, source=self.source, line=line, key=path or None)

    def mapping(self, value: Any, parent: MarkedDict | None, key: Any, path: str) -> MarkedDict:
        if not isinstance(value, MarkedDict):
            self.fail(f"must be a mapping (key: value lines), not {_kind(value)}", parent, key,
                      path)
        return value

    def keys(self, m: MarkedDict, allowed, path: str, required=()) -> None:
        for k in m:
            if k not in allowed:
                hint = difflib.get_close_matches(str(k), [str(a) for a in allowed], n=1)
                extra = f"; did you mean {hint[0]!r}?" if hint else \
                    f"; allowed: {', '.join(map(str, allowed))}"
                self.fail(f"unknown key {k!r}{extra}", m, k, _join(path, k))
        for k in required:
            if k not in m:
                self.fail(f"missing required key {k!r}", m, None, _join(path, k))

    def number(self, m: MarkedDict, key: str, path: str, *, default=None, minimum=None,
               maximum=None, allow_none=True) -> float | None:
        if key not in m or m[key] is None:
            if key in m and not allow_none:
                self.fail("must be a number, not empty", m, key, _join(path, key))
            return default
        value = m[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)) \
                or not math.isfinite(float(value)):
            self.fail(f"must be a number, not {_kind(value)} {value!r}", m, key,
                      _join(path, key))
        value = float(value)
        if minimum is not None and value < minimum:
            self.fail(f"must be at least {minimum}, not {value:g}", m, key, _join(path, key))
        if maximum is not None and value > maximum:
            self.fail(f"must be at most {maximum}, not {value:g}", m, key, _join(path, key))
        return value

    def text(self, m: MarkedDict, key: str, path: str, *, default=None,
             choices=None) -> str | None:
        if key not in m or m[key] is None:
            return default
        value = m[key]
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            self.fail(f"must be text, not {_kind(value)}", m, key, _join(path, key))
        value = str(value)
        if choices is not None and value not in choices:
            self.fail(f"{value!r} is not one of: {', '.join(choices)}", m, key,
                      _join(path, key))
        return value

    def flag(self, m: MarkedDict, key: str, path: str, default: bool) -> bool:
        if key not in m or m[key] is None:
            return default
        if not isinstance(m[key], bool):
            self.fail(f"must be true or false, not {m[key]!r}", m, key, _join(path, key))
        return m[key]

    def text_list(self, m: MarkedDict, key: str, path: str, *, choices=None) -> tuple[str, ...]:
        if key not in m or m[key] is None:
            return ()
        value = m[key]
        if isinstance(value, (str, int)) and not isinstance(value, bool):
            value = [value]
        if not isinstance(value, list):
            self.fail(f"must be a list, not {_kind(value)}", m, key, _join(path, key))
        out = []
        for i, x in enumerate(value):
            if not isinstance(x, (str, int)) or isinstance(x, bool):
                self.fail(f"item {i + 1} must be text, not {_kind(x)}", m, key,
                          _join(path, key))
            if choices is not None and str(x) not in choices:
                self.fail(f"item {i + 1} {x!r} is not one of: {', '.join(choices)}", m, key,
                          _join(path, key))
            out.append(str(x))
        return tuple(out)

    # ---------------------------------------------------------------- sections
    def ruleset(self, doc: Any) -> dict[str, Any]:
        if not isinstance(doc, MarkedDict):
            self.fail(f"a rule set is a mapping with name, indicators, populations and "
                      f"classes; this file holds {_kind(doc)}", None, None, "")
        self.keys(doc, ("name", "title", "source", "data_year", "indicators", "populations",
                        "class_t", "classes", "adjustments", "warnings"), "",
                  required=("name", "indicators", "populations", "classes"))
        name = self.text(doc, "name", "")
        data_year = self.number(doc, "data_year", "", minimum=1990, maximum=2100)
        indicators = self.indicators(doc)
        populations = self.populations(doc, indicators)
        classes = self.classes(doc, indicators)
        return {
            "name": name, "title": self.text(doc, "title", "", default=name),
            "source": self.text(doc, "source", "", default=""),
            "data_year": int(data_year) if data_year is not None else None,
            "indicators": indicators, "populations": populations,
            "t_rules": self.t_rules(doc), "classes": classes,
            "adjustments": self.adjustments(doc), "warnings": self.warnings(doc),
        }

    def indicators(self, doc: MarkedDict) -> dict[str, Indicator]:
        section = self.mapping(doc["indicators"], doc, "indicators", "indicators")
        if not section:
            self.fail("needs at least one indicator", doc, "indicators", "indicators")
        out = {}
        for name, spec in section.items():
            path = f"indicators.{name}"
            if not isinstance(name, str) or not name.isidentifier():
                self.fail("indicator names are words of letters, digits and _", section, name,
                          path)
            spec = self.mapping(spec, section, name, path)
            self.keys(spec, ("label", "formula", "unit"), path, required=("formula", "unit"))
            try:
                formula = compile_formula(str(spec["formula"]))
            except FormulaProblem as exc:
                self.fail(str(exc), spec, "formula", f"{path}.formula", FormulaError)
            unit = self._unit(spec, "unit", f"{path}.unit")
            try:
                conv = conversion(formula.unit, unit)
            except ValueError:
                self.fail(f"the formula {formula.text!r} gives {formula.unit.describe()} but "
                          f"the stated unit {unit.text!r} is {unit.describe()}; fix the formula "
                          "or the unit", spec, "unit", f"{path}.unit")
            out[name] = Indicator(name, self.text(spec, "label", path, default=name), formula,
                                  unit, conv)
        return out

    def _unit(self, m: MarkedDict, key: str, path: str) -> Unit:
        try:
            return parse_unit(str(m[key]))
        except ValueError as exc:
            self.fail(str(exc), m, key, path)

    def populations(self, doc: MarkedDict, indicators: dict[str, Indicator]
                    ) -> tuple[Population, ...]:
        section = self.mapping(doc["populations"], doc, "populations", "populations")
        if not section:
            self.fail("needs at least one population", doc, "populations", "populations")
        out = []
        for name, spec in section.items():
            path = f"populations.{name}"
            spec = self.mapping(spec, section, name, path)
            self.keys(spec, ("label", "size_class", "min_land_mu", "min_floor_m2", "items"),
                      path, required=("items",))
            sizes = self.text_list(spec, "size_class", path, choices=SIZE_CLASSES) \
                or SIZE_CLASSES
            items_m = self.mapping(spec["items"], spec, "items", f"{path}.items")
            if not items_m:
                self.fail("needs at least one item", spec, "items", f"{path}.items")
            items = tuple(self.item(items_m, iname, f"{path}.items.{iname}", indicators)
                          for iname in items_m)
            out.append(Population(
                str(name), self.text(spec, "label", path, default=str(name)), sizes,
                self.number(spec, "min_land_mu", path, default=0.0, minimum=0) or 0.0,
                self.number(spec, "min_floor_m2", path, minimum=0), items))
        seen: dict[str, str] = {}
        for p in out:
            for s in p.size_classes:
                if s in seen:
                    self.fail(f"size class {s!r} is already in population {seen[s]!r}; each "
                              "size class belongs to one population", section[p.name],
                              "size_class", f"populations.{p.name}.size_class")
                seen[s] = p.name
        return tuple(out)

    def item(self, items_m: MarkedDict, name: str, path: str,
             indicators: dict[str, Indicator]) -> Item:
        spec = self.mapping(items_m[name], items_m, name, path)
        self.keys(spec, ("indicator", "weight", "benchmark", "direction", "cap", "floor",
                         "missing"), path, required=("weight", "benchmark"))
        ind_name = self.text(spec, "indicator", path, default=name)
        if ind_name not in indicators:
            key = "indicator" if "indicator" in spec else None
            self.fail(f"no indicator {ind_name!r}; defined: {', '.join(indicators)}",
                      spec if key else items_m, key or name, path)
        ind = indicators[ind_name]
        weight = self.number(spec, "weight", path, minimum=0, allow_none=False)
        direction = self.text(spec, "direction", path, default="higher", choices=DIRECTIONS)
        bench = self.benchmark(spec, f"{path}.benchmark", ind)
        cap = self._limit(spec, "cap", path, weight)
        floor = self._limit(spec, "floor", path, weight)
        if cap is not None and floor is not None and floor > cap:
            self.fail(f"floor {floor:g} is above cap {cap:g}", spec, "floor", f"{path}.floor")
        missing, penalty = self._missing(spec, path)
        return Item(name, ind, weight, bench, direction, cap, floor, missing, penalty)

    def benchmark(self, spec: MarkedDict, path: str, ind: Indicator) -> Benchmark:
        raw = spec["benchmark"]
        if isinstance(raw, (int, float)) and not isinstance(raw, bool):
            if raw <= 0:
                self.fail("a fixed benchmark must be positive", spec, "benchmark", path)
            return Benchmark("fixed", float(raw))
        if isinstance(raw, str):
            if raw not in BENCHMARK_METHODS or raw in ("fixed",):
                self.fail(f"{raw!r} is not a benchmark; write a number or a mapping with "
                          f"method: {', '.join(BENCHMARK_METHODS)}", spec, "benchmark", path)
            raw_m = MarkedDict(method=raw)
            raw_m.line, raw_m.key_lines = spec.line_of("benchmark"), {}
            raw = raw_m
        b = self.mapping(raw, spec, "benchmark", path)
        self.keys(b, ("method", "value", "unit", "k", "floor"), path, required=("method",))
        method = self.text(b, "method", path, choices=tuple(BENCHMARK_METHODS))
        allowed = {"fixed": {"method", "value", "unit"}, "population_average": {"method", "k"},
                   "previous_average": {"method", "k"}, "best": {"method"},
                   "min_max": {"method", "floor"}}[method]
        for k in b:
            if k not in allowed:
                self.fail(f"{k!r} does not apply to method {method}", b, k, _join(path, k))
        if method == "fixed":
            if "value" not in b:
                self.fail("method fixed needs value", b, None, f"{path}.value")
            value = self.number(b, "value", path, allow_none=False)
            if value <= 0:
                self.fail("a fixed benchmark must be positive", b, "value", f"{path}.value")
            if "unit" in b:
                bunit = self._unit(b, "unit", f"{path}.unit")
                try:
                    value *= conversion(bunit, ind.unit)
                except ValueError:
                    self.fail(f"benchmark unit {bunit.text!r} ({bunit.describe()}) does not fit "
                              f"indicator {ind.name} in {ind.unit.text!r} "
                              f"({ind.unit.describe()})", b, "unit", f"{path}.unit")
            return Benchmark("fixed", value)
        if method in ("population_average", "previous_average"):
            k = self.number(b, "k", path, default=1.0)
            if k <= 0:
                self.fail("k must be positive", b, "k", f"{path}.k")
            return Benchmark(method, k=k)
        if method == "min_max":
            return Benchmark(method, floor=self.number(b, "floor", path, default=0.0, minimum=0,
                                                       maximum=100))
        return Benchmark(method)

    def _limit(self, spec: MarkedDict, key: str, path: str, weight: float) -> float | None:
        if key not in spec or spec[key] is None:
            return None
        raw = spec[key]
        if isinstance(raw, (int, float)) and not isinstance(raw, bool):
            return float(raw)
        m = self.mapping(raw, spec, key, f"{path}.{key}")
        self.keys(m, ("points", "times_weight"), f"{path}.{key}")
        if len(m) != 1:
            self.fail("give exactly one of points or times_weight", spec, key, f"{path}.{key}")
        if "points" in m:
            return self.number(m, "points", f"{path}.{key}", allow_none=False)
        return weight * self.number(m, "times_weight", f"{path}.{key}", allow_none=False)

    def _missing(self, spec: MarkedDict, path: str) -> tuple[str, float]:
        raw = spec.get("missing", "zero")
        if isinstance(raw, str):
            if raw not in MISSING_RULES or raw == "penalty":
                self.fail(f"{raw!r} is not a missing-data rule; use zero, population_average or "
                          "{penalty: POINTS}", spec, "missing", f"{path}.missing")
            return raw, 0.0
        m = self.mapping(raw, spec, "missing", f"{path}.missing")
        self.keys(m, ("penalty",), f"{path}.missing", required=("penalty",))
        return "penalty", self.number(m, "penalty", f"{path}.missing", allow_none=False)

    def t_rules(self, doc: MarkedDict) -> TRules:
        if doc.get("class_t") is None:
            return TRules()
        m = self.mapping(doc["class_t"], doc, "class_t", "class_t")
        path = "class_t"
        self.keys(m, ("industry_divisions", "utility_flag", "min_years_producing",
                      "construction_period_years", "relocated"), path)
        divisions = self.text_list(m, "industry_divisions", path)
        for d in divisions:
            if not (len(d) == 2 and d.isdigit()):
                self.fail(f"industry division {d!r} is not two digits (GB/T 4754-2017, e.g. "
                          "'44'); quote it in YAML", m, "industry_divisions",
                          f"{path}.industry_divisions")
        years = self.number(m, "min_years_producing", path, minimum=0)
        return TRules(divisions, self.flag(m, "utility_flag", path, False),
                      int(years) if years is not None else None,
                      self.number(m, "construction_period_years", path, minimum=0),
                      self.flag(m, "relocated", path, False))

    def classes(self, doc: MarkedDict, indicators: dict[str, Indicator]) -> ClassRules:
        path = "classes"
        m = self.mapping(doc["classes"], doc, "classes", path)
        self.keys(m, ("method", "within", "quotas", "cutoffs", "tie_break", "ties", "rounding"),
                  path, required=("method",))
        method = self.text(m, "method", path, choices=("quota", "cutoff"))
        within = self.text(m, "within", path, default="county", choices=("county", "town"))
        ties = self.text(m, "ties", path, default="ordered", choices=tuple(TIE_RULES))
        rounding = self.text(m, "rounding", path, default="half_up", choices=ROUNDINGS)
        tie_break = self.text_list(m, "tie_break", path) or ("credit_code",)
        for t in tie_break:
            if t != "credit_code" and t not in indicators:
                self.fail(f"tie_break entry {t!r} is neither credit_code nor an indicator",
                          m, "tie_break", f"{path}.tie_break")
        quotas: dict[str, float] = {}
        cutoffs: dict[str, float] = {}
        if method == "quota":
            if "quotas" not in m:
                self.fail("method quota needs quotas: {A: 0.2, B: 0.4, C: 0.35, D: 0.05}", m,
                          None, f"{path}.quotas")
            q = self.mapping(m["quotas"], m, "quotas", f"{path}.quotas")
            self.keys(q, CLASSES, f"{path}.quotas")
            for c in CLASSES:
                quotas[c] = self.number(q, c, f"{path}.quotas", default=0.0, minimum=0,
                                        maximum=1)
            if abs(sum(quotas.values()) - 1.0) > 1e-9:
                self.fail(f"quotas add up to {sum(quotas.values()):g}, not 1 (shares of the "
                          "ranked firms, e.g. 0.2 for 20 %)", m, "quotas", f"{path}.quotas")
        else:
            if "cutoffs" not in m:
                self.fail("method cutoff needs cutoffs: {A: 90, B: 70, C: 50} (lowest total of "
                          "each class; below C is D)", m, None, f"{path}.cutoffs")
            q = self.mapping(m["cutoffs"], m, "cutoffs", f"{path}.cutoffs")
            self.keys(q, CLASSES[:3], f"{path}.cutoffs", required=CLASSES[:3])
            for c in CLASSES[:3]:
                cutoffs[c] = self.number(q, c, f"{path}.cutoffs", allow_none=False)
            if not cutoffs["A"] > cutoffs["B"] > cutoffs["C"]:
                self.fail("cut-offs must fall from A to C", m, "cutoffs", f"{path}.cutoffs")
        return ClassRules(method, within, quotas, cutoffs, tie_break, ties, rounding)

    def adjustments(self, doc: MarkedDict) -> AdjustmentRules:
        if doc.get("adjustments") is None:
            return AdjustmentRules()
        path = "adjustments"
        m = self.mapping(doc["adjustments"], doc, "adjustments", path)
        self.keys(m, ("files", "max_bonus", "max_penalty"), path)
        files = []
        for f in self.text_list(m, "files", path):
            p = Path(f)
            if not p.is_absolute() and self.base_dir is not None:
                p = self.base_dir / p
            if p.suffix.lower() not in (".csv", ".xlsx", ".xls"):
                self.fail(f"adjustment list {f!r} must be .csv, .xlsx or .xls", m, "files",
                          f"{path}.files")
            files.append(p)
        return AdjustmentRules(tuple(files), self.number(m, "max_bonus", path, minimum=0),
                               self.number(m, "max_penalty", path, minimum=0))

    def warnings(self, doc: MarkedDict) -> WarningRules:
        if doc.get("warnings") is None:
            return WarningRules()
        path = "warnings"
        m = self.mapping(doc["warnings"], doc, "warnings", path)
        self.keys(m, ("power_no_tax", "zero_electricity", "tax_per_mu_high", "yoy_jump",
                      "records_no_land", "land_no_records"), path)
        d = WarningRules()
        kwh, max_tax = d.power_no_tax_kwh, d.power_no_tax_max_tax_wan
        if "power_no_tax" in m:
            if m["power_no_tax"] is False:
                kwh = None
            else:
                p = self.mapping(m["power_no_tax"], m, "power_no_tax", f"{path}.power_no_tax")
                self.keys(p, ("min_electricity_kwh", "max_tax_wan"), f"{path}.power_no_tax")
                kwh = self.number(p, "min_electricity_kwh", f"{path}.power_no_tax", default=kwh,
                                  minimum=0)
                max_tax = self.number(p, "max_tax_wan", f"{path}.power_no_tax",
                                      default=max_tax, minimum=0)
        high = d.tax_per_mu_high
        if "tax_per_mu_high" in m:
            if m["tax_per_mu_high"] is False:
                high = None
            else:
                p = self.mapping(m["tax_per_mu_high"], m, "tax_per_mu_high",
                                 f"{path}.tax_per_mu_high")
                self.keys(p, ("above_wan_per_mu",), f"{path}.tax_per_mu_high")
                high = self.number(p, "above_wan_per_mu", f"{path}.tax_per_mu_high",
                                   default=high, minimum=0)
        factor, fields = d.yoy_factor, d.yoy_fields
        if "yoy_jump" in m:
            if m["yoy_jump"] is False:
                factor = None
            else:
                from scoring.formula import ANNUAL_FIELDS

                p = self.mapping(m["yoy_jump"], m, "yoy_jump", f"{path}.yoy_jump")
                self.keys(p, ("factor", "fields"), f"{path}.yoy_jump")
                factor = self.number(p, "factor", f"{path}.yoy_jump", default=factor, minimum=1)
                fields = self.text_list(p, "fields", f"{path}.yoy_jump",
                                        choices=ANNUAL_FIELDS) or fields
        return WarningRules(kwh, max_tax, self.flag(m, "zero_electricity", path, True), high,
                            factor, fields, self.flag(m, "records_no_land", path, True),
                            self.flag(m, "land_no_records", path, True))


def _join(path: str, key: Any) -> str:
    return f"{path}.{key}" if path else str(key)


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    return "text"
