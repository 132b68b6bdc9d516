"""YAML read with the line of every key, so rule-file errors can name the line.

:func:`load_marked` returns plain Python values, except that every mapping is a
:class:`MarkedDict`: a ``dict`` that also knows its own line and the line of each key.
Duplicate keys (which PyYAML silently resolves to the last one) are an error here.
"""

from __future__ import annotations

from typing import Any

import yaml


class MarkedDict(dict):
    """A mapping from YAML with ``line`` (its first line) and ``key_lines`` (key -> line)."""

    line: int = 0
    key_lines: dict[Any, int]

    def line_of(self, key: Any) -> int:
        """1-based line of ``key``, or of the mapping when the key is absent."""
        return self.key_lines.get(key, self.line)


class DuplicateKey(yaml.MarkedYAMLError):
    """A key occurs twice in one mapping."""


class _Loader(yaml.SafeLoader):
    pass


def _construct_mapping(loader: _Loader, node: yaml.MappingNode, deep: bool = False) -> MarkedDict:
    loader.flatten_mapping(node)
    out = MarkedDict()
    out.line = node.start_mark.line + 1
    out.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError as exc:
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping", node.start_mark,
                "found an unhashable key", key_node.start_mark) from exc
        if key in out.key_lines:
            raise DuplicateKey("while constructing a mapping", node.start_mark,
                               f"found duplicate key {key!r} (first on line "
                               f"{out.key_lines[key]})", key_node.start_mark)
        out[key] = loader.construct_object(value_node, deep=True)
        out.key_lines[key] = key_node.start_mark.line + 1
    return out


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load_marked(text: str) -> Any:
    """Parse YAML ``text``; mappings come back as :class:`MarkedDict`.

    Raises
    ------
    yaml.YAMLError
        Syntax errors and duplicate keys, with ``problem_mark`` giving the line.

    Examples
    --------
    >>> d = load_marked("a: 1\\nb:\\n  c: 2\\n")
    >>> d.line_of("b"), d["b"].line_of("c")
    (2, 3)
    """
    return yaml.load(text, Loader=_Loader)
