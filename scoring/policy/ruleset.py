"""Policy rule sets: the YAML declared once, validated, and turned into a :class:`PolicyRuleSet`.

The declaration (:data:`SCHEMA`) uses the project's one rule-file helper,
:mod:`gis.yaml_schema`: every mistake names the file, the line and the dotted key.
:func:`build` then applies the rules across keys (a rate for an unknown class, a parameter
that is not declared, a period that ends before it starts, a source an item cannot have).

Bundled presets live in ``scoring/policy/presets/`` (``taicang-2018``, ``nanjing-2018``
and the commented ``template``). A figure no published document confirms is never a
default there: it is a county *parameter* without a value (the item is skipped, with a
warning, until the county sets it, in its copy of the file or with ``--param``).

Examples
--------
>>> rs = load_policy("nanjing-2018")
>>> rs.classes, [d.name for d in rs.derived]
(('A', 'B', 'C', 'D'), ['C-'])
"""

from __future__ import annotations

import datetime
import hashlib
import re
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

from gis.yaml_schema import (
    At,
    Checked,
    Doc,
    Field,
    Flag,
    Number,
    OneOf,
    Record,
    Table,
    Text,
    TextList,
    read_text,
    validate,
)
from scoring.errors import PolicyError
from scoring.policy.model import (
    FLAGS,
    ITEM_KINDS,
    POPULATIONS,
    QUOTA_KINDS,
    SCORE_CLASSES,
    SOURCES,
    DerivedClass,
    Parameter,
    Period,
    PolicyItem,
    PolicyRuleSet,
    month_index,
)

_MONTH = re.compile(r"^(\d{4})-(\d{1,2})(?:-(\d{1,2}))?$")


def parse_month(text: str) -> int | None:
    """Month number of ``YYYY-MM`` or ``YYYY-MM-DD`` (the day is ignored), else ``None``.

    >>> parse_month("2018-07-01") == parse_month("2018-07")
    True
    """
    m = _MONTH.match(str(text).strip())
    if not m or not 1 <= int(m.group(2)) <= 12 or not 1990 <= int(m.group(1)) <= 2100:
        return None
    return month_index(int(m.group(1)), int(m.group(2)))


class Month(Field):
    """A month: ``2018-07`` or a date (``2018-07-01``, YAML reads it as a date)."""

    kinds = (str, datetime.date)

    def convert(self, value: Any, at: At) -> str:
        if isinstance(value, datetime.date):
            value = f"{value.year:04d}-{value.month:02d}"
        if not isinstance(value, str) or parse_month(value) is None:
            at.fail(f"{value!r} is not a month; write YYYY-MM (e.g. 2018-07) or YYYY-MM-DD")
        return value


_MONTH_FIELD = Month()
_PERIOD = Record({
    "start": Month(help="first month in force (YYYY-MM)"),
    "end": Month(help="last month in force (YYYY-MM)"),
}, required=("start", "end"), shape="start and end months")

_RATE = OneOf(Number(minimum=-1e6, maximum=1e6),
              Text(help="the name of a county parameter (parameters:)"),
              what="a number or the name of a county parameter")

_ITEM = Record({
    "kind": Text(choices=ITEM_KINDS, help="what the item is: " + ", ".join(ITEM_KINDS)),
    "rates": Table(_RATE, min_items=1,
                   help="class: rate. Price items: 元 per kWh or m³ added (negative: "
                        "relief); land_tax: share of the tax due (-1 = full relief, 0.2 = "
                        "20 % surcharge); quotas: share of last year's use granted (+) or "
                        "cut (-), or with basis fixed the tce/t granted or cut"),
    "source": Text(help="where the base quantity comes from: accounts (utility accounts), "
                        "records (enterprise annual records), land_tax (the tax base), "
                        "fixed (a quota of fixed size)"),
    "period": Record(_PERIOD.fields, required=("start", "end"),
                     help="the item's own months in force (default: the rule set's)"),
    "collector": Text(help="who collects or grants (供电公司, 税务局 ...)"),
    "refundable": Flag(default=False, help="the surcharge may be returned as a reward "
                                           "(Cixi: 征收及返还)"),
    "borne_by": Text(help="who bears a relief the province has not delegated "
                          "(\"缺额部门先期由政府补贴\")"),
    "note": Text(help="the clause of the document, for the notice and the export"),
}, required=("kind", "rates"), noun="item key")

_DERIVED = Record({
    "within": Text(help="the scored class it is cut out of (C)"),
    "rate_of": Text(help="the class whose rates it pays a share of (D)"),
    "factor": Number(minimum=0, maximum=10, help="the share of rate_of's rates (0.5: half)"),
    "lowest_share": Number(above=0, maximum=1,
                           help="members: this share of `within`, lowest total first "
                                "(a county parameter)"),
    "members": TextList(help="members by credit code (instead of, or beside, lowest_share)"),
}, required=("within", "rate_of", "factor"))

