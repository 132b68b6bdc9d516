"""The dirty parcel layer: a GBK Shapefile as a cadastre office hands it over.

No ``.cpg`` (the encoding must be detected), Chinese field names of at most 10 GBK
bytes, the zone-prefixed CGCS2000 CRS EPSG:4528 rounded to millimetres, dates as text
``YYYY/MM/DD``; a bow-tie, a duplicated parcel code, an overlap, a non-standard code,
an empty geometry and a degenerate sliver planted (:mod:`sample.dirty`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from parcels.codes import make_parcel_code
from sample.config import AS_OF
from sample.defects import defect

DIRTY_EPSG = 4528

PARCEL_FIELDS = {
    "parcel_code": "宗地代码",
    "land_use_code": "土地用途",
    "town": "镇",
    "district": "区县",
    "cert_area_m2": "证载面积",
    "supply_date": "供地日期",
    "agreed_start_date": "约定开工",
    "agreed_finish_date": "约定竣工",
    "planned_far": "容积率",
}

def _slash_dates(values) -> list[str]:
    return [pd.Timestamp(v).strftime("%Y/%m/%d") for v in values]

def write_dirty_parcels(parcels, path: Path, rng, defects: list, county) -> Path:
    """GBK Shapefile without .cpg, EPSG:4528, with planted geometry and code defects."""
    import geopandas as gpd
    import pyogrio
    import shapely

    from sample.writers import round_coordinates

    frame = parcels.to_crs(DIRTY_EPSG)
    geoms = round_coordinates(np.asarray(frame.geometry.values, dtype=object), 3)
    codes = frame["parcel_code"].to_numpy(dtype=object).copy()
    n = len(frame)
    picks = rng.choice(np.arange(1, min(n, 200)), size=5, replace=False)
    bow, dup, overlap, odd, empty = (int(i) for i in picks)

    c = np.asarray(shapely.oriented_envelope(geoms[bow]).exterior.coords)[:4]
    geoms[bow] = shapely.Polygon([c[0], c[1], c[3], c[2]])
    defects.append(
        defect(
            "parcels.shp", bow, codes[bow], "self_intersection", "bow-tie ring: repair or reject"
        )
    )
    codes[dup] = codes[dup - 1]
    defects.append(
        defect("parcels.shp", dup, codes[dup], "duplicate_code", f"same code as feature {dup - 1}")
    )
    grown = shapely.buffer(geoms[overlap], 3.0, join_style="mitre")
    geoms[overlap] = grown
    defects.append(
        defect(
            "parcels.shp",
            overlap,
            codes[overlap],
            "overlap",
            "grown by 3 m: overlaps its neighbours",
        )
    )
    codes[odd] = f"WJ-{int(rng.integers(1000, 9999))}-{odd:04d}"
    defects.append(
        defect(
            "parcels.shp", odd, codes[odd], "code_format", "not a GB/T 37346 parcel code (warn)"
        )
    )
    geoms[empty] = None
    defects.append(
        defect("parcels.shp", empty, codes[empty], "empty_geometry", "no geometry: reject")
    )

    table = pd.DataFrame(
        {
            "宗地代码": codes,
            "土地用途": frame["land_use_code"].to_numpy(),
            "镇": frame["town"].to_numpy(),
            "区县": frame["district"].to_numpy(),
            "证载面积": frame["cert_area_m2"].to_numpy(),
            "供地日期": _slash_dates(frame["supply_date"]),
            "约定开工": _slash_dates(frame["agreed_start_date"]),
            "约定竣工": _slash_dates(frame["agreed_finish_date"]),
            "容积率": frame["planned_far"].to_numpy(),
        }
    )
    # A degenerate sliver: three collinear points (zero area), appended last.
    x0, y0 = shapely.get_coordinates(geoms[0])[0]
    sliver = shapely.Polygon([(x0, y0), (x0 + 40.0, y0), (x0 + 20.0, y0)])
    sliver_code = make_parcel_code(county[0], county[1], 999, 99999)
    extra = table.iloc[[0]].assign(宗地代码=sliver_code)
    table = pd.concat([table, extra], ignore_index=True)
    geoms = np.append(geoms, sliver)
    defects.append(defect("parcels.shp", n, sliver_code, "degenerate", "zero-area sliver: reject"))

    out = gpd.GeoDataFrame(table, geometry=list(geoms), crs=DIRTY_EPSG)
    for suffix in (".shp", ".shx", ".dbf", ".prj", ".cpg"):
        path.with_suffix(suffix).unlink(missing_ok=True)
    pyogrio.write_dataframe(
        out, path, encoding="GBK", promote_to_multi=False, geometry_type="Polygon"
    )
    path.with_suffix(".cpg").unlink(missing_ok=True)
    _stamp_dbf(path.with_suffix(".dbf"))
    return path

def _stamp_dbf(dbf: Path) -> None:
    """Set the DBF's last-update date to AS_OF and its language driver byte to 0 (unknown)."""
    with dbf.open("r+b") as fh:
        fh.seek(1)
        fh.write(bytes([AS_OF.year - 1900, AS_OF.month, AS_OF.day]))
        fh.seek(29)
        fh.write(b"\x00")
