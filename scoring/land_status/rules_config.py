"""The land-status rule set: validated YAML over the shipped defaults.

The shipped file ``data/land_rules.yaml`` holds every key with its default
(DOMAIN.md §3) and a comment saying where it comes from. A county's file
(``mujun candidates --rules FILE``) names only what it changes; it is merged over the
defaults key by key. The file's shape is declared once (:data:`SCHEMA`, with the
rule-file helper :mod:`gis.yaml_schema`): unknown keys, wrong types and out-of-range
values are refused with the file, line and dotted key at fault.

>>> rules = load_rules()
>>> rules["inefficient"]["coverage_min"], rules["idle_not_started"]["grace_years"]
(0.3, 1)
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from gis.yaml_schema import (
    Check,
    Const,
    Doc,
    Flag,
    Number,
    Record,
    Table,
    Text,
    TextList,
    read_text,
    validate,
)
from scoring.errors import LandRulesError

DEFAULT_FILE = Path(__file__).resolve().parent / "data" / "land_rules.yaml"

STATUSES = ("active", "stopped", "deregistered", "relocated")
PRIORITY_FACTORS = ("area", "years_idle", "location", "class")


def _on(help: str = "whether the kind is looked for") -> Flag:
    return Flag(help=help)


def _share(help: str = "") -> Number:
    return Number(minimum=0, maximum=1, help=help)


def _years(hi: int, help: str = "") -> Number:
    return Number(minimum=0, maximum=hi, integer=True, help=help)


def _some_weight(weights: dict) -> str | None:
    return None if sum(weights.values()) > 0 else "at least one weight must be above 0"


#: The kinds (``land_status.kind`` codes), in the order the kernel evaluates them.
KIND_CODES = ("idle_not_started", "idle_stalled", "unfinished", "inefficient", "built_unused",
              "approved_unsupplied")
#: The inefficiency reasons (``land_status.rule`` codes of :func:`.checks.inefficient_reasons`).
INEFFICIENCY_REASONS = ("coverage_below_control", "far_below_industry_minimum",
                        "far_below_agreed", "tax_per_mu_below", "tax_per_mu_below_floor",
                        "class_d")


def _every_kind_once(kinds: list) -> str | None:
    missing = [k for k in KIND_CODES if k not in kinds]
    twice = sorted({k for k in kinds if kinds.count(k) > 1})
    if missing or twice:
        return ("name every kind exactly once"
                + (f"; missing: {', '.join(missing)}" if missing else "")
                + (f"; named twice: {', '.join(twice)}" if twice else ""))
    return None


_DIVISION = Text(quoted=True, hint='write a two-digit division code in quotes, e.g. "13"')


def _two_digits(code: str) -> str | None:
    return None if len(code) == 2 and code.isdigit() else \
        f'{code!r} is not a two-digit division code in quotes, e.g. "13"'


#: The land-status rules file, declared once (section -> key -> field). A county's file
#: names only what it changes (``partial``); mapping-valued keys (``far_min_2002``,
#: ``locations``, ``class_scores``, ``weights``) replace the default as a whole.
SCHEMA = Record({
    "version": Const(1, help="schema version (1)"),
    "idle_not_started": Record({
        "enabled": _on(), "grace_years": _years(10), "max_coverage": _share(),
        "max_built_m2": Number(minimum=0)}, partial=True),
    "idle_stalled": Record({
        "enabled": _on(), "grace_years": _years(10), "developed_share_below": _share(),
        "min_survey_gap_years": Number(minimum=0, maximum=10),
        "max_growth_m2": Number(minimum=0)}, partial=True),
    "unfinished": Record({"enabled": _on(), "developed_share_below": _share()},
                         partial=True),
    "inefficient": Record({
        "enabled": _on(), "coverage_min": _share(), "far_by_industry": Flag(),
        "far_min_2002": Table(Number(above=0, maximum=10),
                              key=Check(_DIVISION, _two_digits),
                              help="GB/T 4754-2002 division: minimum FAR"),
        "tax_per_mu_fraction": Number(minimum=0, maximum=10),
        "tax_per_mu_floor_fraction": Number(minimum=0, maximum=10),
        "tax_per_mu_item": Text(),
        "tax_per_mu_benchmark_wan": Number(minimum=0), "class_d": Flag(),
        "far_agreed_fraction": _share("用而未尽: FAR below this share of the agreed FAR"),
        "min_reasons": Number(minimum=1, maximum=10, integer=True),
        "decisive": TextList(choices=INEFFICIENCY_REASONS,
                             help="reasons that make a parcel inefficient on their own")},
        partial=True),
    "built_unused": Record({
        "enabled": _on(), "min_built_m2": Number(minimum=0),
        "near_zero_tax_wan": Number(minimum=0), "near_zero_kwh": Number(minimum=0),
        "inactive_statuses": TextList(choices=STATUSES), "no_enterprise": Flag()},
        partial=True),
    "approved_unsupplied": Record({
        "enabled": _on(), "grace_years": _years(20), "min_area_m2": Number(minimum=0)},
        partial=True),
    "candidates": Record({
        "precedence": Check(TextList(choices=KIND_CODES,
                                     help="kinds, the one a parcel is handled under first"),
                            _every_kind_once)}, partial=True),
    "exemptions": Record({"reasons": TextList()}, partial=True),
    "certainty": Record({
        "survey_age_full_years": Number(minimum=0), "survey_age_loss_per_year": _share(),
        "survey_age_floor": _share()}, partial=True),
    "priority": Record({
        "weights": Check(Record({k: Number(minimum=0) for k in PRIORITY_FACTORS},
                                partial=True), _some_weight),
        "area_mu_full": Number(minimum=0.001), "years_idle_full": Number(minimum=0.001),
        "location_default": _share(), "locations": Table(_share()),
        "class_scores": Table(_share())}, partial=True),
}, partial=True, noun="section", shape="sections (idle_not_started: ..., ...)")


def _read(path: Path) -> dict:
    """Validated content of one rules file (only the keys it names)."""
    doc = Doc(str(path), LandRulesError)
    return validate(SCHEMA, read_text(path, doc), source=str(path), error=LandRulesError,
                    empty={})


def validate_rules(text: str, source: str) -> dict:
    """Validate a rules file's YAML ``text``; the keys it names, converted.

    Raises
    ------
    LandRulesError
        Bad YAML, unknown section or key, wrong type or value (names file, line, key).
    """
    return validate(SCHEMA, text, source=source, error=LandRulesError, empty={})


def load_rules(path: str | Path | None = None) -> dict[str, Any]:
    """The shipped defaults, with ``path``'s settings merged over them (validated).

    Raises
    ------
    LandRulesError
        Unreadable file, bad YAML, unknown key, wrong type or value (names file, line, key).
    """
    rules = _plain(_read(DEFAULT_FILE))
    if path is not None:
        path = Path(path)
        user = _read(path)
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
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return copy.copy(value)
