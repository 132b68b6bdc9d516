"""Redevelopment areas' figures at county size: 100,000 candidates in 1,000 areas.

* **baseline: rows as dicts** — ``DataFrame.to_dict("records")`` of the members' table:
  the floor cost of producing anything per member in Python;
* **area figures** — what ``mujun areas list`` computes per area from its members and
  holders (:mod:`scoring.land_status.areas.model`): area approved in mu, progress by
  approval date, status, and the firms needing "one firm, one plan" (one or two firms per
  candidate, a fifth in class D, a third of candidates inefficient).

A county's areas hold hundreds of candidates, not 100,000: the figure bounds the
figures' share of ``areas list``/``export``, whose cost is reading the members.
The results are checked against vectorized pandas (approved mu per area, firms listed).
``--size small`` uses 10,000 candidates; city and province 100,000.
"""

from __future__ import annotations

import datetime as dt
import time

import numpy as np
import pandas as pd

from gis.crs import SQM_PER_MU
from scoring.land_status.areas import model

SIZES = {"small": 10_000, "city": 100_000, "province": 100_000}
PER_AREA = 100
AS_OF = dt.date(2026, 12, 7)


def members(n: int, seed: int = 7) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``n`` synthetic members in areas of :data:`PER_AREA`, and their holders."""
    rng = np.random.default_rng(seed)
    approved = rng.random(n) < 0.4
    days = pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.integers(0, 700, n), unit="D")
    m = pd.DataFrame({"area_id": np.arange(n) // PER_AREA, "candidate_id": np.arange(n),
                      "parcel_m2": rng.lognormal(9.0, 0.8, n),
                      "approved_on": np.where(approved, days.date, None)})
    firms = rng.integers(1, 3, n)
    rows = np.repeat(np.arange(n), firms)
    h = pd.DataFrame({"area_id": rows // PER_AREA, "candidate_id": rows,
                      "credit_code": [f"F{i:08d}" for i in rng.integers(0, n, len(rows))],
                      "name": "企业", "class": rng.choice(list("ABCD"), len(rows),
                                                         p=[0.3, 0.3, 0.2, 0.2]),
                      "inefficient": np.repeat(rng.random(n) < 0.33, firms)})
    return m, h


def main(size: str = "city") -> dict:
    """Run the benchmark; print and return the figures."""
    n = SIZES[size]
    mem, hold = members(n)
    t0 = time.perf_counter()
    mem.to_dict("records")
    base_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    # as `areas list` / `areas export` do: firms and progress of every area at once, then
    # each area's figures from its own rows
    firms = model.firms_to_plan(hold)
    n_areas = int(mem["area_id"].max()) + 1
    steps = model.progress(mem, dict.fromkeys(range(n_areas), 500.0))
    listed_by_area = firms.groupby("area_id").size()
    out = []
    for aid, group in mem.groupby("area_id"):
        mu = model.reclaimed_mu(group)
        out.append((aid, mu, None, model.area_status(
            reclaimed_mu=mu, target_mu=500.0, planned=dt.date(2026, 6, 1), as_of=AS_OF,
            n_approved=int(group["approved_on"].notna().sum())),
            int(listed_by_area.get(aid, 0))))
    kernel_s = time.perf_counter() - t0
    want = (mem[mem["approved_on"].notna()].groupby("area_id")["parcel_m2"].sum()
            / SQM_PER_MU).reindex(range(len(out)), fill_value=0.0)
    assert np.allclose([o[1] for o in out], want.to_numpy())
    listed = (hold.assign(d=hold["class"] == "D")
              .groupby(["area_id", "credit_code"])[["d", "inefficient"]].any()
              .pipe(lambda f: f["d"] | f["inefficient"]).groupby("area_id").sum())
    assert [o[4] for o in out] == listed.tolist()
    assert len(steps) == mem.dropna(subset=["approved_on"]).groupby(
        ["area_id", "approved_on"]).ngroups
    figures = {"candidates": n, "areas": len(out), "baseline_to_dict_s": round(base_s, 3),
               "area_figures_s": round(kernel_s, 3),
               "ratio_figures_to_baseline": round(kernel_s / base_s, 2)}
    print(f"{n:,} candidates in {len(out):,} areas: rows as dicts {base_s:.2f} s | area "
          f"figures {kernel_s:.2f} s (× {kernel_s / base_s:.1f}; approved mu and firms "
          "listed = vectorized pandas)", flush=True)
    return figures


if __name__ == "__main__":
    import sys

    main(sys.argv[1] if len(sys.argv) > 1 else "small")
