"""Writing vector files for tests: GeoPackage, Shapefile, GeoJSON, FlatGeobuf, CSV.

Only tests write layers this way (fixtures in ``tmp_path``, in every format the
readers must handle); mujun itself writes layers through its one layer
writer. Atomic, never overwriting without ``overwrite=True``; Shapefiles get a
UTF-8 ``.cpg``, field names cut to 10 bytes and text to 254 bytes with a
warning listing every change; FlatGeobuf its spatial index.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np

from gis.atomic import atomic_output
from gis.errors import CRSError, DataError, DriverError, OutputExistsError
from gis.vector_io import list_layers

log = logging.getLogger("gis.vector_io")


@dataclass(frozen=True)
class WritableFormat:
    """A format the test writer writes."""

    name: str
    driver: str
    multi_layer: bool = False


#: Suffix -> writable format.
WRITABLE: dict[str, WritableFormat] = {
    ".gpkg": WritableFormat("GeoPackage", "GPKG", multi_layer=True),
    ".shp": WritableFormat("Shapefile", "ESRI Shapefile"),
    ".geojson": WritableFormat("GeoJSON", "GeoJSON"),
    ".fgb": WritableFormat("FlatGeobuf", "FlatGeobuf"),
    ".csv": WritableFormat("CSV (WKT or x/y columns)", "CSV"),
}

#: Shapefile limits (bytes).
SHP_FIELD_NAME_BYTES = 10
SHP_TEXT_BYTES = 254



def _formats_text() -> str:
    return "; ".join(f"{f.name} ({s})" for s, f in WRITABLE.items())


def _format_for_write(path: Path, driver: str | None) -> WritableFormat:
    writable = WRITABLE
    if driver is not None:
        key = driver.lower().lstrip(".")
        for suffix, fmt in writable.items():
            if key in (suffix[1:], fmt.driver.lower(), fmt.name.lower()):
                return fmt
        raise DriverError(
            f"cannot write with driver {driver!r}; writable formats: {_formats_text()}",
            source=str(path),
        )
    fmt = writable.get(path.suffix.lower())
    if fmt is None:
        raise DriverError(
            f"cannot write {path.suffix or 'files without a suffix'}; "
            f"writable formats: {_formats_text()}",
            source=str(path),
        )
    return fmt


def write_vector(
    gdf: gpd.GeoDataFrame,
    path: str | Path,
    *,
    driver: str | None = None,
    layer: str | None = None,
    overwrite: bool = False,
) -> Path:
    """Write a GeoDataFrame atomically to GeoPackage, Shapefile, GeoJSON, FlatGeobuf or CSV.

    Parameters
    ----------
    gdf : GeoDataFrame
        Must have a CRS.
    path : path-like
        Output; the format comes from the suffix unless ``driver`` is given.
    driver : str, optional
        ``"GPKG"``, ``"ESRI Shapefile"``, ``"GeoJSON"``, ``"FlatGeobuf"``, ``"CSV"``
        (or a suffix such as ``"gpkg"``).
    layer : str, optional
        Layer name (GeoPackage, FlatGeobuf, GeoJSON); default: the file stem.
        Adding a new layer to an existing GeoPackage keeps its other layers.
    overwrite : bool, default False
        Replace an existing file (or an existing GeoPackage layer).

    Returns
    -------
    Path
        The path written.

    Notes
    -----
    FlatGeobuf's spatial index stores features in Hilbert-curve order: read
    back, the rows come in a different order. The other formats keep it.

    Raises
    ------
    OutputExistsError
        The output (or the GeoPackage layer) exists and ``overwrite`` is false.
    CRSError
        ``gdf`` has no CRS.
    DriverError
        The format cannot be written.
    DataError
        GDAL refused the data (e.g. mixed geometry types in a Shapefile).
    """
    path = Path(path)
    fmt = _format_for_write(path, driver)
    if gdf.crs is None:
        raise CRSError("data to write has no CRS; set one first", source=str(path))
    layer = layer or path.stem
    writer = _WRITERS[fmt.driver]
    if fmt.multi_layer and path.exists():
        existing = list_layers(path)
        if layer in existing and not overwrite:
            raise OutputExistsError(
                f"{path}: layer {layer!r} exists; pass --overwrite (overwrite=True) to replace it"
            )
        context = atomic_output(path, start_from_existing=True)
    else:
        context = atomic_output(path, overwrite, sidecars=_SIDECARS.get(fmt.driver))
    with context as tmp:
        writer(gdf, tmp, layer, str(path))
    log.info("wrote %d features to %s", len(gdf), path)
    return path


def _ogr_write(gdf: gpd.GeoDataFrame, tmp: Path, driver: str, source: str, **kwargs: Any) -> None:
    import pyogrio
    from pyogrio.errors import DataLayerError, DataSourceError, FieldError, GeometryError

    try:
        pyogrio.write_dataframe(gdf, tmp, driver=driver, use_arrow=True, **kwargs)
    except (DataSourceError, DataLayerError, FieldError, GeometryError) as exc:
        raise DataError(f"cannot write {driver}: {exc}", source=source) from exc


def _write_gpkg(gdf: gpd.GeoDataFrame, tmp: Path, layer: str, source: str) -> None:
    _ogr_write(gdf, tmp, "GPKG", source, layer=layer)


def _write_fgb(gdf: gpd.GeoDataFrame, tmp: Path, layer: str, source: str) -> None:
    index = "YES"
    if gdf.geometry.isna().any():
        log.warning("%s: missing geometries; FlatGeobuf written without a spatial index", source)
        index = "NO"
    _ogr_write(gdf, tmp, "FlatGeobuf", source, layer=layer, layer_options={"SPATIAL_INDEX": index})


def _write_geojson(gdf: gpd.GeoDataFrame, tmp: Path, layer: str, source: str) -> None:
    data = gdf if gdf.crs.to_epsg() == 4326 else gdf.to_crs(4326)
    _ogr_write(data, tmp, "GeoJSON", source, layer=layer, layer_options={"RFC7946": "YES"})


def _write_shapefile(gdf: gpd.GeoDataFrame, tmp: Path, layer: str, source: str) -> None:
    data = shapefile_safe(gdf, source=source)
    _ogr_write(data, tmp, "ESRI Shapefile", source, encoding="UTF-8")


def _write_csv(gdf: gpd.GeoDataFrame, tmp: Path, layer: str, source: str) -> None:
    import shapely

    table = gdf.drop(columns=[gdf.geometry.name])
    if "wkt" in (str(c).lower() for c in table.columns):
        raise DataError("a column named 'wkt' would clash with the geometry column", source=source)
    table.insert(0, "wkt", shapely.to_wkt(np.asarray(gdf.geometry.values), rounding_precision=-1))
    table.to_csv(tmp, index=False, encoding="utf-8-sig")
    tmp.with_suffix(".prj").write_text(gdf.crs.to_wkt(), encoding="utf-8")


#: Files a writer creates beside its output, beyond the driver's usual set.
_SIDECARS: dict[str, tuple[str, ...]] = {"CSV": (".prj",)}

_WRITERS: dict[str, Callable[[Any, Path, str, str], None]] = {
    "GPKG": _write_gpkg,
    "ESRI Shapefile": _write_shapefile,
    "GeoJSON": _write_geojson,
    "FlatGeobuf": _write_fgb,
    "CSV": _write_csv,
}


def _cut_utf8(text: str, limit: int) -> str:
    """``text`` shortened to at most ``limit`` UTF-8 bytes without splitting a character."""
    return text.encode("utf-8")[:limit].decode("utf-8", errors="ignore")


def shapefile_field_names(names: Sequence[str]) -> dict[str, str]:
    """Map column names to unique Shapefile field names of at most 10 UTF-8 bytes.

    Names that fit are kept; longer ones are cut and, on a clash (compared
    case-insensitively, as dBASE does), numbered: ``parcel_code`` ->
    ``parcel_cod``, ``parcel_code2`` -> ``parcel_c_1``.

    Examples
    --------
    >>> shapefile_field_names(["id", "parcel_code", "parcel_code2", "企业名称代码"])
    {'id': 'id', 'parcel_code': 'parcel_cod', 'parcel_code2': 'parcel_c_1', '企业名称代码': '企业名'}
    """
    result: dict[str, str] = {}
    used: set[str] = set()
    for name in names:  # names that fit claim their spelling first
        if len(str(name).encode("utf-8")) <= SHP_FIELD_NAME_BYTES and str(name).lower() not in used:
            result[name] = str(name)
            used.add(str(name).lower())
    for name in names:
        if name in result:
            continue
        candidate = _cut_utf8(str(name), SHP_FIELD_NAME_BYTES)
        n = 0
        while candidate.lower() in used:
            n += 1
            suffix = f"_{n}"
            candidate = _cut_utf8(str(name), SHP_FIELD_NAME_BYTES - len(suffix)) + suffix
        result[name] = candidate
        used.add(candidate.lower())
    return {name: result[name] for name in names}


def shapefile_safe(gdf: gpd.GeoDataFrame, *, source: str | None = None) -> gpd.GeoDataFrame:
    """A copy fit for a Shapefile: field names ≤ 10 bytes, text ≤ 254 bytes, each change logged."""
    where = source or "shapefile"
    attrs = [c for c in gdf.columns if c != gdf.geometry.name]
    names = shapefile_field_names(attrs)
    renamed = {old: new for old, new in names.items() if old != new}
    out = gdf.rename(columns=renamed) if renamed else gdf.copy()
    if renamed:
        log.warning(
            "%s: Shapefile field names are limited to %d bytes; renamed %s",
            where, SHP_FIELD_NAME_BYTES, ", ".join(f"{a} -> {b}" for a, b in renamed.items()),
        )
    for column in [names[c] for c in attrs]:
        series = out[column]
        if series.dtype != object and str(series.dtype) not in ("string", "str"):
            continue
        too_long = series.map(lambda v: isinstance(v, str) and len(v.encode("utf-8")) > SHP_TEXT_BYTES)
        count = int(too_long.sum())
        if count:
            out.loc[too_long, column] = series[too_long].map(lambda v: _cut_utf8(v, SHP_TEXT_BYTES))
            log.warning(
                "%s: %d value(s) of field %s longer than %d bytes were truncated",
                where, count, column, SHP_TEXT_BYTES,
            )
    return out
