"""Rule sets: a county's scoring method as a validated YAML file — presets and loading.

A rule set says which enterprises are scored in which population (规上 / 规下 with land
or floor-area thresholds), the indicators (formulas over the annual fields and occupied
land, each with its unit), per population the weighted items with their benchmark,
direction, limits and missing-data rule, which firms are class T, which are in their
protection period (listed, not classed), how bonuses, penalties and vetoes apply, how
classes are given (rank quotas or cut-offs, with a tie rule) and when data warnings fire.
docs/scoring.md is the reference; ``scoring/presets/template.yaml`` is a commented
example to copy.

The job is split three ways: the model (:mod:`scoring.ruleset_model`, frozen
dataclasses), the declared YAML schema and the rules across keys
(:mod:`scoring.ruleset_schema`, on the rule-file helper :mod:`gis.yaml_schema`), and
this loader. :func:`load_ruleset` accepts a preset name (:func:`preset_names`) or a file
path, and fails with a :class:`~scoring.errors.RuleSetError` naming the file, line, key
and problem.
"""

from __future__ import annotations

import hashlib
from importlib import resources
from pathlib import Path

from gis.yaml_schema import Doc, read_text, validate
from scoring.errors import RuleSetError
from scoring.ruleset_model import (
    BENCHMARK_METHODS,
    CLASSES,
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
    RuleSet,
    TRules,
    WarningRules,
)
from scoring.ruleset_schema import SCHEMA, build

__all__ = ["BENCHMARK_METHODS", "CLASSES", "DIRECTIONS", "MISSING_RULES", "ROUNDINGS",
           "SIZE_CLASSES", "TIE_RULES", "AdjustmentRules", "Benchmark", "ClassRules",
           "Indicator", "Item", "Population", "ProtectionRules", "RuleSet", "TRules",
           "WarningRules", "list_presets", "load_ruleset", "parse_ruleset", "preset_names",
           "preset_text"]


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
        text = read_text(text_path, Doc(str(text_path), RuleSetError))
        return parse_ruleset(text, source=str(text_path), base_dir=text_path.parent)
    return parse_ruleset(preset_text(str(name_or_path)), source=str(name_or_path),
                         base_dir=None)


def parse_ruleset(text: str, *, source: str = "<rule set>",
                  base_dir: Path | None = None) -> RuleSet:
    """Validate rule-set YAML ``text`` (``base_dir`` resolves relative adjustment files)."""
    where = Doc(source, RuleSetError)
    doc = validate(SCHEMA, text, source=source, error=RuleSetError)
    return RuleSet(**build(doc, where, base_dir), path=source,
                   sha256=hashlib.sha256(text.encode()).hexdigest())
