"""Declarative validation of YAML rule files, every error naming the file, line and key.

Every YAML file a county writes — a scoring rule set, the land-status rules, a column
mapping, the policy rule sets to come — is checked by one helper: the file's shape is
*declared* as a tree of fields, and :func:`validate` walks the document against it.

========================= ===============================================================
field                     accepts
========================= ===============================================================
:class:`Record`           a mapping with named keys (each a field; unknown keys refused
                          with the nearest valid one suggested; ``required`` keys)
:class:`Table`            a mapping from names the file chooses (indicators, towns,
                          divisions) to one kind of value
:class:`Number`           a finite number within ``minimum``/``maximum`` (``integer``)
:class:`Text`             text (numbers are read as their text), ``choices``
:class:`Flag`             ``true`` / ``false``
:class:`TextList`         a list of texts (one text alone is a list of one), ``choices``
:class:`OneOf`            the first alternative whose YAML kind matches (a number *or* a
                          mapping, ``false`` *or* a mapping)
:class:`Check`            a field plus a rule the declarations cannot say (a function that
                          returns the problem in words, or ``None``)
========================= ===============================================================

Every field takes ``default`` (used when the key is absent or empty) and ``help`` (the
documentation of the key). Validated mappings come back as :class:`Checked` dicts that
still know the line of each key, so rules across keys (a floor above a cap, a name
defined elsewhere) fail at the right line through :meth:`Doc.fail`.

Examples
--------
>>> schema = Record({
...     "name": Text(help="short id"),
...     "rates": Table(Number(minimum=0), key=Text(choices=("A", "B", "C", "D"))),
...     "enabled": Flag(default=True),
... }, required=("name",))
>>> rules = validate(schema, "name: t\\nrates: {A: 0.1, D: 0.3}\\n", source="policy.yaml")
>>> rules["name"], rules["rates"], rules["enabled"]
('t', {'A': 0.1, 'D': 0.3}, True)
>>> validate(schema, "name: t\\nrates: {E: 1}\\n", source="policy.yaml")
Traceback (most recent call last):
...
gis.errors.RuleFileError: policy.yaml, line 2, rates.E: 'E' is not one of: A, B, C, D
"""

from __future__ import annotations

import copy
import difflib
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from gis.errors import RuleFileError
from gis.yaml_lines import MarkedDict, load_marked

#: Marks a field without a default: absent means absent (``None`` in the result).
NO_DEFAULT: Any = None


class Checked(MarkedDict):
    """A validated mapping: converted values, and the line of each key (:meth:`line_of`)."""


def _kind(value: Any) -> str:
    """The YAML kind of ``value`` in words, for messages."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, (int, float)):
        return "a number"
    return "text"


def join(path: str, key: Any) -> str:
    """Dotted path of ``key`` under ``path`` (``join("a.b", "c") == "a.b.c"``)."""
    return f"{path}.{key}" if path else str(key)


@dataclass(frozen=True)
class Doc:
    """The file being validated: its name and the error class raised for it.

    ``error`` is called as ``error(message, source=..., line=..., key=...)``;
    :class:`~gis.errors.RuleFileError` and its subclasses take that form.
    """

    source: str
    error: type[RuleFileError] = RuleFileError

    def fail(self, message: str, mapping: Any = None, key: Any = None,
             path: str = "") -> NoReturn:
        """Raise ``error`` at ``key`` of ``mapping`` (its line), or at the mapping itself."""
        line = None
        if isinstance(mapping, MarkedDict):
            line = mapping.line_of(key) if key is not None else mapping.line
        raise self.error(message, source=self.source, line=line or None, key=path or None)


@dataclass(frozen=True)
class At:
    """Where a value stands: the document, the mapping holding it, its key and dotted path."""

    doc: Doc
    parent: Any
    key: Any
    path: str

    def fail(self, message: str) -> NoReturn:
        """Raise the document's error at this place."""
        self.doc.fail(message, self.parent, self.key, self.path)

    def child(self, mapping: Any, key: Any) -> At:
        """The place of ``key`` inside ``mapping`` (which stands here)."""
        return At(self.doc, mapping, key, join(self.path, key))


