"""Control indicators of standard land (标准地) per industry, from a versioned table.

A table is YAML (``data/indicators.yaml`` is the bundled, commented template: its
figures are examples) or CSV with one row per industry (columns ``industry``, ``name``,
the indicator codes of the ``supply.indicator`` vocabulary, and optionally ``edition``,
the same in every row). Both are validated by the one rule-file helper
(:mod:`gis.yaml_schema`): a CSV is turned into the same document line for line, so an
error names the CSV row. A plot's industry (GB/T 4754-2017 class, group or division,
with or without the section letter) takes the longest code of the table that matches.

Examples
--------
>>> t = load_table()
>>> t.edition, lookup(t, "C3311")["far_min"]
('example-2026', 1.2)
>>> lookup(t, "1711")
Traceback (most recent call last):
...
scoring.land_status.supply.errors.IndicatorTableError: 行业 1711 不在控制指标表「标准地控制指标模板（示例数据，非正式标准）」（example-2026）中；表中行业：13、26、33、34、39；请补充该行业或换用本县的指标表（--indicators）
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gis.yaml_schema import Check, Const, Number, Record, Table, Text, validate
from scoring.land_status.supply.errors import IndicatorTableError
from scoring.land_status.supply.vocabulary import INDICATORS

#: The bundled template.
TEMPLATE = Path(__file__).resolve().parent / "data" / "indicators.yaml"

_SHARES = ("coverage_min", "green_max", "office_share_max", "rd_share_min")


def _code(code: str) -> str | None:
    return (None if code.isdigit() and 2 <= len(code) <= 4 else
            f"{code!r} is not a GB/T 4754 division, group or class code in quotes, e.g. \"13\"")


def _far_order(row: dict) -> str | None:
    lo, hi = row.get("far_min"), row.get("far_max")
    return (f"far_min {lo} is above far_max {hi}"
            if lo is not None and hi is not None and lo > hi else None)


_ROW = Check(Record({
    "name": Text(help="the industry's name"),
    **{code: Number(minimum=0, maximum=1 if code in _SHARES else None,
                    help=INDICATORS.label(code)) for code in INDICATORS.codes()},
}), _far_order)

#: The table format, declared once.
SCHEMA = Record({
    "version": Const(1, help="format version (1)"),
    "name": Text(help="what the table is"),
    "edition": Text(help="the table's edition, stored with every plot"),
    "industries": Table(_ROW, key=Check(Text(quoted=True), _code),
                        help="GB/T 4754-2017 code -> indicators"),
}, required=("name", "edition", "industries"))


@dataclass(frozen=True)
class IndicatorTable:
    """A validated table: name, edition, source and ``industries`` (code -> indicators)."""

    name: str
    edition: str
    source: str
    industries: dict[str, dict[str, Any]]

    @property
    def label(self) -> str:
        """How a plot names the table it took its indicators from."""
        return f"{self.name} {self.edition}"


def _csv_as_yaml(text: str, source: str) -> str:
    """The CSV as the YAML document, row *n* of the CSV on line *n* (pure)."""
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        raise IndicatorTableError(f"{source}: the file is empty; write a header row with "
                                  "industry, name and the indicator columns")
    head = [h.strip() for h in rows[0]]
    if "industry" not in head:
        raise IndicatorTableError(f"{source}, row 1: no column 'industry'; columns are: "
                                  + ", ".join(head))
    lines = ["industries:"]
    editions = set()
    for row in rows[1:]:
        cells = dict(zip(head, (c.strip() for c in row), strict=False))
        if not any(cells.values()):
            lines.append("")
            continue
        if cells.get("edition"):
            editions.add(cells["edition"])
        values = {k: (float(v) if _is_number(v) else v) for k, v in cells.items()
                  if k not in ("industry", "edition") and v != ""}
        lines.append(f"  {json.dumps(cells.get('industry', ''))}: "
                     f"{json.dumps(values, ensure_ascii=False)}")
    if len(editions) > 1:
        raise IndicatorTableError(f"{source}: the column 'edition' holds several editions "
                                  f"({', '.join(sorted(editions))}); one table has one")
    lines += ["version: 1", f"name: {json.dumps(Path(source).stem, ensure_ascii=False)}",
              f"edition: {json.dumps(editions.pop() if editions else 'csv')}"]
    return "\n".join(lines) + "\n"


def _is_number(v: str) -> bool:
    try:
        float(v)
    except ValueError:
        return False
    return True


def load_table(path: str | Path | None = None) -> IndicatorTable:
    """Read and validate a table (default: the bundled template).

    Raises
    ------
    IndicatorTableError
        Naming the file, line (CSV: row) and key of what is wrong.
    """
    from gis.encodings import detect_text_encoding

    p = Path(path) if path is not None else TEMPLATE
    source = str(p)
    try:
        data = p.read_bytes()
        text = data.decode(detect_text_encoding(data)).lstrip("\ufeff")
    except (OSError, UnicodeDecodeError) as exc:
        raise IndicatorTableError(f"{source}: cannot read the indicator table ({exc})") from exc
    if p.suffix.lower() == ".csv":
        text = _csv_as_yaml(text, source)
    doc = validate(SCHEMA, text, source=source, error=IndicatorTableError)
    industries = {str(k): {f: v for f, v in dict(row).items() if v is not None}
                  for k, row in doc["industries"].items()}
    return IndicatorTable(str(doc["name"]), str(doc["edition"]), source, industries)


def lookup(table: IndicatorTable, industry: str) -> dict[str, Any]:
    """The indicators of ``industry`` (the longest matching code of the table).

    Raises
    ------
    IndicatorTableError
        The industry is not a GB/T 4754 code, or no code of the table matches it.
    """
    code = str(industry).strip().upper()
    digits = code[1:] if code[:1].isalpha() else code
    if not (digits.isdigit() and 2 <= len(digits) <= 4):
        raise IndicatorTableError(f"行业代码 {industry!r} 不是 GB/T 4754-2017 的门类+数字代码"
                                  "（如 C3311 或 3311）")
    for n in range(len(digits), 1, -1):
        if digits[:n] in table.industries:
            return dict(table.industries[digits[:n]], industry=digits[:n])
    raise IndicatorTableError(
        f"行业 {industry} 不在控制指标表「{table.name}」（{table.edition}）中；表中行业："
        f"{'、'.join(sorted(table.industries))}；请补充该行业或换用本县的指标表（--indicators）")
