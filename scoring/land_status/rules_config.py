"""The land-status rule set: validated YAML over the shipped defaults.

The shipped file ``scoring/candidates/data/land_rules.yaml`` holds every key with its
default (DOMAIN.md §3) and a comment saying where it comes from. A county's file
(``mujun candidates --rules FILE``) names only what it changes; it is merged over the
defaults key by key. Unknown keys, wrong types and out-of-range values are refused with
the file, line and dotted key at fault.

>>> rules = load_rules()
>>> rules["inefficient"]["coverage_min"], rules["idle_not_started"]["grace_years"]
(0.3, 1)
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

from scoring.errors import LandRulesError

DEFAULT_FILE = Path(__file__).resolve().parent / "data" / "land_rules.yaml"

_Check = Callable[[Any], str | None]


def _num(lo: float | None = None, hi: float | None = None, *, integer: bool = False) -> _Check:
    def check(v: Any) -> str | None:
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            return "must be a number"
        if integer and int(v) != v:
            return "must be a whole number"
        if lo is not None and v < lo:
            return f"must be at least {lo}"
        if hi is not None and v > hi:
            return f"must be at most {hi}"
        return None
    return check


def _bool(v: Any) -> str | None:
    return None if isinstance(v, bool) else "must be true or false"


def _opt(check: _Check) -> _Check:
    return lambda v: None if v is None else check(v)


def _text(v: Any) -> str | None:
    return None if isinstance(v, str) and v.strip() else "must be a non-empty text"


def _texts(v: Any) -> str | None:
    if not isinstance(v, list) or not all(isinstance(x, str) and x.strip() for x in v):
        return "must be a list of texts"
    return None


def _statuses(v: Any) -> str | None:
    allowed = {"active", "stopped", "deregistered", "relocated"}
    if _texts(v) or not set(v) <= allowed:
        return f"must be a list of enterprise statuses ({', '.join(sorted(allowed))})"
    return None


def _score_map(v: Any) -> str | None:
    if not isinstance(v, dict):
        return "must be a mapping of name: score"
    for k, x in v.items():
        if isinstance(x, bool) or not isinstance(x, (int, float)) or not 0 <= x <= 1:
            return f"score of {k!r} must be a number from 0 to 1"
    return None


def _far_table(v: Any) -> str | None:
    if not isinstance(v, dict):
        return "must be a mapping of GB/T 4754-2002 division: minimum FAR"
    for k, x in v.items():
        if not (isinstance(k, str) and len(k) == 2 and k.isdigit()):
            return f"key {k!r} must be a two-digit division code in quotes, e.g. \"13\""
        if isinstance(x, bool) or not isinstance(x, (int, float)) or not 0 < x <= 10:
            return f"minimum FAR of division {k} must be a number above 0 and at most 10"
    return None


def _weights(v: Any) -> str | None:
    names = {"area", "years_idle", "location", "class"}
    if not isinstance(v, dict) or not set(v) <= names:
        return f"must map some of {', '.join(sorted(names))} to weights"
    if any(isinstance(x, bool) or not isinstance(x, (int, float)) or x < 0 for x in v.values()):
        return "weights must be numbers of at least 0"
    if sum(v.values()) <= 0:
        return "at least one weight must be above 0"
    return None


#: section -> key -> check. Mapping-valued keys (``far_min_2002``, ``locations``,
#: ``class_scores``, ``weights``) replace the default as a whole.
SCHEMA: dict[str, dict[str, _Check]] = {
    "idle_not_started": {"enabled": _bool, "grace_years": _num(0, 10, integer=True),
                         "max_coverage": _num(0, 1), "max_built_m2": _num(0)},
    "idle_stalled": {"enabled": _bool, "grace_years": _num(0, 10, integer=True),
                     "developed_share_below": _num(0, 1), "min_survey_gap_years": _num(0, 10),
                     "max_growth_m2": _num(0)},
    "unfinished": {"enabled": _bool, "developed_share_below": _num(0, 1)},
    "inefficient": {"enabled": _bool, "coverage_min": _num(0, 1), "far_by_industry": _bool,
                    "far_min_2002": _far_table, "tax_per_mu_fraction": _num(0, 10),
                    "tax_per_mu_item": _text, "tax_per_mu_benchmark_wan": _opt(_num(0)),
                    "class_d": _bool, "min_reasons": _num(1, 10, integer=True)},
    "built_unused": {"enabled": _bool, "min_built_m2": _num(0), "near_zero_tax_wan": _num(0),
                     "near_zero_kwh": _num(0), "inactive_statuses": _statuses,
                     "no_enterprise": _bool},
    "approved_unsupplied": {"enabled": _bool, "grace_years": _num(0, 20, integer=True),
                            "min_area_m2": _num(0)},
    "exemptions": {"reasons": _texts},
    "certainty": {"survey_age_full_years": _num(0), "survey_age_loss_per_year": _num(0, 1),
                  "survey_age_floor": _num(0, 1)},
    "priority": {"weights": _weights, "area_mu_full": _num(0.001), "years_idle_full": _num(0.001),
                 "location_default": _num(0, 1), "locations": _score_map,
                 "class_scores": _score_map},
}


def _read(path: Path) -> Any:
    import yaml

    from scoring.yaml_lines import load_marked

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise LandRulesError(f"cannot read the rules file: {exc.strerror or exc}",
                             source=str(path)) from exc
    except UnicodeDecodeError:
        raise LandRulesError("the rules file is not UTF-8 text", source=str(path)) from None
    try:
        data = load_marked(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise LandRulesError(f"not valid YAML: {problem}", source=str(path),
                             line=mark.line + 1 if mark else None) from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise LandRulesError("must be a mapping of sections (idle_not_started: ..., ...)",
                             source=str(path))
    return data


def validate(data: dict, source: str) -> None:
    """Raise :class:`LandRulesError` naming the first unknown key or bad value in ``data``."""
    def line(mapping, key):
        return mapping.line_of(key) if hasattr(mapping, "line_of") else None

    for section, body in data.items():
        if section == "version":
            if body != 1:
                raise LandRulesError("only version 1 is known", source=source,
                                     line=line(data, section), key="version")
            continue
        if section not in SCHEMA:
            raise LandRulesError(f"unknown section; known: {', '.join(SCHEMA)}", source=source,
                                 line=line(data, section), key=str(section))
        if not isinstance(body, dict):
            raise LandRulesError("must be a mapping of settings", source=source,
                                 line=line(data, section), key=str(section))
        for key, value in body.items():
            check = SCHEMA[section].get(key)
            where = f"{section}.{key}"
            if check is None:
                raise LandRulesError(f"unknown key; {section} has: "
                                     f"{', '.join(SCHEMA[section])}", source=source,
                                     line=line(body, key), key=where)
            problem = check(value)
            if problem:
                raise LandRulesError(f"{problem} (got {value!r})", source=source,
                                     line=line(body, key), key=where)


def load_rules(path: str | Path | None = None) -> dict[str, Any]:
    """The shipped defaults, with ``path``'s settings merged over them (validated).

    Raises
    ------
    LandRulesError
        Unreadable file, bad YAML, unknown key, wrong type or value (names file, line, key).
    """
    defaults = _read(DEFAULT_FILE)
    validate(defaults, str(DEFAULT_FILE))
    rules = _plain(defaults)
    if path is not None:
        path = Path(path)
        user = _read(path)
        validate(user, str(path))
        for section, body in user.items():
            if section == "version":
                continue
            rules[section].update(_plain(body))
        rules["source"] = str(path)
    else:
        rules["source"] = "defaults"
    return rules


def _plain(value: Any) -> Any:
    """Plain dicts/lists (no line marks), deep-copied."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return copy.copy(value)
