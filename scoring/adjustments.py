"""Adjustment lists: bonuses, penalties, one-vote vetoes and exemptions by credit code.

Counties keep these as workbooks (a certified high-tech firm +3, a safety incident −5,
banned capacity → D, a relocated firm → T). A list is a CSV (UTF-8 or GBK) or XLSX/XLS
with a header row naming, in Chinese or English:

=============== =========================================== =============================
column          headers recognised                          values
=============== =========================================== =============================
credit code     统一社会信用代码, 信用代码, credit_code         18 characters
kind            类型, 调整类型, 事项类型, kind, type             加分/bonus, 减分/扣分/penalty,
                                                            一票否决/否决/veto,
                                                            暂不评价/不参评/T/exempt
points          分值, 分数, 加减分, points                     positive finite number (bonus,
                                                            penalty), at most the rule
                                                            set's ``adjustments.max_points``
reason          原因, 事由, 说明, 备注, reason                  text shown in ``score explain``
=============== =========================================== =============================
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from scoring.errors import AdjustmentError

HEADERS = {
    "credit_code": ("统一社会信用代码", "社会信用代码", "信用代码", "credit_code", "uscc"),
    "kind": ("类型", "调整类型", "事项类型", "kind", "type"),
    "points": ("分值", "分数", "加减分", "points", "score"),
    "reason": ("原因", "事由", "说明", "备注", "reason", "note"),
}
KIND_WORDS = {
    "bonus": ("bonus", "加分", "奖励"),
    "penalty": ("penalty", "减分", "扣分"),
    "veto": ("veto", "一票否决", "否决"),
    "exempt": ("exempt", "暂不评价", "不参评", "t", "免评", "不参与评价"),
}


def _norm(text: object) -> str:
    return "".join(str(text).split()).lower() if text is not None else ""


def read_adjustments(paths: list[Path] | tuple[Path, ...], *,
                     max_points: float | None = None) -> pd.DataFrame:
    """Read adjustment lists into ``credit_code, kind, points, reason, source``.

    Parameters
    ----------
    paths : sequence of Path
        CSV/XLSX/XLS lists.
    max_points : float, optional
        The largest bonus or penalty one row may give (the rule set's
        ``adjustments.max_points``); ``None`` checks only that points are finite.

    Raises
    ------
    AdjustmentError
        A file is missing or unreadable, has no credit-code/kind header, or a row has a
        malformed code, an unknown kind, or a bonus/penalty without positive finite points
        or above ``max_points``; the message names the file and row.
    """
    from gis.importing.sheets import read_grid
    from parcels.codes import check_credit_code, normalize_credit_code

    records = []
    for path in paths:
        path = Path(path)
        if not path.exists():
            raise AdjustmentError("adjustment list not found; fix the path in the rule set's "
                                  "adjustments.files or --adjustments", source=str(path))
        try:
            grid, _ = read_grid(path)
        except AdjustmentError:
            raise
        except Exception as exc:
            raise AdjustmentError(f"cannot read: {exc}", source=str(path)) from exc
        header_at, cols = None, {}
        for i, row in enumerate(grid[:10]):
            found = {}
            for j, cell in enumerate(row):
                for field, names in HEADERS.items():
                    if _norm(cell) in {_norm(n) for n in names} and field not in found:
                        found[field] = j
            if "credit_code" in found and "kind" in found:
                header_at, cols = i, found
                break
        if header_at is None:
            raise AdjustmentError("no header row with a credit-code column (统一社会信用代码) and "
                                  "a kind column (类型)", source=str(path))
        for i, row in enumerate(grid[header_at + 1:], start=header_at + 2):
            def cell(field, row=row, cols=cols):
                j = cols.get(field)
                return row[j] if j is not None and j < len(row) else None
            if all(v is None or str(v).strip() == "" for v in row):
                continue
            where = f"row {i}"
            code = normalize_credit_code(cell("credit_code"))
            if check_credit_code(code) == "malformed":
                raise AdjustmentError(f"credit code {cell('credit_code')!r} is malformed "
                                      "(18 characters of 0-9 and A-Y without I, O, S, V, Z)",
                                      source=str(path), location=where)
            word = _norm(cell("kind"))
            kind = next((k for k, words in KIND_WORDS.items() if word in words), None)
            if kind is None:
                raise AdjustmentError(f"kind {cell('kind')!r} is not one of 加分/bonus, "
                                      "减分/penalty, 一票否决/veto, 暂不评价/exempt",
                                      source=str(path), location=where)
            raw = cell("points")
            points = 0.0
            if kind in ("bonus", "penalty"):
                try:
                    points = abs(float(str(raw).strip()))
                except (TypeError, ValueError):
                    raise AdjustmentError(f"{kind} needs points (分值), got {raw!r}",
                                          source=str(path), location=where) from None
                if not math.isfinite(points):
                    raise AdjustmentError(f"{kind} points (分值) {raw!r} are not a finite "
                                          "number; write the points, e.g. 3",
                                          source=str(path), location=where)
                if points == 0:
                    raise AdjustmentError(f"{kind} of 0 points", source=str(path),
                                          location=where)
                if max_points is not None and points > max_points:
                    raise AdjustmentError(f"{kind} of {points:g} points is above the rule "
                                          f"set's limit of {max_points:g} points per row "
                                          "(adjustments.max_points); check the figure",
                                          source=str(path), location=where)
            reason = cell("reason")
            records.append({"credit_code": code, "kind": kind, "points": points,
                            "reason": "" if reason is None else str(reason).strip(),
                            "source": f"{path.name} {where}"})
    return pd.DataFrame(records, columns=["credit_code", "kind", "points", "reason", "source"])
