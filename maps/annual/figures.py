"""The annual report's figures, computed from DataFrames (pure: no file, no connection).

A *score frame* is one row per firm of a score run: ``credit_code``, ``evaluated``
(bool: the firm is in a population of the rule set), ``final_class`` (the adjusted class
where an adjustment is in force, else the computed one; missing = not classed),
``land_mu``, ``tax_wan``, ``revenue_wan``, ``value_added_wan``. Totals are over the
evaluated firms and per-mu figures are totals over totals (Σ tax / Σ land), as county
bulletins report them and as ``score rank`` computes them.

Examples
--------
>>> import pandas as pd
>>> s = pd.DataFrame({"credit_code": ["a", "b", "c"], "evaluated": [True, True, False],
...     "final_class": ["A", "C", None], "land_mu": [10.0, 30.0, 5.0],
...     "tax_wan": [50.0, 30.0, 9.0], "revenue_wan": [400.0, 200.0, 1.0],
...     "value_added_wan": [100.0, 60.0, 1.0]})
>>> t = run_totals(s)
>>> t["evaluated"], t["land_mu"], t["tax_per_mu"]
(2, 40.0, 2.0)
>>> class_table(s, None)[["class", "firms", "share"]].values.tolist()[:3]
[['A', 1, 0.5], ['B', 0, 0.0], ['C', 1, 0.5]]
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from scoring.compare import SHIFT_ORDER, final_classes, shifts

#: Classes shown in the report's class table, in order (``none``: not classed, left out).
REPORT_CLASSES = ("A", "B", "C", "D", "T")
#: The summary's figures, in order (labels in :data:`maps.annual.terms.FIGURES`).
TOTALS = ("enterprises", "evaluated", "land_mu", "tax_wan", "revenue_wan", "value_added_wan",
          "tax_per_mu", "revenue_per_mu", "value_added_per_mu")
TREND_COLUMNS = ("year", "score_run", "evaluated", "land_mu", "tax_wan", "tax_per_mu",
                 "revenue_per_mu", "value_added_per_mu")
CLASS_COLUMNS = ("class", "firms", "share", "land_mu", "tax_wan", "last_firms", "firms_change")
KIND_COLUMNS = ("kind", "candidates", "area_mu", "reclaimable_mu", "approved", "approved_mu")


def _num(frame: pd.DataFrame, column: str) -> pd.Series:
    return pd.to_numeric(frame[column], errors="coerce")


def _per(num: float, den: float) -> float | None:
    return round(num / den, 4) if den > 0 else None


def run_totals(scores: pd.DataFrame) -> dict:
    """Firms, land, tax, output and value added of the evaluated firms, with per-mu figures.

    Returns
    -------
    dict
        The keys of :data:`TOTALS`; sums rounded to 4 decimals, a per-mu figure is
        ``None`` when the evaluated firms hold no land.
    """
    ev = scores[scores["evaluated"].astype(bool)]
    land = float(_num(ev, "land_mu").fillna(0.0).sum())
    sums = {c: float(_num(ev, c).fillna(0.0).sum())
            for c in ("tax_wan", "revenue_wan", "value_added_wan")}
    return {"enterprises": len(scores), "evaluated": len(ev),
            "land_mu": round(land, 4), **{c: round(v, 4) for c, v in sums.items()},
            "tax_per_mu": _per(sums["tax_wan"], land),
            "revenue_per_mu": _per(sums["revenue_wan"], land),
            "value_added_per_mu": _per(sums["value_added_wan"], land)}


def class_table(current: pd.DataFrame, previous: pd.DataFrame | None) -> pd.DataFrame:
    """Firms, share, land and tax per final class (:data:`REPORT_CLASSES`), beside last year.

    Shares are of the classed firms (A-D and T). Without a previous run the last two
    columns (:data:`CLASS_COLUMNS`) are missing values.
    """
    def counts(frame: pd.DataFrame) -> pd.Series:
        return final_classes(frame).value_counts().reindex(list(REPORT_CLASSES), fill_value=0)

    cls = final_classes(current)
    now = counts(current)
    classed = int(now.sum())
    land = _num(current, "land_mu").fillna(0.0).groupby(cls).sum()
    tax = _num(current, "tax_wan").fillna(0.0).groupby(cls).sum()
    out = pd.DataFrame({"class": list(REPORT_CLASSES), "firms": now.to_numpy(dtype=int)})
    out["share"] = (out["firms"] / classed).round(4) if classed else np.nan
    out["land_mu"] = out["class"].map(land).fillna(0.0).round(4)
    out["tax_wan"] = out["class"].map(tax).fillna(0.0).round(4)
    if previous is None:
        out["last_firms"] = pd.Series([pd.NA] * len(out), dtype="Int64")
        out["firms_change"] = pd.Series([pd.NA] * len(out), dtype="Int64")
    else:
        before = counts(previous).to_numpy(dtype=int)
        out["last_firms"] = pd.array(before, dtype="Int64")
        out["firms_change"] = pd.array(out["firms"].to_numpy() - before, dtype="Int64")
    return out[list(CLASS_COLUMNS)]


def shift_counts(current: pd.DataFrame, previous: pd.DataFrame) -> dict[str, int]:
    """How many firms moved up, down, stayed, entered or left since last year's run.

    Over the firms classed in either run (a firm missing from one run counts as not
    evaluated there; one classed in neither run is left out); keys :data:`scoring.compare.SHIFT_ORDER` (labels in
    :data:`scoring.vocabulary.SHIFTS`).

    Examples
    --------
    >>> now = pd.DataFrame({"credit_code": ["a", "b", "c"], "final_class": ["A", "D", "B"]})
    >>> before = pd.DataFrame({"credit_code": ["a", "b", "d"], "final_class": ["B", "D", "C"]})
    >>> shift_counts(now, before)
    {'up': 1, 'down': 0, 'same': 1, 'entered': 1, 'left': 1, 't_change': 0}
    """
    a = pd.Series(final_classes(previous).to_numpy(), index=previous["credit_code"])
    b = pd.Series(final_classes(current).to_numpy(), index=current["credit_code"])
    codes = a.index.union(b.index)
    a, b = a.reindex(codes).fillna("none"), b.reindex(codes).fillna("none")
    classed = (a != "none") | (b != "none")          # a firm classed in neither is no shift
    moved = shifts(a[classed], b[classed])
    counts = moved.value_counts()
    return {k: int(counts.get(k, 0)) for k in SHIFT_ORDER}


def trend_table(runs: list[tuple[int, int, pd.DataFrame]]) -> pd.DataFrame:
    """One row per stored year: ``(year, score run, score frame)`` → :data:`TREND_COLUMNS`."""
    rows = []
    for year, run_id, frame in sorted(runs, key=lambda r: r[0]):
        t = run_totals(frame)
        rows.append({"year": int(year), "score_run": int(run_id),
                     **{c: t[c] for c in TREND_COLUMNS[2:]}})
    return pd.DataFrame(rows, columns=list(TREND_COLUMNS))


def candidate_table(candidates: pd.DataFrame, kinds: tuple[str, ...]) -> pd.DataFrame:
    """Candidates found and approved for reclamation per kind, with a total row.

    Parameters
    ----------
    candidates : DataFrame
        ``kind``, ``area_m2``, ``reclaimable_m2``, ``approved`` (bool: an approval
        decision for reclamation is recorded for it).
    kinds : tuple of str
        Kinds in display order (kinds without candidates get a row of zeros).

    Returns
    -------
    DataFrame
        :data:`KIND_COLUMNS`; areas in mu (the one mu of :mod:`gis.crs`); the last row's
        kind is ``total``. The approved area is the reclaimable area of the approved
        candidates (their whole area where none is recorded).
    """
    from gis.crs import SQM_PER_MU

    c = candidates.assign(area=_num(candidates, "area_m2").fillna(0.0),
                          recl=_num(candidates, "reclaimable_m2"),
                          approved=candidates["approved"].astype(bool))
    c = c.assign(approved_area=c["recl"].fillna(c["area"]).where(c["approved"], 0.0))
    g = c.groupby("kind")
    out = pd.DataFrame({"candidates": g.size(), "area": g["area"].sum(),
                        "recl": g["recl"].sum(), "approved": g["approved"].sum(),
                        "approved_area": g["approved_area"].sum()}).reindex(list(kinds))
    out = out.fillna(0.0)
    out.loc["total"] = out.sum()
    out.index.name = "kind"
    out = out.reset_index()
    return pd.DataFrame({"kind": out["kind"], "candidates": out["candidates"].astype(int),
                         "area_mu": (out["area"] / SQM_PER_MU).round(2),
                         "reclaimable_mu": (out["recl"] / SQM_PER_MU).round(2),
                         "approved": out["approved"].astype(int),
                         "approved_mu": (out["approved_area"] / SQM_PER_MU).round(2)}
                        )[list(KIND_COLUMNS)]
