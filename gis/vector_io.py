"""Reading vector files: any OGR source, one layer at a time, with clear errors.

Reading goes through pyogrio (GDAL) with Arrow where it helps, plus the
awkward parts land bureaus' files need:

* **Shapefile text encoding**: a ``.cpg`` is honoured; without one the
  encoding is detected from the ``.dbf`` bytes (GBK vs UTF-8); a declared
  ``encoding`` the text is not in is refused (all of it in
  :mod:`gis.encodings`). Zipped Shapefiles (``.zip``) are read in place; a
  Shapefile whose parts disagree is refused (:mod:`gis.shapefile_parts`).
* **CSV** with a WKT column or coordinate columns (:mod:`gis.vector_csv`).
* **One layer at a time**: a file with several layers needs ``layer=``.
* **Clear errors** naming the file and layer: missing or empty file,
  unsupported format (listing :data:`SUPPORTED_FORMATS`), corrupt file,
  zero features, no CRS (``--crs``).

mujun writes layers through its one layer writer (styled exports), not here.
"""

from __future__ import annotations

import contextlib
import logging
import re
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gis.crs import ensure_crs
from gis.errors import DataError, DriverError, EmptyInputError

if TYPE_CHECKING:
    import geopandas as gpd

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class VectorFormat:
    """One file format mujun knows by its suffix."""

    name: str
    driver: str
    multi_layer: bool = False


#: Suffix -> format. Drives driver choice, the writers and the error messages.
#: Other OGR sources are still tried on read (GDAL detects them by content).
SUPPORTED_FORMATS: dict[str, VectorFormat] = {
    ".gpkg": VectorFormat("GeoPackage", "GPKG", multi_layer=True),
    ".shp": VectorFormat("Shapefile", "ESRI Shapefile"),
    ".zip": VectorFormat("zipped Shapefile", "ESRI Shapefile", multi_layer=True),
    ".geojson": VectorFormat("GeoJSON", "GeoJSON"),
    ".json": VectorFormat("GeoJSON or TopoJSON", "GeoJSON", multi_layer=True),
    ".topojson": VectorFormat("TopoJSON", "TopoJSON", multi_layer=True),
    ".geojsonl": VectorFormat("GeoJSON sequence", "GeoJSONSeq"),
    ".geojsons": VectorFormat("GeoJSON sequence", "GeoJSONSeq"),
    ".fgb": VectorFormat("FlatGeobuf", "FlatGeobuf"),
    ".gdb": VectorFormat("FileGDB", "OpenFileGDB", multi_layer=True),
    ".kml": VectorFormat("KML", "LIBKML", multi_layer=True),
    ".kmz": VectorFormat("KMZ", "LIBKML", multi_layer=True),
    ".csv": VectorFormat("CSV (WKT or x/y columns)", "CSV"),
}

#: Housekeeping fields the LIBKML driver adds; dropped when they carry nothing.
_KML_NOISE = ("id", "timestamp", "begin", "end", "altitudeMode", "tessellate", "extrude",
              "visibility", "drawOrder", "icon", "snippet")

#: Drivers read without Arrow: GDAL 3.12's Arrow reader of FlatGeobuf crashes on null geometries.
_NO_ARROW_DRIVERS = frozenset({"FlatGeobuf"})

def _formats_text() -> str:
    seen: dict[str, list[str]] = {}
    for suffix, fmt in SUPPORTED_FORMATS.items():
        seen.setdefault(fmt.name, []).append(suffix)
    return "; ".join(f"{name} ({' '.join(sfx)})" for name, sfx in seen.items())


# --------------------------------------------------------------------------- reading


def _source_name(path: Path, layer: str | None) -> str:
    return f"{path} layer {layer!r}" if layer else str(path)


def _check_source(path: Path) -> VectorFormat | None:
    if not path.exists():
        raise DataError("file not found", source=str(path))
    if path.is_file() and path.stat().st_size == 0:
        raise EmptyInputError("file is empty (0 bytes)", source=str(path))
    return SUPPORTED_FORMATS.get(path.suffix.lower())