class Field:
    """Base of the field kinds: ``default`` when absent or empty, ``help`` for the docs."""

    kinds: tuple[type, ...] = ()

    def __init__(self, *, default: Any = NO_DEFAULT, help: str = ""):
        self.default = default
        self.help = help

    def matches(self, value: Any) -> bool:
        """Whether ``value`` has the YAML kind this field reads (for :class:`OneOf`)."""
        return isinstance(value, self.kinds) and not (
            isinstance(value, bool) and bool not in self.kinds)

    def convert(self, value: Any, at: At) -> Any:   # pragma: no cover - abstract
        raise NotImplementedError


class Number(Field):
    """A finite number (``true``/``false`` are not numbers), optionally whole and bounded."""

    kinds = (int, float)

    def __init__(self, *, minimum: float | None = None, maximum: float | None = None,
                 integer: bool = False, above: float | None = None, **kw: Any):
        super().__init__(**kw)
        self.minimum, self.maximum, self.integer, self.above = minimum, maximum, integer, above

    def convert(self, value: Any, at: At) -> float | int:
        if not self.matches(value):
            at.fail(f"must be a number, not {_kind(value)} {value!r}")
        try:
            finite = math.isfinite(float(value))
        except OverflowError:                     # a whole number of hundreds of digits
            finite = False
        if not finite:
            at.fail(f"must be a finite number, not {str(value)[:40]}")
        if self.integer and float(value) != int(value):
            at.fail(f"must be a whole number, not {value!r}")
        if self.minimum is not None and value < self.minimum:
            at.fail(f"must be at least {self.minimum:g}, not {value:g}")
        if self.above is not None and not value > self.above:
            at.fail(f"must be above {self.above:g}, not {value:g}")
        if self.maximum is not None and value > self.maximum:
            at.fail(f"must be at most {self.maximum:g}, not {value:g}")
        return int(value) if self.integer else float(value)


class Text(Field):
    """Text; numbers are taken as their text (``44`` is ``"44"``) unless ``quoted``.

    ``choices`` limits the values; ``quoted`` refuses unquoted numbers (codes such as
    ``"07"``, which YAML would read as the number 7); ``hint`` follows the message.
    """

    kinds = (str, int, float)

    def __init__(self, *, choices: Sequence[str] | None = None, nonempty: bool = True,
                 quoted: bool = False, hint: str = "", **kw: Any):
        super().__init__(**kw)
        self.choices, self.nonempty = (tuple(choices) if choices else None), nonempty
        self.hint = hint
        if quoted:
            self.kinds = (str,)

    def convert(self, value: Any, at: At) -> str:
        if not self.matches(value):
            tail = f"; {self.hint}" if self.hint else ""
            at.fail(f"must be text, not {_kind(value)} {value!r}{tail}")
        text = str(value)
        if self.nonempty and not text.strip():
            at.fail("must not be empty")
        if self.choices is not None and text not in self.choices:
            at.fail(f"{text!r} is not one of: {', '.join(self.choices)}")
        return text


class Flag(Field):
    """``true`` or ``false``."""

    kinds = (bool,)

    def convert(self, value: Any, at: At) -> bool:
        if not isinstance(value, bool):
            at.fail(f"must be true or false, not {value!r}")
        return value


class TextList(Field):
    """A list of texts; one text alone counts as a list of one."""

    kinds = (list, str, int)

    def __init__(self, *, choices: Sequence[str] | None = None, **kw: Any):
        kw.setdefault("default", ())
        super().__init__(**kw)
        self.item = Text(choices=choices)

    def convert(self, value: Any, at: At) -> tuple[str, ...]:
        if isinstance(value, (str, int)) and not isinstance(value, bool):
            value = [value]
        if not isinstance(value, list):
            at.fail(f"must be a list, not {_kind(value)}")
        out = []
        for i, x in enumerate(value):
            if not self.item.matches(x):
                at.fail(f"item {i + 1} must be text, not {_kind(x)}")
            if self.item.choices is not None and str(x) not in self.item.choices:
                at.fail(f"item {i + 1} {x!r} is not one of: {', '.join(self.item.choices)}")
            out.append(str(x))
        return tuple(out)


