"""Properties of the area figures (pure): progress adds up to the area reclaimed, never
falls, and the status follows the target and the planned month."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gis.crs import SQM_PER_MU
from scoring.errors import AreaError
from scoring.land_status.areas import model

member = st.tuples(st.floats(1, 1e6, allow_nan=False),
                   st.one_of(st.none(), st.dates(dt.date(2020, 1, 1), dt.date(2030, 12, 31))))


@settings(deadline=None)        # the machine is shared: timing is not the property
@given(st.lists(member, max_size=30), st.floats(0.01, 1e5))
def test_progress_adds_up_and_never_falls(rows, target):
    m = pd.DataFrame(rows, columns=["parcel_m2", "approved_on"])
    p = model.progress(m, target)
    reclaimed = model.reclaimed_mu(m)
    approved = [r for r in rows if r[1] is not None]
    assert reclaimed == pytest.approx(sum(a for a, _ in approved) / SQM_PER_MU)
    assert len(p) == len({d for _, d in approved})
    if len(p):
        assert p["cumulative_mu"].iloc[-1] == pytest.approx(reclaimed, rel=1e-9, abs=1e-5)
        assert p["cumulative_mu"].is_monotonic_increasing
        assert list(p["date"]) == sorted(p["date"])
        assert p["n_approved"].sum() == len(approved)


@settings(deadline=None)
@given(st.floats(0, 1e4), st.floats(0.01, 1e4), st.dates(dt.date(2024, 1, 1), dt.date(2030, 12, 1)),
       st.dates(dt.date(2024, 1, 1), dt.date(2031, 12, 31)), st.integers(0, 5))
def test_status(reclaimed, target, planned, as_of, n):
    planned = planned.replace(day=1)
    s = model.area_status(reclaimed_mu=reclaimed, target_mu=target, planned=planned,
                          as_of=as_of, n_approved=n)
    if reclaimed >= target:
        assert s == "target_met"
    elif as_of > model.month_end(planned):
        assert s == "overdue"
    else:
        assert s == ("in_progress" if n else "not_started")


@pytest.mark.parametrize("label", ["改造提升", "兼并重组", "回收盘活", "集聚入园", "关停退出"])
def test_every_method_label_is_accepted(label):
    from scoring.land_status.vocabulary import AREA_METHODS

    assert AREA_METHODS.label(model.parse_method(label)) == label


@pytest.mark.parametrize("bad", ["", "  ", "x" * 201])
def test_bad_names(bad):
    with pytest.raises(AreaError):
        model.check_name(bad)


@settings(deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), member), max_size=40))
def test_every_area_at_once_equals_one_by_one(rows):
    m = pd.DataFrame([(a, *r) for a, r in rows], columns=["area_id", "parcel_m2", "approved_on"])
    targets = {a: 10.0 + a for a in range(4)}
    together = model.progress(m, targets)
    for a in range(4):
        alone = model.progress(m[m["area_id"] == a].drop(columns="area_id"), targets[a])
        mine = together[together["area_id"] == a].drop(columns="area_id").reset_index(drop=True)
        pd.testing.assert_frame_equal(mine, alone.reset_index(drop=True), check_dtype=False)
