"""Property tests of the import rules: header guesses, import identity, partial deliveries."""

from __future__ import annotations

import csv

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gis.importing.common import import_identity
from gis.importing.footprints import FOOTPRINT_FIELDS
from gis.importing.headers import field_specs, match_label
from parcels.codes import make_credit_code
from parcels.importing.enterprise_import import import_enterprises

FOOTPRINT_SPECS = field_specs(FOOTPRINT_FIELDS)
ASCII_SYNONYMS = sorted({(s, spec.name) for spec in FOOTPRINT_SPECS.values()
                         for s in spec.synonyms if s.isascii() and s.isidentifier()})
WORDS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=2, max_size=8)


@given(st.sampled_from(ASCII_SYNONYMS), WORDS, st.booleans())
def test_qualified_ascii_headers_are_never_guessed(syn_field, word, before):
    """``start_date`` is not ``date``: a word next to a synonym never makes a guess."""
    synonym, _ = syn_field
    header = f"{word}_{synonym}" if before else f"{synonym}_{word}"
    _field, exact = match_label(header, FOOTPRINT_SPECS)
    assert exact  # either an exact synonym or nothing


@given(st.sampled_from(ASCII_SYNONYMS), st.integers(1990, 2100), st.sampled_from(["_", " ", "-"]))
def test_a_year_beside_a_synonym_is_a_reported_guess(syn_field, year, sep):
    synonym, field = syn_field
    assert match_label(f"{synonym}{sep}{year}", FOOTPRINT_SPECS) == (field, False)


OPTIONS = st.dictionaries(st.sampled_from(["layer", "sheet", "encoding", "crs", "year"]),
                          st.one_of(st.text(min_size=1, max_size=5), st.integers(0, 3000)),
                          max_size=4)


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(OPTIONS, OPTIONS)
def test_identity_is_equal_exactly_when_the_options_are(a, b):
    same = import_identity("parcels", "0" * 64, a) == import_identity("parcels", "0" * 64, b)
    assert same == (a == b)


CODES = [make_credit_code("9", "1", "320509", f"MP{i:04d}XY") for i in range(1, 4)]
FIGURES = {"tax_wan": "税收(万元)", "revenue_wan": "营业收入(万元)",
           "electricity_kwh": "用电量(千瓦时)", "employees": "年平均职工人数"}
DELIVERY = st.tuples(
    st.lists(st.sampled_from(sorted(FIGURES)), min_size=1, max_size=4, unique=True),
    st.lists(st.lists(st.one_of(st.none(), st.integers(0, 10_000)), min_size=4, max_size=4),
             min_size=3, max_size=3))


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(deliveries=st.lists(DELIVERY, min_size=1, max_size=4))
def test_partial_deliveries_add_up(deliveries, tmp_path_factory, db_conn):
    """After any sequence of deliveries each figure is the last value any delivery gave it."""
    db_conn.execute("TRUNCATE enterprise, enterprise_year, import_batch RESTART IDENTITY CASCADE")
    db_conn.commit()
    expected: dict[tuple[str, str], float] = {}
    seen: set[bytes] = set()
    folder = tmp_path_factory.mktemp("deliveries")
    for n, (columns, values) in enumerate(deliveries):
        src = folder / f"delivery{n}.csv"
        with open(src, "w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["统一社会信用代码", "企业名称", *(FIGURES[c] for c in columns)])
            for code, row in zip(CODES, values, strict=True):
                writer.writerow([code, "公司", *("" if v is None else v
                                                 for v in row[:len(columns)])])
                for c, v in zip(columns, row, strict=False):
                    if v is not None:
                        expected[(code, c)] = float(v)
        result = import_enterprises(db_conn, src, year=2024)
        # a delivery identical to an earlier one (same bytes, same options) changes nothing
        assert result.already_imported == (src.read_bytes() in seen)
        seen.add(src.read_bytes())
    stored = db_conn.execute("SELECT credit_code, tax_wan, revenue_wan, electricity_kwh, "
                             "employees FROM enterprise_year WHERE year = 2024").fetchall()
    db_conn.rollback()
    got = {(code, c): float(v) for code, *vals in stored
           for c, v in zip(["tax_wan", "revenue_wan", "electricity_kwh", "employees"], vals,
                           strict=True) if v is not None}
    assert got == pytest.approx(expected)
