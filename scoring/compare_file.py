"""The comparison as a file (``score compare -o``, ``score --what-if -o``).

XLSX: the firms whose class changed (first sheet), then the transition matrix, land and
tax per class, shifts per town and per industry division, and a note saying which runs
and which class (the final, adjusted one) were compared; Chinese headers from
:mod:`scoring.vocabulary`. CSV: the firms whose class changed.

Written by the project's one layer writer, :func:`gis.layer_writer.write_layer` (called
in :func:`write_comparison` only), with this package's field table of the columns.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from gis.errors import ConfigError

if TYPE_CHECKING:
    from scoring.compare import Comparison


def _labelled(frame: pd.DataFrame) -> pd.DataFrame:
    from scoring.vocabulary import FIELDS

    return frame.rename(columns={c: FIELDS.label(str(c)) for c in frame.columns})


def _class_names(values) -> list[str]:
    from scoring.vocabulary import CLASSES

    return ["合计" if v == "total" else CLASSES.label(v) for v in values]


def sheets(cmp: Comparison) -> dict[str, pd.DataFrame]:
    """The workbook's further sheets, headers and classes in Chinese (pure)."""
    from scoring.compare_runs import basis_note, run_title
    from scoring.vocabulary import SHIFTS

    matrix = cmp.matrix.copy()
    matrix.columns = _class_names(matrix.columns)
    matrix.insert(0, "from_class", _class_names(matrix.index))
    by_class = cmp.by_class.copy()
    by_class["class"] = _class_names(by_class["class"])
    shift_names = {s: SHIFTS.label(s) for s in SHIFTS.codes()}
    by_town = cmp.by_town.rename(columns=shift_names)
    by_industry = cmp.by_industry.rename(columns=shift_names)
    note = pd.DataFrame({"项目": ["甲", "乙", "档次口径", "企业数（家）", "档次变化（家）"],
                         "内容": [run_title(cmp.runs.get("a", {})),
                                run_title(cmp.runs.get("b", {})), basis_note(cmp),
                                f"{cmp.firms:,}", f"{cmp.changed_count:,}"]})
    out = {"档次转移矩阵": _labelled(matrix), "各档用地与税收": _labelled(by_class),
           "各镇街档次变化": _labelled(by_town), "各行业档次变化": _labelled(by_industry)}
    if cmp.policy is not None:
        out.update(policy_sheets(cmp))
        note = pd.concat([note, pd.DataFrame({
            "项目": ["政策规则", "政策金额（甲，元）", "政策金额（乙，元）", "政策金额变化（元）"],
            "内容": [f"{cmp.policy.ruleset.get('name')}（{cmp.policy.ruleset.get('year')}年，"
                   f"执行期 {cmp.policy.ruleset.get('period')}，内存中试算，未保存）",
                   *(_yuan(cmp.policy.totals[k]) for k in ("amount_a_fen", "amount_b_fen",
                                                           "difference_fen"))]})],
            ignore_index=True)
    out["说明"] = note
    return out


def _yuan(fen) -> str:
    from scoring.policy.store import yuan

    return yuan(fen)


def policy_sheets(cmp: Comparison) -> dict[str, pd.DataFrame]:
    """The change in policy amounts: per firm, per class transition, per item (元)."""
    from scoring.compare_runs import _yuan_frame
    from scoring.policy.terms import label

    ch = cmp.policy
    firms = _yuan_frame(ch.firms)
    trans = _yuan_frame(ch.by_transition)
    for frame in (firms, trans):
        for col in ("class_a", "class_b"):
            frame[col] = _class_names(frame[col])
    items = _yuan_frame(ch.by_item)
    items["kind"] = [label("policy.item", k) for k in items["kind"]]
    items = items.rename(columns={"item": "policy_item", "kind": "policy_kind"})
    return {"政策金额变化（企业）": _labelled(firms), "政策金额变化（档次转移）": _labelled(trans),
            "政策金额变化（项目）": _labelled(items)}


def changed_table(cmp: Comparison) -> pd.DataFrame:
    """The changed firms as written: classes as codes (未评价 for none), shifts in words."""
    from scoring.vocabulary import SHIFTS

    out = cmp.changed.copy()
    for col in ("class_a", "class_b"):
        out[col] = out[col].where(out[col] != "none", "未评价")
    out["shift"] = out["shift"].map(lambda s: SHIFTS.label(s))
    for col in ("adjusted_a", "adjusted_b"):
        out[col] = out[col].map({True: "是", False: ""}).fillna("")
    if cmp.policy is not None:                 # the firm's policy amounts beside its classes
        from scoring.policy.store import yuan

        per = cmp.policy.firms.set_index("credit_code")
        for col in ("amount_a", "amount_b", "difference"):
            values = out["credit_code"].map(per[f"{col}_fen"])
            out[f"{col}_yuan"] = [yuan(v) if v == v and v is not None else yuan(0)
                                  for v in values]
    return out


def write_comparison(cmp: Comparison, path: str | Path, *, overwrite: bool = False
                     ) -> dict[str, Any]:
    """Write ``cmp`` to ``path`` (.xlsx or .csv) through the one layer writer.

    Raises
    ------
    ConfigError
        Another format (the comparison is a table).
    OutputExistsError
        ``path`` exists and ``overwrite`` is false.
    """
    from gis.layer_writer import FieldInfo, write_layer
    from scoring.vocabulary import FIELDS

    path = Path(path)
    if path.suffix.lower() not in (".xlsx", ".csv"):
        raise ConfigError(f"{path}：对比结果只能写成 .xlsx 或 .csv 表格")
    table = changed_table(cmp)
    fields = {c: FieldInfo(c, FIELDS.label(c), FIELDS.label(c, "en")) for c in table.columns}
    return write_layer(table, path, layer="score_compare", title="档次变化企业",
                       overwrite=overwrite, fields=fields,
                       sheets=sheets(cmp) if path.suffix.lower() == ".xlsx" else None)
