"""Scoring kernel: one year of enterprises in, populations, item scores, totals, classes out.

Pure computation over whole columns (numpy/pandas): each step is a handful of array
operations per population and item, never a Python loop over enterprises.

Input frame (one row per enterprise, built by :mod:`scoring.inputs`):

==================== ==========================================================
credit_code          18-character code (text)
size_class           ``large`` / ``small`` / missing (treated as ``unknown``)
town, district       text (missing allowed)
industry_division    GB/T 4754-2017 two-digit division (text, missing allowed)
is_utility, status   the enterprise flags (``status`` ``relocated`` for class T)
established_date     datetime64 (NaT unknown: not deferred by age)
supply_date          latest supply date of the enterprise's parcels (datetime64)
land_m2, floor_m2    occupied land and floor area of the occupancy run (NaN: no land)
tax_wan … emissions_t the year's annual fields (:data:`scoring.formula.ANNUAL_FIELDS`)
prev_<field>         the previous year's values (NaN when absent)
==================== ==========================================================

The rules, in order: population (size class and land/floor thresholds; no land, no
population) → indicators → class T (exempt, not ranked) → benchmarks over the
population's evaluated firms → item scores (direction, benchmark method), missing-data
rule, caps and floors → total + bonuses − penalties → veto (class D) → classes by rank
quotas within the group (or cut-offs) with the stated tie rule → ranks in county, town
and industry division. Firms in their protection period (rule set ``protection``) are
scored, listed and counted in the benchmarks, but neither classed nor ranked.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from gis.crs import SQM_PER_MU
from scoring.errors import ScoreRunError
from scoring.formula import ANNUAL_FIELDS, VARIABLES
from scoring.ruleset import CLASSES, Item, RuleSet

ADJUSTMENT_KINDS = ("bonus", "penalty", "veto", "exempt")


@dataclass
class ScoreResult:
    """What the kernel computed for one year.

    Attributes
    ----------
    frame : DataFrame
        Per enterprise: ``credit_code``, ``population``, ``total``, ``class``, ranks,
        ``t_reason``, ``protection``, ``veto_reason``, ``bonus``, ``penalty``, ``adjust_reason``,
        ``not_evaluated`` (why a firm is in no population), ``class_rule`` (veto, T),
        ``class_position`` and ``class_group_size`` (quota classes).
    indicators : dict
        Indicator name -> values (stated unit, NaN missing) for every enterprise.
    items : dict
        (population, item) -> ``{"score": array, "rule": array of str}`` over every
        enterprise (NaN / '' outside the population or for class T).
    benchmarks : dict
        (population, item) -> the benchmark value used (or ``{"min", "max"}``).
    """

    frame: pd.DataFrame
    indicators: dict[str, np.ndarray]
    items: dict[tuple[str, str], dict[str, np.ndarray]]
    benchmarks: dict[tuple[str, str], dict[str, float]] = field(default_factory=dict)


def _columns(frame: pd.DataFrame, prefix: str = "") -> dict[str, np.ndarray]:
    n = len(frame)
    cols: dict[str, np.ndarray] = {}
    for f in ANNUAL_FIELDS:
        name = prefix + f
        cols[f] = frame[name].to_numpy(np.float64, na_value=np.nan) if name in frame \
            else np.full(n, np.nan)
        prev = "prev_" + f
        cols[prev] = frame[prev].to_numpy(np.float64, na_value=np.nan) \
            if (not prefix and prev in frame) else np.full(n, np.nan)
    land = frame["land_m2"].to_numpy(np.float64, na_value=np.nan)
    cols["land_m2"] = land
    cols["land_mu"] = land / SQM_PER_MU
    cols["floor_m2"] = frame["floor_m2"].to_numpy(np.float64, na_value=np.nan) \
        if "floor_m2" in frame else np.full(n, np.nan)
    assert set(VARIABLES) <= set(cols)
    return cols


def assign_populations(rs: RuleSet, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Population name per enterprise (None outside all) and the reason when outside."""
    n = len(frame)
    size = frame["size_class"].fillna("unknown").to_numpy(object)
    land = frame["land_m2"].to_numpy(np.float64, na_value=np.nan)
    floor = frame["floor_m2"].to_numpy(np.float64, na_value=np.nan) if "floor_m2" in frame \
        else np.full(n, np.nan)
    land_mu = land / SQM_PER_MU
    pop = np.full(n, None, dtype=object)
    why = np.full(n, "", dtype=object)
    has_land = land > 0
    why[~has_land] = "no occupied land in the occupancy run"
    if "has_records" in frame:
        no_rec = ~frame["has_records"].to_numpy(bool)
        why[no_rec & has_land] = "no annual records for the year"
        has_land = has_land & ~no_rec
    for p in rs.populations:
        in_size = np.isin(size, p.size_classes)
        ok = land_mu >= p.min_land_mu - 1e-9
        if p.min_floor_m2 is not None:
            ok |= floor >= p.min_floor_m2
        pop[in_size & has_land & ok] = p.name
        below = in_size & has_land & ~ok
        limit = f"{p.min_land_mu:g} mu" + (f" and {p.min_floor_m2:g} m² floor area"
                                           if p.min_floor_m2 is not None else "")
        why[below] = f"{p.label}: below {limit}"
    unsized = has_land & (pop == None) & (why == "")  # noqa: E711 - elementwise
    why[unsized] = "size class in no population"
    return pop, why


