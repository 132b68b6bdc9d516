"""Password hashing (Argon2id, argon2-cffi) and the password rule. Pure functions."""

from __future__ import annotations

import contextlib
from functools import lru_cache

from gis.errors import DataError

#: Shortest password accepted.
MIN_LENGTH = 10


@lru_cache(maxsize=1)
def _hasher():
    from argon2 import PasswordHasher

    # argon2-cffi's defaults (RFC 9106 low-memory profile): Argon2id, t=3, m=64 MiB, p=4.
    return PasswordHasher()


def check_rule(password: str) -> None:
    """Raise :class:`DataError` unless ``password`` is acceptable.

    Examples
    --------
    >>> check_rule("correct horse battery")
    >>> check_rule("short")
    Traceback (most recent call last):
    ...
    gis.errors.DataError: a password needs at least 10 characters
    """
    if len(password) < MIN_LENGTH:
        raise DataError(f"a password needs at least {MIN_LENGTH} characters")
    if password != password.strip():
        raise DataError("a password must not start or end with blanks (a stray newline?)")


def hash_password(password: str) -> str:
    """Argon2id hash of ``password`` (checks :func:`check_rule` first)."""
    check_rule(password)
    return _hasher().hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches ``stored_hash``; a missing hash still costs one hash.

    Hashing a dummy value when the user does not exist keeps the time of a failed
    login the same for unknown and known user names.
    """
    from argon2.exceptions import InvalidHashError, VerificationError

    hasher = _hasher()
    if not stored_hash:
        with contextlib.suppress(VerificationError, InvalidHashError):
            hasher.verify(_dummy_hash(), password)
        return False
    try:
        return bool(hasher.verify(stored_hash, password))
    except (VerificationError, InvalidHashError):
        return False


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _hasher().hash("not a password of anyone")
