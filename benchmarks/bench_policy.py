"""`policy apply`'s kernel for 100,000 enterprises × 5 items against one score run, same run.

Target (issue 21): the policy kernel takes at most half the time of one score run of the
same enterprises. Both are timed here on the same synthetic county
(:func:`benchmarks.bench_scoring.county`):

* **score run** — :func:`scoring.kernel.score_year` under ``jiangsu-huaian-2024`` for one
  year, plus :func:`scoring.records.build_rows` (what a score run computes before storing);
* **policy** — :func:`scoring.policy.kernel.apply_policy` with five items (electricity
  from monthly accounts — 12 months for 70 % of firms, an annual figure for the rest —
  water, sewage and gas from annual accounts, land-use tax relief/surcharge), a derived
  class (C- = the lowest 20 % of C, half of D) and a half-year period, so every rule
  (monthly sums, pro rata, derived rates, exact fen) is exercised.

The amounts are checked against a per-row :class:`decimal.Decimal` recomputation on a
sample of 2,000 enterprises. ``--size small`` runs 10,000 enterprises.
"""

from __future__ import annotations

import time
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd

from benchmarks.bench_scoring import SIZES, county
from scoring.kernel import score_year
from scoring.policy.kernel import apply_policy
from scoring.policy.model import Period, month_index
from scoring.policy.ruleset import parse_policy
from scoring.records import build_rows
from scoring.ruleset import load_ruleset

YEAR = 2024
POLICY = """
name: bench
year: 2025
period: {start: 2025-04, end: 2025-09}
derived_classes:
  C-: {within: C, rate_of: D, factor: 0.5, lowest_share: 0.2}
items:
  power: {kind: electricity, rates: {C: 0.05, D: 0.3}}
  water: {kind: water, rates: {D: 1.2}}
  sewage: {kind: sewage, rates: {D: 0.17}}
  gas: {kind: gas, rates: {D: 0.35}}
  land_tax: {kind: land_tax, rates: {A: -1.0, B: -0.5, D: 0.2}}
"""


def policy_inputs(ents: pd.DataFrame, seed: int = 11):
    """Accounts (monthly and annual), tax base and records for the enterprises."""
    rng = np.random.default_rng(seed)
    codes = ents["credit_code"].to_numpy()
    n = len(codes)
    monthly = rng.random(n) < 0.7
    mc = np.repeat(codes[monthly], 12)
    frames = [pd.DataFrame({
        "credit_code": mc, "kind": "electricity", "account_no": np.char.add("E", mc.astype(str)),
        "year": 2025, "month": np.tile(np.arange(1, 13), monthly.sum()),
        "quantity_milli": rng.integers(1, 10**9, len(mc))})]
    ac = codes[~monthly]
    frames.append(pd.DataFrame({"credit_code": ac, "kind": "electricity",
                                "account_no": np.char.add("E", ac.astype(str)), "year": 2025,
                                "month": 0, "quantity_milli": rng.integers(1, 10**11, len(ac))}))
    for kind in ("water", "sewage", "gas"):
        has = rng.random(n) < 0.8
        c = codes[has]
        frames.append(pd.DataFrame({"credit_code": c, "kind": kind,
                                    "account_no": np.char.add(kind[0].upper(), c.astype(str)),
                                    "year": 2025, "month": 0,
                                    "quantity_milli": rng.integers(1, 10**10, len(c))}))
    quantities = pd.concat(frames, ignore_index=True)
    has = rng.random(n) < 0.9
    land_tax = pd.DataFrame({"credit_code": codes[has],
                             "due_e4": rng.integers(10**6, 10**10, has.sum())})
    records = pd.DataFrame({"credit_code": codes, "year": YEAR, "electricity_kwh": np.nan,
                            "energy_tce": np.nan, "emissions_t": np.nan})
    return quantities, land_tax, records


