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
from scoring.policy.model import QUOTA_KINDS

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


def _final(ents: pd.DataFrame) -> np.ndarray:
    """The final class of each firm (adjusted, else computed; missing → ``none``)."""
    adj = ents["adjusted_class"].to_numpy(dtype=object)
    klass = np.where(pd.notna(adj), adj, ents["score_class"].to_numpy(dtype=object))
    return np.where(np.isin(klass, list(CLASS_ORDER)), klass, "none").astype(object)


def exact_sums(keys: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """Σ ``values`` (whole numbers) per key ``0..n-1``, exact, as an object array of ints.

    int64 arithmetic when no partial sum can overflow, else Python ints.

    >>> list(exact_sums(np.array([0, 1, 0]), np.array([2**62, 5, -2**62], dtype=object), 2))
    [0, 5]
    """
    keys = np.asarray(keys, dtype=np.int64)
    try:
        v = np.asarray(values).astype(np.int64)
        fits = len(v) == 0 or int(np.abs(v).max()) < (2 ** 62) // len(v)
    except OverflowError:
        fits = False
    if fits:
        out = np.zeros(n, dtype=np.int64)
        np.add.at(out, keys, v)
        return _objects(out.tolist())
    acc = [0] * n
    for k, x in zip(keys.tolist(), np.asarray(values, dtype=object).tolist(), strict=True):
        acc[k] += int(x)
    return _objects(acc)


def _objects(values: list) -> np.ndarray:
    """A 1-D object array holding the Python ints of ``values``."""
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def _money(lines: pd.DataFrame) -> pd.DataFrame:
    """The money lines: credit_code, item, kind, amount_fen (0 when missing), missing."""
    cols = ("credit_code", "item", "kind")
    if not len(lines):
        return pd.DataFrame({**{c: pd.Series(dtype=object) for c in cols},
                             "amount_fen": pd.Series(dtype=object),
                             "missing": pd.Series(dtype=bool)})
    kind = lines["kind"] if "kind" in lines else lines["item"]
    money = lines[~kind.isin(QUOTA_KINDS).to_numpy()]
    kind = kind[~kind.isin(QUOTA_KINDS).to_numpy()]
    amounts = money["amount_fen"].to_numpy(dtype=object)
    missing = pd.isna(amounts)
    return pd.DataFrame({"credit_code": money["credit_code"].to_numpy(dtype=object),
                         "item": money["item"].to_numpy(dtype=object),
                         "kind": kind.to_numpy(dtype=object),
                         "amount_fen": np.where(missing, 0, amounts).astype(object),
                         "missing": missing})


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
    ea, eb = result_a.enterprises, result_b.enterprises
    ma, mb = _money(result_a.lines), _money(result_b.lines)
    code_a = ea["credit_code"].astype(str).str.strip().to_numpy()
    code_b = eb["credit_code"].astype(str).str.strip().to_numpy()
    codes = pd.Index(code_a).union(pd.Index(code_b)).sort_values()
    n = len(codes)
    m = pd.DataFrame({"credit_code": codes.to_numpy(dtype=object)})
    for side, ents, own, money in (("a", ea, code_a, ma), ("b", eb, code_b, mb)):
        pos = codes.get_indexer(own)
        klass = np.full(n, "none", dtype=object)
        klass[pos] = _final(ents)
        policy_class = np.full(n, None, dtype=object)
        policy_class[pos] = ents["class"].to_numpy(dtype=object)
        m[f"class_{side}"] = klass
        m[f"policy_class_{side}"] = policy_class
        for col in ("name", "town"):
            values = np.full(n, None, dtype=object)
            if col in ents:
                values[pos] = ents[col].to_numpy(dtype=object)
            m[f"{col}_{side}"] = values
        at = codes.get_indexer(money["credit_code"].to_numpy())
        keep = at >= 0
        m[f"amount_{side}_fen"] = exact_sums(at[keep], money["amount_fen"].to_numpy()[keep], n)
        m[f"missing_{side}"] = np.bincount(at[keep], weights=money["missing"].to_numpy()[keep],
                                           minlength=n).astype(int)
    for col in ("name", "town"):
        m[col] = m[f"{col}_b"].where(m[f"{col}_b"].notna(), m[f"{col}_a"])
    diff = m["amount_b_fen"].to_numpy(dtype=object) - m["amount_a_fen"].to_numpy(dtype=object)
    m["difference_fen"] = diff
    nonzero = np.asarray(diff != 0, dtype=bool)
    moved = (nonzero | (m["class_a"] != m["class_b"]).to_numpy()
             | (m["policy_class_a"].astype(str) != m["policy_class_b"].astype(str)).to_numpy())
    firms = m.loc[moved, list(FIRM_COLUMNS)]
    order = np.lexsort((firms["credit_code"].to_numpy(str),
                        -np.abs(firms["difference_fen"].to_numpy(dtype=float))))
    firms = firms.iloc[order].reset_index(drop=True)

    k = len(CLASS_ORDER)
    ka = pd.Categorical(m["class_a"], categories=CLASS_ORDER).codes.astype(np.int64)
    kb = pd.Categorical(m["class_b"], categories=CLASS_ORDER).codes.astype(np.int64)
    key = ka * k + kb
    count = np.bincount(key, minlength=k * k)
    present = np.flatnonzero(count)
    sums = {side: exact_sums(key, m[f"amount_{side}_fen"].to_numpy(), k * k)[present]
            for side in ("a", "b")}
    trans = pd.DataFrame({"class_a": [CLASS_ORDER[i // k] for i in present],
                          "class_b": [CLASS_ORDER[i % k] for i in present],
                          "firms": count[present].astype(int),
                          "amount_a_fen": sums["a"], "amount_b_fen": sums["b"]})
    trans["difference_fen"] = trans["amount_b_fen"] - trans["amount_a_fen"]

    items = sorted(set(ma["item"]) | set(mb["item"]))
    kinds = dict(zip(pd.concat([ma["item"], mb["item"]]), pd.concat([ma["kind"], mb["kind"]]),
                     strict=True))
    per_item = {}
    for side, money in (("a", ma), ("b", mb)):
        at = pd.Index(items).get_indexer(money["item"].to_numpy())
        per_item[side] = exact_sums(at, money["amount_fen"].to_numpy(), len(items))
    by_item = pd.DataFrame({"item": items, "kind": [kinds[i] for i in items],
                            "amount_a_fen": per_item["a"], "amount_b_fen": per_item["b"]})
    by_item["difference_fen"] = by_item["amount_b_fen"] - by_item["amount_a_fen"]
    total_a = int(sum(m["amount_a_fen"].tolist()))
    total_b = int(sum(m["amount_b_fen"].tolist()))
    return PolicyChange(firms=firms, by_transition=trans, by_item=by_item,
                        totals={"amount_a_fen": total_a, "amount_b_fen": total_b,
                                "difference_fen": total_b - total_a,
                                "firms_changed": int(nonzero.sum())})