@contextlib.contextmanager
def _gdal_errors(path: Path, fmt: VectorFormat | None, layer: str | None = None) -> Iterator[None]:
    """Translate pyogrio/GDAL errors into mujun errors naming the file and layer."""
    from pyogrio.errors import DataLayerError, DataSourceError, FieldError, GeometryError

    source = _source_name(path, layer)
    try:
        yield
    except DataSourceError as exc:
        msg = str(exc).split(";")[0].rstrip(". ")
        if fmt is None and "not recognized" in msg:
            raise DriverError(
                f"unsupported or unknown vector format ({path.suffix or 'no suffix'}); "
                f"supported: {_formats_text()}",
                source=source,
            ) from exc
        what = fmt.name if fmt else "vector data"
        raise DataError(
            f"cannot read as {what}: {msg}; the file may be truncated or corrupt", source=source
        ) from exc
    except (DataLayerError, FieldError, GeometryError) as exc:
        raise DataError(f"cannot read: {exc}", source=source) from exc


#: Characters GDAL does not take in a file name (``;`` splits it), worked around by
#: reading through links with a plain name.
_GDAL_UNSAFE = re.compile(r"[;]")


@contextlib.contextmanager
def gdal_path(path: str | Path) -> Iterator[Path]:
    """``path``, or a link to it with a name GDAL can open (``semi;colon.shp`` from Windows).

    A Shapefile's sibling parts (``.dbf``, ``.shx``, ``.prj``, ``.cpg`` ...) are
    linked along with it; the links live in a temporary folder removed afterwards.
    """
    import shutil
    import tempfile

    path = Path(path)
    if not _GDAL_UNSAFE.search(path.name):
        yield path
        return
    folder = Path(tempfile.mkdtemp(prefix="mujun-link-"))
    try:
        safe_stem = _GDAL_UNSAFE.sub("_", path.stem)
        stem = path.name[: -len(path.suffix)] if path.suffix else path.name
        members = [path]
        if path.suffix.lower() == ".shp":
            members = [p for p in path.parent.iterdir()
                       if p.name.startswith(stem + ".") and p.name[len(stem):].count(".") <= 2]
        for member in members:
            (folder / (safe_stem + member.name[len(stem):])).symlink_to(member.resolve())
        yield folder / (safe_stem + path.name[len(stem):])
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _zip_members(path: Path) -> list[str]:
    try:
        with zipfile.ZipFile(path) as zf:
            return [n for n in zf.namelist() if n.lower().endswith(".shp")]
    except zipfile.BadZipFile as exc:
        raise DataError(f"not a readable zip archive: {exc}", source=str(path)) from exc


def list_layers(path: str | Path) -> list[str]:
    """Names of the layers in a vector source.

    Parameters
    ----------
    path : path-like
        File or directory (``.gdb``).

    Returns
    -------
    list of str
        One name for single-layer formats (Shapefile, GeoJSON, CSV).

    Raises
    ------
    DataError, DriverError, EmptyInputError
        Missing, empty, unsupported or unreadable source.
    """
    import pyogrio

    path = Path(path)
    fmt = _check_source(path)
    if fmt is not None and fmt.driver == "CSV":
        return [path.stem]
    with _gdal_errors(path, fmt), gdal_path(path) as safe:
        return [str(name) for name in pyogrio.list_layers(safe)[:, 0]]


def _choose_layer(path: Path, layers: list[str], layer: str | None) -> str | None:
    if layer is not None:
        if layer not in layers:
            raise DataError(
                f"no layer {layer!r}; layers: {', '.join(layers) or '(none)'}", source=str(path)
            )
        return layer
    if not layers:
        raise EmptyInputError("contains no layers", source=str(path))
    if len(layers) > 1:
        raise DataError(
            f"has {len(layers)} layers; choose one with --layer: {', '.join(layers)}",
            source=str(path),
        )
    return layers[0]


