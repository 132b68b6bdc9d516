"""Contract checks (履约) at county size: 100,000 contracts against their parcels' facts.

* **baseline: rows as dicts** — ``DataFrame.to_dict("records")`` of the same table: the
  floor cost of producing anything per contract in Python;
* **contract checks** — the pure kernel :func:`scoring.land_status.supply.check.contract_checks`
  (every clause: start, completion, FAR, coverage, tax per mu after full production).

A county has hundreds of standard-land contracts, not 100,000: the figure bounds the
kernel's share of ``mujun supply check``, whose cost is the land-status facts it reads.
The result is checked against counts computed with vectorized pandas.
``--size small`` uses 10,000 contracts; city and province 100,000.
"""

from __future__ import annotations

import datetime as dt
import time

import numpy as np
import pandas as pd

from scoring.land_status.rules_config import load_rules
from scoring.land_status.supply.check import contract_checks

SIZES = {"small": 10_000, "city": 100_000, "province": 100_000}
AS_OF = dt.date(2027, 9, 1)


def contracts(n: int, seed: int = 7) -> pd.DataFrame:
    """``n`` synthetic contracts with their parcels' facts (a quarter of each breach)."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 900, n), unit="D")
    finish = start + pd.to_timedelta(rng.integers(365, 900, n), unit="D")
    survey = pd.Timestamp("2026-06-01") + pd.to_timedelta(rng.integers(0, 400, n), unit="D")
    empty = rng.random(n) < 0.25
    coverage = np.where(empty, 0.0, rng.uniform(0.1, 0.7, n))
    return pd.DataFrame({
        "start_by": start.date, "complete_by": finish.date,
        "produce_by": (finish + pd.Timedelta(days=365)).date,
        "far_min": 1.2, "coverage_min": 0.4, "tax_per_mu_wan": 30.0,
        "survey_date": survey.date, "n_buildings": np.where(empty, 0, rng.integers(1, 9, n)),
        "built_m2": coverage * 10_000, "coverage": coverage,
        "far": coverage * rng.uniform(1.0, 4.0, n),
        "tax_per_mu": np.where(rng.random(n) < 0.2, np.nan, rng.lognormal(3.3, 0.5, n))})


def main(size: str = "city") -> dict:
    """Run the benchmark; print and return the figures."""
    n = SIZES[size]
    frame = contracts(n)
    rules = load_rules()
    t0 = time.perf_counter()
    frame.to_dict("records")
    base_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    checks = contract_checks(frame, AS_OF, rules)
    kernel_s = time.perf_counter() - t0
    late = sum(any(c["rule"] == "late_start" and c["passed"] for c in cs) for cs in checks)
    d = lambda col: pd.to_datetime(frame[col])  # noqa: E731
    ns = rules["idle_not_started"]
    expect = int(((d("survey_date") > d("start_by")) & (pd.Timestamp(AS_OF) > d("start_by"))
                  & ((frame["n_buildings"] == 0) | ((frame["coverage"] < ns["max_coverage"])
                                                    & (frame["built_m2"] < ns["max_built_m2"])))
                  ).sum())
    assert late == expect, (late, expect)
    figures = {"contracts": n, "baseline_to_dict_s": round(base_s, 3),
               "contract_checks_s": round(kernel_s, 3), "late_starts": late,
               "ratio_checks_to_baseline": round(kernel_s / base_s, 2)}
    print(f"{n:,} contracts: rows as dicts {base_s:.2f} s | contract checks {kernel_s:.2f} s "
          f"(× {kernel_s / base_s:.1f}; {late:,} late starts = vectorized count)", flush=True)
    return figures


if __name__ == "__main__":
    import sys

    main(sys.argv[1] if len(sys.argv) > 1 else "small")
