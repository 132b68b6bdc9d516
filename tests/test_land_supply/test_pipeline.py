"""The status pipeline (pure): one step forward, back only with a reason, dates in order."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scoring.land_status.supply.errors import StepError
from scoring.land_status.supply.pipeline import (
    FINAL,
    ORDER,
    check_step,
    next_steps,
    rank,
    undoes_transfer,
)
from scoring.land_status.supply.vocabulary import STATUSES

D = dt.date(2025, 1, 1)
statuses = st.sampled_from(ORDER)
days = st.integers(min_value=-400, max_value=400)


def test_the_pipeline_is_the_issues_in_chinese():
    assert [STATUSES.label(s) for s in ORDER] == [
        "储备", "前期开发", "区域评估", "指标确定", "公告", "出让", "合同", "开工", "竣工", "投产",
        "达产复核", "履约", "违约"]
    assert next_steps("output_review") == FINAL and next_steps("performed") == ()


@given(statuses, statuses, days)
def test_every_step_is_forward_by_one_back_with_reason_or_refused(current, to, shift):
    on = D + dt.timedelta(days=shift)
    try:
        how = check_step(current, D, to, on, reason="规划调整")
    except StepError:
        assert (shift < 0 or to == current or (rank(to) > rank(current)
                                               and to not in next_steps(current)))
        return
    assert shift >= 0 and to != current
    if how == "forward":
        assert to in next_steps(current)
        assert rank(to) == rank(current) + 1 or to == "breached"
    else:
        assert rank(to) < rank(current) or (current in FINAL and to in FINAL)


@given(statuses, statuses)
def test_going_back_needs_a_reason(current, to):
    if rank(to) < rank(current):
        with pytest.raises(StepError, match="须说明原因"):
            check_step(current, D, to, D, reason=" ")


def test_a_breach_may_be_recorded_from_the_contract_on_only():
    assert check_step("started", D, "breached", D) == "forward"
    with pytest.raises(StepError, match="下一步应为「出让」"):
        check_step("announced", D, "breached", D)


def test_an_unknown_status_is_named_with_the_choices():
    with pytest.raises(Exception, match="储备"):
        check_step("reserve", D, "sold", D)


@given(statuses, statuses)
def test_a_transfer_is_undone_exactly_by_a_way_back_across_it(current, to):
    """Going back from 出让 or later to before it, and nothing else, undoes the transfer;
    any undoing step is a step back (it needs a reason)."""
    supplied = ORDER[ORDER.index("transferred"):]
    assert undoes_transfer(current, to) == (current in supplied and to not in supplied)
    if undoes_transfer(current, to):
        assert check_step(current, D, to, D, reason="出让撤销") == "back"
