"""Per parcel, how its holder's class moved between two score runs (``mujun map compare``).

Pure: takes the parcels (one row per parcel with its main holder's ``credit_code``) and
the two score tables of :func:`scoring.compare_runs.stored_side`, and gives each parcel
the holder's final class in each run and the shift code of
:func:`scoring.compare.shifts` (labels in :data:`scoring.vocabulary.SHIFTS`). A parcel
whose holder is in neither run (or that has no holder) gets no shift.

Examples
--------
>>> import pandas as pd
>>> parcels = pd.DataFrame({"parcel_code": ["P1", "P2", "P3"],
...                         "credit_code": ["X", "Y", None]})
>>> a = pd.DataFrame({"credit_code": ["X"], "final_class": ["C"]})
>>> b = pd.DataFrame({"credit_code": ["X", "Y"], "final_class": ["B", "D"]})
>>> parcel_shifts(parcels, a, b)[["class_a", "class_b", "shift"]].values.tolist()
[['C', 'B', 'up'], ['none', 'D', 'entered'], [None, None, None]]
"""

from __future__ import annotations

import pandas as pd

from scoring.compare import final_classes, shifts


def firm_shifts(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    """``credit_code``, ``class_a``, ``class_b``, ``shift`` for every firm in either run."""
    left = pd.DataFrame({"credit_code": a["credit_code"].astype(str).str.strip().to_numpy(),
                         "class_a": final_classes(a).to_numpy()})
    right = pd.DataFrame({"credit_code": b["credit_code"].astype(str).str.strip().to_numpy(),
                          "class_b": final_classes(b).to_numpy()})
    m = left.merge(right, on="credit_code", how="outer")
    m["class_a"] = m["class_a"].fillna("none")
    m["class_b"] = m["class_b"].fillna("none")
    m["shift"] = shifts(m["class_a"], m["class_b"])
    return m


def parcel_shifts(parcels: pd.DataFrame, a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    """``parcels`` with ``class_a``, ``class_b`` and ``shift`` of the holder (see module)."""
    firms = firm_shifts(a, b).set_index("credit_code")
    codes = parcels["credit_code"].astype(object)
    codes = codes.where(codes.notna(), None).map(lambda c: c.strip() if isinstance(c, str)
                                                 else None)
    out = parcels.copy()
    for col in ("class_a", "class_b", "shift"):
        values = codes.map(firms[col])
        out[col] = values.astype(object).where(values.notna(), None)
    return out
