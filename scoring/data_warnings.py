"""Data warnings of a score run (the Jieyang data-quality loop, DOMAIN.md §2).

Pure: the kernel's input frame in, one row per warning out. Each kind becomes an item of
the township verification queue (``verification_item``, ``mujun verify export``):

==================== ===========================================================
kind                 fires when
==================== ===========================================================
power_no_tax         electricity ≥ ``min_electricity_kwh`` and tax ≤ ``max_tax_wan``
zero_electricity     the firm has land and records, and zero (or no) electricity
tax_per_mu_high      tax per mu above ``above_wan_per_mu`` (a wrong area or unit?)
records_no_land      annual records but no occupied land in the occupancy run
land_no_records      occupied land but no annual records for the year
yoy_jump             a field changed more than ``factor``-fold against the last year
==================== ===========================================================
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from gis.crs import SQM_PER_MU
from scoring.ruleset import WarningRules

KINDS = ("power_no_tax", "zero_electricity", "tax_per_mu_high", "records_no_land",
         "land_no_records", "yoy_jump")


def _num(frame: pd.DataFrame, col: str) -> np.ndarray:
    return frame[col].to_numpy(np.float64, na_value=np.nan) if col in frame \
        else np.full(len(frame), np.nan)


def find_warnings(frame: pd.DataFrame, year: int, rules: WarningRules) -> pd.DataFrame:
    """Warnings for ``year``: ``credit_code, year, kind, town, detail`` (detail a dict).

    Examples
    --------
    >>> f = pd.DataFrame({"credit_code": ["X"], "town": ["东镇"], "has_records": [True],
    ...                   "has_land": [False], "land_m2": [np.nan], "tax_wan": [0.0],
    ...                   "electricity_kwh": [2e6]})
    >>> sorted(find_warnings(f, 2022, WarningRules())["kind"])
    ['power_no_tax', 'records_no_land']
    """
    rec = frame["has_records"].to_numpy(bool)
    has_land = frame["has_land"].to_numpy(bool)
    land = _num(frame, "land_m2")
    merged = frame["merged_into"].notna().to_numpy() if "merged_into" in frame \
        else np.zeros(len(frame), bool)
    tax, elec = _num(frame, "tax_wan"), _num(frame, "electricity_kwh")
    out: list[pd.DataFrame] = []

    def add(kind: str, mask: np.ndarray, details: list[dict]) -> None:
        if mask.any():
            sel = frame.loc[mask, ["credit_code", "town"]].copy()
            sel["kind"] = kind
            sel["detail"] = details
            out.append(sel)

    def values(mask, **cols) -> list[dict]:
        arrays = {k: np.asarray(v)[mask] for k, v in cols.items()}
        return [{k: (None if isinstance(a[i], float) and np.isnan(a[i]) else
                     (round(float(a[i]), 4) if isinstance(a[i], (float, np.floating)) else a[i]))
                 for k, a in arrays.items()} for i in range(int(mask.sum()))]

    if rules.power_no_tax_kwh is not None:
        m = rec & (elec >= rules.power_no_tax_kwh) & ~(tax > rules.power_no_tax_max_tax_wan)
        add("power_no_tax", m, values(m, electricity_kwh=elec, tax_wan=tax))
    if rules.zero_electricity:
        m = rec & has_land & (land > 0) & ~(elec > 0)
        add("zero_electricity", m, values(m, electricity_kwh=elec, tax_wan=tax))
    if rules.tax_per_mu_high is not None:
        with np.errstate(divide="ignore", invalid="ignore"):
            per_mu = tax / (land / SQM_PER_MU)
        m = rec & (land > 0) & (per_mu > rules.tax_per_mu_high)
        add("tax_per_mu_high", m, values(m, tax_per_mu=per_mu, tax_wan=tax, land_m2=land,
                                         threshold=np.full(len(frame), rules.tax_per_mu_high)))
    if rules.records_no_land:
        m = rec & ~(land > 0) & ~merged
        add("records_no_land", m, values(m, tax_wan=tax, land_m2=land))
    if rules.land_no_records:
        m = has_land & (land > 0) & ~rec
        add("land_no_records", m, values(m, land_m2=land))
    if rules.yoy_factor is not None:
        parts = []
        for f in rules.yoy_fields:
            now, before = _num(frame, f), _num(frame, "prev_" + f)
            with np.errstate(divide="ignore", invalid="ignore"):
                ratio = now / before
            m = rec & (now > 0) & (before > 0) & ((ratio > rules.yoy_factor)
                                                 | (ratio < 1.0 / rules.yoy_factor))
            if m.any():
                sel = frame.loc[m, ["credit_code", "town"]].copy()
                sel["detail"] = values(m, field=np.full(len(frame), f, dtype=object),
                                       value=now, previous=before, ratio=ratio)
                parts.append(sel)
        if parts:
            j = pd.concat(parts)
            j = j.groupby(["credit_code", "town"], dropna=False, sort=True)["detail"] \
                .agg(lambda d: {"fields": list(d)}).reset_index()
            j["kind"] = "yoy_jump"
            out.append(j)
    if not out:
        return pd.DataFrame(columns=["credit_code", "year", "kind", "town", "detail"])
    w = pd.concat(out, ignore_index=True)
    w["year"] = year
    return w[["credit_code", "year", "kind", "town", "detail"]]
