"""Parcel attributes of the sample city: roles, codes, land use, dates, certificate areas.

Each parcel gets a *role* that decides what is built on it:

``normal``
    an ordinary factory, supplied 2002-2021, built to at least 38 % coverage;
``unfinished`` (planted)
    supplied 2014-2022, one building covering well under a third of the parcel;
``idle`` (planted)
    supplied 2015 to mid-2022 (more than two years before :data:`AS_OF`, agreed
    start more than one year before it), nothing built;
``new`` (control)
    supplied in the last year; nothing built yet, and not idle, since the agreed
    start date is less than a year ago.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from parcels.codes import make_parcel_code
from sample.config import days_between, stream
from sample.layout import TownPlan

ROLES = ("normal", "unfinished", "idle", "new")
#: Share of parcels per planted role (at least one per town each).
ROLE_SHARES = {"unfinished": 0.025, "idle": 0.03, "new": 0.03}
#: Share of parcels whose certificate area differs from the measured one by 1-15 %.
CERT_DIFF_SHARE = 0.15

_SUPPLY_RANGES = {
    "normal": (dt.date(2002, 1, 1), dt.date(2021, 6, 30)),
    "unfinished": (dt.date(2014, 1, 1), dt.date(2022, 6, 30)),
    "idle": (dt.date(2015, 1, 1), dt.date(2022, 6, 30)),
    "new": (dt.date(2024, 8, 1), dt.date(2025, 5, 31)),
}


def assign_roles(rng: np.random.Generator, n: int) -> np.ndarray:
    """Roles of ``n`` parcels with exact planted counts (at least one of each)."""
    roles = np.full(n, "normal", dtype=object)
    order = rng.permutation(n)
    pos = 0
    for role, share in ROLE_SHARES.items():
        k = min(max(1, round(share * n)), max(0, (n - pos) // 4))
        roles[order[pos : pos + k]] = role
        pos += k
    return roles


def town_parcels(plan: TownPlan, parcels, seed: int):
    """Attach roles and attributes to the parcels of one town.

    Parameters
    ----------
    plan : TownPlan
    parcels : GeoDataFrame
        From :func:`sample.layout.town_layout`.
    seed : int

    Returns
    -------
    GeoDataFrame
        The input plus ``parcel_code``, ``land_use_code``, ``supply_date``,
        ``agreed_start_date``, ``agreed_finish_date``, ``planned_far``,
        ``cert_area_m2``, ``town``, ``district``, ``role``.
    """
    rng = stream(seed, "parcel-attributes", plan.index)
    n = len(parcels)
    out = parcels.copy()
    roles = assign_roles(rng, n)
    out["parcel_code"] = [
        make_parcel_code(plan.county_code, plan.cadastral_district, int(b), int(s))
        for b, s in zip(out["block_no"], out["seq"], strict=True)
    ]
    land_use = rng.choice(["0601", "0602", "0604"], size=n, p=[0.91, 0.02, 0.07])
    supply = np.empty(n, dtype="datetime64[D]")
    for role, (start, end) in _SUPPLY_RANGES.items():
        mask = roles == role
        supply[mask] = days_between(rng, start, end, int(mask.sum()))
    start = supply + rng.integers(182 - 45, 182 + 46, size=n).astype("timedelta64[D]")
    finish = start + rng.integers(730 - 60, 730 + 61, size=n).astype("timedelta64[D]")
    far = np.where(
        land_use == "0601",
        rng.uniform(1.0, 2.5, n),
        np.where(land_use == "0604", rng.uniform(0.8, 1.5, n), rng.uniform(0.5, 1.0, n)),
    )
    area = out.geometry.area.to_numpy()
    factor = np.ones(n)
    differs = rng.random(n) < CERT_DIFF_SHARE
    sign = np.where(rng.random(n) < 0.5, -1.0, 1.0)
    factor[differs] = 1.0 + sign[differs] * rng.uniform(0.01, 0.15, int(differs.sum()))
    out["land_use_code"] = land_use
    out["supply_date"] = supply
    out["agreed_start_date"] = start
    out["agreed_finish_date"] = finish
    out["planned_far"] = np.round(far, 1)
    out["cert_area_m2"] = np.round(area * factor, 2)
    out["town"] = plan.name
    out["district"] = plan.district
    out["role"] = roles
    return out
