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


#: The most common passwords of leaked-password lists (international and Chinese sites),
#: lower case, at least :data:`MIN_LENGTH` long or padded variants of shorter favourites.
_COMMON_TEXT = """
1234567890 0123456789 9876543210 0987654321 1234567891 1234512345 1122334455 1111122222
1qaz2wsx3edc 1q2w3e4r5t 1q2w3e4r5t6y 1qazxsw23edc qwertyuiop qwertyuiop123 qwerty1234
qwerty123456 asdfghjkl; asdfghjkl123 zxcvbnm123 zxcvbnm,./ 1qaz@wsx#edc qazwsxedc123
password123 password1234 password12 passw0rd123 p@ssw0rd123 p@ssword123 iloveyou123
iloveyou1314 woaini1314 woaini5201314 5201314520 5201314woaini 1314520520 woaini123456
admin12345 admin123456 administrator root123456 welcome123 welcome1234 letmein123
abc1234567 abc123456789 a123456789 a1234567890 aa123456789 qq123456789 qq1234567890
1234567890a 123456789a 123456789q 123456789abc zhang123456 wang1234567 li123456789
football123 baseball123 dragon12345 sunshine123 princess123 monkey12345 shadow12345
superman123 trustno1234 starwars123 computer123 changeme123 default1234 test123456
testtest123 guest123456 mujun123456 mujun12345678 china123456 beijing2008 shanghai123
"""
COMMON_PASSWORDS = frozenset(_COMMON_TEXT.split())
#: Common words that stay weak with digits or signs around them (``Password2024!``).
_WORDS_TEXT = ("password passw0rd p@ssw0rd p@ssword admin administrator root qwerty qwertyuiop "
               "iloveyou woaini welcome letmein changeme default test guest user abc abcd abcdef "
               "mujun china beijing")
COMMON_WORDS = frozenset(_WORDS_TEXT.split())

_KEYBOARD_ROWS = ("1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm", "abcdefghijklmnopqrstuvwxyz")


def _is_sequence(text: str) -> bool:
    """Whether ``text`` (lower case) runs along the alphabet, the digits or a keyboard row,
    forwards or backwards, possibly wrapping (``7890123456``)."""
    for row in _KEYBOARD_ROWS:
        for line in (row, row[::-1]):
            ring = line * (len(text) // len(line) + 2)
            if text in ring:
                return True
    return False


def _repeated_unit(text: str) -> str | None:
    """The shortest piece of which ``text`` is a repetition (``abcabcabc`` → ``abc``)."""
    for size in range(1, len(text) // 2 + 1):
        if len(text) % size == 0 and text[:size] * (len(text) // size) == text:
            return text[:size]
    return None


def check_rule(password: str, username: str | None = None) -> None:
    """Raise :class:`DataError` unless ``password`` is acceptable, saying why (in Chinese).

    Refused: fewer than :data:`MIN_LENGTH` characters; blanks at either end; one of
    :data:`COMMON_PASSWORDS` or a word of :data:`COMMON_WORDS` with only digits or signs
    around it; a single repeated character; a run along the digits, the
    alphabet or a keyboard row (``1234567890``, ``qwertyuiop``); the user name, the user
    name repeated or with only digits around it; any short piece repeated (``abcabcabcabc``).

    Examples
    --------
    >>> check_rule("correct horse battery")
    >>> check_rule("short")
    Traceback (most recent call last):
    ...
    gis.errors.DataError: 密码太短：至少需要 10 个字符（现在只有 5 个）
    >>> check_rule("wangwangwang", username="wang")
    Traceback (most recent call last):
    ...
    gis.errors.DataError: 密码不能是用户名（wang）或它的重复、加几位数字，这很容易被猜到；请换一个
    """
    import re

    if len(password) < MIN_LENGTH:
        raise DataError(f"密码太短：至少需要 {MIN_LENGTH} 个字符（现在只有 {len(password)} 个）")
    if password != password.strip():
        raise DataError("密码的开头或结尾不能是空格（是否多粘贴了换行？）")
    lowered = password.lower()
    if len(set(lowered)) == 1:
        raise DataError("密码只是同一个字符的重复，很容易被猜到；请换一个")
    core = re.sub(r"^[\d\W_]+|[\d\W_]+$", "", lowered)
    if lowered in COMMON_PASSWORDS or core in COMMON_WORDS:
        raise DataError("这是最常见的弱密码之一，攻击者会最先尝试；请换一个不易猜到的密码")
    if _is_sequence(lowered):
        raise DataError("密码是连续的数字、字母或键盘上的一排键（如 1234567890、abcdefghij、"
                        "qwertyuiop），很容易被猜到；请换一个")
    if username:
        name = username.lower()
        if name in (lowered, core, _repeated_unit(lowered), _repeated_unit(core)):
            raise DataError(f"密码不能是用户名（{username}）或它的重复、加几位数字，"
                            "这很容易被猜到；请换一个")
    unit = _repeated_unit(lowered)
    if unit is not None:
        raise DataError(f"密码只是“{unit}”的重复，很容易被猜到；请换一个")


def hash_password(password: str, username: str | None = None) -> str:
    """Argon2id hash of ``password`` (checks :func:`check_rule` first)."""
    check_rule(password, username)
    return _hasher().hash(password)


def hash_like(password: str, params: str, hash_chars: int) -> str | None:
    """Hash ``password`` with the Argon2 parameters and salt of a stored hash.

    ``params`` is a stored hash without its last ``$``-part (``$argon2id$v=19$m=…,t=…,p=…$salt``)
    and ``hash_chars`` the length of that part; the result equals the stored hash exactly
    when the password is right. This is how a login is checked without the app ever
    reading a password hash (migration 0014: the database compares). ``None`` when
    ``params`` is not an Argon2 prefix.

    Examples
    --------
    >>> stored = hash_password("Zq7-lantern-orbit")
    >>> params, digest = stored.rsplit("$", 1)
    >>> hash_like("Zq7-lantern-orbit", params, len(digest)) == stored
    True
    >>> hash_like("Zq7-lantern-orbiT", params, len(digest)) == stored
    False
    """
    import base64
    import binascii

    from argon2 import Type
    from argon2.low_level import hash_secret

    parts = (params or "").split("$")
    types = {"argon2id": Type.ID, "argon2i": Type.I, "argon2d": Type.D}
    if len(parts) != 5 or parts[0] or parts[1] not in types or not parts[2].startswith("v="):
        return None
    try:
        costs = dict(item.split("=", 1) for item in parts[3].split(","))
        memory, time, lanes = int(costs["m"]), int(costs["t"]), int(costs["p"])
        salt = base64.b64decode(parts[4] + "=" * (-len(parts[4]) % 4), validate=True)
        version = int(parts[2][2:])
    except (KeyError, ValueError, binascii.Error):
        return None
    # bounds: a tampered row must not make the app hash with gigabytes or for minutes
    if not (8 <= memory <= 2**20 and 1 <= time <= 20 and 1 <= lanes <= 16
            and 8 <= len(salt) <= 64 and 16 <= hash_chars <= 128):
        return None
    return hash_secret(password.encode("utf-8"), salt, time_cost=time, memory_cost=memory,
                       parallelism=lanes, hash_len=hash_chars * 3 // 4, type=types[parts[1]],
                       version=version).decode("ascii")


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
