"""Who holds and who rents each parcel of a sample town.

Every parcel has an owner (the land-use right holder). Owners of neighbouring
parcels in the same block sometimes are the same firm (up to three parcels); a
few parcels have two owners with half shares each. Some built parcels are
partly leased to tenants, by leased land area, leased floor area, or both.
A few firms hold no land at all (they feed the verification queue).

The planted "built but unused" and "stopped firm" cases are chosen here, among
firms that hold exactly one built parcel alone and have no tenants, so the
planted truth stays unambiguous.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from gis.crs import SQM_PER_MU
from sample.config import days_between, stream

#: Enterprise link kinds (internal; the output has owner/tenant rights).
OWNER, CO_OWNER, TENANT, UNLINKED = "owner", "co_owner", "tenant", "unlinked"
#: Planted holder states.
DEREGISTERED, NEAR_ZERO, STOPPED = "deregistered", "near_zero", "stopped"


@dataclass
class Holdings:
    """Enterprises of a town (local index) and their rights.

    Attributes
    ----------
    link : ndarray of str
        Per enterprise: ``owner``, ``co_owner``, ``tenant`` or ``unlinked``.
    planted : ndarray of str
        Per enterprise: ``''``, ``deregistered``, ``near_zero`` or ``stopped``.
    land_m2 : ndarray of float
        Land each enterprise uses (share of owned area, or leased/estimated area).
    first_parcel : ndarray of int
        Per enterprise: index of its first parcel (-1 if none).
    rights : DataFrame
        ``parcel_idx, enterprise, right_type, share, leased_land_m2,
        leased_floor_m2, start_date, end_date``.
    """

    link: np.ndarray
    planted: np.ndarray
    land_m2: np.ndarray
    first_parcel: np.ndarray
    rights: pd.DataFrame


def assign_holdings(parcels, floor_area: np.ndarray, seed: int, town_index: int) -> Holdings:
    """Decide owners, co-owners, tenants and firms without land for one town.

    Parameters
    ----------
    parcels : GeoDataFrame
        With ``role``, ``block_no``, ``supply_date`` (from ``town_parcels``).
    floor_area : ndarray
        Floor area (m²) of the buildings of each parcel.
    """
    rng = stream(seed, "holdings", town_index)
    n = len(parcels)
    roles = parcels["role"].to_numpy()
    blocks = parcels["block_no"].to_numpy()
    supply = parcels["supply_date"].to_numpy().astype("datetime64[D]")
    area = parcels.geometry.area.to_numpy()

    owner = np.empty(n, dtype=np.int64)
    n_held: list[int] = []
    join = rng.random(n) < 0.12
    for i in range(n):
        prev = owner[i - 1] if i else -1
        if (
            i
            and join[i]
            and blocks[i] == blocks[i - 1]
            and roles[i] != "new"
            and roles[i - 1] != "new"
            and n_held[prev] < 3
        ):
            owner[i] = prev
            n_held[prev] += 1
        else:
            owner[i] = len(n_held)
            n_held.append(1)
    n_owners = len(n_held)
    held = np.array(n_held)

    # Planted holder states: single-parcel owners of ordinary built parcels.
    eligible = np.flatnonzero((roles == "normal") & (held[owner] == 1))
    eligible = eligible[rng.permutation(eligible.size)]
    k = max(1, round(0.01 * n))
    k_stop = max(1, round(0.015 * n))
    dereg_p, zero_p, stop_p = np.split(eligible[: 2 * k + k_stop], [k, 2 * k])
    planted = np.full(n_owners, "", dtype=object)
    planted[owner[dereg_p]] = DEREGISTERED
    planted[owner[zero_p]] = NEAR_ZERO
    planted[owner[stop_p]] = STOPPED
    special = np.zeros(n, dtype=bool)
    special[np.concatenate([dereg_p, zero_p, stop_p])] = True

    plain = np.flatnonzero((roles == "normal") & ~special)
    plain = plain[rng.permutation(plain.size)]
    k_co = max(1, round(0.02 * n))
    co_parcels = np.sort(plain[:k_co])
    tenant_pool = plain[k_co:]
    tenant_parcels = np.sort(tenant_pool[: max(1, round(0.15 * n))])

    rows = []
    share = np.ones(n)
    share[co_parcels] = 0.5
    end_days = np.timedelta64(50 * 365 + 12, "D")  # 50-year industrial land term
    for i in range(n):
        rows.append(
            (i, owner[i], "owner", share[i], np.nan, np.nan, supply[i], supply[i] + end_days)
        )
    next_id = n_owners
    links = [OWNER] * n_owners
    planted_all = list(planted)
    first_parcel = [int(np.flatnonzero(owner == e)[0]) for e in range(n_owners)]
    land = np.bincount(owner, weights=area * share, minlength=n_owners).tolist()
    for i in co_parcels:
        rows.append((i, next_id, "owner", 0.5, np.nan, np.nan, supply[i], supply[i] + end_days))
        links.append(CO_OWNER)
        planted_all.append("")
        first_parcel.append(int(i))
        land.append(area[i] * 0.5)
        next_id += 1

    n_tenants = rng.choice([1, 2, 3], size=tenant_parcels.size, p=[0.6, 0.3, 0.1])
    for i, k_t in zip(tenant_parcels, n_tenants, strict=True):
        fractions = rng.dirichlet(np.ones(k_t)) * rng.uniform(0.2, 0.7)
        kinds = rng.choice(["both", "land", "floor"], size=k_t, p=[0.6, 0.15, 0.25])
        starts = days_between(rng, dt.date(2016, 1, 1), dt.date(2022, 12, 31), k_t)
        years = rng.choice([5, 8, 10], size=k_t)
        for f, kind, start, y in zip(fractions, kinds, starts, years, strict=True):
            end = start + np.timedelta64(int(y * 365.25) - 1, "D")
            if end < np.datetime64("2025-01-01"):
                end = start + np.timedelta64(int(10 * 365.25) - 1, "D")
            leased_land = round(f * area[i], 2) if kind != "floor" else np.nan
            leased_floor = round(f * floor_area[i], 2) if kind != "land" else np.nan
            rows.append((i, next_id, "tenant", np.nan, leased_land, leased_floor, start, end))
            links.append(TENANT)
            planted_all.append("")
            first_parcel.append(int(i))
            land.append(f * area[i])
            next_id += 1

    n_unlinked = max(1, round(0.02 * n))
    links += [UNLINKED] * n_unlinked
    planted_all += [""] * n_unlinked
    first_parcel += [-1] * n_unlinked
    land += list(rng.lognormal(np.log(6 * SQM_PER_MU), 0.8, n_unlinked))

    rights = pd.DataFrame(
        rows,
        columns=[
            "parcel_idx",
            "enterprise",
            "right_type",
            "share",
            "leased_land_m2",
            "leased_floor_m2",
            "start_date",
            "end_date",
        ],
    )
    return Holdings(
        link=np.array(links, dtype=object),
        planted=np.array(planted_all, dtype=object),
        land_m2=np.array(land, dtype=float),
        first_parcel=np.array(first_parcel, dtype=np.int64),
        rights=rights,
    )
