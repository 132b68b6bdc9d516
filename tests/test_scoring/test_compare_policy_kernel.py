"""The pure kernel of `score compare --policy`, against a naive per-line recomputation."""

from __future__ import annotations

from collections import Counter

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring.compare_policy import exact_sums, policy_change
from scoring.policy.kernel import PolicyResult

CLASSES = st.sampled_from(["A", "B", "C", "D", "T", None])
AMOUNT = st.one_of(st.none(), st.integers(-10**20, 10**20), st.integers(-10**6, 10**6))


def _result(classes: dict[str, str | None], lines: list[tuple[str, str, int | None]]):
    ents = pd.DataFrame({"credit_code": list(classes), "name": [f"n{c}" for c in classes],
                         "town": "东镇", "score_class": list(classes.values()),
                         "adjusted_class": None, "class": list(classes.values())})
    frame = pd.DataFrame({"credit_code": [c for c, _, _ in lines],
                          "item": [i for _, i, _ in lines],
                          "kind": ["energy_quota" if i == "quota" else "electricity"
                                   for _, i, _ in lines],
                          "amount_fen": pd.Series([a for _, _, a in lines], dtype=object)})
    return PolicyResult(ents, frame)


@st.composite
def sides(draw):
    codes = draw(st.lists(st.sampled_from([f"F{i}" for i in range(12)]), min_size=1,
                          max_size=12, unique=True))
    out = []
    for _ in range(2):
        present = [c for c in codes if draw(st.booleans())] or codes[:1]
        classes = {c: draw(CLASSES) for c in present}
        lines = [(c, draw(st.sampled_from(["power", "tax", "quota"])), draw(AMOUNT))
                 for c in present for _ in range(draw(st.integers(0, 3)))]
        out.append((classes, lines))
    return out


@settings(max_examples=150, deadline=None)
@given(sides())
def test_policy_change_equals_a_naive_recomputation(two):
    (ca, la), (cb, lb) = two
    ch = policy_change(_result(ca, la), _result(cb, lb))

    def per_firm(lines):
        out = Counter()
        for code, item, amount in lines:
            if item != "quota" and amount is not None:
                out[code] += amount
        return out

    fa, fb = per_firm(la), per_firm(lb)
    codes = set(ca) | set(cb)
    diff = {c: fb[c] - fa[c] for c in codes}
    assert ch.totals["difference_fen"] == sum(diff.values())
    assert ch.totals["amount_a_fen"] == sum(fa.values())
    assert ch.totals["firms_changed"] == sum(1 for v in diff.values() if v)
    got = dict(zip(ch.firms["credit_code"], ch.firms["difference_fen"], strict=True))
    for c, v in diff.items():
        if v:
            assert got[c] == v
    trans = Counter()
    for c in codes:
        trans[(ca.get(c) or "none", cb.get(c) or "none")] += diff[c]
    mine = {(r["class_a"], r["class_b"]): r["difference_fen"]
            for r in ch.by_transition.to_dict("records")}
    assert mine == dict(trans)
    assert sum(ch.by_item["difference_fen"]) == sum(diff.values())


@given(st.lists(st.tuples(st.integers(0, 4), st.integers(-2**70, 2**70)), max_size=30))
def test_exact_sums_are_exact(pairs):
    keys = [k for k, _ in pairs]
    values = pd.Series([v for _, v in pairs], dtype=object).to_numpy()
    want = [sum(v for k, v in pairs if k == i) for i in range(5)]
    assert list(exact_sums(keys, values, 5)) == want
