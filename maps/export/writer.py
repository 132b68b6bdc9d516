"""The one layer writer: every export command writes its layers through :func:`write_layer`.

Formats (chosen by the output's suffix, :data:`FORMATS`):

========  =====================================================================
.gpkg     GeoPackage; the layer's QGIS style (same colours as the web maps) and
          Chinese aliases in the ``layer_styles`` table, used as default style
.shp      Shapefile with ``.cpg`` (UTF-8, or GBK with ``encoding="gbk"``), field
          names within 10 *bytes of the chosen encoding*, an alias table
          ``NAME.aliases.csv`` (field, original column, Chinese, English) and the
          QGIS style as ``NAME.qml`` (QGIS loads it by default)
.geojson  GeoJSON per RFC 7946: WGS84 longitude/latitude, whatever ``crs`` says
.kml      KML (WGS84) with each feature's fill colour from the style
.gdb      Esri FileGDB through GDAL's OpenFileGDB driver (GDAL ≥ 3.6 writes it)
.csv      UTF-8 with BOM (Excel shows Chinese), geometry as a ``wkt`` column
          plus a ``.prj``
.xlsx     Chinese column headers (the aliases), centroid longitude/latitude, and
          a second sheet explaining every column
========  =====================================================================

Every output is written atomically and never replaces an existing one without
``overwrite``. ``desensitize`` applies :mod:`maps.export.desensitize` first.
"""

from __future__ import annotations

import csv
import io
import logging
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from gis.atomic import SHAPEFILE_SIDECARS, atomic_output
from gis.errors import ConfigError, DataError, DriverError
from maps.fields import FieldInfo, alias

if TYPE_CHECKING:
    import geopandas as gpd

    from maps.styles import LayerStyle

log = logging.getLogger(__name__)

SHP_FIELD_BYTES = 10
SHP_TEXT_BYTES = 254


@dataclass
class WriteJob:
    """What a format writer gets: the frame as it should be written and its metadata."""

    frame: gpd.GeoDataFrame
    layer: str
    style: LayerStyle | None
    title: str
    encoding: str
    source: str
    aliases: dict[str, str] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)
    fields: dict[str, FieldInfo] = field(default_factory=dict)
    sheets: dict[str, Any] = field(default_factory=dict)

    def alias(self, name: str, lang: str = "zh") -> str:
        """The column's alias from :data:`maps.fields.FIELDS` and the layer's own fields."""
        return alias(name, lang, self.fields)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Format:
    """One output format."""

    suffix: str
    name: str
    write: Callable[[WriteJob, Path], None]
    sidecars: tuple[str, ...] = ()
    wgs84_only: bool = False
    driver: str | None = None


# --------------------------------------------------------------------------- helpers

def _ogr(frame: Any, tmp: Path, driver: str, source: str, **kwargs: Any) -> None:
    import pyogrio
    from pyogrio.errors import DataLayerError, DataSourceError, FieldError, GeometryError

    try:
        pyogrio.write_dataframe(frame, tmp, driver=driver, **kwargs)
    except (DataSourceError, DataLayerError, FieldError, GeometryError) as exc:
        raise DataError(f"cannot write {driver}: {exc}", source=source) from exc


def _attributes(frame: Any) -> list[str]:
    geom = getattr(frame, "_geometry_column_name", None)
    return [c for c in frame.columns if c != geom]


def _cut(text: str, limit: int, encoding: str) -> str:
    return text.encode(encoding)[:limit].decode(encoding, errors="ignore")


def shapefile_field_names(names: list[str], encoding: str = "utf-8") -> dict[str, str]:
    """Unique field names of at most 10 bytes *in the Shapefile's encoding*.

    A Chinese character takes 3 bytes in UTF-8 and 2 in GBK, so ``建筑系数`` fits a
    GBK Shapefile (8 bytes) but not a UTF-8 one (12 bytes). Clashes (compared
    case-insensitively, as dBASE does) are numbered.

    Examples
    --------
    >>> shapefile_field_names(["parcel_code", "建筑系数"], "gbk")
    {'parcel_code': 'parcel_cod', '建筑系数': '建筑系数'}
    >>> shapefile_field_names(["parcel_code", "建筑系数"], "utf-8")
    {'parcel_code': 'parcel_cod', '建筑系数': '建筑系'}
    """
    result: dict[str, str] = {}
    used: set[str] = set()
    for name in names:
        if len(name.encode(encoding)) <= SHP_FIELD_BYTES and name.lower() not in used:
            result[name] = name
            used.add(name.lower())
    for name in names:
        if name in result:
            continue
        candidate = _cut(name, SHP_FIELD_BYTES, encoding)
        n = 0
        while candidate.lower() in used:
            n += 1
            candidate = _cut(name, SHP_FIELD_BYTES - len(f"_{n}"), encoding) + f"_{n}"
        result[name] = candidate
        used.add(candidate.lower())
    return {name: result[name] for name in names}


