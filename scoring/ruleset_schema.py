"""The rule-set YAML, declared once, and what turns it into a :class:`~scoring.ruleset_model.RuleSet`.

:data:`SCHEMA` declares every key with its kind, bounds, default and meaning, using the
rule-file helper :mod:`gis.yaml_schema` (which names the file, line and dotted key of any
mistake). :func:`build` then applies what a declaration cannot say — formulas and units,
items naming defined indicators, each size class in one population, quotas adding up to
1, falling cut-offs — failing at the line of the key at fault.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gis.yaml_schema import (
    Check,
    Checked,
    Const,
    Doc,
    Flag,
    Number,
    OneOf,
    Record,
    Table,
    Text,
    TextList,
)
from scoring.errors import FormulaError
from scoring.formula import ANNUAL_FIELDS, FormulaProblem, compile_formula
from scoring.ruleset_model import (
    BENCHMARK_METHODS,
    CLASSES,
    DEFAULT_MAX_POINTS,
    DIRECTIONS,
    MISSING_RULES,
    ROUNDINGS,
    SIZE_CLASSES,
    TIE_RULES,
    AdjustmentRules,
    Benchmark,
    ClassRules,
    Indicator,
    Item,
    Population,
    ProtectionRules,
    TRules,
    WarningRules,
)
from scoring.units import Unit, conversion, parse_unit


def _benchmark_word(word: str) -> str | None:
    if word in BENCHMARK_METHODS and word != "fixed":
        return None
    return (f"{word!r} is not a benchmark; write a number or a mapping with method: "
            + ", ".join(BENCHMARK_METHODS))


def _missing_word(word: str) -> str | None:
    if word in MISSING_RULES and word != "penalty":
        return None
    return (f"{word!r} is not a missing-data rule; use zero, population_average or "
            "{penalty: POINTS}")


def _one_limit(m: dict) -> str | None:
    given = [k for k, v in m.items() if v is not None]
    return None if len(given) == 1 else "give exactly one of points or times_weight"


def _two_digits(codes: tuple[str, ...]) -> str | None:
    for d in codes:
        if not (len(d) == 2 and d.isdigit()):
            return (f"industry division {d!r} is not two digits (GB/T 4754-2017, e.g. '44'); "
                    "quote it in YAML")
    return None


_LIMIT = OneOf(Number(), Check(Record({"points": Number(), "times_weight": Number()}),
                               _one_limit),
               what="a number of points, {points: P} or {times_weight: k}")

_ITEM = Record({
    "indicator": Text(help="the indicator scored (default: the item's name)"),
    "weight": Number(minimum=0, help="points for a value equal to the benchmark"),
    "benchmark": OneOf(
        Number(above=0), Check(Text(), _benchmark_word),
        Record({"method": Text(choices=tuple(BENCHMARK_METHODS)), "value": Number(),
                "unit": Text(), "k": Number(), "floor": Number(minimum=0, maximum=100)},
               required=("method",)),
        what="a number or a mapping with method", help="reference value or method"),
    "direction": Text(choices=DIRECTIONS, default="higher", help="higher or lower is better"),
    "cap": _LIMIT, "floor": _LIMIT,
    "missing": OneOf(Check(Text(), _missing_word),
                     Record({"penalty": Number()}, required=("penalty",)),
                     what="zero, population_average or {penalty: POINTS}", default="zero"),
}, required=("weight", "benchmark"))

#: The rule-set file, declared once (docs/scoring.md's reference table lists it).
SCHEMA = Record({
    "name": Text(help="short id stored with every run"),
    "title": Text(help="description"),
    "source": Text(default="", nonempty=False, help="where the method is published"),
    "data_year": Number(minimum=1990, maximum=2100, integer=True,
                        help="data year of the benchmarks"),
    "indicators": Table(Record({"label": Text(), "formula": Text(), "unit": Text()},
                               required=("formula", "unit")), min_items=1,
                        help="name -> {formula, unit, label}"),
    "populations": Table(Record({
        "label": Text(), "size_class": TextList(choices=SIZE_CLASSES),
        "min_land_mu": Number(minimum=0, default=0.0), "min_floor_m2": Number(minimum=0),
        "items": Table(_ITEM, min_items=1)}, required=("items",)), min_items=1,
        help="name -> {label, size_class, min_land_mu, min_floor_m2, items}"),
    "class_t": Record({
        "industry_divisions": Check(TextList(), _two_digits),
        "utility_flag": Flag(default=False), "min_years_producing": Number(minimum=0,
                                                                            integer=True),
        "construction_period_years": Number(minimum=0), "relocated": Flag(default=False)},
        help="exempt or deferred firms (class T)"),
    "protection": Record({
        "first_year_above_scale": Flag(default=False,
                                       help="firms in their first year above scale"),
        "years_after_start": Number(minimum=0, maximum=20,
                                    help="firms registered less than N years ago")},
        help="protection period: scored and listed, not classed"),
    "classes": Record({
        "method": Text(choices=("quota", "cutoff")),
        "within": Text(choices=("county", "town"), default="county"),
        "quotas": Record({c: Number(minimum=0, maximum=1, default=0.0) for c in CLASSES}),
        "cutoffs": Record({c: Number() for c in CLASSES[:3]}, required=CLASSES[:3]),
        "tie_break": TextList(default=("credit_code",)),
        "ties": Text(choices=tuple(TIE_RULES), default="ordered"),
        "rounding": Text(choices=ROUNDINGS, default="half_up")}, required=("method",)),
    "adjustments": Record({
        "files": TextList(help="lists relative to the rule set"),
        "max_bonus": Number(minimum=0, help="bonus points counted at most"),
        "max_penalty": Number(minimum=0, help="penalty points counted at most"),
        "max_points": Number(above=0, maximum=100, default=DEFAULT_MAX_POINTS,
                             help="largest bonus or penalty of one list row")}),
    "warnings": Record({
        "power_no_tax": OneOf(Const(False), Record({
            "min_electricity_kwh": Number(minimum=0), "max_tax_wan": Number(minimum=0)}),
            what="false or a mapping"),
        "zero_electricity": Flag(default=True),
        "tax_per_mu_high": OneOf(Const(False), Record({
            "above_wan_per_mu": Number(minimum=0)}), what="false or a mapping"),
        "yoy_jump": OneOf(Const(False), Record({
            "factor": Number(minimum=1), "fields": TextList(choices=ANNUAL_FIELDS)}),
            what="false or a mapping"),
        "records_no_land": Flag(default=True), "land_no_records": Flag(default=True)}),
}, required=("name", "indicators", "populations", "classes"),
    shape="name, indicators, populations and classes")


def build(doc: Checked, where: Doc, base_dir: Path | None) -> dict[str, Any]:
    """The :class:`~scoring.ruleset_model.RuleSet` fields of a validated document.

    Raises
    ------
    RuleSetError
        (``where.error``) a rule across keys is broken; names the line and key.
    """
    name = doc["name"]
    indicators = _indicators(doc, where)
    return {
        "name": name, "title": doc["title"] or name, "source": doc["source"],
        "data_year": doc["data_year"], "indicators": indicators,
        "populations": _populations(doc, where, indicators),
        "t_rules": _t_rules(doc["class_t"]), "classes": _classes(doc, where, indicators),
        "adjustments": _adjustments(doc, where, base_dir),
        "warnings": _warnings(doc["warnings"]), "protection": _protection(doc["protection"]),
    }


def _unit(m: Checked, key: str, path: str, where: Doc) -> Unit:
    try:
        return parse_unit(m[key])
    except ValueError as exc:
        where.fail(str(exc), m, key, path)


def _indicators(doc: Checked, where: Doc) -> dict[str, Indicator]:
    section = doc["indicators"]
    out = {}
    for name, spec in section.items():
        path = f"indicators.{name}"
        if not name.isidentifier():
            where.fail("indicator names are words of letters, digits and _", section, name,
                       path)
        try:
            formula = compile_formula(spec["formula"])
        except FormulaProblem as exc:
            Doc(where.source, FormulaError).fail(str(exc), spec, "formula", f"{path}.formula")
        unit = _unit(spec, "unit", f"{path}.unit", where)
        try:
            conv = conversion(formula.unit, unit)
        except ValueError:
            where.fail(f"the formula {formula.text!r} gives {formula.unit.describe()} but the "
                       f"stated unit {unit.text!r} is {unit.describe()}; fix the formula or "
                       "the unit", spec, "unit", f"{path}.unit")
        out[name] = Indicator(name, spec["label"] or name, formula, unit, conv)
    return out


def _populations(doc: Checked, where: Doc, indicators: dict[str, Indicator]
                 ) -> tuple[Population, ...]:
    section = doc["populations"]
    out = []
    for name, spec in section.items():
        path = f"populations.{name}"
        items = tuple(_item(spec["items"], iname, f"{path}.items.{iname}", indicators, where)
                      for iname in spec["items"])
        out.append(Population(name, spec["label"] or name, spec["size_class"] or SIZE_CLASSES,
                              spec["min_land_mu"], spec["min_floor_m2"], items))
    seen: dict[str, str] = {}
    for p in out:
        for s in p.size_classes:
            if s in seen:
                where.fail(f"size class {s!r} is already in population {seen[s]!r}; each size "
                           "class belongs to one population", section[p.name], "size_class",
                           f"populations.{p.name}.size_class")
            seen[s] = p.name
    return tuple(out)


def _item(items_m: Checked, name: str, path: str, indicators: dict[str, Indicator],
          where: Doc) -> Item:
    spec = items_m[name]
    ind_name = spec["indicator"] or name
    if ind_name not in indicators:
        m, key = (spec, "indicator") if spec["indicator"] else (items_m, name)
        where.fail(f"no indicator {ind_name!r}; defined: {', '.join(indicators)}", m, key, path)
    ind = indicators[ind_name]
    weight = spec["weight"]
    bench = _benchmark(spec, f"{path}.benchmark", ind, where)
    cap = _limit(spec["cap"], weight)
    floor = _limit(spec["floor"], weight)
    if cap is not None and floor is not None and floor > cap:
        where.fail(f"floor {floor:g} is above cap {cap:g}", spec, "floor", f"{path}.floor")
    missing = spec["missing"]
    if isinstance(missing, dict):
        return Item(name, ind, weight, bench, spec["direction"], cap, floor, "penalty",
                    missing["penalty"])
    return Item(name, ind, weight, bench, spec["direction"], cap, floor, missing, 0.0)


def _limit(raw: Any, weight: float) -> float | None:
    if raw is None or isinstance(raw, float):
        return raw
    if raw["points"] is not None:
        return raw["points"]
    return weight * raw["times_weight"]


_BENCHMARK_KEYS = {"fixed": {"method", "value", "unit"}, "population_average": {"method", "k"},
                   "previous_average": {"method", "k"}, "best": {"method"},
                   "min_max": {"method", "floor"}}


def _benchmark(spec: Checked, path: str, ind: Indicator, where: Doc) -> Benchmark:
    raw = spec["benchmark"]
    if isinstance(raw, float):
        return Benchmark("fixed", raw)
    if isinstance(raw, str):
        return Benchmark(raw)
    method = raw["method"]
    for k in raw.key_lines:
        if k not in _BENCHMARK_KEYS[method]:
            where.fail(f"{k!r} does not apply to method {method}", raw, k, f"{path}.{k}")
    if method == "fixed":
        if raw["value"] is None:
            where.fail("method fixed needs value", raw, None, f"{path}.value")
        value = raw["value"]
        if value <= 0:
            where.fail("a fixed benchmark must be positive", raw, "value", f"{path}.value")
        if raw["unit"] is not None:
            bunit = _unit(raw, "unit", f"{path}.unit", where)
            try:
                value *= conversion(bunit, ind.unit)
            except ValueError:
                where.fail(f"benchmark unit {bunit.text!r} ({bunit.describe()}) does not fit "
                           f"indicator {ind.name} in {ind.unit.text!r} ({ind.unit.describe()})",
                           raw, "unit", f"{path}.unit")
        return Benchmark("fixed", value)
    if method in ("population_average", "previous_average"):
        k = 1.0 if raw["k"] is None else raw["k"]
        if k <= 0:
            where.fail("k must be positive", raw, "k", f"{path}.k")
        return Benchmark(method, k=k)
    if method == "min_max":
        return Benchmark(method, floor=raw["floor"] or 0.0)
    return Benchmark(method)


def _t_rules(m: Checked | None) -> TRules:
    if m is None:
        return TRules()
    return TRules(m["industry_divisions"], m["utility_flag"], m["min_years_producing"],
                  m["construction_period_years"], m["relocated"])


def _protection(m: Checked | None) -> ProtectionRules:
    if m is None:
        return ProtectionRules()
    return ProtectionRules(m["first_year_above_scale"], m["years_after_start"])


def _classes(doc: Checked, where: Doc, indicators: dict[str, Indicator]) -> ClassRules:
    path = "classes"
    m = doc["classes"]
    for t in m["tie_break"]:
        if t != "credit_code" and t not in indicators:
            where.fail(f"tie_break entry {t!r} is neither credit_code nor an indicator", m,
                       "tie_break", f"{path}.tie_break")
    quotas: dict[str, float] = {}
    cutoffs: dict[str, float] = {}
    if m["method"] == "quota":
        if m["quotas"] is None:
            where.fail("method quota needs quotas: {A: 0.2, B: 0.4, C: 0.35, D: 0.05}", m, None,
                       f"{path}.quotas")
        quotas = {c: m["quotas"][c] for c in CLASSES}
        if abs(sum(quotas.values()) - 1.0) > 1e-9:
            where.fail(f"quotas add up to {sum(quotas.values()):g}, not 1 (shares of the ranked "
                       "firms, e.g. 0.2 for 20 %)", m, "quotas", f"{path}.quotas")
    else:
        if m["cutoffs"] is None:
            where.fail("method cutoff needs cutoffs: {A: 90, B: 70, C: 50} (lowest total of "
                       "each class; below C is D)", m, None, f"{path}.cutoffs")
        cutoffs = {c: m["cutoffs"][c] for c in CLASSES[:3]}
        if not cutoffs["A"] > cutoffs["B"] > cutoffs["C"]:
            where.fail("cut-offs must fall from A to C", m, "cutoffs", f"{path}.cutoffs")
    return ClassRules(m["method"], m["within"], quotas, cutoffs, m["tie_break"], m["ties"],
                      m["rounding"])


def _adjustments(doc: Checked, where: Doc, base_dir: Path | None) -> AdjustmentRules:
    m = doc["adjustments"]
    if m is None:
        return AdjustmentRules()
    files = []
    for f in m["files"]:
        p = Path(f)
        if not p.is_absolute() and base_dir is not None:
            p = base_dir / p
        if p.suffix.lower() not in (".csv", ".xlsx", ".xls"):
            where.fail(f"adjustment list {f!r} must be .csv, .xlsx or .xls", m, "files",
                       "adjustments.files")
        files.append(p)
    return AdjustmentRules(tuple(files), m["max_bonus"], m["max_penalty"], m["max_points"])


def _warnings(m: Checked | None) -> WarningRules:
    d = WarningRules()
    if m is None:
        return d
    kwh, max_tax = d.power_no_tax_kwh, d.power_no_tax_max_tax_wan
    if m["power_no_tax"] is False:
        kwh = None
    elif m["power_no_tax"] is not None:
        p = m["power_no_tax"]
        kwh = kwh if p["min_electricity_kwh"] is None else p["min_electricity_kwh"]
        max_tax = max_tax if p["max_tax_wan"] is None else p["max_tax_wan"]
    high = d.tax_per_mu_high
    if m["tax_per_mu_high"] is False:
        high = None
    elif m["tax_per_mu_high"] is not None and m["tax_per_mu_high"]["above_wan_per_mu"] \
            is not None:
        high = m["tax_per_mu_high"]["above_wan_per_mu"]
    factor, fields = d.yoy_factor, d.yoy_fields
    if m["yoy_jump"] is False:
        factor = None
    elif m["yoy_jump"] is not None:
        p = m["yoy_jump"]
        factor = factor if p["factor"] is None else p["factor"]
        fields = p["fields"] or fields
    return WarningRules(kwh, max_tax, m["zero_electricity"], high, factor, fields,
                        m["records_no_land"], m["land_no_records"])