def class_t(rs: RuleSet, frame: pd.DataFrame, year: int, exempt_reason: np.ndarray
            ) -> np.ndarray:
    """Reason for class T per enterprise ('' when not T)."""
    t = rs.t_rules
    out = np.asarray(exempt_reason, dtype=object).copy()

    def add(mask: np.ndarray, text) -> None:
        """Give ``text`` (a constant, or a function of the selected rows) where not T yet."""
        sel = np.flatnonzero(mask & (out == ""))
        if len(sel):
            out[sel] = text(sel) if callable(text) else text

    if t.industry_divisions:
        div = frame["industry_division"].fillna("").to_numpy(object)
        add(np.isin(div, t.industry_divisions),
            lambda sel: np.char.add("utility: industry division ", div[sel].astype(str)))
    if t.utility_flag and "is_utility" in frame:
        add(frame["is_utility"].fillna(False).to_numpy(bool), "utility (enterprise flag)")
    if t.relocated and "status" in frame:
        add((frame["status"] == "relocated").to_numpy(bool), "relocated")
    if t.min_years_producing is not None and "established_date" in frame:
        # age from the registration date; firms without one are not deferred by age
        # (list them as exempt in an adjustment file when the county knows)
        end = np.datetime64(f"{year}-12-31")
        est = pd.to_datetime(frame["established_date"]).to_numpy("datetime64[D]")
        years = np.where(np.isnat(est), np.nan, (end - est).astype("float64") / 365.25)
        add(years < t.min_years_producing,
            lambda sel: np.char.add(np.char.add("established ", est[sel].astype(str)),
                                    f", producing < {t.min_years_producing} years"))
    if t.construction_period_years is not None and "supply_date" in frame:
        sup = pd.to_datetime(frame["supply_date"]).to_numpy("datetime64[D]")
        end = np.datetime64(f"{year}-12-31")
        age = np.where(np.isnat(sup), np.nan, (end - sup).astype("float64") / 365.25)
        add(age < t.construction_period_years,
            lambda sel: np.char.add(np.char.add("land supplied ", sup[sel].astype(str)),
                                    f", in its {t.construction_period_years:g}-year "
                                    "construction period"))
    return out