def _check_encoding(frame: Any, encoding: str, source: str) -> None:
    for column in _attributes(frame):
        series = frame[column]
        if series.dtype != object and str(series.dtype) not in ("string", "str"):
            continue
        for row, value in enumerate(series):
            if isinstance(value, str):
                try:
                    value.encode(encoding)
                except UnicodeEncodeError:
                    raise DataError(
                        f"field {column}, row {row + 1}: {value!r} cannot be written in "
                        f"{encoding.upper()}; write the Shapefile as UTF-8 (the default)",
                        source=source) from None


# --------------------------------------------------------------------------- formats

def _write_gpkg(job: WriteJob, tmp: Path) -> None:
    _ogr(job.frame, tmp, "GPKG", job.source, layer=job.layer)
    if job.style is not None:
        from maps.qml import to_qml

        qml = to_qml(job.style, job.aliases)
        add_layer_style(tmp, job.layer, qml, title=job.title)


def add_layer_style(path: Path, layer: str, qml: str, *, title: str = "",
                    geometry_column: str = "geom") -> None:
    """Store ``qml`` as the default QGIS style of ``layer`` in a GeoPackage.

    Uses QGIS's own ``layer_styles`` table (created and registered in
    ``gpkg_contents`` as an attributes table when missing).
    """
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE IF NOT EXISTS layer_styles ("
            "id INTEGER PRIMARY KEY AUTOINCREMENT, f_table_catalog TEXT(256), "
            "f_table_schema TEXT(256), f_table_name TEXT(256), f_geometry_column TEXT(256), "
            "styleName TEXT(30), styleQML TEXT, styleSLD TEXT, useAsDefault BOOLEAN, "
            "description TEXT, owner TEXT(30), ui TEXT(30), "
            "update_time DATETIME DEFAULT CURRENT_TIMESTAMP)")
        db.execute(
            "INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier) "
            "SELECT 'layer_styles', 'attributes', 'layer_styles' WHERE NOT EXISTS "
            "(SELECT 1 FROM gpkg_contents WHERE table_name = 'layer_styles')")
        row = db.execute("SELECT column_name FROM gpkg_geometry_columns WHERE table_name = ?",
                         (layer,)).fetchone()
        geom = row[0] if row else geometry_column
        db.execute("DELETE FROM layer_styles WHERE f_table_name = ?", (layer,))
        db.execute(
            "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, "
            "f_geometry_column, styleName, styleQML, styleSLD, useAsDefault, description, "
            "owner, ui) VALUES ('', '', ?, ?, ?, ?, '', 1, ?, 'mujun', '')",
            (layer, geom, layer, qml, title))


def _write_shapefile(job: WriteJob, tmp: Path) -> None:
    encoding = job.encoding
    frame = job.frame
    _check_encoding(frame, encoding, job.source)
    attrs = _attributes(frame)
    names = shapefile_field_names([str(c) for c in attrs], encoding)
    renamed = {old: new for old, new in names.items() if old != new}
    out = frame.rename(columns=renamed) if renamed else frame.copy()
    for column in names.values():
        series = out[column]
        if series.dtype == object:
            long = series.map(lambda v: isinstance(v, str)
                              and len(v.encode(encoding)) > SHP_TEXT_BYTES)
            if long.any():
                out.loc[long, column] = series[long].map(
                    lambda v: _cut(v, SHP_TEXT_BYTES, encoding))
                log.warning("%s: %d value(s) of %s cut to %d bytes", job.source,
                            int(long.sum()), column, SHP_TEXT_BYTES)
    _ogr(out, tmp, "ESRI Shapefile", job.source, encoding=encoding.upper())
    cpg = Path(str(tmp)[:-4] + ".cpg")
    cpg.write_text("GBK" if encoding.lower() in ("gbk", "cp936") else "UTF-8", encoding="ascii")
    buffer = io.StringIO()
    table = csv.writer(buffer)
    table.writerow(["field", "column", "alias_zh", "alias_en"])
    for old, new in names.items():
        table.writerow([new, old, job.alias(old, "zh"), job.alias(old, "en")])
    Path(str(tmp)[:-4] + ".aliases.csv").write_text(buffer.getvalue(), encoding="utf-8-sig")
    if job.style is not None:
        from maps.qml import to_qml

        qml = to_qml(job.style, {names[c]: job.alias(c) for c in attrs}, field_map=names)
        Path(str(tmp)[:-4] + ".qml").write_text(qml, encoding="utf-8")
    job.info["renamed"] = renamed


def _write_geojson(job: WriteJob, tmp: Path) -> None:
    _ogr(job.frame.to_crs(4326), tmp, "GeoJSON", job.source, layer=job.layer,
         layer_options={"RFC7946": "YES", "WRITE_NAME": "NO"})


