"""Annual records of the sample enterprises: tax, revenue, value added, energy ...

Figures are lognormal and driven by land: tax = land (mu) × tax per mu, with
tax per mu centred on 22 万元/mu for large (规上) firms and 6 万元/mu for small
ones, so that large firms land in the 5-60 万元/mu band county methods
benchmark against. Revenue follows from a tax rate, value added from a
value-added rate, energy from value added per tonne of coal equivalent
(≈ 2.7 万元/tce), electricity from energy (most of a light manufacturer's
energy is electricity; 1 tce ≈ 8137 kWh), employees from labour productivity
(≈ 18 万元/person), emissions from value added per tonne (≈ 4900 万元/t).
Large firms have revenue ≥ 2000 万元 (the 规上 threshold), small ones below it.
The second year grows by a few percent with noise.

Planted firms: ``stopped`` firms fall to 5-20 % in the last year (but stay
above the near-zero line), ``near_zero`` firms report almost no tax and
electricity in both years, ``deregistered`` firms have a near-zero first year
and no record in the last one.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from gis.crs import SQM_PER_MU
from sample.config import YEARS, stream
from sample.land_rights import DEREGISTERED, NEAR_ZERO, STOPPED

#: "Near zero" in the last year: tax below this (万元) and electricity below NEAR_ZERO_KWH.
NEAR_ZERO_TAX_WAN = 1.0
NEAR_ZERO_KWH = 10_000.0
#: Floors of ordinary firms, well above the near-zero line.
_MIN_TAX_WAN = 2.0
_MIN_KWH = 30_000.0
KWH_PER_TCE = 8137.0

COLUMNS = (
    "credit_code",
    "year",
    "tax_wan",
    "revenue_wan",
    "value_added_wan",
    "energy_tce",
    "electricity_kwh",
    "rd_wan",
    "employees",
    "emissions_t",
)


def _base_year(rng, land_mu: np.ndarray, large: np.ndarray) -> dict[str, np.ndarray]:
    n = land_mu.size
    tax_per_mu = np.where(
        large, rng.lognormal(np.log(22.0), 0.7, n), rng.lognormal(np.log(6.0), 0.8, n)
    )
    tax_rate = np.where(
        large, rng.lognormal(np.log(0.055), 0.35, n), rng.lognormal(np.log(0.035), 0.4, n)
    )
    revenue = tax_per_mu * land_mu / tax_rate
    revenue = np.where(large, np.maximum(revenue, 2000.0 * rng.uniform(1.0, 1.4, n)), revenue)
    revenue = np.where(large, revenue, np.minimum(revenue, 1990.0 * rng.uniform(0.55, 1.0, n)))
    tax = revenue * tax_rate
    value_added = revenue * rng.uniform(0.18, 0.32, n)
    energy = value_added / rng.lognormal(np.log(2.7), 0.6, n)
    electricity = energy * KWH_PER_TCE * rng.uniform(0.5, 0.95, n)
    rd_rate = np.where(
        large,
        np.minimum(rng.lognormal(np.log(0.03), 0.5, n), 0.12),
        rng.lognormal(np.log(0.012), 0.7, n),
    )
    rd_rate = np.where(~large & (rng.random(n) < 0.4), 0.0, rd_rate)
    employees = np.maximum(3, np.round(value_added / rng.lognormal(np.log(18.0), 0.45, n)))
    emissions = value_added / rng.lognormal(np.log(4900.0), 0.9, n)
    return {
        "tax_wan": np.maximum(tax, _MIN_TAX_WAN),
        "revenue_wan": revenue,
        "value_added_wan": value_added,
        "energy_tce": energy,
        "electricity_kwh": np.maximum(electricity, _MIN_KWH),
        "rd_wan": revenue * rd_rate,
        "employees": employees,
        "emissions_t": emissions,
    }


def town_records(enterprises: pd.DataFrame, seed: int, town_index: int) -> pd.DataFrame:
    """Two years of records for the enterprises of one town.

    Firms get a row for every year from the one they were established in;
    deregistered firms have no row for the last year.
    """
    rng = stream(seed, "records", town_index)
    land_mu = enterprises["land_m2"].to_numpy() / SQM_PER_MU
    large = enterprises["size_class"].to_numpy() == "large"
    planted = enterprises["planted"].to_numpy()
    est_year = enterprises["established_date"].to_numpy().astype("datetime64[Y]").astype(int) + 1970
    base = _base_year(rng, land_mu, large)
    n = land_mu.size
    growth = rng.lognormal(0.04, 0.12, n)
    frames = []
    for k, year in enumerate(YEARS):
        values = {}
        for key, arr in base.items():
            noise = rng.lognormal(0.0, 0.05, n)
            values[key] = arr * (growth**k) * (noise if key != "employees" else 1.0)
        # 规上 means revenue of at least 2000 万元 in the year: keep large firms above it.
        lift = np.where(large, np.maximum(1.0, 2010.0 / values["revenue_wan"]), 1.0)
        for key in (
            "tax_wan",
            "revenue_wan",
            "value_added_wan",
            "energy_tce",
            "electricity_kwh",
            "rd_wan",
        ):
            values[key] = values[key] * lift
        if year == YEARS[-1]:
            drop = rng.uniform(0.05, 0.2, n)
            stop = planted == STOPPED
            for key in values:
                values[key] = np.where(stop, values[key] * drop, values[key])
            values["tax_wan"] = np.where(
                stop, np.maximum(values["tax_wan"], 1.5), values["tax_wan"]
            )
            values["electricity_kwh"] = np.where(
                stop, np.maximum(values["electricity_kwh"], 20_000.0), values["electricity_kwh"]
            )
        dormant = (planted == NEAR_ZERO) | (planted == DEREGISTERED)
        values["tax_wan"] = np.where(dormant, rng.uniform(0.0, 0.3, n), values["tax_wan"])
        values["electricity_kwh"] = np.where(
            dormant, rng.uniform(0.0, 3000.0, n), values["electricity_kwh"]
        )
        for key in ("revenue_wan", "value_added_wan", "energy_tce", "rd_wan", "emissions_t"):
            values[key] = np.where(dormant, values[key] * 0.01, values[key])
        values["employees"] = np.where(
            dormant, np.minimum(values["employees"], 2), values["employees"]
        )
        keep = est_year <= year
        if year == YEARS[-1]:
            keep &= planted != DEREGISTERED
        frame = pd.DataFrame(
            {
                "credit_code": enterprises["credit_code"].to_numpy(),
                "year": np.int16(year),
                "tax_wan": np.round(values["tax_wan"], 2),
                "revenue_wan": np.round(values["revenue_wan"], 2),
                "value_added_wan": np.round(values["value_added_wan"], 2),
                "energy_tce": np.round(values["energy_tce"], 2),
                "electricity_kwh": np.round(values["electricity_kwh"]),
                "rd_wan": np.round(values["rd_wan"], 2),
                "employees": values["employees"].astype(np.int64),
                "emissions_t": np.round(values["emissions_t"], 3),
            }
        )
        frames.append(frame[keep])
    out = pd.concat(frames, ignore_index=True)
    return out.sort_values(["credit_code", "year"], kind="stable", ignore_index=True)
