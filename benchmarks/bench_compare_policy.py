"""`score compare --policy` at county size: the policy amounts under two classings.

The same synthetic county and policy inputs as :mod:`benchmarks.bench_policy` (100,000
enterprises, five items, monthly and annual accounts, land-use tax). Classing A is the
Huai'an score run; classing B moves 15 % of the firms one class (up or down). Timed in
one process:

* **one policy run (baseline)** — :func:`scoring.policy.kernel.apply_policy` on classing
  A (what ``policy apply`` computes before storing);
* **policy change** — the pure kernel :func:`scoring.compare_policy.policy_change` on the
  two results (per firm, per transition, per item, totals; exact fen);
* **compare --policy in memory** — both ``apply_policy`` calls and ``policy_change``
  (what ``score compare --policy`` adds to a comparison after reading its inputs).

Checked: the total difference equals the difference of the two results' summed line
amounts (Python ints), and the per-firm differences add up to it. ``--size small`` runs
10,000 enterprises.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from benchmarks.bench_policy import POLICY, YEAR, policy_inputs
from benchmarks.bench_scoring import SIZES, county
from scoring.compare_policy import policy_change
from scoring.kernel import score_year
from scoring.policy.kernel import apply_policy
from scoring.policy.ruleset import parse_policy
from scoring.ruleset import load_ruleset

MOVED = 0.15


def _sum(lines: pd.DataFrame) -> int:
    return sum(int(a) for a in lines["amount_fen"] if a is not None)


def main(size: str = "city") -> dict:
    """Run the benchmark; print and return the figures."""
    n = SIZES[size]
    frame = county(n)[YEAR]
    scored = score_year(load_ruleset("jiangsu-huaian-2024"), frame, YEAR)
    rs = parse_policy(POLICY, source="bench")
    ents_a = pd.DataFrame({
        "credit_code": scored.frame["credit_code"].to_numpy(), "name": frame["name"],
        "town": frame["town"], "district": None,
        "industry_division": frame["industry_division"], "size_class": frame["size_class"],
        "population": scored.frame["population"].to_numpy(),
        "total": scored.frame["total"].to_numpy(),
        "score_class": scored.frame["class"].to_numpy(), "adjusted_class": None})
    rng = np.random.default_rng(5)
    order = "ABCD"
    klass = ents_a["score_class"].to_numpy(dtype=object).copy()
    move = rng.random(n) < MOVED
    step = rng.choice([-1, 1], n)
    for i in np.flatnonzero(move):
        if isinstance(klass[i], str) and klass[i] in order:
            klass[i] = order[min(3, max(0, order.index(klass[i]) + step[i]))]
    ents_b = ents_a.assign(score_class=klass)
    quantities, land_tax, records = policy_inputs(ents_a)

    start = time.perf_counter()
    res_a = apply_policy(rs, ents_a, quantities, land_tax, records)
    baseline_s = time.perf_counter() - start
    start = time.perf_counter()
    res_b = apply_policy(rs, ents_b, quantities, land_tax, records)
    second_s = time.perf_counter() - start
    start = time.perf_counter()
    change = policy_change(res_a, res_b)
    change_s = time.perf_counter() - start

    want = _sum(res_b.lines) - _sum(res_a.lines)
    assert change.totals["difference_fen"] == want, "total difference"
    assert sum(int(v) for v in change.firms["difference_fen"]) == want, "per-firm sum"
    in_memory_s = baseline_s + second_s + change_s
    figures = {"enterprises": n, "moved_share": MOVED, "lines_a": len(res_a.lines),
               "lines_b": len(res_b.lines), "firms_listed": len(change.firms),
               "policy_run_baseline_s": round(baseline_s, 3),
               "policy_change_kernel_s": round(change_s, 3),
               "compare_policy_in_memory_s": round(in_memory_s, 3),
               "ratio_change_to_policy_run": round(change_s / baseline_s, 3),
               "ratio_in_memory_to_policy_run": round(in_memory_s / baseline_s, 3)}
    print(f"{n:,} enterprises, {MOVED:.0%} moved: one policy run {baseline_s:.2f} s | "
          f"policy change kernel {change_s:.2f} s (ratio {change_s / baseline_s:.2f}) | "
          f"compare --policy in memory {in_memory_s:.2f} s "
          f"(ratio {in_memory_s / baseline_s:.2f}); {len(change.firms):,} firms listed, "
          "totals exact", flush=True)
    return figures


if __name__ == "__main__":
    import sys

    main(sys.argv[1] if len(sys.argv) > 1 else "small")
