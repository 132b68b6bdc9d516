"""What a test asks of text an official reads: Chinese words, no English left over.

:func:`english_words` lists the Latin words of a text that are neither inside a
command or option the user types, nor the root's ``mujun: error:`` prefix (```mujun …```, ``--year``), nor in a file path, nor
among the ``allowed`` codes (credit codes, engine names, file formats).
"""

from __future__ import annotations

import re

_IGNORED = re.compile(r"(?m)^mujun: error: |`[^`]*`|--[a-z][a-z-]*|(?:[\w.-]*[/\\])+[\w.-]+|[\w-]+\.\w{2,5}\b")


def english_words(text: str, allowed: tuple[str, ...] = ()) -> list[str]:
    """Latin words of three letters or more in ``text`` outside commands, options, paths.

    Examples
    --------
    >>> english_words("已写出 /tmp/a.gpkg（GPKG）：宗地 3 行；`mujun db start`", ("GPKG",))
    []
    >>> english_words("mujun: error: 第 9 次运行不是占地测算（--run）")
    []
    >>> english_words("wrote 3 rows（--run）")
    ['wrote', 'rows']
    """
    rest = re.sub(_IGNORED, " ", text.strip())
    return [w for w in re.findall(r"[A-Za-z]{3,}", rest) if w not in allowed]
