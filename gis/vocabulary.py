"""One vocabulary for every label a person reads: code, Chinese, English, order.

Codes live in the data (``candidate.kind = 'unfinished'``); the words an official reads
come from one table per *domain* (``land_status.kind``, ``land_status.status`` …), the
way Django's ``choices`` or a gettext catalogue work. Reports, map legends, QGIS styles,
sheets, the review app and the command line all ask this module, so a kind is called
the same everywhere.

The machinery lives here, at the bottom floor, and knows no domain: each floor
registers its own terms file explicitly (:func:`register`, e.g.
``scoring/land_status/vocabulary.py``), and callers reach the terms through that
floor's module, which registers them on import. A terms file is YAML::

    land_status.kind:                      # domain
      - {code: idle_not_started, zh: 闲置土地（未动工）, en: idle land, not started}
      - {code: unfinished, zh: 未竣工, en: unfinished, unit: …, note: …}

The order of the entries is the order shown to users. ``unit`` and ``note`` are
optional (evidence fields carry their unit).

Examples
--------
>>> v = Vocabulary("demo.colour", (Term("red", "红", "red", 0), Term("blue", "蓝", "blue", 1)))
>>> v.label("blue"), v.label("blue", "en"), v.codes()
('蓝', 'blue', ('red', 'blue'))
>>> v.label("green")            # an unknown code is shown as it is
'green'
>>> v.check("green", what="颜色")
Traceback (most recent call last):
...
gis.errors.DataError: 未知的颜色「green」；可选：红（red）、蓝（blue）
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from gis.errors import ConfigError, DataError

Lang = Literal["zh", "en"]
LANGUAGES: tuple[str, ...] = ("zh", "en")


@dataclass(frozen=True)
class Term:
    """One code with its labels.

    Attributes
    ----------
    code : str
        What is stored and sent between programs.
    zh, en : str
        What a person reads.
    order : int
        Position in lists and legends (0 first).
    unit : str, optional
        Unit of a value named by this term (``平方米``), for evidence fields.
    note : str, optional
        A longer explanation (rule it decides, legal basis).
    """

    code: str
    zh: str
    en: str
    order: int
    unit: str | None = None
    note: str | None = None

    def label(self, lang: str = "zh") -> str:
        """The label in ``lang`` (Chinese for anything but ``en``)."""
        return self.en if lang == "en" else self.zh

    def as_dict(self) -> dict[str, object]:
        return {"code": self.code, "zh": self.zh, "en": self.en, "order": self.order,
                "unit": self.unit}


@dataclass(frozen=True)
class Vocabulary:
    """The terms of one domain, in order."""

    domain: str
    terms: tuple[Term, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_code", {t.code: t for t in self.terms})

    def __iter__(self) -> Iterator[Term]:
        return iter(self.terms)

    def __len__(self) -> int:
        return len(self.terms)

    def __contains__(self, code: object) -> bool:
        return code in self._by_code  # type: ignore[attr-defined]

    def codes(self) -> tuple[str, ...]:
        """Every code, in order."""
        return tuple(t.code for t in self.terms)

    def get(self, code: str) -> Term | None:
        """The term of ``code``, or None."""
        return self._by_code.get(code)  # type: ignore[attr-defined]

    def label(self, code: str | None, lang: str = "zh") -> str:
        """The label of ``code`` in ``lang``; an unknown code as it is, None as ``""``."""
        if code is None:
            return ""
        term = self.get(code)
        return term.label(lang) if term is not None else str(code)

    def labels(self, lang: str = "zh") -> dict[str, str]:
        """code → label, in order."""
        return {t.code: t.label(lang) for t in self.terms}

    def choices(self) -> str:
        """``中文（code）、…`` for messages that list the valid codes (the code is what the
        command line takes)."""
        return "、".join(f"{t.zh}（{t.code}）" for t in self.terms)

    def check(self, code: object, *, what: str) -> str:
        """``code`` when it is one of the domain's codes, else :class:`DataError` listing them.

        ``what`` names the field in the user's words (``状态``, ``理由``).
        """
        if not isinstance(code, str) or code not in self:
            raise DataError(f"未知的{what}「{code}」；可选：{self.choices()}")
        return code

    def as_list(self) -> list[dict[str, object]]:
        """The terms as plain data (for JSON)."""
        return [t.as_dict() for t in self.terms]


_REGISTRY: dict[str, Vocabulary] = {}
_OWNERS: dict[str, str] = {}
_LOCK = threading.Lock()


def parse_terms(data: object, source: str) -> dict[str, Vocabulary]:
    """Vocabularies from a terms file's parsed YAML (pure; see the module docstring).

    Raises
    ------
    ConfigError
        Not a mapping of domain → list of ``{code, zh, en}``, or a code given twice.
    """
    if not isinstance(data, dict) or not data:
        raise ConfigError(f"{source}: a terms file maps each domain to a list of terms")
    out = {}
    for domain, entries in data.items():
        if not isinstance(entries, list) or not entries:
            raise ConfigError(f"{source}: {domain}: a list of {{code, zh, en}} entries")
        terms, seen = [], set()
        for i, e in enumerate(entries):
            where = f"{source}: {domain}, entry {i + 1}"
            if not isinstance(e, dict) or not all(
                    isinstance(e.get(k), str) and e.get(k).strip() for k in ("code", "zh", "en")):
                raise ConfigError(f"{where}: needs code, zh and en as text")
            unknown = set(e) - {"code", "zh", "en", "unit", "note"}
            if unknown:
                raise ConfigError(f"{where}: unknown keys {', '.join(sorted(unknown))}")
            if e["code"] in seen:
                raise ConfigError(f"{where}: code {e['code']!r} given twice")
            seen.add(e["code"])
            terms.append(Term(e["code"], e["zh"], e["en"], i, e.get("unit"), e.get("note")))
        out[str(domain)] = Vocabulary(str(domain), tuple(terms))
    return out


def register(owner: str, path: str | Path) -> dict[str, Vocabulary]:
    """Register the terms file of a floor (idempotent for the same owner).

    Parameters
    ----------
    owner : str
        The registering package (e.g. ``scoring.land_status``); a domain belongs to one owner.
    path : path of the YAML terms file.

    Returns
    -------
    dict
        domain → :class:`Vocabulary` of this file.

    Raises
    ------
    ConfigError
        The file is invalid, or a domain is already registered by another owner.
    """
    import yaml

    path = Path(path)
    with open(path, encoding="utf-8") as fh:
        found = parse_terms(yaml.safe_load(fh), str(path))
    with _LOCK:
        for domain in found:
            if _OWNERS.get(domain, owner) != owner:
                raise ConfigError(f"{path}: domain {domain} is already registered by "
                                  f"{_OWNERS[domain]}")
        for domain, vocab in found.items():
            _REGISTRY[domain] = vocab
            _OWNERS[domain] = owner
    return found


def vocabulary(domain: str) -> Vocabulary:
    """The registered vocabulary of ``domain``.

    Raises
    ------
    ConfigError
        Nothing registered it (import the owning floor's vocabulary module first).
    """
    try:
        return _REGISTRY[domain]
    except KeyError:
        raise ConfigError(f"no vocabulary {domain!r} is registered; known: "
                          f"{', '.join(sorted(_REGISTRY)) or 'none'}") from None


def registered() -> dict[str, Vocabulary]:
    """Every registered domain (a copy)."""
    with _LOCK:
        return dict(_REGISTRY)