def _check(rs, result, quantities, land_tax, sample: int = 2000) -> int:
    """Recompute ``sample`` enterprises' amounts row by row with Decimal; return lines checked."""
    lines = result.lines.set_index(["credit_code", "item"])
    ents = result.enterprises.set_index("credit_code")
    period = rs.period
    checked = 0
    codes = ents.index[:sample]
    quantities = quantities[quantities["credit_code"].isin(codes)]
    by_code = {k: g for k, g in quantities.groupby(["credit_code", "kind"])}
    land_tax = land_tax[land_tax["credit_code"].isin(codes)]
    for code in codes:
        klass = ents.at[code, "class"]
        for item in rs.items:
            rate = rs.rate(item, klass)
            if rate is None or not pd.isna(ents.at[code, "exempt_reason"]):
                assert (code, item.name) not in lines.index
                continue
            if item.kind == "land_tax":
                due = land_tax.loc[land_tax["credit_code"] == code, "due_e4"]
                if not len(due):
                    continue
                want = Decimal(int(due.iloc[0])) / 10000 * rate * period.months / 12
            else:
                q = by_code.get((code, item.kind))
                if q is None:
                    continue
                total = Decimal(0)
                for _, r in q.iterrows():
                    milli = Decimal(int(r["quantity_milli"]))
                    if r["month"] == 0:
                        total += (milli * period.months / 12).quantize(Decimal(1),
                                                                      ROUND_HALF_UP)
                    elif period.start <= month_index(r["year"], r["month"]) <= period.end:
                        total += milli
                want = total / 1000 * rate
            got = lines.at[(code, item.name), "amount_fen"]
            assert got == int((want * 100).quantize(Decimal(1), ROUND_HALF_UP)), \
                (code, item.name, got, want)
            checked += 1
    return checked


def main(size: str = "city") -> dict:
    """Run the benchmark; print and return the figures."""
    n = SIZES[size]
    frame = county(n)[YEAR]
    rs_score = load_ruleset("jiangsu-huaian-2024")
    rs = parse_policy(POLICY, source="bench")
    start = time.perf_counter()
    scored = score_year(rs_score, frame, YEAR)
    build_rows(rs_score, frame, scored, year=YEAR, occupancy_run=0, occupancy_params={},
               prev=None, prev_run=None)
    score_s = time.perf_counter() - start
    ents = pd.DataFrame({
        "credit_code": scored.frame["credit_code"].to_numpy(), "name": frame["name"],
        "town": frame["town"], "district": None,
        "industry_division": frame["industry_division"], "size_class": frame["size_class"],
        "population": scored.frame["population"].to_numpy(),
        "total": scored.frame["total"].to_numpy(),
        "score_class": scored.frame["class"].to_numpy(), "adjusted_class": None})
    quantities, land_tax, records = policy_inputs(ents)
    start = time.perf_counter()
    result = apply_policy(rs, ents, quantities, land_tax, records,
                          period=Period(rs.period.start, rs.period.end))
    policy_s = time.perf_counter() - start
    checked = _check(rs, result, quantities, land_tax)
    ratio = policy_s / score_s
    figures = {"enterprises": n, "items": len(rs.items), "quantity_rows": len(quantities),
               "lines": len(result.lines), "score_run_s": round(score_s, 3),
               "policy_kernel_s": round(policy_s, 3), "ratio": round(ratio, 3),
               "target_ratio": 0.5, "lines_checked_exactly": checked}
    print(f"policy kernel {n:,} enterprises × {len(rs.items)} items ({len(quantities):,} "
          f"quantity rows, {len(result.lines):,} lines): {policy_s:.2f} s | one score run "
          f"{score_s:.2f} s | ratio {ratio:.3f} (target ≤ 0.5); {checked:,} lines equal a "
          "Decimal recomputation to the fen", flush=True)
    return figures


if __name__ == "__main__":
    import sys

    main(sys.argv[1] if len(sys.argv) > 1 else "small")
