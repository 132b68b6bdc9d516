"""What a class change costs or saves under a policy rule set (``score compare --policy``).

Pure kernel (no file, no connection): :func:`policy_change` takes the two results of
:func:`scoring.policy.kernel.apply_policy` — the same rule set applied in memory to the
classes of run 甲 and of run 乙 — and returns a :class:`PolicyChange`:

* ``firms``: every firm whose policy amount or class differs, with its class in each run
  (the final class of the comparison, and the class in force under the policy, e.g.
  ``C-``), its amount in each run and the difference 乙 − 甲;
* ``by_transition``: per transition of the final class (甲 → 乙, as the transition
  matrix), the firms and the summed amounts and difference;
* ``by_item``: per policy item, the summed amounts and difference;
* ``totals``: amount in each run and the difference, all firms.

Amounts are whole fen (Python ints, exact), the sums of the firm's money lines as
``policy apply`` computes them (surcharges positive, reliefs negative); a line without an
amount (missing input, e.g. no electricity account) counts 0 and is counted in
``missing_a``/``missing_b``. Quotas (tce, t) carry no money and are left out.

Examples
--------
>>> import pandas as pd
>>> from scoring.policy.kernel import PolicyResult
>>> def result(classes, amounts):
...     ents = pd.DataFrame({"credit_code": list(classes), "score_class": list(classes.values()),
...                          "adjusted_class": [None] * len(classes),
...                          "class": list(classes.values())})
...     lines = pd.DataFrame({"credit_code": list(amounts), "item": "power",
...                           "amount_fen": list(amounts.values())})
...     return PolicyResult(ents, lines)
>>> ch = policy_change(result({"X": "C", "Y": "A"}, {}),
...                    result({"X": "D", "Y": "A"}, {"X": 30015}))
>>> ch.firms[["credit_code", "class_a", "class_b", "difference_fen"]].values.tolist()
[['X', 'C', 'D', 30015]]
>>> ch.totals["difference_fen"], ch.by_transition[["class_a", "class_b", "firms"]].values.tolist()
(30015, [['A', 'A', 1], ['C', 'D', 1]])
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from scoring.compare import CLASS_ORDER

FIRM_COLUMNS = ("credit_code", "name", "town", "class_a", "class_b", "policy_class_a",
                "policy_class_b", "amount_a_fen", "amount_b_fen", "difference_fen",
                "missing_a", "missing_b")


@dataclass
class PolicyChange:
    """What :func:`policy_change` returns (frames described in the module docstring)."""

    firms: pd.DataFrame
    by_transition: pd.DataFrame
    by_item: pd.DataFrame
    totals: dict[str, int]
    ruleset: dict[str, Any] = field(default_factory=dict)


def _final(ents: pd.DataFrame) -> pd.Series:
    """The final class of each firm (adjusted, else computed; missing → ``none``)."""
    adj = ents["adjusted_class"].astype(object)
    klass = adj.where(adj.notna(), ents["score_class"].astype(object))
    klass = klass.where(klass.notna(), "none")
    return klass.where(klass.isin(CLASS_ORDER), "none")


def _money(lines: pd.DataFrame) -> pd.DataFrame:
    """The money lines: credit_code, item, amount_fen (Python int, 0 when missing), missing."""
    if not len(lines):
        return pd.DataFrame({"credit_code": pd.Series(dtype=object),
                             "item": pd.Series(dtype=object),
                             "kind": pd.Series(dtype=object),
                             "amount_fen": pd.Series(dtype=object),
                             "missing": pd.Series(dtype=bool)})
    money = lines[lines["kind"].ne("energy_quota") & lines["kind"].ne("emission_quota")] \
        if "kind" in lines else lines
    amounts = money["amount_fen"].to_numpy(dtype=object)
    missing = np.array([a is None or (isinstance(a, float) and a != a) for a in amounts],
                       dtype=bool)
    return pd.DataFrame({"credit_code": money["credit_code"].to_numpy(dtype=object),
                         "item": money["item"].to_numpy(dtype=object),
                         "kind": (money["kind"] if "kind" in money else money["item"])
                         .to_numpy(dtype=object),
                         "amount_fen": np.array([0 if m else int(a) for a, m
                                                 in zip(amounts, missing, strict=True)],
                                                dtype=object),
                         "missing": missing})


def _int_sum(values: pd.Series) -> int:
    """Exact sum of Python ints (no float on the way)."""
    return int(sum(int(v) for v in values))


def _per_firm(ents: pd.DataFrame, money: pd.DataFrame, side: str) -> pd.DataFrame:
    g = money.groupby("credit_code", sort=False)
    sums = g["amount_fen"].agg(_int_sum) if len(money) else pd.Series(dtype=object)
    miss = g["missing"].sum() if len(money) else pd.Series(dtype=int)
    codes = ents["credit_code"].astype(str).str.strip()
    out = pd.DataFrame({"credit_code": codes.to_numpy(), f"class_{side}": _final(ents).to_numpy(),
                        f"policy_class_{side}": ents["class"].astype(object).to_numpy()})
    for col in ("name", "town"):
        out[f"{col}_{side}"] = ents[col].to_numpy() if col in ents else None
    out[f"amount_{side}_fen"] = codes.map(sums).to_numpy(dtype=object)
    out[f"missing_{side}"] = codes.map(miss).fillna(0).astype(int).to_numpy()
    return out


def policy_change(result_a, result_b) -> PolicyChange:
    """Compare the policy results of run 甲 and run 乙 (see the module docstring).

    Parameters
    ----------
    result_a, result_b : scoring.policy.kernel.PolicyResult
        The same rule set applied to the classes of each run.

    Returns
    -------
    PolicyChange
    """
    ma, mb = _money(result_a.lines), _money(result_b.lines)
    a = _per_firm(result_a.enterprises, ma, "a")
    b = _per_firm(result_b.enterprises, mb, "b")
    m = a.merge(b, on="credit_code", how="outer", sort=True)
    for side in ("a", "b"):
        m[f"class_{side}"] = m[f"class_{side}"].fillna("none")
        amounts = m[f"amount_{side}_fen"].to_numpy(dtype=object)
        m[f"amount_{side}_fen"] = np.array(
            [0 if v is None or (isinstance(v, float) and v != v) else int(v) for v in amounts],
            dtype=object)
        m[f"missing_{side}"] = m[f"missing_{side}"].fillna(0).astype(int)
    for col in ("name", "town"):
        m[col] = m[f"{col}_b"].where(m[f"{col}_b"].notna(), m[f"{col}_a"])
    m["difference_fen"] = m["amount_b_fen"] - m["amount_a_fen"]
    moved = (m["difference_fen"].map(lambda v: v != 0) | (m["class_a"] != m["class_b"])
             | (m["policy_class_a"].astype(str) != m["policy_class_b"].astype(str)))
    firms = m.loc[moved.to_numpy(), list(FIRM_COLUMNS)]
    order = np.lexsort((firms["credit_code"].to_numpy(str),
                        -np.abs(firms["difference_fen"].to_numpy(dtype=float))))
    firms = firms.iloc[order].reset_index(drop=True)

    g = m.groupby(["class_a", "class_b"], sort=False)
    trans = pd.DataFrame({"firms": g.size(),
                          "amount_a_fen": g["amount_a_fen"].agg(_int_sum),
                          "amount_b_fen": g["amount_b_fen"].agg(_int_sum)}).reset_index()
    trans["difference_fen"] = trans["amount_b_fen"] - trans["amount_a_fen"]
    rank = {c: i for i, c in enumerate(CLASS_ORDER)}
    trans = trans.iloc[np.lexsort((trans["class_b"].map(rank).to_numpy(),
                                   trans["class_a"].map(rank).to_numpy()))]
    trans = trans.reset_index(drop=True)

    items = sorted(set(ma["item"]) | set(mb["item"]))
    ia = ma.groupby("item")["amount_fen"].agg(_int_sum) if len(ma) else pd.Series(dtype=object)
    ib = mb.groupby("item")["amount_fen"].agg(_int_sum) if len(mb) else pd.Series(dtype=object)
    kinds = dict(zip(pd.concat([ma["item"], mb["item"]]), pd.concat([ma["kind"], mb["kind"]]),
                     strict=True))
    by_item = pd.DataFrame({"item": items, "kind": [kinds[i] for i in items],
                            "amount_a_fen": [int(ia.get(i, 0)) for i in items],
                            "amount_b_fen": [int(ib.get(i, 0)) for i in items]})
    by_item["difference_fen"] = by_item["amount_b_fen"] - by_item["amount_a_fen"]
    total_a = _int_sum(m["amount_a_fen"])
    total_b = _int_sum(m["amount_b_fen"])
    return PolicyChange(firms=firms, by_transition=trans, by_item=by_item,
                        totals={"amount_a_fen": total_a, "amount_b_fen": total_b,
                                "difference_fen": total_b - total_a,
                                "firms_changed": int(firms["difference_fen"]
                                                     .map(lambda v: v != 0).sum())})