def protection(rs: RuleSet, frame: pd.DataFrame, year: int) -> np.ndarray:
    """Reason each enterprise is in its protection period ('' when not): listed, not classed.

    ``first_year_above_scale`` reads the input column ``prev_large`` (True: in a
    population with size class ``large`` in the previous year's score run; False: in one
    without it, or absent from that run; None: unknown, e.g. no previous run).
    """
    p = rs.protection
    n = len(frame)
    out = np.full(n, "", dtype=object)
    if p.years_after_start is not None and "established_date" in frame:
        end = np.datetime64(f"{year}-12-31")
        est = pd.to_datetime(frame["established_date"]).to_numpy("datetime64[D]")
        age = np.where(np.isnat(est), np.nan, (end - est).astype("float64") / 365.25)
        young = np.flatnonzero(age < p.years_after_start)
        if len(young):
            out[young] = np.char.add(np.char.add("established ", est[young].astype(str)),
                                     f", less than {p.years_after_start:g} years before the "
                                     f"end of {year}")
    if p.first_year_above_scale and "prev_large" in frame:
        large = frame["size_class"].eq("large").to_numpy(bool)
        was_small = frame["prev_large"].map(lambda v: v is False).to_numpy(bool)
        new = np.flatnonzero(large & was_small & (out == ""))
        out[new] = "first year above scale (规上): not a large firm in the previous year's run"
    return out


def _benchmark(item: Item, values: np.ndarray, prev_values: np.ndarray | None,
               where: str) -> dict[str, float]:
    b = item.benchmark
    valid = values[~np.isnan(values)]
    if b.method == "fixed":
        return {"value": float(b.value)}
    if b.method == "min_max":
        if not len(valid):
            return {"min": np.nan, "max": np.nan}
        return {"min": float(valid.min()), "max": float(valid.max())}
    if b.method == "best":
        if not len(valid):
            return {"value": np.nan}
        return {"value": float(valid.max() if item.direction == "higher" else valid.min())}
    if b.method == "population_average":
        mean = float(valid.mean()) if len(valid) else np.nan
        return {"value": b.k * mean, "average": mean}
    # previous_average
    pv = prev_values[~np.isnan(prev_values)] if prev_values is not None else np.array([])
    if not len(pv) or not pv.mean() > 0:
        raise ScoreRunError(f"{where}: benchmark previous_average needs the previous year's "
                            f"{item.indicator.name} of the population, and there is none "
                            "(import the previous year's enterprise records)")
    mean = float(pv.mean())
    return {"value": b.k * mean, "average": mean}


def item_scores(item: Item, values: np.ndarray, bench: dict[str, float]) -> np.ndarray:
    """Points for each value (NaN stays NaN: the missing-data rule decides).

    Examples
    --------
    >>> from scoring.ruleset import load_ruleset
    >>> it = load_ruleset("zhejiang-huangyan-2022").population("large").items[0]
    >>> item_scores(it, np.array([24.097, 48.194, np.nan]), {"value": 24.097})
    array([30., 60., nan])
    """
    w = item.weight
    b = item.benchmark
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if b.method == "min_max":
            lo, hi = bench["min"], bench["max"]
            span = hi - lo
            if item.direction == "higher":
                rel = (values - lo) / span if span > 0 else np.where(np.isnan(values), np.nan,
                                                                     1.0)
            else:
                rel = (hi - values) / span if span > 0 else np.where(np.isnan(values), np.nan,
                                                                     1.0)
            score = w * (b.floor + (100.0 - b.floor) * rel) / 100.0
        else:
            ref = bench["value"]
            if not (ref > 0):
                score = np.where(np.isnan(values), np.nan, 0.0)
            elif item.direction == "higher":
                score = values / ref * w
            elif b.method == "best":
                score = np.where(values > 0, ref / np.where(values > 0, values, 1.0) * w, w)
                score = np.where(np.isnan(values), np.nan, score)
            else:
                score = np.maximum(0.0, (2.0 - values / ref) * w / 2.0)
    return score


def _rounded(x: np.ndarray, rounding: str) -> np.ndarray:
    if rounding == "floor":
        return np.floor(x + 1e-9)
    if rounding == "ceil":
        return np.ceil(x - 1e-9)
    return np.floor(x + 0.5 + 1e-9)


def merit_order(total: np.ndarray, tie_keys: list[np.ndarray]) -> np.ndarray:
    """Position of each row when sorted by total (descending), then the tie-break keys.

    Sorted once; each grouping (quota group, town, division) then sorts integers only.
    """
    order = np.lexsort([*reversed(tie_keys), -np.nan_to_num(total, nan=-np.inf)])
    merit = np.empty(len(total), np.int64)
    merit[order] = np.arange(len(total))
    return merit


