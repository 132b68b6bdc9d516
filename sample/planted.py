"""Planted cases: the truth later capabilities are tested against.

The definitions below are the ones the sample city is built to satisfy, written
as plain functions over its tables so tests can check that *exactly* the
planted parcels meet them (no accidental extra cases):

``idle``
    supplied more than two years before :data:`AS_OF`, agreed start more than
    one year before it, no buildings (Ministry order No. 53: development not
    started one full year after the agreed start).
``unfinished``
    agreed start more than one year ago, built, but building footprint inside
    the parcel below one third of the parcel's area.
``built_unused``
    buildings stand, no tenants, and every owner is deregistered or reports
    near-zero tax and electricity for the last year.
``stopped_firm``
    the enterprise's status is ``stopped`` (production halted, still registered).
``recently_supplied``
    control case: no buildings, but the agreed start is less than a year ago,
    so not idle.
``cert_area_differs``
    certificate area differs from the measured area by more than 0.5 %.
``enterprise_without_land``
    a firm with annual records but no land right (verification queue).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from sample.config import AS_OF, YEARS
from sample.records import NEAR_ZERO_KWH, NEAR_ZERO_TAX_WAN

COLUMNS = ("parcel_code", "credit_code", "kind", "detail")
KINDS = (
    "idle",
    "unfinished",
    "built_unused",
    "stopped_firm",
    "recently_supplied",
    "cert_area_differs",
    "enterprise_without_land",
)

_TWO_YEARS_AGO = np.datetime64(dt.date(AS_OF.year - 2, AS_OF.month, AS_OF.day), "D")
_ONE_YEAR_AGO = np.datetime64(dt.date(AS_OF.year - 1, AS_OF.month, AS_OF.day), "D")


def _days(series) -> np.ndarray:
    return pd.to_datetime(series).to_numpy().astype("datetime64[D]")


def idle_mask(parcels: pd.DataFrame, built_m2: np.ndarray) -> np.ndarray:
    """Parcels that meet the idle-land definition (see module docstring)."""
    return (
        (_days(parcels["supply_date"]) <= _TWO_YEARS_AGO)
        & (_days(parcels["agreed_start_date"]) <= _ONE_YEAR_AGO)
        & (built_m2 <= 0)
    )


def unfinished_mask(parcels: pd.DataFrame, built_m2: np.ndarray, area_m2: np.ndarray) -> np.ndarray:
    """Parcels that started but have built on less than a third of their area."""
    return (
        (_days(parcels["agreed_start_date"]) <= _ONE_YEAR_AGO)
        & (built_m2 > 0)
        & (built_m2 < area_m2 / 3.0)
    )


def recent_mask(parcels: pd.DataFrame, built_m2: np.ndarray) -> np.ndarray:
    """Empty parcels whose agreed start is less than a year ago (not idle)."""
    return (_days(parcels["agreed_start_date"]) > _ONE_YEAR_AGO) & (built_m2 <= 0)


def dormant_enterprises(enterprises: pd.DataFrame, records: pd.DataFrame) -> set[str]:
    """Credit codes that are deregistered or near zero (tax and electricity) in the last year."""
    last = records[records["year"] == YEARS[-1]]
    near_zero = last[
        (last["tax_wan"] < NEAR_ZERO_TAX_WAN) & (last["electricity_kwh"] < NEAR_ZERO_KWH)
    ]["credit_code"]
    dereg = enterprises.loc[enterprises["status"] == "deregistered", "credit_code"]
    return set(near_zero) | set(dereg)


def built_unused_mask(
    parcels: pd.DataFrame,
    built_m2: np.ndarray,
    rights: pd.DataFrame,
    dormant: set[str],
) -> np.ndarray:
    """Built parcels without tenants whose owners are all dormant."""
    owners = rights[rights["right_type"] == "owner"]
    all_dormant = (
        owners.assign(d=owners["credit_code"].isin(dormant)).groupby("parcel_code")["d"].all()
    )
    tenants = set(rights.loc[rights["right_type"] == "tenant", "parcel_code"])
    codes = parcels["parcel_code"]
    return (
        (built_m2 > 0)
        & codes.map(all_dormant).fillna(False).to_numpy(dtype=bool)
        & ~codes.isin(tenants).to_numpy()
    )


def planted_table(
    parcels: pd.DataFrame,
    built_m2: np.ndarray,
    enterprises: pd.DataFrame,
    rights: pd.DataFrame,
) -> pd.DataFrame:
    """Planted cases as generated (from parcel roles and planted firm states).

    This is the generator's *intent*; tests check that the definitions above
    find exactly these cases in the written data.

    Parameters
    ----------
    parcels : GeoDataFrame
        With ``parcel_code``, ``role``, dates and ``cert_area_m2``.
    built_m2 : ndarray
        Footprint area inside each parcel (of the parcel's own buildings).
    enterprises : DataFrame
        With ``credit_code``, ``status``, ``planted`` and ``link``.
    rights : DataFrame
        ``parcel_code, credit_code, right_type``.
    """
    area = parcels.geometry.area.to_numpy()
    codes = parcels["parcel_code"].to_numpy()
    roles = parcels["role"].to_numpy()
    owners = rights[rights["right_type"] == "owner"]
    owner_of = owners.groupby("parcel_code", sort=False)["credit_code"].first()
    held = owners.groupby("credit_code", sort=False)["parcel_code"].first()
    rows: list[tuple[str, str, str, str]] = []
    supply = _days(parcels["supply_date"])
    start = _days(parcels["agreed_start_date"])
    for i in np.flatnonzero(roles == "idle"):
        rows.append(
            (
                codes[i],
                owner_of[codes[i]],
                "idle",
                f"supplied {supply[i]}, agreed start {start[i]}, no buildings",
            )
        )
    for i in np.flatnonzero(roles == "unfinished"):
        share = 100 * built_m2[i] / area[i]
        rows.append(
            (
                codes[i],
                owner_of[codes[i]],
                "unfinished",
                f"built {built_m2[i]:.0f} m² of {area[i]:.0f} m² ({share:.1f} %), "
                f"agreed start {start[i]}",
            )
        )
    planted = enterprises["planted"].to_numpy()
    for code, state in zip(enterprises["credit_code"], planted, strict=True):
        if state == "deregistered":
            rows.append((held[code], code, "built_unused", "buildings stand; holder deregistered"))
        elif state == "near_zero":
            rows.append(
                (
                    held[code],
                    code,
                    "built_unused",
                    f"buildings stand; holder's {YEARS[-1]} tax and electricity near zero",
                )
            )
        elif state == "stopped":
            rows.append(
                (held[code], code, "stopped_firm", f"status stopped; output fell in {YEARS[-1]}")
            )
    for i in np.flatnonzero(roles == "new"):
        rows.append(
            (
                codes[i],
                owner_of[codes[i]],
                "recently_supplied",
                f"agreed start {start[i]}: not idle yet",
            )
        )
    cert = parcels["cert_area_m2"].to_numpy()
    diff = cert / area - 1.0
    for i in np.flatnonzero(np.abs(diff) > 0.005):
        rows.append(
            (
                codes[i],
                "",
                "cert_area_differs",
                f"certificate {cert[i]:.2f} m², measured {area[i]:.2f} m² ({100 * diff[i]:+.1f} %)",
            )
        )
    for code in enterprises.loc[enterprises["link"] == "unlinked", "credit_code"]:
        rows.append(("", code, "enterprise_without_land", "annual records but no land right"))
    return pd.DataFrame(rows, columns=list(COLUMNS))
