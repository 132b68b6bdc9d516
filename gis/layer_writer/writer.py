"""The one layer writer: every layer or table mujun writes goes through :func:`write_layer`.

Formats (chosen by the output's suffix, :data:`FORMATS`):

========  =====================================================================
.gpkg     GeoPackage; other layers of an existing file are kept. With a styler
          (``maps`` passes one) the layer's QGIS style and Chinese aliases go
          into the ``layer_styles`` table, used as default style
.shp      Shapefile with ``.cpg`` (UTF-8, or GBK with ``encoding="gbk"``), field
          names within 10 *bytes of the chosen encoding*, an alias table
          ``NAME.aliases.csv`` (field, original column, Chinese, English) and,
          with a styler, the QGIS style as ``NAME.qml`` (QGIS loads it by default)
.geojson  GeoJSON per RFC 7946: WGS84 longitude/latitude, whatever ``crs`` says
.kml      KML (WGS84); with a styler each feature's fill colour
.gdb      Esri FileGDB through GDAL's OpenFileGDB driver (GDAL ≥ 3.6 writes it);
          other feature classes of an existing FileGDB are kept
.csv      UTF-8 with BOM (Excel shows Chinese), geometry as a ``wkt`` column
          plus a ``.prj``; text that a spreadsheet would run as a formula is
          prefixed with ``'`` (:mod:`gis.layer_writer.cells`)
.xlsx     Chinese column headers (the aliases), centroid longitude/latitude, a
          sheet explaining every column; every text cell is a string cell
========  =====================================================================

Every output is written atomically (:mod:`gis.atomic`) and never replaces an existing
one without ``overwrite``. A folder that is not the layer's own output is never removed.

The writer knows no domain word and no map style: callers pass their field table
(:mod:`gis.layer_writer.fields`) and, from ``maps``, a :class:`Styler`.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import json
import logging
import math
import sqlite3
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from gis.atomic import SHAPEFILE_SIDECARS, atomic_output
from gis.errors import ConfigError, DataError, DriverError, OutputError, OutputExistsError
from gis.layer_writer.cells import csv_safe, risky
from gis.layer_writer.fields import FieldInfo, alias
from gis.layer_writer.shapefile import shapefile_safe

if TYPE_CHECKING:
    import geopandas as gpd

log = logging.getLogger(__name__)


class Styler(Protocol):
    """How a layer is drawn, supplied by the caller (``maps.export.styling``).

    ``qml`` returns a QGIS style document for the fields as written (``aliases``:
    field name in the file -> alias; ``field_map``: column -> field name when the
    writer renamed fields); ``feature_styles`` returns one OGR style string per row
    of ``frame`` (KML fill colours) or None.
    """

    def qml(self, aliases: Mapping[str, str], field_map: Mapping[str, str] | None = None
            ) -> str: ...

    def feature_styles(self, frame: Any) -> list[str] | None: ...


@dataclass
class WriteJob:
    """What a format writer gets: the frame as it should be written and its metadata."""

    frame: gpd.GeoDataFrame
    layer: str
    styler: Styler | None
    title: str
    encoding: str
    source: str
    aliases: dict[str, str] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)
    fields: Mapping[str, FieldInfo] = field(default_factory=dict)
    sheets: dict[str, Any] = field(default_factory=dict)

    def alias(self, name: str, lang: str = "zh") -> str:
        """The column's alias in the caller's field table."""
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
    #: Holds several layers; writing one keeps the others.
    multi_layer: bool = False
    #: The output is a folder (FileGDB).
    folder: bool = False


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


# --------------------------------------------------------------------------- formats

def _write_gpkg(job: WriteJob, tmp: Path) -> None:
    _ogr(job.frame, tmp, "GPKG", job.source, layer=job.layer)
    if job.styler is not None:
        add_layer_style(tmp, job.layer, job.styler.qml(job.aliases), title=job.title)


def add_layer_style(path: Path, layer: str, qml: str, *, title: str = "",
                    geometry_column: str = "geom") -> None:
    """Store ``qml`` as the default QGIS style of ``layer`` in a GeoPackage.

    Uses QGIS's own ``layer_styles`` table (created and registered in
    ``gpkg_contents`` as an attributes table when missing); the layer's earlier
    style rows are replaced, other layers' rows kept.
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
    attrs = _attributes(job.frame)
    out, names = shapefile_safe(job.frame, encoding=encoding, source=job.source)
    _ogr(out, tmp, "ESRI Shapefile", job.source, encoding=encoding.upper())
    cpg = Path(str(tmp)[:-4] + ".cpg")
    cpg.write_text("GBK" if encoding.lower() in ("gbk", "cp936") else "UTF-8", encoding="ascii")
    buffer = io.StringIO()
    table = csv.writer(buffer)
    table.writerow(["field", "column", "alias_zh", "alias_en"])
    for old, new in names.items():
        table.writerow([new, old, job.alias(old, "zh"), job.alias(old, "en")])
    Path(str(tmp)[:-4] + ".aliases.csv").write_text(buffer.getvalue(), encoding="utf-8-sig")
    if job.styler is not None:
        qml = job.styler.qml({names[c]: job.alias(c) for c in attrs}, field_map=names)
        Path(str(tmp)[:-4] + ".qml").write_text(qml, encoding="utf-8")
    job.info["renamed"] = {old: new for old, new in names.items() if old != new}