_PARAMETER = Record({
    "value": Number(minimum=-1e6, maximum=1e6, help="the figure (empty: not set yet)"),
    "unit": Text(help="its unit"),
    "note": Text(help="where the county finds it"),
})

SCHEMA = Record({
    "name": Text(help="short id (taicang-2018)"),
    "title": Text(help="the document's title"),
    "jurisdiction": Text(help="county or city (太仓市)"),
    "year": Number(integer=True, minimum=1990, maximum=2100,
                   help="the policy year (classes of this or the previous data year)"),
    "source": Text(help="the published document the figures come from"),
    "class_year": Text(choices=("previous", "current"), default="previous",
                       help="whose class applies: the previous data year's (the usual rule) "
                            "or the policy year's"),
    "period": _PERIOD,
    "classes": TextList(choices=SCORE_CLASSES[:-1], default=("A", "B", "C", "D"),
                        help="the scored classes the scheme names"),
    "derived_classes": Table(_DERIVED, help="classes cut out of another (C-: half of D)"),
    "exempt": Record({
        "classes": TextList(default=("T",), help="classes with nothing (T: not evaluated)"),
        "industries": TextList(help="GB/T 4754 divisions with nothing (utilities 44-46)"),
        "enterprises": TextList(help="credit codes with nothing (new firms, relocated)"),
    }, help="who is left out of every item"),
    "phase_in": Table(_MONTH_FIELD, key=Text(choices=POPULATIONS),
                      help="first month per population (large: 规上, small: 规下)"),
    "items": Table(_ITEM, min_items=1, help="item name: the item"),
    "flags": Table(TextList(choices=FLAGS), help="class: eligibility flags"),
    "parameters": Table(_PARAMETER, help="county parameters named by rates"),
}, required=("name", "year", "period", "items"),
   shape="name, year, period and items")


def _decimal(value: float | int) -> Decimal:
    """The decimal the YAML author wrote (0.17 stays 0.17, not its binary neighbour)."""
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(int(value))


def _period(rec: Checked, where: Doc, path: str) -> Period:
    start, end = parse_month(rec["start"]), parse_month(rec["end"])
    if end < start:
        where.fail(f"ends ({rec['end']}) before it starts ({rec['start']})", rec, "end",
                   f"{path}.end")
    return Period(start, end)


def build(doc: Checked, where: Doc, params: dict[str, float] | None = None) -> dict[str, Any]:
    """The keyword arguments of :class:`PolicyRuleSet` from a validated document.

    ``params`` set county parameters (``--param NAME=VALUE``), over the file's values.
    """
    classes = tuple(doc["classes"])
    parameters = {}
    for name, p in doc["parameters"].items():
        value = None if p["value"] is None else _decimal(p["value"])
        parameters[name] = Parameter(name, value, p["unit"] or "", p["note"] or "")
    for name, value in (params or {}).items():
        if name not in parameters:
            raise PolicyError(f"--param {name}: the rule set declares no such parameter; "
                              f"declared: {', '.join(parameters) or 'none'}",
                              source=where.source)
        old = parameters[name]
        parameters[name] = Parameter(name, _decimal(value), old.unit, old.note)
    derived = []
    for name, d in doc["derived_classes"].items():
        path = f"derived_classes.{name}"
        if name in SCORE_CLASSES:
            where.fail(f"{name!r} is a scored class; a derived class needs its own name "
                       "(C-)", doc["derived_classes"], name, path)
        for key in ("within", "rate_of"):
            if d[key] not in classes:
                where.fail(f"{d[key]!r} is not one of the classes {', '.join(classes)}",
                           d, key, f"{path}.{key}")
        derived.append(DerivedClass(name, d["within"], d["rate_of"], _decimal(d["factor"]),
                                    d["lowest_share"], tuple(d["members"])))
    known = (*classes, *(d.name for d in derived))
    items = []
    for name, it in doc["items"].items():
        path = f"items.{name}"
        kind = it["kind"]
        source = it["source"] or SOURCES[kind][0]
        if source not in SOURCES[kind]:
            where.fail(f"a {kind} item takes its base from {' or '.join(SOURCES[kind])}, not "
                       f"{source!r}", it, "source", f"{path}.source")
        rates: dict[str, Decimal | str] = {}
        for klass, rate in it["rates"].items():
            if klass not in known:
                where.fail(f"{klass!r} is not a class of this rule set ({', '.join(known)})",
                           it["rates"], klass, f"{path}.rates.{klass}")
            if isinstance(rate, str):
                if rate not in parameters:
                    where.fail(f"{rate!r} is not a declared parameter (parameters: "
                               f"{', '.join(parameters) or 'none'})", it["rates"], klass,
                               f"{path}.rates.{klass}")
                rates[klass] = rate
            else:
                if kind == "land_tax" and not -1 <= rate <= 10:
                    where.fail(f"a land-tax rate is a share of the tax due between -1 (full "
                               f"relief) and 10, not {rate:g}", it["rates"], klass,
                               f"{path}.rates.{klass}")
                if kind in QUOTA_KINDS and source == "records" and not -1 <= rate <= 10:
                    where.fail(f"a quota rate is a share of last year's use between -1 and "
                               f"10, not {rate:g} (basis fixed: write source: fixed)",
                               it["rates"], klass, f"{path}.rates.{klass}")
                rates[klass] = _decimal(rate)
        period = _period(it["period"], where, f"{path}.period") if it["period"] else None
        items.append(PolicyItem(name, kind, rates, source,
                                basis="fixed" if source == "fixed" else "share",
                                period=period, collector=it["collector"] or "",
                                refundable=it["refundable"], borne_by=it["borne_by"] or "",
                                note=it["note"] or ""))
    flags = {}
    for klass, fl in doc["flags"].items():
        if klass not in known:
            where.fail(f"{klass!r} is not a class of this rule set ({', '.join(known)})",
                       doc["flags"], klass, f"flags.{klass}")
        flags[klass] = tuple(fl)
    ex = doc["exempt"] or {"classes": ("T",), "industries": (), "enterprises": ()}
    return dict(name=doc["name"], title=doc["title"] or doc["name"],
                jurisdiction=doc["jurisdiction"] or "", year=int(doc["year"]),
                source=doc["source"] or "", class_year=doc["class_year"],
                period=_period(doc["period"], where, "period"), classes=classes,
                derived=tuple(derived), exempt_classes=tuple(ex["classes"]),
                exempt_industries=tuple(ex["industries"]),
                exempt_enterprises=tuple(ex["enterprises"]),
                phase_in={k: parse_month(v) for k, v in doc["phase_in"].items()},
                items=tuple(items), flags=flags, parameters=parameters)


