"""The annual report's figures at county size: five years of 100,000 firms each, against
``score compare``'s kernel on two of those years in the same process.

* **annual figures** — what :func:`maps.annual.gather.gather` computes from the score
  frames it reads (pure, :mod:`maps.annual.figures`): the totals of each year
  (:func:`~maps.annual.figures.trend_table`), the class table beside last year
  (:func:`~maps.annual.figures.class_table`) and the shifts since last year
  (:func:`~maps.annual.figures.shift_counts`);
* **baseline: compare** — :func:`scoring.compare.compare_tables` on the last two years
  (the kernel `score compare` runs on two stored runs).

The figures are checked: the class counts equal ``value_counts`` of the final classes,
the totals a plain sum. The rest of the report (rankings, land tax, parks) runs the
lower floors' kernels, measured in their own benchmarks; charts and rendering work on
per-town rows and do not grow with the firms. ``--size small`` uses 10,000 firms.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from benchmarks.bench_scoring import SIZES
from maps.annual.figures import class_table, run_totals, shift_counts, trend_table
from scoring.compare import compare_tables

YEARS = (2020, 2021, 2022, 2023, 2024)


def frames(n: int, seed: int = 11) -> dict[int, pd.DataFrame]:
    """One synthetic score frame per year; 2 % of the firms enter or leave each year."""
    rng = np.random.default_rng(seed)
    codes = np.array([f"91331003MA{i:07d}X" for i in range(int(n * 1.1))], dtype=object)
    out = {}
    for year in YEARS:
        pick = np.sort(rng.choice(len(codes), size=n, replace=False))
        classes = rng.choice(np.array(["A", "B", "C", "D", "T", None], dtype=object), size=n,
                             p=[0.2, 0.35, 0.3, 0.1, 0.03, 0.02])
        land = rng.lognormal(2.5, 0.8, n)
        out[year] = pd.DataFrame({
            "credit_code": codes[pick], "evaluated": pd.notna(classes),
            "class": classes, "final_class": classes, "land_mu": land,
            "tax_wan": land * rng.lognormal(2.0, 0.7, n),
            "revenue_wan": land * rng.lognormal(5.0, 0.5, n),
            "value_added_wan": land * rng.lognormal(3.5, 0.5, n),
            "total": rng.uniform(20, 100, n)})
    return out


def main(size: str = "city") -> dict:
    """Run the benchmark; print and return the figures."""
    n = SIZES[size]
    data = frames(n)
    now, before = data[YEARS[-1]], data[YEARS[-2]]
    start = time.perf_counter()
    trend = trend_table([(y, i, f) for i, (y, f) in enumerate(data.items())])
    classes = class_table(now, before)
    moved = shift_counts(now, before)
    annual_s = time.perf_counter() - start
    start = time.perf_counter()
    cmp = compare_tables(before, now)
    compare_s = time.perf_counter() - start
    expect = now["final_class"].value_counts()
    assert classes.set_index("class")["firms"].to_dict() == \
        {k: int(expect.get(k, 0)) for k in "ABCDT"}, "class counts differ from value_counts"
    ev = now[now["evaluated"]]
    assert run_totals(now)["tax_wan"] == round(float(ev["tax_wan"].sum()), 4)
    assert len(trend) == len(YEARS) and sum(moved.values()) == len(
        set(now["credit_code"]) | set(before["credit_code"]))
    figures = {"enterprises": n, "years": len(YEARS), "annual_figures_s": round(annual_s, 3),
               "compare_s": round(compare_s, 3),
               "ratio_annual_to_compare": round(annual_s / compare_s, 3),
               "changed": cmp.changed_count}
    print(f"{n:,} firms × {len(YEARS)} years: annual figures {annual_s:.2f} s | baseline "
          f"score compare kernel on two years {compare_s:.2f} s "
          f"(ratio {annual_s / compare_s:.2f})", flush=True)
    return figures


if __name__ == "__main__":
    import sys

    main(sys.argv[1] if len(sys.argv) > 1 else "small")
