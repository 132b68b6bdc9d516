"""Credit codes (GB 32100-2015) and parcel codes (GB/T 37346-2019)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parcels.codes import (
    CREDIT_ALPHABET,
    CREDIT_WEIGHTS,
    check_credit_code,
    credit_check_char,
    make_credit_code,
    make_parcel_code,
    normalize_credit_code,
    parse_parcel_code,
)

# Published credit codes of large, well-known companies (from their business licences).
PUBLISHED = ["914403001922038216", "91110000100006485K"]


def test_weights_are_published_sequence():
    assert CREDIT_WEIGHTS == (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


@pytest.mark.parametrize("code", PUBLISHED)
def test_published_codes_pass(code):
    assert check_credit_code(code) == "ok"


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("91110000100006485", "malformed"),  # 17 characters
        ("91110000100006485I", "malformed"),  # I is not in the alphabet
        ("91110000100006485k", "malformed"),  # not normalised
        ("91110000100006485J", "checksum"),  # well formed, wrong check character
    ],
)
def test_bad_codes(code, status):
    assert check_credit_code(code) == status


def test_normalize_handles_full_width_and_spaces():
    assert normalize_credit_code(" ９１１１００００１０００06485ｋ ") == "91110000100006485K"


@given(st.text(alphabet=CREDIT_ALPHABET, min_size=17, max_size=17))
def test_any_17_chars_get_a_check_that_validates(first17):
    assert check_credit_code(first17 + credit_check_char(first17)) == "ok"


@given(
    st.text(alphabet=CREDIT_ALPHABET, min_size=17, max_size=17),
    st.integers(min_value=0, max_value=16),
    st.sampled_from(CREDIT_ALPHABET),
)
def test_single_substitution_is_detected(first17, pos, char):
    code = first17 + credit_check_char(first17)
    mutated = code[:pos] + char + code[pos + 1 :]
    if mutated != code:
        # 31 is prime and every weight is non-zero mod 31: any single substitution changes the sum.
        assert check_credit_code(mutated) == "checksum"


@given(st.text(alphabet="0123456789ABCDEFGHJKLMNPQRTUWXY", min_size=8, max_size=8))
def test_make_credit_code_is_valid(org8):
    assert check_credit_code(make_credit_code("9", "1", "320509", org8)) == "ok"


def test_parcel_code_example_from_standard():
    code = parse_parcel_code("320802001009GB00001W00000000")
    assert code is not None
    assert (code.county, code.district, code.subdistrict, code.feature, code.number) == (
        "320802",
        "001",
        "009",
        "GB",
        "00001",
    )
    assert str(code) == "320802001009GB00001"


@pytest.mark.parametrize(
    "bad", ["", "320802001009GB0001", "320802001009XB00001", "32080200100AGB00001"]
)
def test_parcel_code_rejects(bad):
    assert parse_parcel_code(bad) is None


def test_make_parcel_code_round_trip():
    assert str(parse_parcel_code(make_parcel_code("320509", 3, 12, 4567))) == "320509003012GB04567"
    with pytest.raises(ValueError):
        make_parcel_code("3205", 1, 1, 1)