def _detect_encoding(path: Path, fmt: VectorFormat | None, layer: str | None) -> str | None:
    from gis.encodings import detect_dbf_encoding, gdal_encoding, shapefile_encoding

    if fmt is None or fmt.driver != "ESRI Shapefile":
        return None
    if path.suffix.lower() == ".shp":
        return gdal_encoding(shapefile_encoding(path))
    # zipped shapefile: look at the chosen layer's .dbf/.cpg inside the archive
    with zipfile.ZipFile(path) as zf:
        names = {n.lower(): n for n in zf.namelist()}
        stems = [n[:-4] for n in names if n.endswith(".shp") and Path(n).stem == (layer or Path(n).stem)]
        if not stems or f"{stems[0]}.dbf" not in names:
            return None
        with zf.open(names[f"{stems[0]}.dbf"]) as fh:
            data = fh.read(64 * 1024 * 1024)
        cpg = None
        if f"{stems[0]}.cpg" in names:
            cpg = zf.read(names[f"{stems[0]}.cpg"]).decode("ascii", errors="replace")
    return gdal_encoding(detect_dbf_encoding(data, cpg, source=f"{path}!{stems[0]}.shp"))


def read_vector(
    path: str | Path,
    layer: str | None = None,
    *,
    encoding: str | None = None,
    crs: Any = None,
    columns: Sequence[str] | None = None,
    allow_empty: bool = False,
    skip: int = 0,
    limit: int | None = None,
) -> gpd.GeoDataFrame:
    """Read one layer of a vector file into a GeoDataFrame.

    Parameters
    ----------
    path : path-like
        Any OGR source: ``.shp`` (GBK or UTF-8), ``.zip`` (zipped Shapefile),
        ``.gpkg``, ``.geojson``/``.json``, ``.topojson``, ``.fgb``, ``.gdb``
        (directory), ``.kml``/``.kmz``, ``.csv`` (WKT or x/y columns), and
        whatever else GDAL recognises by content.
    layer : str, optional
        Layer name; required when the source has several.
    encoding : str, optional
        Text encoding of a Shapefile ``.dbf`` or CSV (e.g. ``"GBK"``);
        detected when not given.
    crs : CRS-like, optional
        CRS to *assign* (``--crs``), required when the file declares none.
    columns : sequence of str, optional
        Attribute columns to keep (default: all).
    allow_empty : bool, default False
        Return an empty frame instead of raising for a layer without features.
    skip, limit : int, optional
        Read features ``skip + 1`` to ``skip + limit`` only (chunked reading).

    Returns
    -------
    GeoDataFrame
        Row ``i`` is feature ``skip + i + 1`` of the layer. Geometries GDAL cannot
        decode (e.g. rings of two points) are read as missing, with a warning.

    Raises
    ------
    DataError
        Missing or unreadable file, unknown layer, several layers and none chosen,
        unknown columns, no geometry columns in a CSV, a Shapefile whose parts
        disagree on the number of records (a truncated ``.dbf``), text that is
        not in the given ``encoding``.
    DriverError
        Not a vector format GDAL or mujun can read (lists the supported ones).
    EmptyInputError
        Empty file or no features.
    CRSError
        No CRS in the data and none given, or an invalid ``crs``.

    Examples
    --------
    >>> import tempfile, pathlib, geopandas as gpd, shapely
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "towns.gpkg"
    >>> gdf = gpd.GeoDataFrame({"name": ["黄桥镇"]}, geometry=[shapely.Point(500000, 3460000)], crs=4549)
    >>> gdf.to_file(p)
    >>> read_vector(p).loc[0, "name"], read_vector(p).crs.to_epsg()
    ('黄桥镇', 4549)
    """
    path = Path(path)
    fmt = _check_source(path)
    if fmt is not None and fmt.driver == "CSV":
        if layer not in (None, path.stem):
            raise DataError(f"no layer {layer!r}; a CSV has one layer, {path.stem!r}", source=str(path))
        from gis.vector_csv import read_csv_layer

        gdf = read_csv_layer(path, encoding=encoding, columns=columns)
        if skip or limit is not None:
            gdf = gdf.iloc[skip: None if limit is None else skip + limit]
        source = str(path)
    else:
        layers = list_layers(path)
        layer = _choose_layer(path, layers, layer)
        source = _source_name(path, layer if len(layers) > 1 or fmt is None or fmt.multi_layer else None)
        if path.suffix.lower() == ".shp":
            from gis.shapefile_parts import check_shapefile_parts

            check_shapefile_parts(path)
            if encoding:
                from gis.encodings import check_shapefile_encoding

                check_shapefile_encoding(path, encoding)
        enc = encoding or _detect_encoding(path, fmt, layer)
        gdf = _read_ogr(path, layer, fmt, enc, columns, source, skip=skip, limit=limit)
    if len(gdf) == 0 and not allow_empty:
        raise EmptyInputError("has no features", source=source)
    gdf = ensure_crs(gdf, crs, source=source)
    log.debug("read %d features from %s", len(gdf), source)
    return gdf


