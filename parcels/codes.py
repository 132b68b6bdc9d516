"""Identifier formats: unified social credit codes and real-estate (parcel) codes.

Pure functions, no I/O.

* Unified social credit code, GB 32100-2015: 18 characters from a 31-symbol
  alphabet (no I, O, S, V, Z). Position 18 is a check character computed with
  weights ``3**(i-1) mod 31``. Some early pilot codes are legal but fail the
  check: :func:`check_credit_code` tells the two cases apart so callers can warn
  instead of rejecting.
* Real-estate unit code, GB/T 37346-2019: 28 characters; the first 19 are the
  parcel code (county 6 + cadastral district 3 + sub-district 3 + feature code
  2 + parcel number 5). Industrial parcels carry feature code ``GB``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

#: The 31 symbols of GB 32100-2015, in value order (0..30).
CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUE = {c: i for i, c in enumerate(CREDIT_ALPHABET)}
#: Weights of positions 1..17: 3**(i-1) mod 31.
CREDIT_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
_CREDIT_RE = re.compile(f"^[{CREDIT_ALPHABET}]{{18}}$")

#: Weights of the organisation-code check (GB 11714), positions 9..16 of the credit code.
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_ORG_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"

CreditStatus = Literal["ok", "checksum", "malformed"]


def credit_check_char(first17: str) -> str:
    """Return the check character (position 18) for the first 17 characters.

    Parameters
    ----------
    first17 : str
        Positions 1 to 17, upper case, from the GB 32100 alphabet.

    Returns
    -------
    str

    Examples
    --------
    >>> credit_check_char("91350100M000100Y4")
    '3'
    """
    if len(first17) != 17 or any(c not in _VALUE for c in first17):
        raise ValueError(f"need 17 characters from {CREDIT_ALPHABET!r}, got {first17!r}")
    total = sum(_VALUE[c] * w for c, w in zip(first17, CREDIT_WEIGHTS, strict=True))
    check = 31 - total % 31
    return CREDIT_ALPHABET[0 if check == 31 else check]


def normalize_credit_code(code: object) -> str:
    """Strip blanks and full-width characters and upper-case a credit code.

    Examples
    --------
    >>> normalize_credit_code(" 91350100m000100y43 ")
    '91350100M000100Y43'
    """
    text = str(code).strip().upper()
    if not text.isascii():
        # Full-width ASCII (common in Excel from Chinese input methods) to half-width.
        text = "".join(chr(ord(c) - 0xFEE0) if "！" <= c <= "～" else c for c in text).upper()
    return re.sub(r"[\s\u3000-]", "", text)


def check_credit_code(code: str) -> CreditStatus:
    """Classify a (normalised) credit code.

    Returns
    -------
    {'ok', 'checksum', 'malformed'}
        ``'malformed'``: wrong length or characters outside the alphabet (reject).
        ``'checksum'``: well formed, but the check character does not match
        (legal for some early pilot codes: warn, do not reject).

    Examples
    --------
    >>> check_credit_code("91350100M000100Y43")
    'ok'
    >>> check_credit_code("91350100M000100Y44")
    'checksum'
    >>> check_credit_code("91350100M000100Y4")
    'malformed'
    """
    if not _CREDIT_RE.match(code):
        return "malformed"
    return "ok" if credit_check_char(code[:17]) == code[17] else "checksum"


def check_credit_codes(codes: list[str | None]) -> list[CreditStatus | None]:
    """:func:`check_credit_code` for many (normalised) codes at once, vectorized.

    ``None`` stays ``None``. The check characters of all well-formed codes are
    computed in one matrix product instead of one Python loop per code.

    Examples
    --------
    >>> check_credit_codes(["91350100M000100Y43", "91350100M000100Y44", "9135", None])
    ['ok', 'checksum', 'malformed', None]
    """
    import numpy as np

    out: list[CreditStatus | None] = [None if c is None else "malformed" for c in codes]
    idx = [i for i, c in enumerate(codes) if c is not None and len(c) == 18 and c.isascii()]
    if not idx:
        return out
    table = np.full(256, -1, dtype=np.int64)
    for value, char in enumerate(CREDIT_ALPHABET):
        table[ord(char)] = value
    raw = np.frombuffer("".join(codes[i] for i in idx).encode("ascii"), dtype=np.uint8)
    values = table[raw.reshape(-1, 18)]
    formed = (values >= 0).all(axis=1)
    check = (31 - (values[:, :17] @ np.asarray(CREDIT_WEIGHTS)) % 31) % 31
    ok = check == values[:, 17]
    for k, i in enumerate(idx):
        if formed[k]:
            out[i] = "ok" if ok[k] else "checksum"
    return out


def org_check_char(first8: str) -> str:
    """Check character of a 9-character organisation code (positions 9-17 of a credit code).

    Examples
    --------
    >>> org_check_char("D2143569")
    'X'
    """
    total = sum(_ORG_ALPHABET.index(c) * w for c, w in zip(first8, _ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def make_credit_code(registration: str, entity: str, division: str, org8: str) -> str:
    """Assemble a valid credit code from its parts (used by the sample city).

    Parameters
    ----------
    registration : str
        Position 1, registration authority (``'9'`` = market regulator).
    entity : str
        Position 2, entity type (``'1'`` = enterprise).
    division : str
        Positions 3-8, six-digit administrative division code (e.g. ``'320509'``).
    org8 : str
        First 8 characters of the organisation code (digits and letters I/O/S/V/Z excluded).

    Examples
    --------
    >>> code = make_credit_code("9", "1", "320509", "MA1X2Y3Q")
    >>> check_credit_code(code)
    'ok'
    """
    org9 = org8 + org_check_char(org8)
    first17 = registration + entity + division + org9
    return first17 + credit_check_char(first17)


# ---------------------------------------------------------------------------
# GB/T 37346-2019 real-estate unit codes

_PARCEL_RE = re.compile(r"^(\d{6})(\d{3})(\d{3})([GJZ][A-HJ-NP-Z])(\d{5})$")
_UNIT_RE = re.compile(r"^(\d{6}\d{3}\d{3}[GJZ][A-HJ-NP-Z]\d{5})([FLQW])(\d{8})$")


@dataclass(frozen=True)
class ParcelCode:
    """The parts of a 19-character parcel code."""

    county: str
    district: str
    subdistrict: str
    feature: str
    number: str

    def __str__(self) -> str:
        return self.county + self.district + self.subdistrict + self.feature + self.number


def parse_parcel_code(code: str) -> ParcelCode | None:
    """Parse a 19-character parcel code or the parcel part of a 28-character unit code.

    Returns ``None`` when the code does not follow GB/T 37346 (callers warn).

    Examples
    --------
    >>> parse_parcel_code("320802001009GB00001W00000000").feature
    'GB'
    >>> parse_parcel_code("LOCAL-17") is None
    True
    """
    text = code.strip().upper()
    unit = _UNIT_RE.match(text)
    if unit:
        text = unit.group(1)
    match = _PARCEL_RE.match(text)
    return ParcelCode(*match.groups()) if match else None


def make_parcel_code(
    county: str, district: int, subdistrict: int, number: int, feature: str = "GB"
) -> str:
    """Build a 19-character parcel code.

    Examples
    --------
    >>> make_parcel_code("320509", 1, 9, 1)
    '320509001009GB00001'
    """
    code = f"{county}{district:03d}{subdistrict:03d}{feature}{number:05d}"
    if parse_parcel_code(code) is None:
        raise ValueError(f"not a valid GB/T 37346 parcel code: {code}")
    return code
