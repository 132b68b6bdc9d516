"""The annual report's pure figures (maps/annual/figures.py): invariants on random counties."""

from __future__ import annotations

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from gis.crs import SQM_PER_MU
from maps.annual.figures import (
    REPORT_CLASSES,
    candidate_table,
    class_table,
    run_totals,
    shift_counts,
    trend_table,
)

CLASSES = st.sampled_from(["A", "B", "C", "D", "T", None])


@st.composite
def score_frames(draw, prefix: str = "f"):
    n = draw(st.integers(0, 30))
    codes = draw(st.lists(st.integers(0, 40), min_size=n, max_size=n, unique=True))
    classes = draw(st.lists(CLASSES, min_size=n, max_size=n))
    land = draw(st.lists(st.one_of(st.just(0.0), st.floats(0.01, 500)), min_size=n, max_size=n))
    tax = draw(st.lists(st.one_of(st.none(), st.floats(0, 1e4)), min_size=n, max_size=n))
    return pd.DataFrame({"credit_code": [f"{prefix}{c}" for c in codes],
                         "evaluated": [c is not None for c in classes],
                         "final_class": pd.Series(classes, dtype=object), "land_mu": land,
                         "tax_wan": pd.Series(tax, dtype=float), "revenue_wan": land,
                         "value_added_wan": land})


@settings(max_examples=80, deadline=None)
@given(now=score_frames(), before=score_frames())
def test_classes_shifts_and_totals_add_up(now, before):
    t = run_totals(now)
    ev = now[now["evaluated"].astype(bool)]
    assert t["evaluated"] == len(ev) and t["enterprises"] == len(now)
    assert abs(t["tax_wan"] - ev["tax_wan"].fillna(0).sum()) < 1e-3
    if t["land_mu"] > 0:
        per = ev["tax_wan"].fillna(0).sum() / ev["land_mu"].sum()
        assert abs(t["tax_per_mu"] - per) <= 1e-4 * max(1.0, per)
    else:
        assert t["tax_per_mu"] is None
    table = class_table(now, before)
    assert list(table["class"]) == list(REPORT_CLASSES)
    assert table["firms"].sum() == now["final_class"].notna().sum()
    assert (table["firms_change"] == table["firms"] - table["last_firms"]).all()
    if table["firms"].sum():
        assert abs(table["share"].sum() - 1.0) < 1e-3
    moved = shift_counts(now, before)
    classed = set(now.loc[now["final_class"].notna(), "credit_code"]) | set(
        before.loc[before["final_class"].notna(), "credit_code"])
    assert sum(moved.values()) == len(classed)       # a firm classed in neither run: no shift
    # a firm classed in both runs with the same class counts as "same"
    both = now.merge(before, on="credit_code", suffixes=("", "_b"))
    assert moved["same"] == (both["final_class"].notna()
                             & (both["final_class"] == both["final_class_b"])).sum()
    assert class_table(now, None)["last_firms"].isna().all()
    trend = trend_table([(2024, 2, now), (2023, 1, before)])
    assert trend["year"].tolist() == [2023, 2024] and trend["score_run"].tolist() == [1, 2]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["idle_not_started", "unfinished", "built_unused"]),
                          st.floats(0, 1e5), st.one_of(st.none(), st.floats(0, 1e5)),
                          st.booleans()), max_size=25))
def test_candidates_per_kind_and_the_total_row(rows):
    frame = pd.DataFrame(rows, columns=["kind", "area_m2", "reclaimable_m2", "approved"])
    kinds = ("idle_not_started", "unfinished", "built_unused", "inefficient")
    t = candidate_table(frame, kinds)
    assert t["kind"].tolist() == [*kinds, "total"]
    total = t.iloc[-1]
    assert total["candidates"] == len(frame) == t["candidates"][:-1].sum()
    assert total["approved"] == int(frame["approved"].sum())
    area = frame["area_m2"].sum() / SQM_PER_MU
    assert abs(total["area_mu"] - area) <= 0.01
    approved = frame[frame["approved"].astype(bool)]
    recl = pd.to_numeric(approved["reclaimable_m2"], errors="coerce")
    mu = recl.fillna(approved["area_m2"]).sum() / SQM_PER_MU
    assert abs(total["approved_mu"] - mu) <= 0.01
    assert t.loc[t["kind"] == "inefficient", "candidates"].item() == 0
