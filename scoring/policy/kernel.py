"""The policy kernel: classes and inputs in, one line per enterprise and item out (pure).

No file, no database: :func:`apply_policy` takes data frames and a
:class:`~scoring.policy.model.PolicyRuleSet` and returns data frames, whole columns at a
time. Money is exact: quantities are whole thousandths (``*_milli``), rates whole
billionths (``rate_nano``), tax due whole ten-thousandths of a yuan, and every amount is
rounded once, half away from zero, to the fen (分) in Python integers — no float ever
touches an amount.

Rules (docs/policy.md):

* price items: amount = quantity billed in the months in force × rate of the class;
  monthly quantities count the months in force; an account-year with only an annual
  quantity counts ``months of that year in force / 12`` of it (warning ``pro_rata``);
* land-use tax: amount = rate × tax due × months in force / 12 (tax due = Σ taxable area
  × unit tax, per year);
* quotas: rate × last year's use (source ``records``) or the fixed tce / t (``fixed``);
* an enterprise's months in force start at the later of the item's first month and its
  population's phase-in month;
* the class in force is the adjusted one when an adjustment exists; a derived class (C-)
  takes members of its ``within`` class (listed, or the lowest share by total within each
  population) and pays ``factor`` × the rates of ``rate_of``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np
import pandas as pd

from scoring.errors import PolicyRunError
from scoring.policy.model import (
    BASE_UNIT,
    PRICE_KINDS,
    QUOTA_FIELD,
    QUOTA_KINDS,
    Period,
    PolicyItem,
    PolicyRuleSet,
)

NANO = 10 ** 9
MILLI = 1000

#: Columns of the enterprise frame :func:`apply_policy` reads.
ENTERPRISE_COLUMNS = ("credit_code", "name", "town", "district", "industry_division",
                      "size_class", "population", "total", "score_class", "adjusted_class")
LINE_COLUMNS = ("credit_code", "item", "kind", "class", "base_milli", "base_unit",
                "base_source", "rate_nano", "months", "amount_fen", "quota_milli",
                "collector", "refundable", "borne_by", "town", "district")


@dataclass
class PolicyResult:
    """What :func:`apply_policy` returns.

    Attributes
    ----------
    enterprises : DataFrame
        One row per enterprise: class in force, ``adjusted``, ``exempt_reason``,
        ``flags`` (tuple of codes), ``warnings`` (list of ``{"item", "code"}``).
    lines : DataFrame
        :data:`LINE_COLUMNS`; ``amount_fen`` (money) / ``quota_milli`` (quotas) are Python
        ints or ``None`` (missing input).
    notes : list of dict
        Run-level warnings (``{"code": "parameter_unset", "item": ..., "classes": ...}``).
    """

    enterprises: pd.DataFrame
    lines: pd.DataFrame
    notes: list[dict] = field(default_factory=list)


def to_nano(value: Decimal) -> int:
    """A rate as whole billionths, refusing one finer than that.

    >>> to_nano(Decimal("0.17")), to_nano(Decimal("0.085"))
    (170000000, 85000000)
    """
    scaled = value * NANO
    if scaled != scaled.to_integral_value():
        raise PolicyRunError(f"费率 {value} 超过 9 位小数；请在政策规则中取整")
    return int(scaled)


def round_div(num: np.ndarray, den: int) -> np.ndarray:
    """``num / den`` rounded half away from zero, for an object array of Python ints.

    >>> list(round_div(np.array([15, -15, 14, -14], dtype=object), 10))
    [2, -2, 1, -1]
    """
    num = np.asarray(num, dtype=object)
    mag = (np.abs(num) * 2 + den) // (2 * den)
    return np.where(num < 0, -mag, mag)


def _ints(values: np.ndarray | pd.Series) -> np.ndarray:
    """Whole numbers as an object array of Python ints (exact beyond 2**63)."""
    return np.array([int(v) for v in np.asarray(values)], dtype=object)


def classes_in_force(ents: pd.DataFrame, rs: PolicyRuleSet) -> pd.DataFrame:
    """``class``, ``adjusted`` and ``exempt_reason`` of every enterprise (pure).

    The adjusted class wins over the computed one; derived classes are cut out of their
    ``within`` class; exempt enterprises keep their class but get ``exempt_reason``.
    """
    out = ents.copy()
    adj = out["adjusted_class"].to_numpy(dtype=object)
    computed = out["score_class"].to_numpy(dtype=object)
    has_adj = pd.notna(adj)
    out["adjusted"] = has_adj & (adj != computed)
    klass = np.where(has_adj, adj, computed)
    base_class = klass.copy()
    total = pd.to_numeric(out["total"], errors="coerce").to_numpy(dtype=float)
    population = out["population"].fillna("").to_numpy(dtype=object)
    for d in rs.derived:
        inside = base_class == d.within
        member = inside & out["credit_code"].isin(d.members).to_numpy()
        if d.lowest_share is not None:
            for pop in pd.unique(population[inside]):
                idx = np.flatnonzero(inside & (population == pop))
                n = math.ceil(d.lowest_share * len(idx) - 1e-9)
                t = np.where(np.isnan(total[idx]), -np.inf, total[idx])
                member[idx[np.argsort(t, kind="stable")[:n]]] = True
        klass[member] = d.name
    out["class"] = klass
    missing = pd.isna(klass)
    out["exempt_reason"] = np.select(
        [missing, np.isin(klass, list(rs.exempt_classes)),
         out["industry_division"].isin(rs.exempt_industries).to_numpy(),
         out["credit_code"].isin(rs.exempt_enterprises).to_numpy()],
        ["not_evaluated", "exempt_class", "exempt_industry", "exempt_listed"],
        default=None).astype(object)
    return out


def first_months(ents: pd.DataFrame, rs: PolicyRuleSet, period: Period) -> np.ndarray:
    """The first month in force of every enterprise: the period's, or its phase-in month."""
    start = np.full(len(ents), period.start, dtype=np.int64)
    for population, month in rs.phase_in.items():
        hit = (ents["size_class"] == population).to_numpy()
        start[hit] = np.maximum(start[hit], month)
    return start


