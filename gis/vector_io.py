"""Vector files in and out: any OGR source read, a few standard formats written.

Reading goes through pyogrio (GDAL) with Arrow where it helps, plus the
awkward parts land bureaus' files need:

* **Shapefile text encoding**: a ``.cpg`` is honoured; without one the
  encoding is detected from the ``.dbf`` bytes (GBK vs UTF-8, see
  :mod:`gis.encodings`). Zipped Shapefiles (``.zip``) are read in place.
* **CSV** with a WKT column or coordinate columns (``x/y``, ``lon/lat``,
  ``lng/lat``, ``经度/纬度`` …), in UTF-8 or GBK, read with pandas. A CSV has no
  CRS of its own; a ``.prj`` beside it (the GeoCSV convention GDAL follows) or
  ``crs=`` supplies one.
* **One layer at a time**: a file with several layers needs ``layer=``.
* **Clear errors** naming the file and layer: missing or empty file,
  unsupported format (listing :data:`SUPPORTED_FORMATS`), corrupt file,
  zero features, no CRS (``--crs``).

Writing is atomic (:func:`gis.atomic.atomic_output`) and never overwrites
without ``overwrite=True``. GeoJSON is written per RFC 7946 (EPSG:4326);
Shapefiles get a UTF-8 ``.cpg``, field names cut to 10 bytes and text to 254
bytes *with a warning listing every change*; FlatGeobuf gets its spatial
index (unless some geometries are missing); CSV gets a ``wkt`` column, UTF-8 with BOM (Excel opens it) and a ``.prj``.
"""

from __future__ import annotations

import contextlib
import logging
import re
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from gis.atomic import atomic_output
from gis.crs import ensure_crs
from gis.errors import CRSError, DataError, DriverError, EmptyInputError, OutputExistsError

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class VectorFormat:
    """One file format mujun knows by its suffix."""

    name: str
    driver: str
    read: bool
    write: bool
    multi_layer: bool = False


#: Suffix -> format. Drives driver choice, the writers and the error messages.
#: Other OGR sources are still tried on read (GDAL detects them by content).
SUPPORTED_FORMATS: dict[str, VectorFormat] = {
    ".gpkg": VectorFormat("GeoPackage", "GPKG", read=True, write=True, multi_layer=True),
    ".shp": VectorFormat("Shapefile", "ESRI Shapefile", read=True, write=True),
    ".zip": VectorFormat("zipped Shapefile", "ESRI Shapefile", read=True, write=False, multi_layer=True),
    ".geojson": VectorFormat("GeoJSON", "GeoJSON", read=True, write=True),
    ".json": VectorFormat("GeoJSON or TopoJSON", "GeoJSON", read=True, write=False, multi_layer=True),
    ".topojson": VectorFormat("TopoJSON", "TopoJSON", read=True, write=False, multi_layer=True),
    ".geojsonl": VectorFormat("GeoJSON sequence", "GeoJSONSeq", read=True, write=False),
    ".geojsons": VectorFormat("GeoJSON sequence", "GeoJSONSeq", read=True, write=False),
    ".fgb": VectorFormat("FlatGeobuf", "FlatGeobuf", read=True, write=True),
    ".gdb": VectorFormat("FileGDB", "OpenFileGDB", read=True, write=False, multi_layer=True),
    ".kml": VectorFormat("KML", "LIBKML", read=True, write=False, multi_layer=True),
    ".kmz": VectorFormat("KMZ", "LIBKML", read=True, write=False, multi_layer=True),
    ".csv": VectorFormat("CSV (WKT or x/y columns)", "CSV", read=True, write=True),
}

#: Column names (lower case) that hold WKT geometry in a CSV.
CSV_WKT_COLUMNS: tuple[str, ...] = ("wkt", "geometry", "geom", "the_geom", "wkt_geom", "shape", "几何")
#: (x, y) column name pairs (lower case) that hold coordinates in a CSV, in order of preference.
CSV_XY_COLUMNS: tuple[tuple[str, str], ...] = (
    ("x", "y"), ("lon", "lat"), ("lng", "lat"), ("long", "lat"), ("longitude", "latitude"),
    ("经度", "纬度"), ("东经", "北纬"), ("x坐标", "y坐标"), ("point_x", "point_y"),
    ("easting", "northing"),
)
#: Housekeeping fields the LIBKML driver adds; dropped when they carry nothing.
_KML_NOISE = ("id", "timestamp", "begin", "end", "altitudeMode", "tessellate", "extrude",
              "visibility", "drawOrder", "icon", "snippet")

#: Drivers read without Arrow: GDAL 3.12's Arrow reader of FlatGeobuf crashes on null geometries.
_NO_ARROW_DRIVERS = frozenset({"FlatGeobuf"})

#: Shapefile limits (bytes).
SHP_FIELD_NAME_BYTES = 10
SHP_TEXT_BYTES = 254


