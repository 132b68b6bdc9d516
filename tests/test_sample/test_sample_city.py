"""The generated sample city: files, determinism, codes, planted truth, distributions."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from pyproj import Transformer

from gis.errors import ConfigError, OutputExistsError
from parcels.codes import check_credit_code, parse_parcel_code
from sample import SampleCity, generate_city, is_complete
from sample.config import EPSG, size_spec
from sample.planted import (
    built_unused_mask,
    dormant_enterprises,
    idle_mask,
    recent_mask,
    unfinished_mask,
)

TABLES = ("enterprises.csv", "enterprise_years.csv", "land_rights.csv", "planted.csv")


@pytest.fixture(scope="module")
def city(tmp_path_factory) -> SampleCity:
    return generate_city("small", 11, tmp_path_factory.mktemp("sample") / "small-11", imagery=False)


@pytest.fixture(scope="module")
def tables(city):
    parcels = pyogrio.read_dataframe(city.paths["parcels"])
    buildings = pyogrio.read_dataframe(city.paths["buildings"])
    read = {"dtype": {"credit_code": str, "parcel_code": str, "industry_code": str}}
    return {
        "parcels": parcels,
        "buildings": buildings,
        "enterprises": pd.read_csv(city.paths["enterprises"], **read),
        "records": pd.read_csv(city.paths["enterprise_years"], **read),
        "rights": pd.read_csv(city.paths["land_rights"], **read),
        "planted": pd.read_csv(city.paths["planted"], keep_default_na=False, **read),
    }


@pytest.fixture(scope="module")
def built_m2(tables):
    parcels, buildings = tables["parcels"], tables["buildings"]
    index = pd.Series(np.arange(len(parcels)), index=parcels["parcel_code"])
    idx = index[buildings["parcel_code"]].to_numpy()
    inside = shapely.area(
        shapely.intersection(buildings.geometry.values, parcels.geometry.values[idx])
    )
    return np.bincount(idx, weights=inside, minlength=len(parcels))


def test_files_and_marker(city):
    assert is_complete(city.root)
    for key in (
        "parcels",
        "buildings",
        "layout",
        "enterprises",
        "enterprise_years",
        "land_rights",
        "planted",
    ):
        assert city.paths[key].is_file(), key
    marker = json.loads((city.root / "sample.json").read_text(encoding="utf-8"))
    assert marker["size"] == "small" and marker["seed"] == 11
    again = SampleCity.load(city.root)
    assert again.counts == city.counts and again.digests == city.digests
    assert not list(city.root.parent.glob(".*partial*"))


def test_counts_match_files(city, tables):
    c = city.counts
    assert c["towns"] == 3
    assert 200 <= c["parcels"] == len(tables["parcels"]) <= 500
    assert c["buildings"] == len(tables["buildings"])
    assert (
        c["enterprises"]
        == len(tables["enterprises"])
        == c["enterprises_large"] + c["enterprises_small"]
    )
    assert c["land_rights"] == len(tables["rights"]) == c["owners"] + c["tenants"]
    assert c["parcel_area_m2"] == pytest.approx(tables["parcels"].area.sum(), rel=1e-9)
    assert 0.38 < c["coverage"] < 0.7


def test_location_and_crs(tables):
    parcels = tables["parcels"]
    assert parcels.crs.to_epsg() == EPSG
    x, y = parcels.union_all().centroid.coords[0]
    lon, lat = Transformer.from_crs(EPSG, 4490, always_xy=True).transform(x, y)
    assert abs(lon - 120.6) < 0.05 and abs(lat - 31.2) < 0.05


def test_same_seed_same_bytes_other_seed_differs(city, tmp_path):
    twin = generate_city("small", 11, tmp_path / "twin", imagery=False)
    assert twin.digests == city.digests
    for name in (
        *TABLES,
        "parcels.gpkg",
        "buildings.gpkg",
        "dirty/parcels.shp",
        "dirty/parcels.dbf",
        "dirty/enterprises.xlsx",
        "dirty/land_rights.csv",
        "dirty/MANIFEST.json",
    ):
        assert (twin.root / name).read_bytes() == (city.root / name).read_bytes(), name
    other = generate_city("small", 12, tmp_path / "other", imagery=False)
    for name in city.digests:
        assert other.digests[name] != city.digests[name], name


def test_existing_output_refused(city):
    with pytest.raises(OutputExistsError):
        generate_city("small", 11, city.root, imagery=False)
    with pytest.raises(ConfigError, match="small, city, province"):
        size_spec("huge")


def test_overwrite_never_removes_a_folder_that_is_not_a_sample(tmp_path):
    """Finding 1: --overwrite onto a folder mujun did not write deleted everything in it."""
    from gis.errors import OutputError

    folder = tmp_path / "documents"
    folder.mkdir()
    (folder / "report.docx").write_text("keep me")
    with pytest.raises(OutputError, match="never removed"):
        generate_city("small", 11, folder, imagery=False, overwrite=True)
    assert (folder / "report.docx").read_text() == "keep me"


def test_credit_codes_valid_and_unique(tables):
    codes = tables["enterprises"]["credit_code"]
    assert codes.is_unique
    assert {check_credit_code(c) for c in codes} == {"ok"}
    assert codes.str.slice(2, 8).eq("320509").all()
    assert set(tables["rights"]["credit_code"]) <= set(codes)
    assert set(tables["records"]["credit_code"]) <= set(codes)


def test_parcel_codes_parse(tables):
    codes = tables["parcels"]["parcel_code"]
    assert codes.is_unique
    parsed = [parse_parcel_code(c) for c in codes]
    assert all(p is not None and p.feature == "GB" and p.county == "320509" for p in parsed)
    assert set(tables["parcels"]["land_use_code"]) <= {"0601", "0602", "0604"}
    assert (tables["parcels"]["land_use_code"] == "0601").mean() > 0.8


def test_dates_and_certificate_areas(tables):
    p = tables["parcels"]
    start_lag = (p["agreed_start_date"] - p["supply_date"]).dt.days
    finish_lag = (p["agreed_finish_date"] - p["agreed_start_date"]).dt.days
    assert start_lag.between(130, 230).all()
    assert finish_lag.between(660, 800).all()
    ratio = p["cert_area_m2"] / p.area
    same = (ratio - 1).abs() < 1e-6
    assert 0.75 < same.mean() < 0.95
    assert (ratio[~same] - 1).abs().between(0.0099, 0.1501).all()


def test_industries_sizes_status(tables):
    e = tables["enterprises"]
    division = e["industry_code"].str.slice(0, 2).astype(int)
    assert division.between(13, 43).all()
    assert 0.15 < (e["size_class"] == "large").mean() < 0.35
    assert set(e["status"]) == {"active", "stopped", "deregistered"}


def test_land_rights(tables, built_m2):
    rights, parcels = tables["rights"], tables["parcels"]
    owners = rights[rights["right_type"] == "owner"]
    shares = owners.groupby("parcel_code")["share"].sum()
    assert set(shares.index) == set(parcels["parcel_code"])  # every parcel has an owner
    assert np.allclose(shares.to_numpy(), 1.0)
    assert (owners.groupby("parcel_code").size() == 2).any()  # co-owned parcels
    assert (owners.groupby("credit_code").size() >= 2).any()  # firms with several parcels
    tenants = rights[rights["right_type"] == "tenant"]
    assert len(tenants) > 0
    assert (tenants["leased_land_m2"].notna() | tenants["leased_floor_m2"].notna()).all()
    assert (pd.to_datetime(tenants["end_date"]) > pd.to_datetime(tenants["start_date"])).all()
    area = parcels.set_index("parcel_code").area
    leased = tenants.groupby("parcel_code")["leased_land_m2"].sum()
    assert (leased <= area[leased.index] * 0.71).all()


def test_planted_cases_match_their_definitions(tables, built_m2):
    parcels, planted = tables["parcels"], tables["planted"]
    area = parcels.area.to_numpy()
    codes = parcels["parcel_code"]

    def planted_codes(kind):
        return set(planted.loc[planted["kind"] == kind, "parcel_code"])

    dormant = dormant_enterprises(tables["enterprises"], tables["records"])
    found = {
        "idle": set(codes[idle_mask(parcels, built_m2)]),
        "unfinished": set(codes[unfinished_mask(parcels, built_m2, area)]),
        "recently_supplied": set(codes[recent_mask(parcels, built_m2)]),
        "built_unused": set(codes[built_unused_mask(parcels, built_m2, tables["rights"], dormant)]),
    }
    for kind, codes_found in found.items():
        assert codes_found, kind
        assert codes_found == planted_codes(kind), kind
    stopped = set(
        tables["enterprises"].loc[tables["enterprises"]["status"] == "stopped", "credit_code"]
    )
    assert stopped and stopped == set(planted.loc[planted["kind"] == "stopped_firm", "credit_code"])
    # idle parcels have no buildings at all
    assert not set(tables["buildings"]["parcel_code"]) & found["idle"]
    linked = set(tables["rights"]["credit_code"])
    unlinked = set(planted.loc[planted["kind"] == "enterprise_without_land", "credit_code"])
    assert unlinked and not unlinked & linked
    assert unlinked <= set(tables["records"]["credit_code"])


def test_records_heavy_tailed_and_plausible(tables):
    rec, ent, rights = tables["records"], tables["enterprises"], tables["rights"]
    last = rec[rec["year"] == 2024].merge(ent, on="credit_code")
    tax = np.sort(last["tax_wan"].to_numpy())[::-1]
    top = tax[: max(1, len(tax) // 10)].sum() / tax.sum()
    assert top > 0.40
    large = last[last["size_class"] == "large"]
    planted_firms = set(tables["planted"]["credit_code"])
    ordinary = large[(large["status"] == "active") & ~large["credit_code"].isin(planted_firms)]
    assert (ordinary["revenue_wan"] >= 2000 * 0.9).all()  # 规上 threshold (with yearly noise)
    small = last[(last["size_class"] == "small")]
    assert (small["revenue_wan"] < 2000 * 1.25).all()
    owners = rights[(rights["right_type"] == "owner")]
    owners = owners.merge(
        tables["parcels"][["parcel_code"]].assign(area=tables["parcels"].area), on="parcel_code"
    )
    land_mu = (owners["area"] * owners["share"]).groupby(owners["credit_code"]).sum() / (10000 / 15)
    active_large = large[(large["status"] == "active")].set_index("credit_code")
    per_mu = (active_large["tax_wan"] / land_mu.reindex(active_large.index)).dropna()
    assert 5 < per_mu.median() < 60
    kwh_per_wan_va = last["electricity_kwh"] / last["value_added_wan"]
    active = last["status"] == "active"
    assert 300 < kwh_per_wan_va[active].median() < 10_000
    assert (rec[["energy_tce", "electricity_kwh", "employees", "emissions_t"]] >= 0).all().all()
    assert set(rec["year"]) == {2023, 2024}


def test_cli_size_choices_follow_the_registry():
    from sample import SIZES
    from sample.cli.demo import demo

    size = next(p for p in demo.params if p.name == "size")
    assert list(size.type.choices) == list(SIZES)
