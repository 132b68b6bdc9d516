"""Scoring 100,000 enterprises × 2 years under each preset: vectorized kernel vs per-row apply.

Contenders, on the same synthetic county in the same run (target ≤ 5 s per preset on 2 cores):

* **mujun** — :func:`scoring.kernel.score_year` (whole columns with numpy), then
  :func:`scoring.records.build_rows` (the JSON stored per enterprise), for two years;
* **baseline** — what one would write first with pandas: ``DataFrame.apply(axis=1)`` per
  enterprise for population, class T, indicators and item scores (benchmarks from
  ``groupby``), then a sort per population for the quotas; the same rule-set objects.

Both must give the same totals and classes (checked); the ratio printed is mujun / baseline.
``--size small`` scores 10,000 enterprises (a quick check); city and province 100,000.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pandas as pd

from gis.crs import SQM_PER_MU
from scoring.formula import ANNUAL_FIELDS
from scoring.kernel import score_year
from scoring.ruleset import CLASSES, load_ruleset

PRESETS = ("zhejiang-huangyan-2022", "jiangsu-huaian-2024", "anhui-jingde-2022")
YEARS = (2023, 2024)
SIZES = {"small": 10_000, "city": 100_000, "province": 100_000}


def county(n: int, seed: int = 7) -> dict[int, pd.DataFrame]:
    """Kernel input frames for :data:`YEARS` (three years of records, realistic spreads)."""
    rng = np.random.default_rng(seed)
    large = rng.random(n) < 0.3
    land_mu = np.where(large, rng.lognormal(3.0, 0.8, n), rng.lognormal(1.5, 0.7, n))
    base = pd.DataFrame({
        "credit_code": [f"91330000BENCH{i:05d}" for i in range(n)],
        "name": [f"企业{i}" for i in range(n)],
        "size_class": np.where(large, "large", np.where(rng.random(n) < 0.9, "small", None)),
        "town": rng.choice([f"镇{i}" for i in range(12)], n),
        "district": None,
        "industry_division": rng.choice(["13", "17", "26", "33", "34", "38", "44"], n,
                                        p=[.15, .15, .15, .2, .2, .13, .02]),
        "is_utility": False,
        "status": np.where(rng.random(n) < 0.005, "relocated", "active"),
        "established_date": pd.to_datetime("2000-01-01") + pd.to_timedelta(
            rng.integers(0, 365 * 24, n), unit="D"),
        "supply_date": pd.to_datetime("1998-01-01") + pd.to_timedelta(
            rng.integers(0, 365 * 26, n), unit="D"),
        "land_m2": land_mu * SQM_PER_MU,
        "floor_m2": land_mu * SQM_PER_MU * rng.uniform(0.3, 1.8, n),
        "has_records": True, "has_land": True, "role": "owner",
        "parcel_codes": [f"331003001001GB{i:05d}" for i in range(n)],
    })
    scale = np.where(large, 20.0, 1.0) * land_mu / 10
    years = {}
    for k in range(3):
        growth = rng.lognormal(0.03 * k, 0.2, n)
        y = {"tax_wan": scale * rng.lognormal(3.0, 0.9, n) * growth,
             "revenue_wan": scale * rng.lognormal(6.0, 0.7, n) * growth,
             "value_added_wan": scale * rng.lognormal(4.5, 0.7, n) * growth,
             "energy_tce": scale * rng.lognormal(4.0, 0.8, n),
             "electricity_kwh": scale * rng.lognormal(13.0, 0.8, n),
             "rd_wan": scale * rng.lognormal(2.0, 1.0, n),
             "employees": np.round(scale * rng.lognormal(3.5, 0.5, n)) + 1,
             "emissions_t": scale * rng.lognormal(0.0, 1.0, n)}
        y["emissions_t"][rng.random(n) < 0.15] = np.nan          # no emission data
        y["energy_tce"][rng.random(n) < 0.03] = np.nan
        years[2022 + k] = y
    out = {}
    for year in YEARS:
        f = base.copy()
        for fld in ANNUAL_FIELDS:
            f[fld] = years[year][fld]
            f["prev_" + fld] = years[year - 1][fld]
        out[year] = f
    return out


# ------------------------------------------------------------------ the baseline
def baseline_year(rs, frame: pd.DataFrame, year: int) -> pd.DataFrame:
    """Per-row ``apply`` scoring (the straightforward pandas version); total and class."""
    end = pd.Timestamp(f"{year}-12-31")
    t = rs.t_rules

    def population(row):
        size = row["size_class"] if isinstance(row["size_class"], str) else "unknown"
        mu = row["land_m2"] / SQM_PER_MU
        for p in rs.populations:
            if size in p.size_classes and row["land_m2"] > 0 and (
                    mu >= p.min_land_mu - 1e-9
                    or (p.min_floor_m2 is not None and row["floor_m2"] >= p.min_floor_m2)):
                return p.name
        return None

    def is_t(row):
        if row["industry_division"] in t.industry_divisions:
            return True
        if t.utility_flag and row["is_utility"]:
            return True
        if t.relocated and row["status"] == "relocated":
            return True
        if t.min_years_producing is not None and not pd.isna(row["established_date"]) and \
                (end - row["established_date"]).days / 365.25 < t.min_years_producing:
            return True
        return bool(t.construction_period_years is not None and not pd.isna(row["supply_date"])
                    and (end - row["supply_date"]).days / 365.25 < t.construction_period_years)

    def indicators(row, prefix=""):
        cols = {f: np.float64(row[prefix + f]) for f in ANNUAL_FIELDS}
        cols.update({"prev_" + f: np.float64(row["prev_" + f]) if not prefix else np.nan
                     for f in ANNUAL_FIELDS})
        cols.update(land_m2=row["land_m2"], land_mu=row["land_m2"] / SQM_PER_MU,
                    floor_m2=row["floor_m2"])
        out = {}
        with np.errstate(all="ignore"):
            for name, ind in rs.indicators.items():
                v = float(ind.formula._eval(cols)) * ind.conversion
                out[name] = v if math.isfinite(v) else np.nan
        return pd.Series(out)

    f = frame.copy()
    f["population"] = f.apply(population, axis=1)
    f["is_t"] = f.apply(is_t, axis=1)
    ind = f.apply(indicators, axis=1)
    scored = f["population"].notna() & ~f["is_t"]
    f["total"] = np.nan
    for p in rs.populations:
        sel = scored & (f["population"] == p.name)
        bench = {}
        for it in p.items:
            v = ind.loc[sel, it.indicator.name]
            b = it.benchmark
            if b.method == "fixed":
                bench[it.name] = {"value": b.value}
            elif b.method == "population_average":
                bench[it.name] = {"value": b.k * v.mean()}
            elif b.method == "previous_average":
                prev = f.loc[sel].apply(lambda r: indicators(r, "prev_"), axis=1)
                bench[it.name] = {"value": b.k * prev[it.indicator.name].mean()}
            elif b.method == "best":
                bench[it.name] = {"value": v.max() if it.direction == "higher" else v.min()}
            else:
                bench[it.name] = {"min": v.min(), "max": v.max()}

        def item_scores(row, p=p, bench=bench):
            out = {}
            for it in p.items:
                x = row[it.indicator.name]
                b = bench[it.name]
                if math.isnan(x):
                    out[it.name] = np.nan
                elif it.benchmark.method == "min_max":
                    span = b["max"] - b["min"]
                    rel = ((x - b["min"]) if it.direction == "higher" else (b["max"] - x)) / span \
                        if span > 0 else 1.0
                    fl = it.benchmark.floor
                    out[it.name] = it.weight * (fl + (100 - fl) * rel) / 100
                elif it.direction == "higher":
                    out[it.name] = x / b["value"] * it.weight
                else:
                    out[it.name] = max(0.0, (2 - x / b["value"]) * it.weight / 2)
                if it.cap is not None:
                    out[it.name] = min(out[it.name], it.cap)
                if it.floor is not None:
                    out[it.name] = max(out[it.name], it.floor)
            return pd.Series(out)

        scores = ind.loc[sel].apply(item_scores, axis=1)
        for it in p.items:
            col = scores[it.name]
            if it.missing == "population_average":
                col = col.fillna(col.mean())
            elif it.missing == "penalty":
                col = col.fillna(it.penalty)
            else:
                col = col.fillna(0.0)
            scores[it.name] = col
        f.loc[sel, "total"] = scores.sum(axis=1)
    f["class"] = np.where(f["is_t"] & f["population"].notna(), "T", None)
    tie = rs.classes.tie_break
    for p in rs.populations:
        sel = f[scored & (f["population"] == p.name)].copy()
        keys, asc = ["total"], [False]
        for name in tie:
            if name == "credit_code":
                keys.append("credit_code")
                asc.append(True)
            else:
                sel[name] = ind.loc[sel.index, name]
                keys.append(name)
                asc.append(False)
        sel = sel.sort_values(keys, ascending=asc, na_position="last")
        n = len(sel)
        cum = np.cumsum([rs.classes.quotas[k] for k in CLASSES])
        bounds = [math.floor(n * q + 0.5 + 1e-9) for q in cum[:-1]]
        pos = np.arange(n)
        f.loc[sel.index, "class"] = np.where(pos < bounds[0], "A", np.where(
            pos < bounds[1], "B", np.where(pos < bounds[2], "C", "D")))
    return f[["credit_code", "total", "class"]]


def main(size: str = "city") -> dict:
    """Run the benchmark; print and return the figures."""
    from scoring.records import build_rows

    n = SIZES[size]
    data = county(n)
    figures: dict[str, dict] = {}
    for preset in PRESETS:
        rs = load_ruleset(preset)
        start = time.perf_counter()
        results = {y: score_year(rs, data[y], y) for y in YEARS}
        kernel_s = time.perf_counter() - start
        for y in YEARS:
            build_rows(rs, data[y], results[y], year=y, occupancy_run=0,
                       occupancy_params={}, prev=None, prev_run=None)
        mujun_s = time.perf_counter() - start
        start = time.perf_counter()
        base = {y: baseline_year(rs, data[y], y) for y in YEARS}
        base_s = time.perf_counter() - start
        for y in YEARS:
            a, b = results[y].frame, base[y]
            assert np.allclose(a["total"].astype(float), b["total"].astype(float),
                               rtol=1e-9, equal_nan=True), f"{preset} {y}: totals differ"
            assert (a["class"].fillna("-") == b["class"].fillna("-")).all(), \
                f"{preset} {y}: classes differ"
        counts = results[YEARS[-1]].frame["class"].value_counts().sort_index().to_dict()
        figures[preset] = {"enterprises": n, "years": len(YEARS),
                           "mujun_kernel_s": round(kernel_s, 3),
                           "mujun_with_rows_s": round(mujun_s, 3),
                           "baseline_apply_s": round(base_s, 3),
                           "ratio": round(mujun_s / base_s, 4), "classes": counts}
        print(f"{preset:<24} {n:,} enterprises × {len(YEARS)} years: mujun {mujun_s:6.2f} s "
              f"(kernel {kernel_s:.2f} s, stored rows {mujun_s - kernel_s:.2f} s) | per-row "
              f"apply {base_s:7.2f} s | ratio {mujun_s / base_s:.4f} "
              f"({base_s / mujun_s:.0f}× faster); same totals and classes", flush=True)
    return figures


if __name__ == "__main__":
    import sys

    main(sys.argv[1] if len(sys.argv) > 1 else "small")