def _kml_style(job: WriteJob) -> Any:
    style = job.style
    if style is None:
        return None
    values = job.frame[style.field] if style.field in job.frame.columns else [None] * len(job.frame)
    out = []
    for value in values:
        colour = style.colour_for(value).lstrip("#")
        # OGR feature style: colours as #RRGGBBAA
        out.append(f'BRUSH(fc:#{colour}c0);PEN(c:#{style.outline.lstrip("#")}ff,w:1px)')
    return out


def _write_kml(job: WriteJob, tmp: Path) -> None:
    frame = job.frame.to_crs(4326)
    styles = _kml_style(job)
    if styles is not None:
        frame = frame.assign(OGR_STYLE=styles)
    # LIBKML shows a field called "name" as each placemark's title (read back as "Name")
    _ogr(frame, tmp, "LIBKML", job.source, layer=job.layer)


def _gdb_writable() -> bool:
    import pyogrio

    return "w" in pyogrio.list_drivers().get("OpenFileGDB", "")


def _write_gdb(job: WriteJob, tmp: Path) -> None:
    if not _gdb_writable():
        import pyogrio

        raise DriverError(
            f"this GDAL ({pyogrio.__gdal_version_string__}) cannot write FileGDB: the "
            "OpenFileGDB driver writes from GDAL 3.6; export .gpkg (ArcGIS Pro reads it) "
            "or upgrade GDAL", source=job.source)
    frame = job.frame
    _ogr(frame, tmp, "OpenFileGDB", job.source, layer=job.layer,
         layer_options={"TARGET_ARCGIS_VERSION": "ARCGIS_PRO_3_2_OR_LATER"})


def _write_csv(job: WriteJob, tmp: Path) -> None:
    import shapely

    frame = job.frame
    geom = getattr(frame, "_geometry_column_name", None)
    table = frame.drop(columns=[geom]) if geom else frame
    if geom:
        if "wkt" in table.columns:
            raise DataError("a column named 'wkt' clashes with the geometry column",
                            source=job.source)
        table = table.copy()
        table.insert(0, "wkt", shapely.to_wkt(np.asarray(frame.geometry.values),
                                              rounding_precision=-1))
        Path(str(tmp)[:-4] + ".prj").write_text(frame.crs.to_wkt(), encoding="utf-8")
    table.to_csv(tmp, index=False, encoding="utf-8-sig")


def _write_xlsx(job: WriteJob, tmp: Path) -> None:
    import pandas as pd

    frame = job.frame
    geom = getattr(frame, "_geometry_column_name", None)
    table = pd.DataFrame(frame.drop(columns=[geom]) if geom else frame).copy()
    if geom and len(frame):
        points = frame.geometry.representative_point().to_crs(4326)
        table["lon"] = points.x.round(7)
        table["lat"] = points.y.round(7)
    for column in table.columns:  # openpyxl refuses time-zone aware datetimes
        if isinstance(table[column].dtype, pd.DatetimeTZDtype):
            table[column] = table[column].dt.tz_localize(None)
    headers = {c: job.alias(c) if c not in ("lon", "lat") else {"lon": "经度", "lat": "纬度"}[c]
               for c in table.columns}
    explain = pd.DataFrame({"字段": list(headers.values()), "列名": list(headers),
                            "英文": [job.alias(c, "en") for c in headers]})
    sheet = (job.title or job.layer)[:31]
    for bad in "[]:*?/\\":
        sheet = sheet.replace(bad, " ")
    with pd.ExcelWriter(tmp, engine="openpyxl") as writer:
        table.rename(columns=headers).to_excel(writer, index=False, sheet_name=sheet)
        for name, extra in job.sheets.items():
            extra.to_excel(writer, index=False, sheet_name=name[:31])
        explain.to_excel(writer, index=False, sheet_name="字段说明")
        ws = writer.sheets[sheet]
        ws.freeze_panes = "A2"
        for i, header in enumerate(headers.values(), start=1):
            letter = ws.cell(row=1, column=i).column_letter
            ws.column_dimensions[letter].width = max(10, min(40, len(header) * 2 + 2))


#: Suffix -> format; ``mujun export -o`` picks by suffix, ``--help`` lists these.
FORMATS: dict[str, Format] = {f.suffix: f for f in (
    Format(".gpkg", "GeoPackage (QGIS style in layer_styles)", _write_gpkg, driver="GPKG"),
    Format(".shp", "Shapefile (+ .cpg, .qml, .aliases.csv)", _write_shapefile,
           sidecars=(*SHAPEFILE_SIDECARS, ".qml", ".aliases.csv"), driver="ESRI Shapefile"),
    Format(".geojson", "GeoJSON (RFC 7946, WGS84)", _write_geojson, wgs84_only=True,
           driver="GeoJSON"),
    Format(".kml", "KML (WGS84, styled)", _write_kml, wgs84_only=True, driver="LIBKML"),
    Format(".gdb", "Esri FileGDB (OpenFileGDB)", _write_gdb, driver="OpenFileGDB"),
    Format(".csv", "CSV (UTF-8 with BOM, wkt column)", _write_csv, sidecars=(".prj",)),
    Format(".xlsx", "Excel workbook (Chinese headers)", _write_xlsx),
)}