class Record(Field):
    """A mapping with named keys, each validated by its field.

    Parameters
    ----------
    fields : mapping
        Key -> :class:`Field`.
    required : sequence of str
        Keys that must be present.
    shape : str, optional
        What the mapping looks like, for the "must be a mapping" message
        (``"name, indicators, populations and classes"``).
    partial : bool
        Return only the keys present (a file that overrides defaults key by key);
        otherwise every declared key, absent ones at their default.
    noun : str
        What a key is called in messages ("unknown section 'idel'").
    """

    kinds = (dict,)

    def __init__(self, fields: Mapping[str, Field], *, required: Sequence[str] = (),
                 shape: str = "", partial: bool = False, noun: str = "key", **kw: Any):
        super().__init__(**kw)
        self.fields, self.required, self.shape = dict(fields), tuple(required), shape
        self.partial, self.noun = partial, noun

    def convert(self, value: Any, at: At) -> Checked:
        if not isinstance(value, dict):
            extra = f" with {self.shape}" if self.shape else " (key: value lines)"
            at.fail(f"must be a mapping{extra}, not {_kind(value)}")
        for k in value:
            if k not in self.fields:
                hint = difflib.get_close_matches(str(k), [str(a) for a in self.fields], n=1)
                tail = f"; did you mean {hint[0]!r}?" if hint else \
                    f"; allowed: {', '.join(map(str, self.fields))}"
                at.child(value, k).fail(f"unknown {self.noun} {k!r}{tail}")
        for k in self.required:
            if k not in value:
                At(at.doc, value, None, join(at.path, k)).fail(f"missing required key {k!r}")
        out = _checked_like(value)
        for k, f in self.fields.items():
            if self.partial and k not in value:
                continue
            out[k] = convert(f, value, k, at)
        return out


class Table(Field):
    """A mapping from names the file chooses to values of one field.

    Parameters
    ----------
    value : Field
        The field of every value.
    key : Field, optional
        The field of every name (default: any text).
    min_items : int
        At least this many entries.
    """

    kinds = (dict,)

    def __init__(self, value: Field, *, key: Field | None = None, min_items: int = 0,
                 **kw: Any):
        kw.setdefault("default", {})
        super().__init__(**kw)
        self.value, self.key, self.min_items = value, key or Text(), min_items

    def convert(self, value: Any, at: At) -> Checked:
        if not isinstance(value, dict):
            at.fail(f"must be a mapping of name: value, not {_kind(value)}")
        if len(value) < self.min_items:
            at.fail(f"needs at least {self.min_items} entr{'y' if self.min_items == 1 else 'ies'}")
        out = _checked_like(value)
        for k in value:
            where = at.child(value, k)
            name = self.key.convert(k, where)
            if value[k] is None:
                if self.value.default is NO_DEFAULT:
                    where.fail("has no value")
                out[name] = self.value.default
            else:
                out[name] = self.value.convert(value[k], where)
            out.key_lines[name] = value.line_of(k) if isinstance(value, MarkedDict) else 0
        return out


class OneOf(Field):
    """The first alternative whose YAML kind matches the value.

    ``OneOf(Number(), Record({...}))`` reads ``cap: 5`` and ``cap: {times_weight: 1.5}``.
    """

    def __init__(self, *alternatives: Field, what: str = "", **kw: Any):
        super().__init__(**kw)
        self.alternatives, self.what = alternatives, what

    def matches(self, value: Any) -> bool:
        return any(a.matches(value) for a in self.alternatives)

    def convert(self, value: Any, at: At) -> Any:
        for alt in self.alternatives:
            if alt.matches(value):
                return alt.convert(value, at)
        at.fail(f"must be {self.what or 'one of the forms documented'}, not {_kind(value)}")


