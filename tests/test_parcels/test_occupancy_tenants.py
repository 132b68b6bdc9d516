"""Land per enterprise: known answers for each tenant rule, shares, bases and years."""

from __future__ import annotations

import pandas as pd
import pytest

from gis.errors import ConfigError
from parcels.occupancy.tenants import TENANT_RULES, allocate_land

A, B, T, U = "A" * 18, "B" * 18, "T" * 18, "U" * 18


def parcels(*rows):
    """rows: (code, measured, cert, built, floor)."""
    return pd.DataFrame(rows, columns=["parcel_code", "area_m2", "cert_area_m2", "built_m2",
                                       "floor_area_m2"])


def rights(*rows):
    """rows: (parcel, credit, type, share, leased_land, leased_floor[, start, end])."""
    cols = ["parcel_code", "credit_code", "right_type", "share", "leased_land_m2",
            "leased_floor_m2", "start_date", "end_date"]
    return pd.DataFrame([tuple(r) + (None,) * (8 - len(r)) for r in rows], columns=cols)


P1 = ("P1", 1000.0, 900.0, 500.0, 1000.0)
OWNER_AND_TENANT = rights(("P1", A, "owner", None, None, None),
                          ("P1", T, "tenant", None, 300.0, 250.0))


def land(result):
    return result.enterprises.set_index("credit_code")


def test_leased_land_rule():
    r = land(allocate_land(parcels(P1), OWNER_AND_TENANT, rule="leased_land"))
    assert r.land_m2.to_dict() == {A: 700.0, T: 300.0}
    assert r.built_m2.to_dict() == pytest.approx({A: 350.0, T: 150.0})
    assert r.floor_area_m2.to_dict() == pytest.approx({A: 700.0, T: 300.0})
    assert r.role.to_dict() == {A: "owner", T: "tenant"}


def test_floor_pro_rata_rule():
    r = land(allocate_land(parcels(P1), OWNER_AND_TENANT, rule="floor_pro_rata"))
    # 250 of the parcel's 1000 m² floor area -> a quarter of the land
    assert r.land_m2.to_dict() == pytest.approx({A: 750.0, T: 250.0})
    assert r.floor_area_m2[T] == pytest.approx(250.0)


def test_merge_with_holder_rule():
    res = allocate_land(parcels(P1), OWNER_AND_TENANT, rule="merge_with_holder")
    r = land(res)
    assert r.land_m2.to_dict() == {A: 1000.0, T: 0.0}
    assert r.merged_into[T] == A and r.merged_into[A] is None


def test_certificate_basis_and_fallback():
    two = parcels(P1, ("P2", 400.0, None, 0.0, 0.0))
    rr = rights(("P1", A, "owner", 1.0, None, None), ("P2", A, "owner", 1.0, None, None))
    res = allocate_land(two, rr, area_basis="certificate")
    assert land(res).land_m2[A] == pytest.approx(900.0 + 400.0)
    assert res.warnings == {"parcels_without_certificate_area": 1}
    assert land(allocate_land(two, rr, area_basis="measured")).land_m2[A] == 1400.0


def test_several_holders_by_share_and_equal_split():
    rr = rights(("P1", A, "owner", 0.6, None, None), ("P1", B, "owner", None, None, None))
    assert land(allocate_land(parcels(P1), rr)).land_m2.to_dict() == pytest.approx(
        {A: 600.0, B: 400.0})
    equal = rights(("P1", A, "owner", None, None, None), ("P1", B, "owner", None, None, None))
    assert land(allocate_land(parcels(P1), equal)).land_m2.to_dict() == {A: 500.0, B: 500.0}
    over = rights(("P1", A, "owner", 0.9, None, None), ("P1", B, "owner", 0.6, None, None))
    assert land(allocate_land(parcels(P1), over)).land_m2.to_dict() == pytest.approx(
        {A: 600.0, B: 400.0})


def test_enterprise_on_several_parcels():
    two = parcels(P1, ("P2", 2000.0, 2000.0, 100.0, 100.0))
    rr = rights(("P1", A, "owner", None, None, None), ("P2", A, "owner", 0.5, None, None),
                ("P2", B, "owner", 0.5, None, None), ("P2", A, "tenant", None, 200.0, None))
    r = land(allocate_land(two, rr))
    # P1 whole (1000) + P2: tenant 200, then half of the remaining 1800
    assert r.land_m2[A] == pytest.approx(1000.0 + 200.0 + 900.0)
    assert r.land_m2[B] == pytest.approx(900.0)
    assert r.n_parcels[A] == 2 and r.role[A] == "owner+tenant"


def test_tenant_land_over_basis_is_scaled_down():
    rr = rights(("P1", A, "owner", None, None, None), ("P1", T, "tenant", None, 800.0, None),
                ("P1", U, "tenant", None, 400.0, None))
    res = allocate_land(parcels(P1), rr)
    assert land(res).land_m2.to_dict() == pytest.approx({A: 0.0, T: 2000 / 3, U: 1000 / 3})
    assert res.warnings["parcels_with_tenant_land_over_basis"] == 1


def test_rights_outside_the_year_and_unknown_parcels():
    rr = rights(("P1", A, "owner", None, None, None, "2015-01-01", "2022-06-30"),
                ("P1", B, "owner", None, None, None, "2022-07-01", None),
                ("PX", B, "owner", None, None, None))
    res = allocate_land(parcels(P1), rr, year=2023)
    assert land(res).land_m2.to_dict() == {B: 1000.0}
    assert res.warnings["rights_on_unknown_parcels"] == 1
    assert res.enterprises.year.unique().tolist() == [2023]
    both = allocate_land(parcels(P1), rr, year=2022)
    assert land(both).land_m2.to_dict() == {A: 500.0, B: 500.0}


def test_parcel_without_owner_leaves_land_unallocated():
    rr = rights(("P1", T, "tenant", None, 300.0, None))
    res = allocate_land(parcels(P1), rr)
    assert land(res).land_m2.to_dict() == {T: 300.0}
    assert res.unallocated_m2 == pytest.approx(700.0)


def test_unknown_rule_lists_the_valid_ones():
    with pytest.raises(ConfigError, match="leased_land, floor_pro_rata, merge_with_holder"):
        allocate_land(parcels(P1), OWNER_AND_TENANT, rule="by_vibes")
    with pytest.raises(ConfigError, match="measured, certificate"):
        allocate_land(parcels(P1), OWNER_AND_TENANT, area_basis="cadastre")
    assert set(TENANT_RULES) == {"leased_land", "floor_pro_rata", "merge_with_holder"}


def test_custom_rule_callable():
    def half_of_basis(t):
        return (t["basis_m2"] / 2).to_numpy(), False

    assert land(allocate_land(parcels(P1), OWNER_AND_TENANT, rule=half_of_basis)
                ).land_m2.to_dict() == {A: 500.0, T: 500.0}


def test_leased_land_falls_back_to_floor_pro_rata():
    rr = rights(("P1", A, "owner", None, None, None), ("P1", T, "tenant", None, None, 250.0),
                ("P1", U, "tenant", None, None, None))
    res = allocate_land(parcels(P1), rr, rule="leased_land")
    assert land(res).land_m2.to_dict() == pytest.approx({A: 750.0, T: 250.0, U: 0.0})
    assert res.warnings == {"tenants_by_floor_pro_rata_without_leased_land_m2": 1,
                            "tenants_without_leased_areas": 1}