# ---------------------------------------------------------------- presets and loading
def _preset_dir():
    return resources.files("scoring.policy") / "presets"


def preset_names() -> list[str]:
    """Names of the bundled policy rule sets (the commented ``template`` included)."""
    return sorted(p.name[:-5] for p in _preset_dir().iterdir() if p.name.endswith(".yaml"))


def preset_text(name: str) -> str:
    """The YAML text of a bundled policy rule set."""
    path = _preset_dir() / f"{name}.yaml"
    if not path.is_file():
        raise PolicyError(f"没有名为「{name}」的内置政策规则；内置：{'、'.join(preset_names())}；"
                          "或给出 YAML 文件的路径")
    return path.read_text(encoding="utf-8")


def parse_policy(text: str, *, source: str = "<policy rule set>",
                 params: dict[str, float] | None = None) -> PolicyRuleSet:
    """Validate policy YAML ``text`` (``params``: county parameters set from outside)."""
    doc = validate(SCHEMA, text, source=source, error=PolicyError)
    return PolicyRuleSet(**build(doc, Doc(source, PolicyError), params), path=source,
                         sha256=hashlib.sha256(text.encode()).hexdigest())


def load_policy(name_or_path: str | Path,
                params: dict[str, float] | None = None) -> PolicyRuleSet:
    """Load a bundled preset by name or a YAML file by path, validated.

    Raises
    ------
    PolicyError
        Unknown preset, unreadable file, bad YAML or any schema problem (file, line, key).
    """
    path = Path(str(name_or_path))
    if path.suffix.lower() in (".yaml", ".yml") or path.exists():
        return parse_policy(read_text(path, Doc(str(path), PolicyError)), source=str(path),
                            params=params)
    return parse_policy(preset_text(str(name_or_path)), source=str(name_or_path),
                        params=params)


def open_points(rs: PolicyRuleSet) -> list[str]:
    """What the county still has to set before the rule set computes everything (in Chinese)."""
    out = [f"参数 {p.name}（{p.unit or '无单位'}）未设定：项目 "
           + "、".join(i.name for i in rs.items if p.name in i.rates.values())
           + " 暂不计算（在规则文件中或用 --param 名称=数值 设定）"
           for p in rs.parameters.values() if p.value is None]
    out += [f"派生等级 {d.name} 未指定成员：设定 lowest_share（{d.within} 类中总分最低的比例）"
            "或 members（统一社会信用代码）"
            for d in rs.derived if d.lowest_share is None and not d.members]
    return out


def list_policies() -> list[dict[str, Any]]:
    """One record per bundled preset: name, title, jurisdiction, year, source, open points."""
    out = []
    for name in preset_names():
        rs = load_policy(name)
        out.append({"name": name, "title": rs.title, "jurisdiction": rs.jurisdiction,
                    "year": rs.year, "source": rs.source,
                    "open_points": open_points(rs)})
    return out
