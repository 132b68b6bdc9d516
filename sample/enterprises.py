"""Enterprises of the sample city: credit codes, names, industries, size classes, status.

Credit codes are valid GB 32100-2015 codes built with
:func:`parcels.codes.make_credit_code` from the town's county code and an
organisation code derived from the enterprise's *global* number through a
bijection (an affine map modulo the size of the code space), so they are
unique across the whole sample without keeping a set of them. Firms
registered before the 2015 reform get an old all-digit organisation code,
later ones an ``MA...`` code, as in real registers.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from gis.crs import SQM_PER_MU
from parcels.codes import CREDIT_ALPHABET, make_credit_code
from sample.config import days_between, stream
from sample.industries import draw_classes
from sample.land_rights import (
    CO_OWNER,
    DEREGISTERED,
    OWNER,
    STOPPED,
    TENANT,
    Holdings,
)
from sample.layout import TownPlan
from sample.names import company_names

_REFORM = np.datetime64("2015-10-01")
_OLD_SPACE = 10**8
_NEW_SPACE = 31**6


def credit_codes(
    indices: np.ndarray, established: np.ndarray, county_code: str, seed: int
) -> list[str]:
    """Unique, valid credit codes for enterprises with the given global numbers.

    Examples
    --------
    >>> dates = np.array(["2010-01-01"] * 3, "datetime64[D]")
    >>> codes = credit_codes(np.arange(3), dates, "320509", 1)
    >>> from parcels.codes import check_credit_code
    >>> [check_credit_code(c) for c in codes]
    ['ok', 'ok', 'ok']
    """
    rng = stream(seed, "credit-code-map")
    a_old = int(rng.integers(1, _OLD_SPACE // 10)) * 10 + 3  # odd, not a multiple of 5
    b_old = int(rng.integers(0, _OLD_SPACE))
    a_new = int(rng.integers(1, _NEW_SPACE // 31)) * 31 + 7  # not a multiple of 31
    b_new = int(rng.integers(0, _NEW_SPACE))
    codes = []
    for g, est in zip(indices.tolist(), established, strict=True):
        if est < _REFORM:
            org8 = f"{(a_old * g + b_old) % _OLD_SPACE:08d}"
        else:
            v = (a_new * g + b_new) % _NEW_SPACE
            chars = []
            for _ in range(6):
                v, r = divmod(v, 31)
                chars.append(CREDIT_ALPHABET[r])
            org8 = "MA" + "".join(reversed(chars))
        codes.append(make_credit_code("9", "1", county_code, org8))
    return codes


def town_enterprises(
    plan: TownPlan, parcels, holdings: Holdings, first_index: int, seed: int
) -> pd.DataFrame:
    """The enterprise table of one town.

    Parameters
    ----------
    plan : TownPlan
    parcels : GeoDataFrame
        With ``supply_date`` and ``role``.
    holdings : Holdings
        From :func:`sample.land_rights.assign_holdings`.
    first_index : int
        Global number of the town's first enterprise (keeps credit codes unique).
    seed : int

    Returns
    -------
    DataFrame
        ``credit_code, name, industry_code, industry_version, size_class, town,
        status, established_date, is_utility`` plus the internal ``link``,
        ``planted`` and ``land_m2`` columns (dropped when written).
    """
    rng = stream(seed, "enterprises", plan.index)
    n = len(holdings.link)
    link = holdings.link
    supply = parcels["supply_date"].to_numpy().astype("datetime64[D]")
    roles = parcels["role"].to_numpy()
    first = holdings.first_parcel

    established = days_between(rng, dt.date(2000, 1, 1), dt.date(2022, 12, 31), n)
    landed = (link == OWNER) | (link == CO_OWNER)
    lead = rng.integers(30, 3 * 365, size=n).astype("timedelta64[D]")
    est_owner = supply[np.where(first >= 0, first, 0)] - lead
    established = np.where(landed, est_owner, established)
    newcomer = landed & (roles[np.where(first >= 0, first, 0)] == "new")
    established[newcomer] = days_between(
        rng, dt.date(2023, 6, 1), dt.date(2025, 3, 31), int(newcomer.sum())
    )
    established = np.maximum(established, np.datetime64("1992-01-01"))

    mu = holdings.land_m2 / SQM_PER_MU
    p_large = 1.0 / (1.0 + np.exp(-1.6 * (np.log(np.maximum(mu, 0.1)) - np.log(14.0))))
    p_large = np.where(link == TENANT, 0.08, p_large)
    p_large = np.where(newcomer, 0.05, p_large)
    large = rng.random(n) < p_large

    classes = draw_classes(rng, n)
    divisions = np.array([c[:2] for c in classes])
    names = company_names(rng, divisions, [plan.name] * n, set())
    status = np.full(n, "active", dtype=object)
    status[holdings.planted == DEREGISTERED] = "deregistered"
    status[holdings.planted == STOPPED] = "stopped"

    return pd.DataFrame(
        {
            "credit_code": credit_codes(
                np.arange(first_index, first_index + n), established, plan.county_code, seed
            ),
            "name": names,
            "industry_code": classes,
            "industry_version": "2017",
            "size_class": np.where(large, "large", "small"),
            "town": plan.name,
            "status": status,
            "established_date": established,
            "is_utility": False,
            "link": link,
            "planted": holdings.planted,
            "land_m2": holdings.land_m2,
        }
    )
