"""The status pipeline of a standard-land plot (pure): which step may follow which.

储备 → 前期开发 → 区域评估 → 指标确定 → 公告 → 出让 → 合同 → 开工 → 竣工 → 投产 → 达产复核 →
履约 / 违约 (:data:`ORDER`, the ``supply.status`` vocabulary). A plot moves **one step
forward** at a time; 违约 may also be recorded from any step after the contract (合同)
on, when the breach is found; it may go **back** to any earlier step, with a reason. A
step is dated, and its date is never before the date of the step the plot is in.

Examples
--------
>>> import datetime as dt
>>> check_step("transferred", dt.date(2025, 3, 1), "contracted", dt.date(2025, 3, 20))
'forward'
>>> check_step("transferred", dt.date(2025, 3, 1), "started", dt.date(2025, 4, 1))
Traceback (most recent call last):
...
scoring.land_status.supply.errors.StepError: 地块状态只能逐步推进：当前「出让」，下一步应为「合同」，不能直接到「开工」
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from scoring.land_status.supply.errors import StepError
from scoring.land_status.supply.vocabulary import STATUSES

#: The statuses in pipeline order.
ORDER: tuple[str, ...] = STATUSES.codes()
#: The two ends of the pipeline (both follow 达产复核).
FINAL = ("performed", "breached")
#: From this step on a breach may be recorded at once.
CONTRACT = "contracted"
#: The step that supplies the land (出让): it closes the plot's candidate.
TRANSFER = "transferred"


def rank(status: str) -> int:
    """Position of ``status`` in the pipeline (履约 and 违约 share the last one)."""
    return min(ORDER.index(status), ORDER.index(FINAL[0]))


def next_steps(status: str) -> tuple[str, ...]:
    """The statuses a plot in ``status`` may move forward to.

    >>> next_steps("output_review"), next_steps("started")
    (('performed', 'breached'), ('completed', 'breached'))
    """
    if status in FINAL:
        return ()
    following = ORDER[ORDER.index(status) + 1]
    nxt = FINAL if following in FINAL else (following,)
    if rank(status) >= rank(CONTRACT) and "breached" not in nxt:
        nxt = (*nxt, "breached")
    return nxt


def check_step(current: str, current_date: dt.date, to: str, on: dt.date,
               reason: str | None = None) -> Literal["forward", "back"]:
    """Whether a plot in ``current`` (since ``current_date``) may move to ``to`` on ``on``.

    Returns
    -------
    ``"forward"`` or ``"back"``

    Raises
    ------
    StepError
        Unknown status, a skipped step, a date before the current step's date, going
        back without a reason, or a step to the status the plot is already in.
    """
    STATUSES.check(to, what="status")
    label = STATUSES.label
    if on < current_date:
        raise StepError(f"日期 {on.isoformat()} 早于上一步「{label(current)}」的日期 "
                        f"{current_date.isoformat()}；请给出不早于它的日期")
    if to == current:
        raise StepError(f"地块已处于「{label(to)}」")
    if to in next_steps(current):
        return "forward"
    if rank(to) < rank(current) or (current in FINAL and to in FINAL):
        if not (reason and reason.strip()):
            raise StepError(f"从「{label(current)}」退回「{label(to)}」须说明原因（--reason）")
        return "back"
    allowed = "」或「".join(label(s) for s in next_steps(current)) or "无（已结束）"
    raise StepError(f"地块状态只能逐步推进：当前「{label(current)}」，下一步应为「{allowed}」，"
                    f"不能直接到「{label(to)}」")


def undoes_transfer(current: str, to: str) -> bool:
    """Whether moving from ``current`` to ``to`` takes the plot from 出让 (or later) back to
    a step before it: the land is no longer supplied.

    >>> undoes_transfer("contracted", "announced"), undoes_transfer("contracted", "transferred")
    (True, False)
    >>> undoes_transfer("announced", "preparation")
    False
    """
    return rank(current) >= rank(TRANSFER) > rank(to)
