"""DSN text: redaction for logs and messages (pure; imported by the cluster and the connection).

>>> sorted(redact_dsn("host=db dbname=x password=secret").split())
['dbname=x', 'host=db', 'password=***']
"""

from __future__ import annotations

import re

_SECRET_KEYS = {"password"}
_URI_PASSWORD = re.compile(r"(?P<scheme>postgres(?:ql)?://)(?P<user>[^:@/]*):[^@/]*@")
_KV_PASSWORD = re.compile(r"password\s*=\s*('(?:[^'\\]|\\.)*'|\S+)")


def redact_dsn(dsn: str | None) -> str:
    """Return ``dsn`` without its password, safe to print or log.

    Parameters
    ----------
    dsn : str or None
        A libpq key=value string or a ``postgresql://`` URI.

    Returns
    -------
    str
        The DSN as key=value pairs with any password replaced by ``***``.

    Examples
    --------
    >>> "secret" in redact_dsn("host=db port=5432 dbname=x user=u password=secret")
    False
    >>> sorted(redact_dsn("postgresql://u:secret@db/x").split())
    ['dbname=x', 'host=db', 'password=***', 'user=u']
    """
    if not dsn:
        return ""
    try:
        from psycopg.conninfo import conninfo_to_dict

        parts = conninfo_to_dict(dsn)
    except Exception:  # unparsable: strip anything that looks like a password
        text = _URI_PASSWORD.sub(r"\g<scheme>\g<user>:***@", dsn)
        return _KV_PASSWORD.sub("password=***", text)
    out = []
    for key, value in parts.items():
        if value is None:
            continue
        shown = "***" if key in _SECRET_KEYS else str(value)
        if shown == "" or any(c.isspace() for c in shown) or "'" in shown:
            shown = "'" + shown.replace("\\", "\\\\").replace("'", "\\'") + "'"
        out.append(f"{key}={shown}")
    return " ".join(out)
