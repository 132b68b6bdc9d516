"""One town of the sample city, generated in memory (pure: no files).

:func:`generate_town` chains the generators in dependency order (layout ->
parcel attributes -> buildings -> holdings -> enterprises -> records ->
planted cases -> trees) and returns plain (Geo)DataFrames with the output
columns. The city generator calls it town after town and streams the results
to disk, so memory stays bounded by the largest town.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sample.buildings import town_buildings
from sample.enterprises import town_enterprises
from sample.land_rights import assign_holdings
from sample.layout import TownPlan, town_layout, town_outline
from sample.parcel_attributes import town_parcels
from sample.planted import planted_table
from sample.records import town_records

PARCEL_COLUMNS = [
    "parcel_code",
    "land_use_code",
    "supply_date",
    "agreed_start_date",
    "agreed_finish_date",
    "planned_far",
    "cert_area_m2",
    "town",
    "district",
    "geometry",
]
BUILDING_COLUMNS = [
    "building_id",
    "parcel_code",
    "kind",
    "height_m",
    "storeys",
    "crossing",
    "geometry",
]
ENTERPRISE_COLUMNS = [
    "credit_code",
    "name",
    "industry_code",
    "industry_version",
    "size_class",
    "town",
    "status",
    "established_date",
    "is_utility",
]
RIGHT_COLUMNS = [
    "parcel_code",
    "credit_code",
    "right_type",
    "share",
    "leased_land_m2",
    "leased_floor_m2",
    "start_date",
    "end_date",
]


@dataclass
class TownData:
    """Everything generated for one town (output columns only, plus ``parcels_full``)."""

    plan: TownPlan
    parcels: object  # GeoDataFrame, PARCEL_COLUMNS
    parcels_full: object  # GeoDataFrame with role and local rectangles
    buildings: object  # GeoDataFrame, BUILDING_COLUMNS
    built_m2: np.ndarray
    enterprises: pd.DataFrame  # ENTERPRISE_COLUMNS + link/planted/land_m2
    records: pd.DataFrame
    rights: pd.DataFrame
    planted: pd.DataFrame
    blocks: object
    roads: object
    town: object  # one-row GeoDataFrame
    trees: object | None = None


def generate_town(
    plan: TownPlan, seed: int, first_enterprise: int, first_building: int, *, trees: bool = False
) -> TownData:
    """Generate one town.

    Parameters
    ----------
    plan : TownPlan
        From :func:`sample.layout.plan_city`.
    seed : int
    first_enterprise, first_building : int
        Global numbers of the town's first enterprise and building.
    trees : bool
        Also generate tree crowns (only needed for imagery).
    """
    import geopandas as gpd
    import shapely

    layout = town_layout(plan, seed)
    parcels = town_parcels(plan, layout["parcels"], seed)
    roles = parcels["role"].to_numpy()
    buildings = town_buildings(plan, parcels, roles, seed)
    idx = buildings["parcel_idx"].to_numpy(dtype=np.int64)
    host = parcels.geometry.values[idx]
    inside = shapely.area(shapely.intersection(buildings.geometry.values, host))
    n = len(parcels)
    built_m2 = np.bincount(idx, weights=inside, minlength=n)
    floor_m2 = np.bincount(
        idx,
        weights=buildings.geometry.area.to_numpy() * buildings["storeys"].to_numpy(),
        minlength=n,
    )
    buildings["parcel_code"] = parcels["parcel_code"].to_numpy()[idx]
    buildings["building_id"] = np.arange(
        first_building, first_building + len(buildings), dtype=np.int64
    )

    holdings = assign_holdings(parcels, floor_m2, seed, plan.index)
    enterprises = town_enterprises(plan, parcels, holdings, first_enterprise, seed)
    records = town_records(enterprises, seed, plan.index)
    rights = holdings.rights
    rights = pd.DataFrame(
        {
            "parcel_code": parcels["parcel_code"].to_numpy()[rights["parcel_idx"].to_numpy()],
            "credit_code": enterprises["credit_code"].to_numpy()[rights["enterprise"].to_numpy()],
            **{c: rights[c] for c in RIGHT_COLUMNS[2:]},
        }
    )
    planted = planted_table(parcels, built_m2, enterprises, rights)
    town = gpd.GeoDataFrame(
        {
            "town": [plan.name],
            "county_code": [plan.county_code],
            "district": [plan.district],
            "cadastral_district": [plan.cadastral_district],
        },
        geometry=[town_outline(plan)],
        crs=parcels.crs,
    )
    tree_frame = None
    if trees:
        from sample.trees import town_trees

        tree_frame = town_trees(plan, layout["roads"], parcels, buildings, seed)
    return TownData(
        plan=plan,
        parcels=parcels[PARCEL_COLUMNS],
        parcels_full=parcels,
        buildings=buildings[BUILDING_COLUMNS],
        built_m2=built_m2,
        enterprises=enterprises,
        records=records,
        rights=rights,
        planted=planted,
        blocks=layout["blocks"],
        roads=layout["roads"][["town", "kind", "width_m", "geometry"]],
        town=town,
        trees=tree_frame,
    )
