"""Land per enterprise: owners by share, tenants by a configurable rule (pure).

Counties differ on how tenants (leased workshops) get land (DOMAIN.md §2), so the
rule is a setting (``tenant_rule``) naming an entry of :data:`TENANT_RULES`:

``leased_land``
    A tenant gets the leased land area as recorded (``leased_land_m2``); a tenant with
    no recorded land area but a leased floor area falls back to ``floor_pro_rata``.
``floor_pro_rata``
    A tenant gets ``basis area × leased_floor_m2 / parcel floor area`` (the parcel floor
    area from the occupancy kernel).
``merge_with_holder``
    Tenants get no land of their own; they share the holder's result: each tenant row
    has ``land_m2 = 0`` and ``merged_into`` = the parcel's principal owner (largest share,
    then smallest credit code), whose row carries the whole parcel. Scoring adds the
    tenants' figures to that holder.

For each parcel, in this order:

1. The **basis area** is the measured area, or the certificate area when
   ``area_basis = "certificate"`` (falling back to the measured area, with a warning,
   when a parcel has no certificate area).
2. Tenants get land by the rule. When the tenants' land adds up to more than the basis
   area, all of it is scaled down proportionally so it fits exactly.
3. The owners share the rest by ``share``. Owners without a share split equally what the
   given shares leave; shares adding up to more than 1 are scaled to 1. A parcel with no
   owner leaves the rest unallocated (reported).
4. Built area and floor area go with land: an enterprise getting a fraction *x* of a
   parcel's basis area gets *x* of its built and floor area.

Rights count for year *Y* when ``start_date`` ≤ 31 Dec *Y* and ``end_date`` (if any)
≥ 1 Jan *Y*. An enterprise on several parcels sums its allocations; a parcel with
several holders splits as above. Rights naming parcels absent from the occupancy table
are skipped and counted.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from gis.errors import ConfigError

log = logging.getLogger(__name__)

#: Columns of the per-enterprise table.
ENTERPRISE_COLUMNS = ("year", "credit_code", "land_m2", "built_m2", "floor_area_m2",
                      "n_parcels", "role", "merged_into")

#: A tenant rule: tenant rows (with parcel columns ``basis_m2``, ``floor_area_m2``)
#: -> (land m² per tenant row before capping, merged?).
TenantRule = Callable[[pd.DataFrame], tuple[np.ndarray, bool]]


def _leased_land(tenants: pd.DataFrame) -> tuple[np.ndarray, bool]:
    recorded = tenants["leased_land_m2"].to_numpy(dtype="float64")
    by_floor, _ = _floor_pro_rata(tenants)
    return np.where(np.isfinite(recorded), recorded, by_floor), False


def _floor_pro_rata(tenants: pd.DataFrame) -> tuple[np.ndarray, bool]:
    floor = tenants["floor_area_m2"].to_numpy(dtype="float64")
    leased = tenants["leased_floor_m2"].fillna(0.0).to_numpy(dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        land = np.where(floor > 0, tenants["basis_m2"].to_numpy(dtype="float64")
                        * leased / floor, 0.0)
    return np.nan_to_num(land), False


def _merge_with_holder(tenants: pd.DataFrame) -> tuple[np.ndarray, bool]:
    return np.zeros(len(tenants)), True


#: Registry of tenant rules (the ``tenant_rule`` setting names one).
TENANT_RULES: dict[str, TenantRule] = {
    "leased_land": _leased_land,
    "floor_pro_rata": _floor_pro_rata,
    "merge_with_holder": _merge_with_holder,
}

#: Area bases (the ``area_basis`` setting).
AREA_BASES = ("measured", "certificate")


def get_tenant_rule(rule: str | TenantRule) -> TenantRule:
    """Return a tenant rule by name (or the callable itself).

    Raises
    ------
    ConfigError
        Unknown name; the message lists the valid ones.
    """
    if callable(rule):
        return rule
    try:
        return TENANT_RULES[rule]
    except KeyError:
        raise ConfigError(f"unknown tenant rule {rule!r}; choose one of "
                          f"{', '.join(TENANT_RULES)}") from None


@dataclass
class Allocation:
    """Result of :func:`allocate_land`."""

    enterprises: pd.DataFrame     # one row per enterprise (ENTERPRISE_COLUMNS)
    details: pd.DataFrame         # one row per (parcel, enterprise, role)
    warnings: dict[str, int] = field(default_factory=dict)
    unallocated_m2: float = 0.0


def active_rights(rights: pd.DataFrame, year: int | None) -> pd.DataFrame:
    """Rights valid at some time during ``year`` (all rights when ``year`` is None)."""
    if year is None or rights.empty:
        return rights
    start = pd.to_datetime(rights.get("start_date"), errors="coerce")
    end = pd.to_datetime(rights.get("end_date"), errors="coerce")
    first, last = pd.Timestamp(dt.date(year, 1, 1)), pd.Timestamp(dt.date(year, 12, 31))
    ok = (start.isna() | (start <= last)) & (end.isna() | (end >= first))
    return rights[ok.to_numpy()]


def _owner_fractions(owners: pd.DataFrame) -> np.ndarray:
    """Fractions of the owners' land per owner row (grouped by parcel)."""
    share = owners["share"].to_numpy(dtype="float64")
    parcel = owners["parcel_code"].to_numpy()
    out = np.empty(len(owners))
    frame = pd.DataFrame({"parcel": parcel, "share": share})
    for _, idx in frame.groupby("parcel", sort=False).indices.items():
        s = share[idx]
        given = np.isfinite(s)
        total = s[given].sum()
        n_missing = int((~given).sum())
        f = np.where(given, s, max(0.0, 1.0 - total) / n_missing if n_missing else 0.0)
        if f.sum() > 1.0 + 1e-12:
            f = f / f.sum()
        out[idx] = f
    return out


