"""Indicator formulas: a small safe expression language, evaluated over whole columns.

A formula is arithmetic over the annual fields of an enterprise and its occupied land::

    tax_wan / land_mu                       # 亩均税收
    value_added_wan / energy_tce            # 单位能耗增加值
    rd_wan / revenue_wan                    # R&D intensity
    growth(tax_wan)                         # tax growth against the previous year
    tax_wan / (electricity_kwh / 10000)     # numbers are pure numbers, never units

It is parsed with :mod:`ast` and only numbers, the variables of :data:`VARIABLES`,
``+ - * /``, ``**`` with a small whole exponent, parentheses and the functions of
:data:`FUNCTIONS` are accepted: nothing is passed to ``eval``. A formula is bounded
before it is parsed and compiled (:data:`LIMITS`: length, number of terms, nesting
depth, exponent), so a hostile or mistyped rule set gets an error, never a crash. The compiled formula
carries its unit, inferred from the variables' units (``tax_wan / land_mu`` is 万元/mu),
and is evaluated with numpy on whole arrays, so scoring 100,000 enterprises is a few
array operations per indicator. Divisions by zero and other non-finite results become
NaN, i.e. *missing* for the scoring rules.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from scoring.units import DIMENSIONLESS, Unit, parse_unit

#: variable -> unit (values are read in these units from the database and occupancy).
VARIABLES: dict[str, str] = {
    "tax_wan": "万元",
    "revenue_wan": "万元",
    "value_added_wan": "万元",
    "energy_tce": "tce",
    "electricity_kwh": "kWh",
    "rd_wan": "万元",
    "employees": "person",
    "emissions_t": "t",
    "land_mu": "mu",
    "land_m2": "m2",
    "floor_m2": "m2",
}

#: annual fields (have a previous-year value for ``prev()`` and ``growth()``)
ANNUAL_FIELDS = ("tax_wan", "revenue_wan", "value_added_wan", "energy_tce", "electricity_kwh",
                 "rd_wan", "employees", "emissions_t")

FUNCTIONS = {
    "prev": "the previous year's value of an annual field: prev(tax_wan)",
    "growth": "growth rate against the previous year, x / prev(x) - 1 (missing when the "
              "previous value is missing or not positive): growth(tax_wan)",
    "min": "smaller of two values: min(a, b)",
    "max": "larger of two values: max(a, b)",
    "abs": "absolute value: abs(x)",
}

#: Bounds of a formula. Published county formulas are a few terms long (the longest
#: bundled one has 7 nodes and depth 3); these leave ample room and keep parsing,
#: unit inference and evaluation far from Python's recursion limit.
LIMITS = {
    "characters": 1000,     # text length, checked before parsing
    "nodes": 400,           # numbers, names, operators and calls
    "depth": 100,           # nesting of operators, calls and unary signs
    "exponent": 6,          # |n| in x ** n
}

Columns = Mapping[str, np.ndarray]
Evaluator = Callable[[Columns], np.ndarray]


class FormulaProblem(ValueError):
    """A formula is not in the allowed language (message says what and where)."""


@dataclass(frozen=True)
class Formula:
    """A compiled formula: its text, unit, the columns it reads, and how to evaluate it."""

    text: str
    unit: Unit
    columns: frozenset[str]
    _eval: Evaluator

    def evaluate(self, columns: Columns) -> np.ndarray:
        """Values for every row (float64); non-finite results become NaN."""
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            out = np.asarray(self._eval(columns), dtype=np.float64)
        if out.ndim == 0:
            n = len(next(iter(columns.values()))) if columns else 1
            out = np.full(n, float(out))
        return np.where(np.isfinite(out), out, np.nan)


def compile_formula(text: str) -> Formula:
    """Parse and check ``text``; return a :class:`Formula`.

    Raises
    ------
    FormulaProblem
        Syntax error, unknown name or function, adding quantities of different
        dimensions, or an operation outside the language.

    Examples
    --------
    >>> f = compile_formula("tax_wan / land_mu")
    >>> f.unit.describe(), sorted(f.columns)
    ('money/area', ['land_mu', 'tax_wan'])
    >>> f.evaluate({"tax_wan": np.array([30.0, 1.0]), "land_mu": np.array([1.5, 0.0])})
    array([20., nan])
    """
    text = str(text)
    if len(text.strip()) > LIMITS["characters"]:
        raise FormulaProblem(f"the formula is {len(text.strip()):,} characters long; at most "
                             f"{LIMITS['characters']:,} are allowed (split it into indicators)")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise FormulaProblem(f"cannot parse {_short(text)}: {exc.msg} at column "
                             f"{exc.offset}") from exc
    except (RecursionError, MemoryError) as exc:        # pragma: no cover - bounded above
        raise FormulaProblem(f"{_short(text)} is nested too deeply") from exc
    _check_size(tree.body, text)
    used: set[str] = set()
    fn, unit = _compile(tree.body, used, str(text))
    return Formula(str(text), unit, frozenset(used), fn)


def _short(text: str) -> str:
    """The formula quoted for a message, shortened when long."""
    t = str(text).strip()
    return repr(t if len(t) <= 80 else t[:60] + " … " + t[-12:])


def _check_size(root: ast.AST, text: str) -> None:
    """Refuse formulas beyond :data:`LIMITS` (iteratively: no recursion on hostile input)."""
    nodes = 0
    stack = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, (ast.expr_context, ast.operator, ast.unaryop)):
            continue
        nodes += 1
        if nodes > LIMITS["nodes"]:
            raise FormulaProblem(f"{_short(text)} has more than {LIMITS['nodes']} terms and "
                                 "operators; split it into indicators")
        if depth > LIMITS["depth"]:
            raise FormulaProblem(f"{_short(text)} is nested more than {LIMITS['depth']} levels "
                                 "deep (operators, parentheses, signs)")
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))


def _unit_of(name: str) -> Unit:
    return parse_unit(VARIABLES[name])


def _compile(node: ast.AST, used: set[str], text: str) -> tuple[Evaluator, Unit]:
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) \
            and not isinstance(node.value, bool):
        value = float(node.value)
        return (lambda c: value), DIMENSIONLESS
    if isinstance(node, ast.Name):
        name = node.id
        if name not in VARIABLES:
            raise FormulaProblem(f"unknown name {name!r} in {text!r}; variables: "
                                 + ", ".join(VARIABLES))
        used.add(name)
        return (lambda c: c[name]), _unit_of(name)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        f, u = _compile(node.operand, used, text)
        if isinstance(node.op, ast.USub):
            return (lambda c: -f(c)), u
        return f, u
    if isinstance(node, ast.BinOp):
        return _binop(node, used, text)
    if isinstance(node, ast.Call):
        return _call(node, used, text)
    raise FormulaProblem(f"{type(node).__name__} is not allowed in {text!r}; formulas take "
                         "numbers, variables, + - * / **, parentheses and "
                         + ", ".join(f"{k}()" for k in FUNCTIONS))


def _binop(node: ast.BinOp, used: set[str], text: str) -> tuple[Evaluator, Unit]:
    a, ua = _compile(node.left, used, text)
    op = node.op
    if isinstance(op, ast.Pow):
        right = node.right
        sign = 1
        if isinstance(right, ast.UnaryOp) and isinstance(right.op, (ast.USub, ast.UAdd)):
            sign = -1 if isinstance(right.op, ast.USub) else 1
            right = right.operand
        if not (isinstance(right, ast.Constant) and isinstance(right.value, int)
                and not isinstance(right.value, bool)):
            raise FormulaProblem(f"** takes a whole-number exponent in {_short(text)}")
        n = sign * int(right.value)
        if abs(n) > LIMITS["exponent"]:
            raise FormulaProblem(f"the exponent {n} in {_short(text)} is out of range; "
                                 f"use a whole number from -{LIMITS['exponent']} to "
                                 f"{LIMITS['exponent']}")
        return (lambda c: a(c) ** n), ua.power(n)
    b, ub = _compile(node.right, used, text)
    if isinstance(op, ast.Mult):
        return (lambda c: a(c) * b(c)), ua * ub
    if isinstance(op, ast.Div):
        return (lambda c: a(c) / b(c)), ua / ub
    if isinstance(op, (ast.Add, ast.Sub)):
        if not ua.same_dimension(ub):
            raise FormulaProblem(f"{text!r} adds or subtracts {ua.describe()} and "
                                 f"{ub.describe()}")
        k = ub.factor / ua.factor                 # bring b into a's unit, explicitly
        bb = b if k == 1.0 else (lambda c: b(c) * k)
        if isinstance(op, ast.Add):
            return (lambda c: a(c) + bb(c)), ua
        return (lambda c: a(c) - bb(c)), ua
    raise FormulaProblem(f"operator {type(op).__name__} is not allowed in {text!r}")


def _field_arg(node: ast.Call, text: str) -> str:
    if len(node.args) != 1 or node.keywords or not isinstance(node.args[0], ast.Name) \
            or node.args[0].id not in ANNUAL_FIELDS:
        raise FormulaProblem(f"{node.func.id}() takes one annual field "  # type: ignore[attr-defined]
                             f"({', '.join(ANNUAL_FIELDS)}) in {text!r}")
    return node.args[0].id


def _call(node: ast.Call, used: set[str], text: str) -> tuple[Evaluator, Unit]:
    if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
        name = getattr(node.func, "id", ast.unparse(node.func))
        raise FormulaProblem(f"unknown function {name!r} in {text!r}; functions: "
                             + ", ".join(FUNCTIONS))
    name = node.func.id
    if name == "prev":
        field_ = _field_arg(node, text)
        key = "prev_" + field_
        used.add(key)
        return (lambda c: c[key]), _unit_of(field_)
    if name == "growth":
        field_ = _field_arg(node, text)
        key = "prev_" + field_
        used.update((field_, key))

        def growth(c: Columns) -> np.ndarray:
            p = c[key]
            return np.where(p > 0, c[field_] / np.where(p > 0, p, 1.0) - 1.0, np.nan)
        return growth, DIMENSIONLESS
    if node.keywords:
        raise FormulaProblem(f"{name}() takes no keyword arguments in {text!r}")
    if name == "abs":
        if len(node.args) != 1:
            raise FormulaProblem(f"abs() takes one argument in {text!r}")
        f, u = _compile(node.args[0], used, text)
        return (lambda c: np.abs(f(c))), u
    if len(node.args) != 2:
        raise FormulaProblem(f"{name}() takes two arguments in {text!r}")
    (a, ua), (b, ub) = (_compile(x, used, text) for x in node.args)
    if not ua.same_dimension(ub):
        raise FormulaProblem(f"{name}() compares {ua.describe()} with {ub.describe()} in "
                             f"{text!r}")
    k = ub.factor / ua.factor
    np_fn = np.minimum if name == "min" else np.maximum
    return (lambda c: np_fn(a(c), b(c) * k)), ua