def period_quantities(quantities: pd.DataFrame, kind: str, codes: pd.Index,
                      start: np.ndarray, end: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Quantity (thousandths) of ``kind`` billed to each enterprise in its months in force.

    Parameters
    ----------
    quantities : DataFrame
        The rows of ``kind`` (the caller splits by kind once): ``credit_code``,
        ``account_no``, ``year``, ``month`` (0: the whole year), ``quantity_milli`` (the
        enterprise's share of the account, whole thousandths, not negative).
    codes : Index
        The enterprises, in order; ``start`` their first months in force.

    Returns
    -------
    quantity : int64 array (0 where none; object array of ints if int64 could overflow)
    has_account : bool array (any quantity row of the kind at all)
    pro_rata : bool array (an annual-only quantity was prorated)
    """
    n = len(codes)
    q = quantities
    has = np.zeros(n, dtype=bool)
    pro = np.zeros(n, dtype=bool)
    if not len(q):
        return np.zeros(n, dtype=np.int64), has, pro
    pos = codes.get_indexer(q["credit_code"])
    keep = pos >= 0
    q, pos = q[keep], pos[keep]
    has[pos] = True
    month = q["month"].to_numpy(dtype=np.int64)
    year = q["year"].to_numpy(dtype=np.int64)
    qty = q["quantity_milli"].to_numpy()
    exact_int64 = len(qty) == 0 or float(np.max(qty)) * 12 * len(qty) < 9e18
    qty = qty.astype(np.int64) if exact_int64 else _ints(qty)
    first = start[pos]
    is_month = month > 0
    idx = year * 12 + np.maximum(month, 1) - 1
    contrib = np.where(is_month & (idx >= first) & (idx <= end), qty, 0)
    annual = ~is_month
    if annual.any():
        # an account-year with monthly rows ignores its annual row
        if is_month.any():
            acc = pd.factorize(q["account_no"].to_numpy())[0].astype(np.int64)
            key = acc * 1024 + (year - 1900)
            annual &= ~np.isin(key, key[is_month])
        lo = np.maximum(year * 12, first)
        hi = np.minimum(year * 12 + 11, end)
        months = np.clip(hi - lo + 1, 0, 12)
        share = (qty * months * 2 + 12) // 24          # half up (quantities are >= 0)
        contrib = np.where(annual, share, contrib)
        pro[pos[annual & (months > 0) & (months < 12)]] = True
    total = np.zeros(n, dtype=contrib.dtype)
    np.add.at(total, pos, contrib)          # exact: integer sums, no float weights
    return total, has, pro


def _item_period(rs: PolicyRuleSet, item: PolicyItem, period: Period | None) -> Period:
    return period or item.period or rs.period


def apply_policy(rs: PolicyRuleSet, ents: pd.DataFrame, quantities: pd.DataFrame,
                 land_tax: pd.DataFrame, records: pd.DataFrame, *,
                 period: Period | None = None) -> PolicyResult:
    """Every enterprise's class in force, flags, and one line per item that applies.

    Parameters
    ----------
    rs : PolicyRuleSet
    ents : DataFrame
        :data:`ENTERPRISE_COLUMNS` (``adjusted_class`` may be empty).
    quantities : DataFrame
        See :func:`period_quantities`.
    land_tax : DataFrame
        ``credit_code``, ``due_e4`` (the year's tax due, in 0.0001 元).
    records : DataFrame
        ``credit_code``, ``year``, ``electricity_kwh``, ``energy_tce``, ``emissions_t``
        (annual records; quotas read the year before the period's first month, an
        electricity item with source ``records`` the years of its period, pro rata).
    period : Period, optional
        Months in force for every item (``--period``), over the rule set's.

    Returns
    -------
    PolicyResult

    Examples
    --------
    See ``tests/test_scoring/test_policy_kernel.py`` (hand-computed amounts).
    """
    ents = classes_in_force(ents.reset_index(drop=True), rs)
    codes = pd.Index(ents["credit_code"])
    klass = ents["class"].to_numpy(dtype=object)
    live = ents["exempt_reason"].isna().to_numpy()
    warnings: list[list[dict]] = [[] for _ in range(len(ents))]
    notes: list[dict] = []
    frames = []
    by_kind = dict(tuple(quantities.groupby("kind", sort=False))) if len(quantities) else {}
    empty = quantities.iloc[:0]
    for item in rs.items:
        per = _item_period(rs, item, period)
        start = first_months(ents, rs, per)
        months = np.clip(per.end - start + 1, 0, None)
        rates = {}
        for c in pd.unique(klass[live]):
            r = rs.rate(item, c)
            if r is not None:
                rates[c] = to_nano(r)
        unset = sorted(str(c) for c in pd.unique(klass[live])
                       if c is not None and c not in rates and rs.applies(item, c))
        if unset:
            notes.append({"code": "parameter_unset", "item": item.name, "classes": unset,
                          "parameters": rs.unset_parameters(item)})
        sel = live & np.isin(klass, list(rates))
        if not sel.any():
            continue
        pos = np.flatnonzero(sel)
        rate = np.array([rates[c] for c in klass[pos]], dtype=object)
        base: np.ndarray = np.full(len(pos), None, dtype=object)
        amount = np.full(len(pos), None, dtype=object)
        quota = np.full(len(pos), None, dtype=object)
        missing = np.zeros(len(pos), dtype=bool)
        code_missing = ""
        if item.kind in PRICE_KINDS and item.source == "accounts":
            qty, has, pro = period_quantities(by_kind.get(item.kind, empty), item.kind, codes,
                                              start, per.end)
            base = qty[pos].astype(object)
            missing = ~has[pos]
            code_missing = "no_account"
            amount = round_div(base * rate, MILLI * NANO // 100)
            for p in pos[pro[pos]]:
                warnings[p].append({"item": item.name, "code": "pro_rata"})
            for p in pos[has[pos] & (qty[pos] == 0)]:
                warnings[p].append({"item": item.name, "code": "no_quantity"})
        elif item.kind == "electricity":      # source records: annual kWh, pro rata
            rec = records[["credit_code", "year", "electricity_kwh"]].dropna()
            as_q = pd.DataFrame({
                "credit_code": rec["credit_code"], "kind": "electricity",
                "account_no": "records", "year": rec["year"], "month": 0,
                "quantity_milli": np.round(rec["electricity_kwh"].to_numpy(float) * MILLI)})
            qty, has, pro = period_quantities(as_q, "electricity", codes, start, per.end)
            base, missing, code_missing = qty[pos].astype(object), ~has[pos], "no_account"
            amount = round_div(base * rate, MILLI * NANO // 100)
            for p in pos[pro[pos]]:
                warnings[p].append({"item": item.name, "code": "pro_rata"})
        elif item.kind == "land_tax":
            due = land_tax.groupby("credit_code")["due_e4"].sum() if len(land_tax) \
                else pd.Series(dtype=np.int64)
            at = due.index.get_indexer(codes[pos])       # exact: no float on the way
            have = at >= 0
            due_e4 = _ints(np.where(have, due.to_numpy()[np.maximum(at, 0)], 0)) \
                if len(due) else np.zeros(len(pos), dtype=object)
            missing = ~have
            code_missing = "no_land_tax_base"
            # base: the tax due for the months in force (元, in thousandths)
            m = months[pos].astype(object)
            base = round_div(due_e4 * m, 12 * 10)
            amount = round_div(due_e4 * rate * m, 12 * 10_000 * NANO // 100)
        elif item.kind in QUOTA_KINDS and item.source == "records":
            col = QUOTA_FIELD[item.kind]
            prev = records[records["year"] == per.start // 12 - 1]
            use = prev.set_index("credit_code")[col]
            vals = use.reindex(codes[pos]).to_numpy(dtype=float)
            missing = ~np.isfinite(vals)
            base = _ints(np.where(missing, 0, np.round(vals * MILLI)))
            code_missing = "no_last_year_use"
            quota = round_div(base * rate, NANO)
        else:                                  # fixed quotas
            quota = round_div(rate * MILLI, NANO)
            base = np.full(len(pos), None, dtype=object)
        if missing.any():
            base = np.where(missing, None, base)
            amount = np.where(missing, None, amount) if item.kind not in QUOTA_KINDS \
                else amount
            quota = np.where(missing, None, quota) if item.kind in QUOTA_KINDS else quota
            for p in pos[missing]:
                warnings[p].append({"item": item.name, "code": code_missing})
        if item.kind in QUOTA_KINDS:
            amount = np.full(len(pos), None, dtype=object)
        else:
            quota = np.full(len(pos), None, dtype=object)
        frames.append(pd.DataFrame({
            "credit_code": codes[pos], "item": item.name, "kind": item.kind,
            "class": klass[pos], "base_milli": base,
            "base_unit": BASE_UNIT[item.kind] if item.source != "fixed" else "",
            "base_source": item.source, "rate_nano": rate, "months": months[pos],
            "amount_fen": amount, "quota_milli": quota, "collector": item.collector,
            "refundable": item.refundable, "borne_by": item.borne_by,
            "town": ents["town"].to_numpy()[pos],
            "district": ents["district"].to_numpy()[pos]}))
    lines = pd.concat(frames, ignore_index=True) if frames else \
        pd.DataFrame({c: pd.Series(dtype=object) for c in LINE_COLUMNS})
    ents["flags"] = [tuple(rs.flags.get(c, ())) if ok else () for c, ok in
                     zip(klass, live, strict=True)]
    ents["warnings"] = warnings
    return PolicyResult(ents, lines, notes)
