"""CSV files as layers: geometry from a WKT column or from coordinate columns.

In UTF-8 or GBK (detected, or a declared encoding checked: :mod:`gis.encodings`),
read with pandas. A CSV has no CRS of its own; a ``.prj`` beside it (the GeoCSV
convention GDAL follows) or ``crs=`` supplies one. Numbers stay numbers and
codes stay text (``"0601"``, 18-digit credit codes).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from gis.errors import CRSError, DataError, EmptyInputError

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

log = logging.getLogger(__name__)

#: Column names (lower case) that hold WKT geometry in a CSV.
CSV_WKT_COLUMNS: tuple[str, ...] = ("wkt", "geometry", "geom", "the_geom", "wkt_geom", "shape", "几何")
#: (x, y) column name pairs (lower case) that hold coordinates in a CSV, in order of preference.
CSV_XY_COLUMNS: tuple[tuple[str, str], ...] = (
    ("x", "y"), ("lon", "lat"), ("lng", "lat"), ("long", "lat"), ("longitude", "latitude"),
    ("经度", "纬度"), ("东经", "北纬"), ("x坐标", "y坐标"), ("point_x", "point_y"),
    ("easting", "northing"),
)

_NUMBER = re.compile(r"^-?(0|[1-9]\d{0,14})(\.\d+)?([eE][-+]?\d+)?$")


def _maybe_numeric(series: pd.Series) -> pd.Series:
    """Numbers stay numbers, codes stay text: ``"0601"`` and 18-digit codes are kept as text."""
    import pandas as pd

    values = series.dropna()
    if len(values) == 0 or not values.map(lambda v: bool(_NUMBER.match(v.strip()))).all():
        return series
    return pd.to_numeric(series)


def _find_column(columns: Sequence[str], names: Sequence[str]) -> str | None:
    lookup = {str(c).strip().lower(): c for c in columns}
    for name in names:
        if name in lookup:
            return lookup[name]
    return None


def read_csv_layer(path: Path, *, encoding: str | None,
                   columns: Sequence[str] | None) -> gpd.GeoDataFrame:
    """A CSV with a WKT column or coordinate columns as a GeoDataFrame (CRS from a ``.prj``)."""
    import geopandas as gpd
    import pandas as pd
    import shapely

    from gis.encodings import detect_text_encoding

    source = str(path)
    with open(path, "rb") as fh:
        head = fh.read(1024 * 1024)
    if encoding is None:
        encoding = detect_text_encoding(head)
    else:
        from gis.encodings import check_text_encoding

        check_text_encoding(head, encoding, source=source)
    try:
        df = pd.read_csv(path, encoding=encoding, dtype=str, skipinitialspace=True)
    except pd.errors.EmptyDataError as exc:
        raise EmptyInputError("CSV has no header or rows", source=source) from exc
    except (UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise DataError(f"cannot read CSV ({encoding}): {exc}; try --encoding", source=source) from exc
    wkt_col = _find_column(df.columns, CSV_WKT_COLUMNS)
    xy = next(
        ((x, y) for pair in CSV_XY_COLUMNS
         if (x := _find_column(df.columns, pair[:1])) and (y := _find_column(df.columns, pair[1:]))),
        None,
    )
    if wkt_col is not None:
        text = df[wkt_col].fillna("").str.strip()
        geoms = shapely.from_wkt(text.where(text != "", None).to_numpy(), on_invalid="ignore")
        bad = np.flatnonzero(shapely.is_missing(geoms) & (text != "").to_numpy())
        geom_cols = [wkt_col]
    elif xy is not None:
        x = pd.to_numeric(df[xy[0]], errors="coerce").to_numpy(dtype=float)
        y = pd.to_numeric(df[xy[1]], errors="coerce").to_numpy(dtype=float)
        ok = np.isfinite(x) & np.isfinite(y)
        geoms = np.full(len(df), None, dtype=object)
        geoms[ok] = shapely.points(x[ok], y[ok])
        bad = np.flatnonzero(~ok & (df[xy[0]].notna() | df[xy[1]].notna()).to_numpy())
        geom_cols = list(xy)
    else:
        raise DataError(
            "no geometry columns: expected a WKT column (wkt, geometry, geom) or coordinate "
            "columns (x/y, lon/lat, lng/lat, 经度/纬度); columns: " + ", ".join(map(str, df.columns)),
            source=source,
        )
    if len(bad):
        rows = ", ".join(str(i + 2) for i in bad[:5])  # +1 for the header, +1 for 1-based lines
        log.warning("%s: %d row(s) with unreadable geometry (lines %s%s)", source, len(bad), rows,
                    ", ..." if len(bad) > 5 else "")
    attrs = df.drop(columns=geom_cols)
    if columns is not None:
        unknown = [c for c in columns if c not in attrs.columns]
        if unknown:
            raise DataError(
                f"no column(s) {', '.join(unknown)}; columns: {', '.join(map(str, attrs.columns))}",
                source=source,
            )
        attrs = attrs[list(columns)]
    if len(attrs.columns):
        attrs = attrs.apply(_maybe_numeric)
    crs = read_prj(path)
    return gpd.GeoDataFrame(attrs, geometry=gpd.GeoSeries(geoms, index=attrs.index), crs=crs)


def read_prj(path: Path) -> Any:
    """The CRS of a ``.prj`` beside ``path`` (the GeoCSV convention), or None."""
    from pyproj import CRS
    from pyproj.exceptions import CRSError as ProjCRSError

    for prj in (path.with_suffix(".prj"), path.with_suffix(".PRJ")):
        if prj.exists():
            try:
                return CRS.from_user_input(prj.read_text(encoding="utf-8", errors="replace"))
            except ProjCRSError as exc:
                raise CRSError(f"unreadable CRS in {prj.name}: {exc}", source=str(path)) from exc
    return None