def _write_geojson(job: WriteJob, tmp: Path) -> None:
    _ogr(job.frame.to_crs(4326), tmp, "GeoJSON", job.source, layer=job.layer,
         layer_options={"RFC7946": "YES", "WRITE_NAME": "NO"})


def _write_kml(job: WriteJob, tmp: Path) -> None:
    frame = job.frame.to_crs(4326)
    styles = job.styler.feature_styles(frame) if job.styler is not None else None
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
    _ogr(job.frame, tmp, "OpenFileGDB", job.source, layer=job.layer,
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
    # CRLF rows, as Excel writes them: a field holding a CR or LF is then quoted
    csv_safe(table, skip=("wkt",)).to_csv(tmp, index=False, encoding="utf-8-sig",
                                          lineterminator="\r\n")


# --------------------------------------------------------------------------- XLSX

def _xlsx_value(value: Any, ws: Any) -> Any:
    """A workbook cell for ``value``: numbers stay numbers, text is always a string cell."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    if value is None:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, bool | int):
        return value
    if isinstance(value, dt.datetime):
        if value != value:  # NaT
            return None
        if hasattr(value, "to_pydatetime"):
            value = value.to_pydatetime()
        return value.replace(tzinfo=None)
    if isinstance(value, dt.date | dt.time):
        return value
    if isinstance(value, list | dict | tuple):
        value = json.dumps(value, ensure_ascii=False, default=str)
    elif not isinstance(value, str):
        with contextlib.suppress(TypeError, ValueError):
            if value != value:  # pd.NA, NaT
                return None
        value = str(value)
    value = ILLEGAL_CHARACTERS_RE.sub("", value)
    if not risky(value):
        return value
    cell = WriteOnlyCell(ws, value=value)
    cell.data_type = "s"    # text, never a formula
    return cell


def _xlsx_sheet(wb: Any, name: str, headers: list[str], rows: Iterator[tuple[Any, ...]],
                *, widths: bool = True) -> None:
    ws = wb.create_sheet(name)
    if widths:
        from openpyxl.utils import get_column_letter

        for i, header in enumerate(headers, start=1):
            ws.column_dimensions[get_column_letter(i)].width = max(10, min(40,
                                                                           len(header) * 2 + 2))
    ws.freeze_panes = "A2"
    ws.append([_xlsx_value(h, ws) for h in headers])
    for row in rows:
        ws.append([_xlsx_value(v, ws) for v in row])


def _sheet_name(text: str) -> str:
    for bad in "[]:*?/\\":
        text = text.replace(bad, " ")
    return text[:31]


def _write_xlsx(job: WriteJob, tmp: Path) -> None:
    import pandas as pd
    from openpyxl import Workbook

    frame = job.frame
    geom = getattr(frame, "_geometry_column_name", None)
    table = pd.DataFrame(frame.drop(columns=[geom]) if geom else frame)
    if geom and len(frame):
        points = frame.geometry.representative_point().to_crs(4326)
        table = table.assign(lon=points.x.round(7).to_numpy(), lat=points.y.round(7).to_numpy())
    columns = [str(c) for c in table.columns]
    headers = [{"lon": "经度", "lat": "纬度"}.get(c) if c in ("lon", "lat") and geom
               else job.alias(c) for c in columns]
    wb = Workbook(write_only=True)
    _xlsx_sheet(wb, _sheet_name(job.title or job.layer), headers,
                table.itertuples(index=False, name=None))
    for name, extra in job.sheets.items():
        _xlsx_sheet(wb, _sheet_name(name), [str(c) for c in extra.columns],
                    extra.itertuples(index=False, name=None))
    english = [("longitude" if c == "lon" else "latitude") if c in ("lon", "lat") and geom
               else job.alias(c, "en") for c in columns]
    _xlsx_sheet(wb, "字段说明", ["字段", "列名", "英文"],
                iter(zip(headers, columns, english, strict=True)))
    wb.save(tmp)


#: Suffix -> format; ``mujun export -o`` picks by suffix, ``--help`` lists these.
FORMATS: dict[str, Format] = {f.suffix: f for f in (
    Format(".gpkg", "GeoPackage (QGIS style in layer_styles)", _write_gpkg, driver="GPKG",
           multi_layer=True),
    Format(".shp", "Shapefile (+ .cpg, .qml, .aliases.csv)", _write_shapefile,
           sidecars=(*SHAPEFILE_SIDECARS, ".qml", ".aliases.csv"), driver="ESRI Shapefile"),
    Format(".geojson", "GeoJSON (RFC 7946, WGS84)", _write_geojson, wgs84_only=True,
           driver="GeoJSON"),
    Format(".kml", "KML (WGS84, styled)", _write_kml, wgs84_only=True, driver="LIBKML"),
    Format(".gdb", "Esri FileGDB (OpenFileGDB)", _write_gdb, driver="OpenFileGDB",
           multi_layer=True, folder=True),
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


def _is_filegdb(path: Path) -> bool:
    """Whether a folder is an Esri FileGDB (its system catalogue is ``a00000001.gdbtable``)."""
    return path.is_dir() and (path / "a00000001.gdbtable").is_file()


def _existing_layers(path: Path, fmt: Format, overwrite: bool) -> list[str] | None:
    """Layers of an existing multi-layer output (None: no output there to keep).

    Raises
    ------
    OutputError
        Something else is in the way: a folder where a file belongs, or a folder that
        is not a FileGDB where one belongs; it is never removed.
    OutputExistsError
        A file of another format, without ``overwrite``.
    """
    import os

    if not os.path.lexists(path):
        return None
    if fmt.folder and not _is_filegdb(path):
        raise OutputError(f"{path}: a folder or file that is not a FileGDB is in the way; "
                          "mujun never removes it: choose another name or move it away")
    if not fmt.folder and path.is_dir():
        raise _folder_in_the_way(path)
    import pyogrio

    try:
        return [str(name) for name, _ in pyogrio.list_layers(path)]
    except Exception as exc:  # any GDAL failure means: not this format
        if overwrite and path.is_file():
            return None        # a file that is no GeoPackage: --overwrite replaces it whole
        raise OutputExistsError(f"{path}：文件已存在且不是 {fmt.name}（{exc}）；加 "
                                "--overwrite 才会替换") from exc


def _folder_in_the_way(path: Path) -> OutputError:
    return OutputError(f"{path} is a folder; mujun never removes a folder it did not write: "
                       "choose another file name or move the folder away")


def write_layer(frame: Any, path: str | Path, *, layer: str, styler: Styler | None = None,
                title: str = "", crs: int | str | None = None, encoding: str = "utf-8",
                overwrite: bool = False, fields: Mapping[str, FieldInfo] | None = None,
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
    styler : Styler, optional
        QGIS style (GeoPackage, Shapefile) and KML colours; ``maps`` supplies it.
    title : str
        Human title (style description, XLSX sheet name).
    crs : EPSG code or CRS text, optional
        Reproject first (GeoJSON and KML are always WGS84).
    encoding : {"utf-8", "gbk"}
        Shapefile text encoding (other formats are UTF-8).
    overwrite : bool
        Replace an existing output; in a GeoPackage or FileGDB only the layer
        ``layer`` is replaced (a new layer is added without it) and the others kept.
    fields : mapping of str to FieldInfo, optional
        The caller's field table: aliases (XLSX headers, QGIS aliases, the Shapefile
        alias table) of its columns.
    sheets : dict of str to DataFrame, optional
        Further XLSX sheets after the layer's (other formats ignore them).

    Returns
    -------
    dict
        ``path``, ``format``, ``layer``, ``rows``, ``columns`` written and, for a
        Shapefile, ``renamed``.

    Raises
    ------
    DriverError, ConfigError, DataError, OutputExistsError, OutputError

    Examples
    --------
    >>> import tempfile, pathlib, pandas as pd
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "t.csv"
    >>> info = write_layer(pd.DataFrame({"name": ["=1+1"], "n": [2]}), out, layer="t")
    >>> out.read_text(encoding="utf-8-sig").splitlines()
    ['name,n', "'=1+1,2"]
    """
    path = Path(path)
    fmt = format_for(path)
    source = str(path)
    if encoding.lower() not in ("utf-8", "utf8", "gbk", "cp936"):
        raise ConfigError(f"{path}: encoding {encoding!r}; use utf-8 or gbk")
    if encoding.lower() not in ("utf-8", "utf8") and fmt.suffix != ".shp":
        raise ConfigError(f"{path}: --encoding applies to Shapefiles only")
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
    job = WriteJob(frame=frame, layer=layer, styler=styler, title=title or layer,
                   encoding=encoding.lower(), source=source,
                   aliases={str(c): alias(str(c), "zh", fields) for c in _attributes(frame)},
                   fields=fields, sheets=sheets or {})
    layers = _existing_layers(path, fmt, overwrite) if fmt.multi_layer else None
    if layers is not None:
        if layer in layers and not overwrite:
            raise OutputExistsError(f"{path}：图层 {layer} 已存在；加 --overwrite 只替换该图层"
                                    "（文件中的其他图层保留）")
        context = atomic_output(path, start_from_existing=True)
    else:
        if path.is_dir() and not path.is_symlink():
            raise _folder_in_the_way(path)
        context = atomic_output(path, overwrite, sidecars=fmt.sidecars or None,
                                folder_mark=not fmt.folder)
    with context as tmp:
        fmt.write(job, tmp)
    log.info("wrote %d rows of %s to %s", len(frame), layer, path)
    return {"path": str(path), "format": fmt.name, "layer": layer, "rows": len(frame),
            "columns": [str(c) for c in _attributes(frame)], **job.info}