#: What each allocation warning means, in the words of the log (the keys stay in results).
ALLOCATION_WARNINGS = {
    "parcels_without_certificate_area": "宗地无证载面积，按实测面积分摊",
    "rights_on_unknown_parcels": "土地权利所指宗地不在库中",
    "tenants_by_floor_pro_rata_without_leased_land_m2":
        "承租企业无租赁土地面积，按租赁建筑面积比例分摊",
    "tenants_without_leased_areas": "承租企业既无租赁土地面积也无租赁建筑面积",
    "tenants_without_leased_floor_m2": "承租企业无租赁建筑面积",
    "tenants_on_parcels_without_floor_area": "承租企业所在宗地无建筑面积",
    "parcels_with_tenant_land_over_basis": "承租用地合计超过宗地面积的宗地",
    "merged_tenants_without_owner": "已合并的承租企业找不到出租方",
}


def allocate_land(parcels: pd.DataFrame, rights: pd.DataFrame, *, year: int | None = None,
                  rule: str | TenantRule = "leased_land",
                  area_basis: str = "measured") -> Allocation:
    """Allocate each parcel's land (and built/floor area) to its owners and tenants.

    Parameters
    ----------
    parcels : DataFrame
        The per-parcel occupancy table: ``parcel_code``, ``area_m2``, ``cert_area_m2``,
        ``built_m2``, ``floor_area_m2``.
    rights : DataFrame
        Land rights: ``parcel_code``, ``credit_code``, ``right_type`` (``owner`` or
        ``tenant``), ``share``, ``leased_land_m2``, ``leased_floor_m2`` and optionally
        ``start_date``, ``end_date``.
    year : int, optional
        Keep rights active in this year; also written to the result's ``year`` column.
    rule : str or callable
        Tenant rule, a key of :data:`TENANT_RULES`.
    area_basis : {"measured", "certificate"}
        Which parcel area is shared out.

    Returns
    -------
    Allocation

    Examples
    --------
    >>> import pandas as pd
    >>> parcels = pd.DataFrame({"parcel_code": ["P"], "area_m2": [1000.0],
    ...     "cert_area_m2": [900.0], "built_m2": [500.0], "floor_area_m2": [1000.0]})
    >>> rights = pd.DataFrame({"parcel_code": ["P", "P"], "credit_code": ["A", "T"],
    ...     "right_type": ["owner", "tenant"], "share": [None, None],
    ...     "leased_land_m2": [None, 200.0], "leased_floor_m2": [None, 250.0]})
    >>> r = allocate_land(parcels, rights, rule="floor_pro_rata").enterprises
    >>> r.set_index("credit_code").land_m2.to_dict()
    {'A': 750.0, 'T': 250.0}
    """
    tenant_rule = get_tenant_rule(rule)
    if area_basis not in AREA_BASES:
        raise ConfigError(f"unknown area basis {area_basis!r}; choose one of "
                          f"{', '.join(AREA_BASES)}")
    warnings: dict[str, int] = {}

    def warn(key: str, n: int) -> None:
        if n:
            warnings[key] = warnings.get(key, 0) + int(n)
            log.warning("%s%s：%d", f"{year} 年 " if year is not None else "",
                        ALLOCATION_WARNINGS.get(key, key), n)

    rights = active_rights(rights, year).copy()
    for col in ("share", "leased_land_m2", "leased_floor_m2"):
        if col not in rights.columns:
            rights[col] = np.nan
        rights[col] = pd.to_numeric(rights[col], errors="coerce").astype("float64")

    par = parcels[["parcel_code", "area_m2", "built_m2", "floor_area_m2"]].copy()
    cert = (pd.to_numeric(parcels["cert_area_m2"], errors="coerce")
            if "cert_area_m2" in parcels.columns else pd.Series(np.nan, index=parcels.index))
    if area_basis == "certificate":
        missing = cert.isna() & parcels["parcel_code"].isin(rights["parcel_code"])
        warn("parcels_without_certificate_area", missing.sum())
        par["basis_m2"] = cert.fillna(par["area_m2"]).to_numpy(dtype="float64")
    else:
        par["basis_m2"] = par["area_m2"].astype("float64")

    known = rights["parcel_code"].isin(par["parcel_code"])
    warn("rights_on_unknown_parcels", (~known).sum())
    rights = rights[known.to_numpy()].merge(par, on="parcel_code", how="left")
    is_tenant = (rights["right_type"] == "tenant").to_numpy()
    owners = rights[~is_tenant].reset_index(drop=True)
    tenants = rights[is_tenant].reset_index(drop=True)

    land_t, merged = tenant_rule(tenants) if len(tenants) else (np.zeros(0), False)
    land_t = np.asarray(land_t, dtype="float64")
    if not merged and len(tenants):
        no_land = tenants["leased_land_m2"].isna()
        no_floor = tenants["leased_floor_m2"].isna()
        if rule == "leased_land":
            warn("tenants_by_floor_pro_rata_without_leased_land_m2", (no_land & ~no_floor).sum())
            warn("tenants_without_leased_areas", (no_land & no_floor).sum())
        if rule == "floor_pro_rata":
            warn("tenants_without_leased_floor_m2", no_floor.sum())
        uses_floor = ~no_floor & (no_land if rule == "leased_land" else True)
        if rule in ("leased_land", "floor_pro_rata"):
            warn("tenants_on_parcels_without_floor_area",
                 (uses_floor & (tenants["floor_area_m2"].fillna(0) <= 0)).sum())
    tenants["land_m2"] = land_t
    t_sum = tenants.groupby("parcel_code")["land_m2"].transform("sum")
    over = (t_sum > tenants["basis_m2"] * (1 + 1e-12)).to_numpy()
    warn("parcels_with_tenant_land_over_basis",
         tenants.loc[over, "parcel_code"].nunique())
    tenants["land_m2"] = np.where(over, tenants["land_m2"] * tenants["basis_m2"] / t_sum,
                                  tenants["land_m2"])

    tenant_total = tenants.groupby("parcel_code")["land_m2"].sum()
    rest = (owners["basis_m2"] - owners["parcel_code"].map(tenant_total).fillna(0.0)
            ).clip(lower=0.0).to_numpy(dtype="float64")
    owners["land_m2"] = rest * _owner_fractions(owners) if len(owners) else 0.0

    holder = {}
    if len(owners):
        ranked = owners.assign(_s=owners["share"].fillna(-1.0)).sort_values(
            ["parcel_code", "_s", "credit_code"], ascending=[True, False, True])
        holder = ranked.drop_duplicates("parcel_code").set_index("parcel_code")["credit_code"]
    owners["merged_into"] = None
    tenants["merged_into"] = (tenants["parcel_code"].map(holder) if merged and len(holder)
                              else None)
    if merged:
        warn("merged_tenants_without_owner", tenants["merged_into"].isna().sum()
             if len(tenants) else 0)

    owners["role"] = "owner"
    tenants["role"] = "tenant"
    details = pd.concat([owners, tenants], ignore_index=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.where(details["basis_m2"] > 0, details["land_m2"] / details["basis_m2"], 0.0)
    details["built_m2"] = frac * details["built_m2"].fillna(0.0)
    details["floor_area_m2"] = frac * details["floor_area_m2"].fillna(0.0)
    details = details[["parcel_code", "credit_code", "role", "land_m2", "built_m2",
                       "floor_area_m2", "merged_into"]]

    allocated = details.groupby("parcel_code")["land_m2"].sum()
    with_rights = par[par["parcel_code"].isin(details["parcel_code"])]
    unallocated = float((with_rights["basis_m2"]
                         - with_rights["parcel_code"].map(allocated).fillna(0.0)).sum())

    enterprises = _per_enterprise(details, year)
    return Allocation(enterprises, details, warnings, max(unallocated, 0.0))


def _per_enterprise(details: pd.DataFrame, year: int | None) -> pd.DataFrame:
    if details.empty:
        return pd.DataFrame(columns=list(ENTERPRISE_COLUMNS))
    g = details.groupby("credit_code", sort=True)
    roles = g["role"].agg(lambda r: "+".join(sorted(set(r))))
    merged = g["merged_into"].agg(lambda m: min((x for x in m if isinstance(x, str)),
                                                default=None))
    out = pd.DataFrame({
        "year": year,
        "credit_code": roles.index,
        "land_m2": g["land_m2"].sum().to_numpy(),
        "built_m2": g["built_m2"].sum().to_numpy(),
        "floor_area_m2": g["floor_area_m2"].sum().to_numpy(),
        "n_parcels": g["parcel_code"].nunique().to_numpy(),
        "role": roles.to_numpy(),
        "merged_into": merged.to_numpy(),
    }, columns=list(ENTERPRISE_COLUMNS))
    return out.reset_index(drop=True)