def _order(merit: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Row order: group, then merit (one integer argsort)."""
    return np.argsort(group.astype(np.int64) * (len(merit) + 1) + merit)   # keys are unique


def _tie_keys(rs: RuleSet, frame: pd.DataFrame, indicators: dict[str, np.ndarray],
              pop_items: dict[str, dict[str, Item]], pop: np.ndarray) -> list[np.ndarray]:
    keys = []
    for t in rs.classes.tie_break:
        if t == "credit_code":
            keys.append(pd.factorize(frame["credit_code"].to_numpy(object), sort=True)[0])
            continue
        v = indicators[t].copy()
        lower = np.zeros(len(v), bool)
        for pname, items in pop_items.items():
            it = items.get(t)
            if it is not None and it.direction == "lower":
                lower |= pop == pname
        v = np.where(lower, v, -v)                     # ascending sort = better first
        keys.append(np.nan_to_num(v, nan=np.inf))
    return keys


def _group_codes(pop: np.ndarray, other: np.ndarray | None) -> np.ndarray:
    """Integer group per row: population, and ``other`` (town, division) when given."""
    code = pd.factorize(pop)[0].astype(np.int64)
    if other is not None:
        sub = pd.factorize(other)[0].astype(np.int64) + 1       # missing (-1) -> 0
        code = code * (int(sub.max(initial=0)) + 1) + sub
    return pd.factorize(code)[0]


def _positions(order: np.ndarray, group: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """0-based position of each row within its group (in ``order``) and the group sizes."""
    n = len(order)
    g_sorted = group[order]
    starts = np.r_[True, g_sorted[1:] != g_sorted[:-1]] if n else np.array([], bool)
    start_idx = np.maximum.accumulate(np.where(starts, np.arange(n), 0)) if n else starts
    pos = np.empty(n, np.int64)
    pos[order] = np.arange(n) - start_idx
    sizes = np.bincount(group, minlength=group.max() + 1 if n else 0)
    return pos, sizes[group]


def class_rule_text(rs: RuleSet) -> str:
    """How classes are given, in words (the stored rule adds position and group size)."""
    c = rs.classes
    if c.method == "cutoff":
        cut = c.cutoffs
        return f"cut-offs A ≥ {cut['A']:g}, B ≥ {cut['B']:g}, C ≥ {cut['C']:g}, else D"
    quota_txt = ", ".join(f"{k} {c.quotas[k] * 100:g} %" for k in CLASSES)
    return f"quota ({quota_txt}) within {c.within}, ties {c.ties}"


def assign_classes(rs: RuleSet, frame: pd.DataFrame, total: np.ndarray, ranked: np.ndarray,
                   pop: np.ndarray, merit: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Class (A–D, '' for unranked), 1-based position in the quota group and its size."""
    n = len(frame)
    klass = np.full(n, "", dtype=object)
    position = np.zeros(n, np.int64)
    group_size = np.zeros(n, np.int64)
    if not ranked.any():
        return klass, position, group_size
    c = rs.classes
    if c.method == "cutoff":
        cut = c.cutoffs
        k = np.where(total >= cut["A"], "A", np.where(total >= cut["B"], "B",
                     np.where(total >= cut["C"], "C", "D")))
        klass[ranked] = k[ranked]
        return klass, position, group_size
    idx = np.flatnonzero(ranked)
    group = _group_codes(pop[idx], frame["town"].to_numpy(object)[idx]
                         if c.within == "town" else None)
    sub_total = total[idx]
    order = _order(merit[idx], group)
    pos, sizes = _positions(order, group)
    if c.ties == "shared":
        # a row takes the position of the first row of its run of equal totals
        m = len(order)
        g_sorted, t_sorted = group[order], sub_total[order]
        run_start = np.r_[True, (g_sorted[1:] != g_sorted[:-1])
                          | (t_sorted[1:] != t_sorted[:-1])]
        first_of_run = np.maximum.accumulate(np.where(run_start, np.arange(m), 0))
        group_start = np.arange(m) - pos[order]
        pos = np.empty(m, np.int64)
        pos[order] = first_of_run - group_start
    cum = np.cumsum([c.quotas[k] for k in CLASSES])
    bounds = [_rounded(sizes * q, c.rounding) for q in cum[:-1]]
    k = np.where(pos < bounds[0], "A", np.where(pos < bounds[1], "B",
                 np.where(pos < bounds[2], "C", "D")))
    klass[idx] = k
    position[idx] = pos + 1
    group_size[idx] = sizes
    return klass, position, group_size


def ranks(frame: pd.DataFrame, ranked: np.ndarray, pop: np.ndarray, merit: np.ndarray,
          by: str | None) -> pd.arrays.IntegerArray:
    """1-based rank within population (and ``by`` column) among ranked rows; NA elsewhere."""
    n = len(frame)
    out = np.zeros(n, np.int64)
    idx = np.flatnonzero(ranked)
    if not len(idx):
        return pd.arrays.IntegerArray(out, np.ones(n, bool))
    group = _group_codes(pop[idx], frame[by].to_numpy(object)[idx] if by is not None else None)
    order = _order(merit[idx], group)
    pos, _ = _positions(order, group)
    out[idx] = pos + 1
    return pd.arrays.IntegerArray(out, out == 0)


def aggregate_adjustments(frame: pd.DataFrame, adjustments: pd.DataFrame | None, rs: RuleSet
                          ) -> dict[str, np.ndarray]:
    """Per enterprise: bonus, penalty (capped), veto/exempt flags and the reasons."""
    n = len(frame)
    out = {"bonus": np.zeros(n), "penalty": np.zeros(n), "veto": np.full(n, "", object),
           "exempt": np.full(n, "", object), "reason": np.full(n, "", object)}
    if adjustments is None or not len(adjustments):
        return out
    a = adjustments.copy()
    a["reason"] = a["reason"].fillna("").astype(str)
    a["label"] = a["kind"] + np.where(a["kind"].isin(["bonus", "penalty"]),
                                      " " + a["points"].map("{:g}".format), "") \
        + np.where(a["reason"] != "", ": " + a["reason"], "")
    pos = pd.Index(frame["credit_code"]).get_indexer(a["credit_code"])
    a = a[pos >= 0].assign(pos=pos[pos >= 0])
    for kind in ("bonus", "penalty"):
        s = a[a["kind"] == kind].groupby("pos")["points"].sum()
        out[kind][s.index.to_numpy()] = s.to_numpy()
    if rs.adjustments.max_bonus is not None:
        out["bonus"] = np.minimum(out["bonus"], rs.adjustments.max_bonus)
    if rs.adjustments.max_penalty is not None:
        out["penalty"] = np.minimum(out["penalty"], rs.adjustments.max_penalty)
    for kind in ("veto", "exempt"):
        s = a[a["kind"] == kind].groupby("pos")["label"].agg("; ".join)
        out[kind][s.index.to_numpy()] = s.to_numpy()
    s = a[a["kind"].isin(["bonus", "penalty"])].groupby("pos")["label"].agg("; ".join)
    out["reason"][s.index.to_numpy()] = s.to_numpy()
    return out


def score_year(rs: RuleSet, frame: pd.DataFrame, year: int,
               adjustments: pd.DataFrame | None = None) -> ScoreResult:
    """Score one year of enterprises under ``rs`` (see the module docstring for columns).

    Parameters
    ----------
    rs : RuleSet
    frame : DataFrame
        One row per enterprise (unique ``credit_code``).
    year : int
        The data year (for the T rules' ages).
    adjustments : DataFrame, optional
        ``credit_code, kind (bonus|penalty|veto|exempt), points, reason``.

    Returns
    -------
    ScoreResult
    """
    if not isinstance(frame.index, pd.RangeIndex) or frame.index.start != 0:
        frame = frame.reset_index(drop=True)
    n = len(frame)
    cols = _columns(frame)
    prev_cols = _columns(frame, prefix="prev_")
    pop, not_eval = assign_populations(rs, frame)
    adj = aggregate_adjustments(frame, adjustments, rs)
    t_reason = class_t(rs, frame, year, np.where(adj["exempt"] != "",
                                                 "listed: " + adj["exempt"].astype(str), ""))
    in_pop = pop != None  # noqa: E711 - elementwise
    is_t = in_pop & (t_reason != "")
    t_reason = np.where(in_pop, t_reason, "")
    scored = in_pop & ~is_t
    guarded = protection(rs, frame, year) if rs.protection.active else np.full(n, "", object)

    indicators = {name: ind.evaluate(cols) for name, ind in rs.indicators.items()}
    prev_cache: dict[str, np.ndarray] = {}
    total = np.full(n, np.nan)
    items: dict[tuple[str, str], dict[str, np.ndarray]] = {}
    benchmarks: dict[tuple[str, str], dict[str, float]] = {}
    for p in rs.populations:
        mask = scored & (pop == p.name)
        sub_total = np.zeros(int(mask.sum()))
        for it in p.items:
            name = it.indicator.name
            v = indicators[name][mask]
            prev_v = None
            if it.benchmark.method == "previous_average":
                if name not in prev_cache:
                    prev_cache[name] = it.indicator.evaluate(prev_cols)
                prev_v = prev_cache[name][mask]
            where = f"population {p.name}, item {it.name}"
            bench = _benchmark(it, v, prev_v, where) if mask.any() else {"value": np.nan}
            benchmarks[(p.name, it.name)] = bench
            s = item_scores(it, v, bench) if mask.any() else np.array([])
            s = np.where(np.isfinite(s), s, np.nan)      # overflow: missing, like formulas
            rule = np.full(len(v), "value", dtype=object)
            if it.cap is not None:
                rule[s > it.cap] = "cap"
                s = np.minimum(s, it.cap)
            if it.floor is not None:
                rule[s < it.floor] = "floor"
                s = np.maximum(s, it.floor)
            miss = np.isnan(s)
            if miss.any():
                if it.missing == "population_average":
                    fill = float(np.nanmean(s)) if (~miss).any() else 0.0
                elif it.missing == "penalty":
                    fill = it.penalty
                else:
                    fill = 0.0
                s = np.where(miss, fill, s)
                rule[miss] = "missing:" + it.missing
            full_s = np.full(n, np.nan)
            full_s[mask] = s
            full_r = np.full(n, "", dtype=object)
            full_r[mask] = rule
            items[(p.name, it.name)] = {"score": full_s, "rule": full_r}
            sub_total += s
        total[mask] = sub_total
    total = np.where(scored, total + adj["bonus"] - adj["penalty"], np.nan)
    veto = scored & (adj["veto"] != "")
    protected = scored & ~veto & (guarded != "")
    ranked = scored & ~protected
    pop_items = {p.name: {it.indicator.name: it for it in p.items} for p in rs.populations}
    tie_keys = _tie_keys(rs, frame, indicators, pop_items, pop)
    merit = merit_order(total, tie_keys)
    klass, position, group_size = assign_classes(rs, frame, total, ranked & ~veto, pop, merit)
    class_rule = np.full(n, "", dtype=object)
    klass[veto] = "D"
    class_rule[veto] = "one-vote veto: " + adj["veto"][veto].astype(str)
    class_rule[protected] = "protection period, listed and not classed: " \
        + guarded[protected].astype(str)
    klass[is_t] = "T"
    class_rule[is_t] = "class T: " + t_reason[is_t].astype(str)
    out = pd.DataFrame({
        "credit_code": frame["credit_code"].to_numpy(object),
        "population": pop,
        "total": total,
        "class": np.where(klass == "", None, klass),
        "rank_county": ranks(frame, ranked, pop, merit, None),
        "rank_town": ranks(frame, ranked, pop, merit, "town"),
        "rank_industry": ranks(frame, ranked, pop, merit, "industry_division"),
        "t_reason": t_reason,
        "protection": np.where(protected, guarded, ""),
        "veto_reason": np.where(veto, adj["veto"], ""),
        "bonus": np.where(scored, adj["bonus"], 0.0),
        "penalty": np.where(scored, adj["penalty"], 0.0),
        "adjust_reason": np.where(scored, adj["reason"], ""),
        "not_evaluated": np.where(in_pop, "", not_eval),
        "class_rule": class_rule,
        "class_position": position,
        "class_group_size": group_size,
    })
    return ScoreResult(out, indicators, items, benchmarks)