def _read_ogr(
    path: Path, layer: str | None, fmt: VectorFormat | None, encoding: str | None,
    columns: Sequence[str] | None, source: str, *, skip: int = 0, limit: int | None = None,
) -> gpd.GeoDataFrame:
    import pyogrio

    with _gdal_errors(path, fmt, layer), _decode_errors(encoding, source), \
            gdal_path(path) as safe:
        info = pyogrio.read_info(safe, layer=layer) if columns is not None or fmt is None else None
        driver = info["driver"] if info is not None else fmt.driver  # type: ignore[union-attr]
        if columns is not None:
            fields = [str(f) for f in info["fields"]]  # type: ignore[index]
            unknown = [c for c in columns if c not in fields]
            if unknown:
                raise DataError(
                    f"no column(s) {', '.join(unknown)}; columns: {', '.join(fields)}", source=source
                )
        use_arrow = driver not in _NO_ARROW_DRIVERS
        kwargs: dict[str, Any] = {"layer": layer, "on_invalid": "fix", "use_arrow": use_arrow}
        if encoding:
            kwargs["encoding"] = encoding
        if columns is not None:
            kwargs["columns"] = list(columns)
        if skip:
            kwargs["skip_features"] = int(skip)
        if limit is not None:
            kwargs["max_features"] = int(limit)
        gdf = pyogrio.read_dataframe(safe, **kwargs)
    missing = int(gdf.geometry.isna().sum()) if gdf.geometry.name in gdf else 0
    if missing:
        log.warning("%s: %d feature(s) have missing or undecodable geometry", source, missing)
    if fmt is not None and fmt.driver == "LIBKML":
        gdf = _drop_kml_noise(gdf)
    return gdf


@contextlib.contextmanager
def _decode_errors(encoding: str | None, source: str) -> Iterator[None]:
    """A wrong ``encoding`` is a one-line error naming it, not a traceback."""
    try:
        yield
    except (UnicodeDecodeError, LookupError) as exc:
        raise DataError(f"attribute text is not {encoding or 'in the detected encoding'} "
                        f"({exc.__class__.__name__}: {str(exc)[:80]}); pass the right --encoding "
                        "(e.g. GBK, UTF-8) or leave it out to detect it", source=source) from exc


def resolve_layer(path: str | Path, layer: str | None) -> str:
    """The name of the layer a read of ``path`` will use; checks that ``layer`` exists (cheaply).

    Returns the layer's real name whether or not it was given (``a.shp`` has
    one layer, ``a``), so that naming the only layer or not reads the same
    data under the same name (an import's identity depends on it).

    Raises
    ------
    DataError
        ``layer`` is not in the source (the message lists the layers), or
        several layers and none chosen.
    """
    path = Path(path)
    fmt = _check_source(path)
    if fmt is not None and fmt.driver == "CSV":
        if layer not in (None, path.stem):
            raise DataError(f"no layer {layer!r}; a CSV has one layer, {path.stem!r}",
                            source=str(path))
        return path.stem
    return _choose_layer(path, list_layers(path), layer)


def count_features(path: str | Path, layer: str | None = None) -> int | None:
    """Number of features in a layer as the driver reports it (None when it cannot tell cheaply)."""
    import pyogrio

    path = Path(path)
    fmt = _check_source(path)
    if fmt is not None and fmt.driver == "CSV":
        return None
    with _gdal_errors(path, fmt, layer), gdal_path(path) as safe:
        n = int(pyogrio.read_info(safe, layer=layer)["features"])
    return n if n >= 0 else None


def _drop_kml_noise(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    defaults = {"", "-1", "0", "None", "nan", "NaT", "<NA>"}
    drop = [
        c for c in _KML_NOISE
        if c in gdf.columns and (gdf[c].isna().all() or gdf[c].astype(str).isin(defaults).all())
    ]
    return gdf.drop(columns=drop)