def format_for(path: Path) -> Format:
    """The format of an output path, by suffix.

    Raises
    ------
    DriverError
        Unknown suffix (the message lists the writable ones).
    """
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise DriverError(f"cannot write {path.suffix or 'a file without suffix'}; "
                          f"use one of {', '.join(FORMATS)}", source=str(path))
    return fmt


def write_layer(frame: Any, path: str | Path, *, layer: str, style: LayerStyle | None = None,
                title: str = "", crs: int | str | None = None, desensitize: bool = False,
                encoding: str = "utf-8", overwrite: bool = False,
                fields: dict[str, FieldInfo] | None = None,
                sheets: dict[str, Any] | None = None) -> dict[str, Any]:
    """Write one layer (a GeoDataFrame, or a DataFrame for tables) in the format of ``path``.

    Parameters
    ----------
    frame : GeoDataFrame or DataFrame
        The layer; a GeoDataFrame must have a CRS.
    path : path-like
        Output; its suffix picks the format (:data:`FORMATS`).
    layer : str
        Layer name (GeoPackage table, KML folder, FileGDB feature class).
    style : LayerStyle, optional
        Colours for QGIS (GeoPackage, Shapefile) and KML.
    title : str
        Human title (style description, XLSX sheet name).
    crs : EPSG code or CRS text, optional
        Reproject first (GeoJSON and KML are always WGS84).
    desensitize : bool
        Mask names and credit codes, drop confidential figures
        (:mod:`maps.export.desensitize`).
    encoding : {"utf-8", "gbk"}
        Shapefile text encoding (other formats are UTF-8).
    overwrite : bool
        Replace an existing output.
    fields : dict of str to FieldInfo, optional
        The layer's own columns (aliases and treatment) beside :data:`maps.fields.FIELDS`,
        e.g. a rule set's indicators.
    sheets : dict of str to DataFrame, optional
        Further XLSX sheets after the layer's (other formats ignore them; dropped when
        ``desensitize``).

    Returns
    -------
    dict
        ``path``, ``format``, ``layer``, ``rows``, ``columns`` written and, when they
        apply, ``renamed`` (Shapefile) and ``desensitized`` (what was masked/dropped).

    Raises
    ------
    DriverError, ConfigError, DataError, OutputExistsError
    """
    path = Path(path)
    fmt = format_for(path)
    source = str(path)
    if encoding.lower() not in ("utf-8", "utf8", "gbk", "cp936"):
        raise ConfigError(f"{path}: encoding {encoding!r}; use utf-8 or gbk")
    if encoding.lower() not in ("utf-8", "utf8") and fmt.suffix != ".shp":
        raise ConfigError(f"{path}: --encoding applies to Shapefiles only")
    info: dict[str, Any] = {}
    if desensitize:
        from maps.export.desensitize import desensitize as mask

        frame, info["desensitized"] = mask(frame, fields)
        sheets = None
    geom = getattr(frame, "_geometry_column_name", None)
    if geom is not None:
        if frame.crs is None:
            raise DataError(f"layer {layer} has no CRS", source=source)
        if crs is not None:
            if fmt.wgs84_only and str(crs) not in ("4326", "EPSG:4326"):
                raise ConfigError(f"{path}: {fmt.name} is always WGS84 (EPSG:4326); "
                                  "drop --crs or pick another format")
            frame = frame.to_crs(crs)
    elif fmt.suffix in (".gpkg", ".shp", ".geojson", ".kml", ".gdb"):
        raise ConfigError(f"{path}: layer {layer} has no geometry; write .csv or .xlsx")
    fields = fields or {}
    job = WriteJob(frame=frame, layer=layer, style=style, title=title or layer,
                   encoding=encoding.lower(), source=source,
                   aliases={str(c): alias(str(c), "zh", fields) for c in _attributes(frame)},
                   info=info, fields=fields, sheets=sheets or {})
    with atomic_output(path, overwrite, sidecars=fmt.sidecars or None) as tmp:
        fmt.write(job, tmp)
    log.info("wrote %d rows of %s to %s", len(frame), layer, path)
    return {"path": str(path), "format": fmt.name, "layer": layer, "rows": len(frame),
            "columns": [str(c) for c in _attributes(frame)], **job.info}
