"""Two score tables side by side: what changes when the method or the year changes.

Pure kernel (no file, no connection): :func:`compare_tables` takes two per-enterprise
score tables — the flat tables of :func:`scoring.export.flat_table`, one row per
enterprise with ``credit_code``, ``name``, ``town``, ``industry_division``, ``class``
(computed), ``final_class`` (adjusted where an adjustment is in force, else computed),
``adjusted_class``, ``total``, ``land_mu``, ``tax_wan`` and one ``score_<item>`` column
per indicator item — and returns a :class:`Comparison`:

* ``matrix``: the class transition matrix, rows the class in A, columns the class in B,
  classes in the rule sets' order (A, B, C, D), then T and ``none`` (not evaluated, or
  not in the run), with totals;
* ``changed``: the firms whose class changed, with the three items whose points moved
  the most between the runs (an item a rule set lacks counts 0 points there);
* ``by_town`` and ``by_industry``: per town and GB/T 4754 division, the firms that
  moved up, down, stayed, entered or left the evaluation, or moved into or out of T;
* ``by_class``: firms, land (mu), tax (万元) and tax per mu in each class, in each run.

Classes are the *final* ones: an adjustment (调档, :mod:`scoring.overrides`) in force
for the firm and the run's year wins over the computed class; ``adjusted`` counts them.
Everything is column-wise (``pd.crosstab``, ``groupby``, ``np.argsort`` on the matrix of
item differences): 100,000 firms compare in about a second.

Examples
--------
>>> import pandas as pd
>>> a = pd.DataFrame({"credit_code": ["X", "Y"], "class": ["A", "C"],
...                   "final_class": ["A", "C"], "score_tax": [40.0, 10.0]})
>>> b = pd.DataFrame({"credit_code": ["X", "Y"], "class": ["B", "C"],
...                   "final_class": ["B", "C"], "score_tax": [25.0, 12.0]})
>>> c = compare_tables(a, b)
>>> int(c.matrix.loc["A", "B"]), c.changed["credit_code"].tolist(), c.changed["item_1"][0]
(1, ['X'], 'tax')
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

#: Classes in display order: the rule sets' A-D, then T (exempt) and none (not evaluated).
CLASS_ORDER: tuple[str, ...] = ("A", "B", "C", "D", "T", "none")
#: Shift codes in display order (labels in :data:`scoring.vocabulary.SHIFTS`).
SHIFT_ORDER: tuple[str, ...] = ("up", "down", "same", "entered", "left", "t_change")
#: How many items explain each changed class.
TOP_ITEMS = 3
_RANK = {"A": 0, "B": 1, "C": 2, "D": 3}
_KEEP = ("name", "town", "industry_division")


@dataclass
class Comparison:
    """What :func:`compare_tables` returns (frames described in the module docstring)."""

    matrix: pd.DataFrame
    changed: pd.DataFrame
    by_town: pd.DataFrame
    by_industry: pd.DataFrame
    by_class: pd.DataFrame
    firms: int
    changed_count: int
    adjusted: dict[str, int] = field(default_factory=dict)
    runs: dict[str, Any] = field(default_factory=dict)
    #: With ``--policy``: the change in policy amounts (:mod:`scoring.compare_policy`).
    policy: Any = None


def final_classes(frame: pd.DataFrame) -> pd.Series:
    """The class a firm ends with: ``final_class`` (else ``class``), missing → ``none``."""
    col = "final_class" if "final_class" in frame else "class"
    out = frame[col].astype(object).where(frame[col].notna(), "none")
    return out.where(out.isin(CLASS_ORDER), "none")


def _items(frame: pd.DataFrame) -> list[str]:
    return [c[len("score_"):] for c in frame.columns if str(c).startswith("score_")]


def shifts(class_a: pd.Series, class_b: pd.Series) -> pd.Series:
    """Per firm the shift code (:data:`SHIFT_ORDER`) from ``class_a`` to ``class_b``.

    Examples
    --------
    >>> shifts(pd.Series(["A", "D", "none", "B", "T"]),
    ...        pd.Series(["B", "C", "A", "none", "A"])).tolist()
    ['down', 'up', 'entered', 'left', 't_change']
    """
    a = class_a.to_numpy(object)
    b = class_b.to_numpy(object)
    ra = pd.Series(a).map(_RANK).to_numpy("float64")
    rb = pd.Series(b).map(_RANK).to_numpy("float64")
    out = np.full(len(a), "t_change", dtype=object)
    out[(a == "none") & (b != "none")] = "entered"
    out[(a != "none") & (b == "none")] = "left"
    out[rb < ra] = "up"
    out[rb > ra] = "down"
    out[a == b] = "same"
    return pd.Series(out, index=class_a.index)


def _moved_by(deltas: np.ndarray, names: np.ndarray) -> dict[str, np.ndarray]:
    """The :data:`TOP_ITEMS` items with the largest absolute change, per row."""
    n = deltas.shape[0]
    out: dict[str, np.ndarray] = {}
    if deltas.shape[1] == 0:
        order = np.zeros((n, 0), dtype=int)
    else:
        order = np.argsort(-np.abs(deltas), axis=1, kind="stable")[:, :TOP_ITEMS]
    for k in range(TOP_ITEMS):
        if k < order.shape[1]:
            pts = np.take_along_axis(deltas, order[:, k:k + 1], axis=1)[:, 0]
            moved = np.abs(pts) > 1e-9
            out[f"item_{k + 1}"] = np.where(moved, names[order[:, k]], None)
            out[f"points_{k + 1}"] = np.where(moved, np.round(pts, 3), np.nan)
        else:
            out[f"item_{k + 1}"] = np.full(n, None, dtype=object)
            out[f"points_{k + 1}"] = np.full(n, np.nan)
    return out


def _per_group(merged: pd.DataFrame, column: str) -> pd.DataFrame:
    """Firms and shift counts per value of ``column`` (groups sorted, missing as ``(none)``)."""
    key = merged[column].astype(object).where(merged[column].notna(), "(none)").astype(str)
    groups, uniques = pd.factorize(key, sort=True)
    shift = pd.Categorical(merged["shift"], categories=SHIFT_ORDER).codes.astype(np.int64)
    k = len(SHIFT_ORDER)
    counts = np.bincount(groups.astype(np.int64) * k + shift,
                         minlength=len(uniques) * k).reshape(len(uniques), k)
    out = pd.DataFrame(counts, columns=list(SHIFT_ORDER))
    out.insert(0, "firms", counts.sum(axis=1))
    out.insert(0, column, np.asarray(uniques, dtype=object))
    return out


def _by_class(frame: pd.DataFrame, classes: pd.Series) -> pd.DataFrame:
    land = pd.to_numeric(frame.get("land_mu"), errors="coerce") if "land_mu" in frame \
        else pd.Series(np.nan, index=frame.index)
    tax = pd.to_numeric(frame.get("tax_wan"), errors="coerce") if "tax_wan" in frame \
        else pd.Series(np.nan, index=frame.index)
    g = pd.DataFrame({"class": classes, "land": land, "tax": tax}).groupby("class")
    out = pd.DataFrame({"firms": g.size(), "land": g["land"].sum(min_count=1),
                        "tax": g["tax"].sum(min_count=1)})
    return out.reindex(list(CLASS_ORDER))


def compare_tables(a: pd.DataFrame, b: pd.DataFrame, *,
                   item_labels: dict[str, str] | None = None) -> Comparison:
    """Compare the score tables of two runs (see the module docstring).

    Parameters
    ----------
    a, b : DataFrame
        One row per enterprise (``credit_code`` unique), as :func:`scoring.export.flat_table`.
    item_labels : dict, optional
        item name → label for ``item_k`` (e.g. ``{"tax_per_mu": "亩均税收"}``); names
        are kept when absent.

    Returns
    -------
    Comparison
    """
    labels = item_labels or {}
    ca, cb = final_classes(a), final_classes(b)
    left = pd.DataFrame({"credit_code": a["credit_code"].to_numpy(), "class_a": ca.to_numpy()})
    right = pd.DataFrame({"credit_code": b["credit_code"].to_numpy(), "class_b": cb.to_numpy()})
    for side, src, dst in (("a", a, left), ("b", b, right)):
        for col in _KEEP:
            if col in src:
                dst[f"{col}_{side}"] = src[col].to_numpy()
        dst[f"computed_{side}"] = src["class"].to_numpy() if "class" in src else None
        dst[f"adjusted_{side}"] = (src["adjusted_class"].notna().to_numpy()
                                   if "adjusted_class" in src else False)
        dst[f"total_{side}"] = (pd.to_numeric(src["total"], errors="coerce").to_numpy()
                                if "total" in src else np.nan)
        dst[f"land_mu_{side}"] = (pd.to_numeric(src["land_mu"], errors="coerce").to_numpy()
                                  if "land_mu" in src else np.nan)
    m = left.merge(right, on="credit_code", how="outer", sort=True)
    m["class_a"] = m["class_a"].fillna("none")
    m["class_b"] = m["class_b"].fillna("none")
    for col in _KEEP:                                  # B's name/town/industry, else A's
        ca_, cb_ = m.get(f"{col}_a"), m.get(f"{col}_b")
        if cb_ is not None and ca_ is not None:
            m[col] = cb_.where(cb_.notna(), ca_)
        else:
            m[col] = cb_ if cb_ is not None else ca_ if ca_ is not None else None
    m["shift"] = shifts(m["class_a"], m["class_b"])
    n = len(CLASS_ORDER)
    code_a = pd.Categorical(m["class_a"], categories=CLASS_ORDER).codes.astype(np.int64)
    code_b = pd.Categorical(m["class_b"], categories=CLASS_ORDER).codes.astype(np.int64)
    counts = np.bincount(code_a * n + code_b, minlength=n * n).reshape(n, n)
    matrix = pd.DataFrame(counts, index=list(CLASS_ORDER), columns=list(CLASS_ORDER))
    matrix["total"] = matrix.sum(axis=1)
    matrix.loc["total"] = matrix.sum(axis=0)
    matrix.index.name = "from_class"

    changed_mask = (m["class_a"] != m["class_b"]).to_numpy()
    ch = m.loc[changed_mask].reset_index(drop=True)
    items = sorted(set(_items(a)) | set(_items(b)))
    codes = ch["credit_code"]

    def _points(frame: pd.DataFrame) -> np.ndarray:
        cols = [f"score_{i}" for i in items]
        present = frame.reindex(columns=["credit_code", *cols])
        idx = pd.Index(present["credit_code"]).get_indexer(codes)
        vals = present[cols].apply(pd.to_numeric, errors="coerce").to_numpy("float64")
        out = np.zeros((len(codes), len(items)))
        hit = idx >= 0
        out[hit] = np.nan_to_num(vals[idx[hit]], nan=0.0)
        return out

    deltas = _points(b) - _points(a) if items else np.zeros((len(ch), 0))
    names = np.array([labels.get(i, i) for i in items], dtype=object)
    ch["total_change"] = ch["total_b"] - ch["total_a"]
    for k, v in _moved_by(deltas, names).items():
        ch[k] = v
    ch = ch[["credit_code", "name", "town", "industry_division", "class_a", "class_b",
             "shift", "computed_a", "computed_b", "adjusted_a", "adjusted_b", "total_a",
             "total_b", "total_change", *(f"{p}_{k}" for k in range(1, TOP_ITEMS + 1)
                                          for p in ("item", "points")),
             "land_mu_a", "land_mu_b"]]
    order = pd.Categorical(ch["class_a"], categories=CLASS_ORDER).codes
    ch = ch.iloc[np.lexsort((ch["credit_code"].to_numpy(str),
                             pd.Categorical(ch["class_b"], categories=CLASS_ORDER).codes,
                             order))].reset_index(drop=True)

    ba, bb = _by_class(a, ca), _by_class(b, cb)
    by_class = pd.DataFrame({
        "firms_a": ba["firms"].fillna(0).astype(int), "land_a": ba["land"],
        "tax_a": ba["tax"], "firms_b": bb["firms"].fillna(0).astype(int),
        "land_b": bb["land"], "tax_b": bb["tax"]}, index=list(CLASS_ORDER))
    by_class.loc["total"] = by_class.sum(axis=0, min_count=1)
    for side in ("a", "b"):
        land = by_class[f"land_{side}"]
        by_class[f"tax_per_mu_{side}"] = by_class[f"tax_{side}"] / land.where(land > 0)
    by_class = by_class[["firms_a", "land_a", "tax_a", "tax_per_mu_a", "firms_b", "land_b",
                         "tax_b", "tax_per_mu_b"]]
    by_class["firms_a"] = by_class["firms_a"].astype(int)
    by_class["firms_b"] = by_class["firms_b"].astype(int)
    by_class.index.name = "class"
    return Comparison(
        matrix=matrix, changed=ch,
        by_town=_per_group(m, "town"), by_industry=_per_group(m, "industry_division"),
        by_class=by_class.round(4).reset_index(), firms=len(m),
        changed_count=int(changed_mask.sum()),
        adjusted={"a": int(m["adjusted_a"].eq(True).sum()),
                  "b": int(m["adjusted_b"].eq(True).sum())})