def _formats_text(kind: str = "read") -> str:
    seen: dict[str, list[str]] = {}
    for suffix, fmt in SUPPORTED_FORMATS.items():
        if getattr(fmt, kind):
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
                f"supported: {_formats_text('read')}",
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
    >>> _ = write_vector(gdf, p)
    >>> read_vector(p).loc[0, "name"], read_vector(p).crs.to_epsg()
    ('黄桥镇', 4549)
    """
    path = Path(path)
    fmt = _check_source(path)
    if fmt is not None and fmt.driver == "CSV":
        if layer not in (None, path.stem):
            raise DataError(f"no layer {layer!r}; a CSV has one layer, {path.stem!r}", source=str(path))
        gdf = _read_csv(path, encoding=encoding, columns=columns)
        if skip or limit is not None:
            gdf = gdf.iloc[skip: None if limit is None else skip + limit]
        source = str(path)
    else:
        layers = list_layers(path)
        layer = _choose_layer(path, layers, layer)
        source = _source_name(path, layer if len(layers) > 1 or fmt is None or fmt.multi_layer else None)
        if path.suffix.lower() == ".shp":
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


def shapefile_record_counts(path: str | Path) -> dict[str, int]:
    """Records each part of a Shapefile holds: ``.shx`` index entries, ``.dbf`` header and data.

    Examples
    --------
    >>> import tempfile, pathlib, geopandas as gpd, shapely
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.shp"
    >>> _ = write_vector(gpd.GeoDataFrame({"n": [1, 2]}, geometry=[shapely.Point(0, 0)] * 2, crs=4326), p)
    >>> shapefile_record_counts(p)
    {'shx': 2, 'dbf_header': 2, 'dbf_data': 2}
    """
    import struct

    path = Path(path)
    counts: dict[str, int] = {}
    stem = str(path)[: -len(path.suffix)]
    for suffix in (".shx", ".SHX"):
        shx = Path(stem + suffix)
        if shx.exists():
            counts["shx"] = max(0, (shx.stat().st_size - 100) // 8)
            break
    for suffix in (".dbf", ".DBF"):
        dbf = Path(stem + suffix)
        if dbf.exists():
            with open(dbf, "rb") as fh:
                head = fh.read(12)
            if len(head) == 12:
                n_records, header_len, record_len = struct.unpack("<IHH", head[4:12])
                counts["dbf_header"] = int(n_records)
                size = dbf.stat().st_size
                counts["dbf_data"] = max(0, (size - header_len) // record_len) if record_len else 0
            break
    return counts


def check_shapefile_parts(path: str | Path) -> None:
    """Refuse a Shapefile whose ``.shp``/``.shx`` and ``.dbf`` disagree on the record count.

    A ``.dbf`` cut short (a copy interrupted, a size limit of a mail or USB
    stick) would otherwise load its first records silently.

    Raises
    ------
    DataError
        Naming the file and both counts.
    """
    counts = shapefile_record_counts(path)
    shx, header, data = counts.get("shx"), counts.get("dbf_header"), counts.get("dbf_data")
    if header is not None and data is not None and data < header:
        raise DataError(
            f"the .dbf is truncated: its header announces {header} records but it holds only "
            f"{data}{f' (the .shx indexes {shx} shapes)' if shx is not None else ''}; copy the "
            "complete file again", source=str(path))
    if shx is not None and header is not None and shx != header:
        raise DataError(
            f"the parts disagree: the .shx indexes {shx} shapes but the .dbf holds {header} "
            "records; the Shapefile is incomplete or its parts come from different versions",
            source=str(path))


def _drop_kml_noise(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    defaults = {"", "-1", "0", "None", "nan", "NaT", "<NA>"}
    drop = [
        c for c in _KML_NOISE
        if c in gdf.columns and (gdf[c].isna().all() or gdf[c].astype(str).isin(defaults).all())
    ]
    return gdf.drop(columns=drop)


# --------------------------------------------------------------------------- CSV


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


def _read_csv(path: Path, *, encoding: str | None, columns: Sequence[str] | None) -> gpd.GeoDataFrame:
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
    crs = _read_prj(path)
    return gpd.GeoDataFrame(attrs, geometry=gpd.GeoSeries(geoms, index=attrs.index), crs=crs)


def _read_prj(path: Path) -> Any:
    from pyproj import CRS
    from pyproj.exceptions import CRSError as ProjCRSError

    for prj in (path.with_suffix(".prj"), path.with_suffix(".PRJ")):
        if prj.exists():
            try:
                return CRS.from_user_input(prj.read_text(encoding="utf-8", errors="replace"))
            except ProjCRSError as exc:
                raise CRSError(f"unreadable CRS in {prj.name}: {exc}", source=str(path)) from exc
    return None


# --------------------------------------------------------------------------- writing


def _format_for_write(path: Path, driver: str | None) -> VectorFormat:
    writable = {s: f for s, f in SUPPORTED_FORMATS.items() if f.write}
    if driver is not None:
        key = driver.lower().lstrip(".")
        for suffix, fmt in writable.items():
            if key in (suffix[1:], fmt.driver.lower(), fmt.name.lower()):
                return fmt
        raise DriverError(
            f"cannot write with driver {driver!r}; writable formats: {_formats_text('write')}",
            source=str(path),
        )
    fmt = writable.get(path.suffix.lower())
    if fmt is None:
        raise DriverError(
            f"cannot write {path.suffix or 'files without a suffix'}; "
            f"writable formats: {_formats_text('write')}",
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
