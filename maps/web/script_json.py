"""The one JSON-for-script encoder: data placed inside a page's ``<script>`` elements.

Text from the database (an enterprise called ``甲</script><script>alert(1)</script>``)
must not end the script element or open a new one. :func:`script_json` writes JSON in
which ``<``, ``>`` and ``&`` are ``\\u003c``, ``\\u003e`` and ``\\u0026`` (as Django's
``json_script`` and Jinja's ``tojson`` do), and the line separators U+2028/U+2029 are
escaped too; JavaScript reads the same values back. Every value a map page inlines
into a script goes through it, never through string formatting.

Examples
--------
>>> script_json({"name": "</script><script>alert(1)</script>"})
'{"name":"\\\\u003c/script\\\\u003e\\\\u003cscript\\\\u003ealert(1)\\\\u003c/script\\\\u003e"}'
>>> import json; json.loads(script_json(["a&b\\u2028"])) == ["a&b\\u2028"]
True
"""

from __future__ import annotations

import json
from typing import Any

_ESCAPES = {ord("<"): "\\u003c", ord(">"): "\\u003e", ord("&"): "\\u0026",
            0x2028: "\\u2028", 0x2029: "\\u2029"}


def script_json(value: Any, *, default: Any = str) -> str:
    """``value`` as compact JSON safe to place inside ``<script>…</script>``."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=default)
    return text.translate(_ESCAPES)
