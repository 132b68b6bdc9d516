"""Writing vector files for tests: GeoPackage, Shapefile, GeoJSON, FlatGeobuf, CSV.

Only tests write layers this way (fixtures in ``tmp_path``, in every format the
readers must handle); mujun itself writes layers through its one layer
writer. Atomic, never overwriting without ``overwrite=True``; Shapefiles get a
UTF-8 ``.cpg``, field names cut to 10 bytes and text to 254 bytes with a
warning listing every change; FlatGeobuf its spatial index.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
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
                f"{path}: layer {layer!r} exists; add --overwrite to replace it"
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
    from gis.layer_writer.shapefile import shapefile_safe

    data, _ = shapefile_safe(gdf, source=source)
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
