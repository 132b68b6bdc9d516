"""One date parser: cells and options alike are read by ``gis.importing.values``."""

from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gis.errors import ConfigError, DataError
from gis.importing.values import as_date, parse_date

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("gis", "parcels", "remote_sensing", "scoring", "maps", "sample", "benchmarks")


@given(st.dates(min_value=dt.date(1949, 1, 1), max_value=dt.date(2100, 12, 31)))
def test_an_iso_date_reads_back(day):
    assert as_date(day.isoformat()) == day == parse_date(day.isoformat())[0]
    assert as_date(day) == day


@pytest.mark.parametrize(("value", "error"), [
    ("2024-13-01", DataError), ("15/06/2024", ConfigError), ("May 2024", ConfigError),
    ("", DataError), ("1800-01-01", DataError)])
def test_a_bad_date_is_a_clear_error_of_the_class_asked(value, error):
    with pytest.raises(error, match=f"--date {value!r} is not a date.*write it as YYYY-MM-DD"):
        as_date(value, "--date", error)


def test_no_module_parses_dates_on_its_own():
    """Nothing but ``gis/importing/values.py`` turns text into dates (no fromisoformat,
    strptime or a ``parse_date``/``check_date`` of its own)."""
    own = []
    for package in PACKAGES:
        for path in (REPO / package).rglob("*.py"):
            if path == REPO / "gis" / "importing" / "values.py":
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Attribute) and node.attr in ("fromisoformat", "strptime"):
                    own.append(f"{path.relative_to(REPO)}:{node.lineno} {node.attr}")
                elif isinstance(node, ast.FunctionDef) and node.name in ("parse_date",
                                                                         "check_date"):
                    own.append(f"{path.relative_to(REPO)}:{node.lineno} def {node.name}")
    assert not own