class Const(Field):
    """Exactly one value (``false`` to turn a section off, ``version: 1``)."""

    def __init__(self, value: Any, **kw: Any):
        super().__init__(**kw)
        self.value = value

    def matches(self, value: Any) -> bool:
        return value is self.value or (type(value) is type(self.value) and value == self.value)

    def convert(self, value: Any, at: At) -> Any:
        if not self.matches(value):
            at.fail(f"only {self.value!r} is allowed here, not {value!r}")
        return value


class Check(Field):
    """``field`` plus a rule in code: ``rule(value) -> problem in words or None``."""

    def __init__(self, field: Field, rule: Callable[[Any], str | None], **kw: Any):
        kw.setdefault("default", field.default)
        kw.setdefault("help", field.help)
        super().__init__(**kw)
        self.field, self.rule = field, rule

    def matches(self, value: Any) -> bool:
        return self.field.matches(value)

    def convert(self, value: Any, at: At) -> Any:
        out = self.field.convert(value, at)
        problem = self.rule(out)
        if problem:
            at.fail(problem)
        return out


def _checked_like(value: Any) -> Checked:
    out = Checked()
    out.line = getattr(value, "line", 0)
    out.key_lines = dict(getattr(value, "key_lines", {}))
    return out


def convert(field: Field, mapping: Any, key: Any, at: At) -> Any:
    """The value of ``key`` in ``mapping`` (standing at ``at``) through ``field``.

    Absent or empty keys give the field's ``default``.
    """
    if key not in mapping or mapping[key] is None:
        default = field.default
        return copy.copy(default) if isinstance(default, (dict, list)) else default
    return field.convert(mapping[key], at.child(mapping, key))


def load(text: str, doc: Doc) -> Any:
    """Parse YAML ``text`` with line marks, as :class:`Doc`'s error on bad syntax."""
    import yaml

    try:
        return load_marked(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise doc.error(f"not valid YAML: {problem}", source=doc.source,
                        line=mark.line + 1 if mark else None) from exc


def read_text(path: str | Path, doc: Doc) -> str:
    """The UTF-8 text of ``path``, as :class:`Doc`'s error when unreadable."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise doc.error("the file is not UTF-8 text; save it as UTF-8",
                        source=doc.source) from None
    except OSError as exc:
        raise doc.error(f"cannot read the file: {exc.strerror or exc}",
                        source=doc.source) from exc


def validate(schema: Field, text: str, *, source: str,
             error: type[RuleFileError] = RuleFileError, empty: Any = None) -> Any:
    """Parse and validate YAML ``text`` against ``schema``.

    Parameters
    ----------
    schema : Field
        Usually a :class:`Record`.
    text : str
        The YAML.
    source : str
        The file name (or preset name) for messages.
    error : type
        The :class:`~gis.errors.RuleFileError` subclass to raise.
    empty : any, optional
        What an empty file means (default: an error, via the schema).

    Returns
    -------
    The converted document (:class:`Checked` for mappings).

    Raises
    ------
    RuleFileError
        (``error``) bad syntax, duplicate keys, unknown keys, wrong kinds or values; the
        message names the file, line and dotted key.
    """
    doc = Doc(source, error)
    data = load(text, doc)
    if data is None and empty is not None:
        data = empty
    return schema.convert(data, At(doc, None, None, ""))


def describe(schema: Field, path: str = "") -> list[tuple[str, str, str]]:
    """``(dotted key, default, help)`` of every declared key, for documentation.

    Examples
    --------
    >>> describe(Record({"a": Number(default=1, help="one"), "b": Record({"c": Flag()})}))
    [('a', '1', 'one'), ('b', '', ''), ('b.c', '', '')]
    """
    out: list[tuple[str, str, str]] = []
    if isinstance(schema, Check):
        schema = schema.field
    if isinstance(schema, Record):
        for k, f in schema.fields.items():
            p = join(path, k)
            d = "" if f.default in (None, (), {}) else str(f.default)
            out.append((p, d, f.help))
            out.extend(describe(f, p))
    return out
