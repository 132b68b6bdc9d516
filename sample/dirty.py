"""Dirty copies of the sample: the inputs as a land bureau really hands them over.

``dirty/`` holds the same parcels, enterprise records and land rights as the
clean files, but the way they arrive from different departments:

``parcels.shp``
    GBK text and *no* ``.cpg`` (the encoding must be detected), Chinese field
    names of at most 10 GBK bytes, coordinates in the zone-prefixed CGCS2000
    Gauss-Krüger CRS EPSG:4528 rounded to millimetres, dates as text
    ``YYYY/MM/DD``; plus a bow-tie, a duplicated parcel code, an overlap, a
    non-standard parcel code, an empty geometry and a degenerate sliver.
``enterprises.xlsx``
    last year's records with a title row and a merged two-row header block,
    Chinese headers with units (万元, 吨标煤, 万千瓦时), malformed credit codes,
    one that fails the checksum, codes that only need normalising, a duplicate
    row, a negative and an absurd value and a missing name.
``enterprises_2023.csv``
    the first year in GBK with header synonyms and units of 元 and 千瓦时.
``land_rights.csv``
    GBK, headers 宗地代码, 统一社会信用代码, 权利类型 (所有/租赁), 份额, ...; with
    an unknown parcel, an unknown enterprise, shares above one, a lease ending
    before it starts and a malformed code.

``MANIFEST.json`` lists every planted defect (file, feature or row, kind) so
import tests can check each one is caught (:mod:`sample.defects`). Only the first
towns are copied for very large samples (``SizeSpec.dirty_max_parcels``).

This module collects the towns and writes the manifest; each file has its writer:
:mod:`sample.dirty_parcels`, :mod:`sample.dirty_workbooks`, :mod:`sample.dirty_rights`.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from sample.config import AS_OF, YEARS, stream
from sample.dirty_parcels import DIRTY_EPSG, PARCEL_FIELDS, write_dirty_parcels
from sample.dirty_rights import write_dirty_rights
from sample.dirty_workbooks import write_dirty_workbook, write_first_year_csv


class DirtyCollector:
    """Collect towns while the city is generated, then write the dirty copies."""

    def __init__(self, folder: Path, max_parcels: int, seed: int):
        self.folder = Path(folder)
        self.max_parcels = max_parcels
        self.seed = seed
        self.parcels: list = []
        self.enterprises: list = []
        self.records: list = []
        self.rights: list = []
        self.n_parcels = 0
        self.county = None

    def add(self, town) -> None:
        """Keep a town's tables if the dirty copy is not full yet."""
        if self.n_parcels >= self.max_parcels:
            return
        if self.county is None:
            self.county = (town.plan.county_code, town.plan.cadastral_district)
        self.parcels.append(town.parcels)
        self.enterprises.append(town.enterprises)
        self.records.append(town.records)
        self.rights.append(town.rights)
        self.n_parcels += len(town.parcels)

    def write(self) -> dict[str, Path]:
        """Write all dirty files and the manifest; return their paths."""
        import geopandas as gpd

        self.folder.mkdir(parents=True, exist_ok=True)
        rng = stream(self.seed, "dirty")
        parcels = gpd.GeoDataFrame(
            pd.concat(self.parcels, ignore_index=True), crs=self.parcels[0].crs
        )
        enterprises = pd.concat(self.enterprises, ignore_index=True)
        records = pd.concat(self.records, ignore_index=True)
        rights = pd.concat(self.rights, ignore_index=True)
        defects: list[dict] = []
        paths = {
            "dirty": self.folder,
            "dirty_parcels": write_dirty_parcels(
                parcels, self.folder / "parcels.shp", rng, defects, self.county
            ),
            "dirty_enterprises": write_dirty_workbook(
                enterprises, records, self.folder / "enterprises.xlsx", rng, defects
            ),
            "dirty_enterprises_2023": write_first_year_csv(
                enterprises, records, self.folder / "enterprises_2023.csv"
            ),
            "dirty_land_rights": write_dirty_rights(
                rights, parcels, self.folder / "land_rights.csv", rng, defects, self.county
            ),
        }
        manifest = {
            "description": "Defects planted in the dirty copies of the sample city.",
            "as_of": AS_OF.isoformat(),
            "files": {
                "parcels.shp": {
                    "crs": f"EPSG:{DIRTY_EPSG}",
                    "encoding": "GBK",
                    "cpg": False,
                    "features": len(parcels) + 1,
                    "fields": PARCEL_FIELDS,
                    "date_format": "%Y/%m/%d",
                },
                "enterprises.xlsx": {
                    "year": YEARS[-1],
                    "sheet": f"{YEARS[-1]}年",
                    "header_rows": [2, 3],
                    "first_data_row": 4,
                    "units": {"money": "万元", "electricity": "万千瓦时", "energy": "吨标煤"},
                },
                "enterprises_2023.csv": {
                    "year": YEARS[0],
                    "encoding": "GBK",
                    "units": {"money": "元", "electricity": "千瓦时", "energy": "吨标煤"},
                },
                "land_rights.csv": {
                    "encoding": "GBK",
                    "right_types": {"所有": "owner", "租赁": "tenant"},
                },
            },
            "defects": defects,
        }
        manifest_path = self.folder / "MANIFEST.json"
        manifest_path.write_text(
            json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8"
        )
        paths["dirty_manifest"] = manifest_path
        return paths


