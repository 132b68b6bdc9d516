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
#: The Chinese word of each kind, for messages.
KIND_ZH = {kind: words[1] for kind, words in KIND_WORDS.items()}


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
            raise AdjustmentError("找不到加减分清单；请改正评价规则中 adjustments.files 或 "
                                  "--adjustments 给出的路径", source=str(path))
        try:
            grid, _ = read_grid(path)
        except AdjustmentError:
            raise
        except Exception as exc:
            raise AdjustmentError(f"无法读取：{exc}", source=str(path)) from exc
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
            raise AdjustmentError("找不到表头行：需要「统一社会信用代码」列和「类型」列",
                                  source=str(path))
        for i, row in enumerate(grid[header_at + 1:], start=header_at + 2):
            def cell(field, row=row, cols=cols):
                j = cols.get(field)
                return row[j] if j is not None and j < len(row) else None
            if all(v is None or str(v).strip() == "" for v in row):
                continue
            where = f"第 {i} 行"
            code = normalize_credit_code(cell("credit_code"))
            if check_credit_code(code) == "malformed":
                raise AdjustmentError(f"统一社会信用代码「{cell('credit_code')}」格式错误"
                                      "（18 位，由 0-9 和除 I、O、S、V、Z 外的大写字母组成）",
                                      source=str(path), location=where)
            word = _norm(cell("kind"))
            kind = next((k for k, words in KIND_WORDS.items() if word in words), None)
            if kind is None:
                raise AdjustmentError(f"类型「{cell('kind')}」无效；可选：加分、减分、一票否决、"
                                      "暂不评价",
                                      source=str(path), location=where)
            raw = cell("points")
            points = 0.0
            if kind in ("bonus", "penalty"):
                try:
                    points = abs(float(str(raw).strip()))
                except (TypeError, ValueError):
                    raise AdjustmentError(f"{KIND_ZH[kind]}需要分值，而表中为「{raw}」",
                                          source=str(path), location=where) from None
                if not math.isfinite(points):
                    raise AdjustmentError(f"{KIND_ZH[kind]}的分值「{raw}」不是有限的数；"
                                          "请写分数，例如 3",
                                          source=str(path), location=where)
                if points == 0:
                    raise AdjustmentError(f"{KIND_ZH[kind]} 0 分", source=str(path),
                                          location=where)
                if max_points is not None and points > max_points:
                    raise AdjustmentError(f"{KIND_ZH[kind]} {points:g} 分，超过评价规则每行"
                                          f"至多 {max_points:g} 分的限制"
                                          "（adjustments.max_points）；请核对分值",
                                          source=str(path), location=where)
            reason = cell("reason")
            records.append({"credit_code": code, "kind": kind, "points": points,
                            "reason": "" if reason is None else str(reason).strip(),
                            "source": f"{path.name} {where}"})
    return pd.DataFrame(records, columns=["credit_code", "kind", "points", "reason", "source"])
