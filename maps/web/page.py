"""Write a map page: folium + Leaflet, every asset inline, data embedded or beside the page.

A page is ``OUT.html`` and, when its data is larger than ``inline_limit_mb``, a folder
``OUT_files/`` with one small JavaScript file per tile and per chunk of popup rows,
loaded with ``<script>`` tags as the view needs them (a page opened from ``file://``
cannot ``fetch()`` neighbouring files in Chromium, but it can load scripts). Leaflet,
Leaflet.VectorGrid, Leaflet.heat and mujun's own script and styles are inlined, so
the page makes no request outside the machine with the ``none`` and ``ortho``
basemaps. folium's default CDN links (jQuery, Bootstrap, Font Awesome, awesome
markers) are removed: the page does not use them.
"""

from __future__ import annotations

import logging
import math
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from gis.atomic import atomic_output, check_replaceable, existing_members, is_own_folder
from gis.errors import DataError, OutputExistsError
from maps.styles import OTHER_COLOUR, OUTLINE_COLOUR, LayerStyle
from maps.web.script_json import script_json
from maps.web.tiles import TileOptions, tile_pyramid

if TYPE_CHECKING:
    import geopandas as gpd

    from maps.web.basemaps import Basemap

log = logging.getLogger(__name__)

CHUNK = 5000          # popup rows per attribute script
#: What makes a browser request another host: script/img/iframe src, stylesheet links,
#: CSS url() and @import (an <a href> link is only followed when clicked).
EXTERNAL_REQUEST = re.compile(
    r"""<(?:script|img|iframe|source|embed)\b[^>]*\ssrc\s*=\s*["']?((?:https?:)?//[^"'\s>]+)"""
    r"""|<link\b[^>]*\shref\s*=\s*["']?((?:https?:)?//[^"'\s>]+)"""
    r"""|url\(\s*["']?((?:https?:)?//[^"')\s]+)|@import\s+["']((?:https?:)?//[^"']+)""",
    re.IGNORECASE)


def external_requests(html: str) -> list[str]:
    """URLs of other hosts a page's markup and CSS would load."""
    return sorted({next(g for g in m.groups() if g) for m in EXTERNAL_REQUEST.finditer(html)})


@dataclass
class PolygonLayer:
    """A polygon layer drawn from tiles, coloured by an integer key per feature."""

    id: str
    name: str
    frame: gpd.GeoDataFrame
    keys: np.ndarray
    style: LayerStyle
    colours: list[str]
    key_labels: list[str]
    columns: list[str]
    labels: list[str]
    rows: list[list[Any]]
    values: np.ndarray | None = None
    breaks: np.ndarray | None = None
    show: bool = True


@dataclass
class MapSpec:
    """Everything a page shows (built by :mod:`maps.web.kinds`)."""

    kind: str
    title: str
    subtitle: str
    layers: list[PolygonLayer] = field(default_factory=list)
    towns: gpd.GeoDataFrame | None = None
    towns_name: str = "镇街"
    towns_fields: list[str] = field(default_factory=list)
    towns_aliases: list[str] = field(default_factory=list)
    towns_style: LayerStyle | None = None
    heat: np.ndarray | None = None          # lat, lon, weight
    heat_name: str = "heat"
    legends: list[dict[str, Any]] = field(default_factory=list)
    lang: str = "zh"


def side_folder(path: Path) -> Path:
    """The folder beside a page that holds its tiles (``OUT_files``)."""
    return path.with_name(path.stem + "_files")


def _display(frame: gpd.GeoDataFrame, basemap: Basemap) -> gpd.GeoDataFrame:
    """WGS84 display copy, shifted to GCJ-02 for Gaode tiles."""
    wgs = frame.to_crs(4326)
    if basemap.offset:
        from gis.chinese_offsets import display_copy

        wgs = display_copy(wgs, basemap.offset)
    return wgs


def _tile_script(layer_id: str, z: int, x: int, y: int, tile: Any) -> str:
    f, r, c = tile.encoded()
    return f"mujun.tile({script_json(layer_id)},{z},{x},{y},{script_json([f, r, c])[1:-1]});\n"


def _attr_script(layer_id: str, chunk: int, rows: list[list[Any]]) -> str:
    return f"mujun.attrs({script_json(layer_id)},{chunk},{script_json(rows)});\n"


def _clean(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, float | np.floating):
        return None if not math.isfinite(value) else round(float(value), 4)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, str):
        return value
    if value != value:  # NaN, NaT
        return None
    return str(value)


def popup_rows(frame: Any, columns: list[str]) -> list[list[Any]]:
    """Rows for popups: JSON-able values, NaN as None, floats rounded."""
    out = []
    for row in frame[columns].itertuples(index=False, name=None):
        out.append([_clean(v) for v in row])
    return out


def write_page(spec: MapSpec, path: str | Path, *, basemap: Basemap,
               tile_options: TileOptions | None = None, inline_limit_mb: float = 8.0,
               overwrite: bool = False) -> dict[str, Any]:
    """Write ``spec`` as an offline page (see the module docstring).

    Returns
    -------
    dict
        ``path``, ``files`` (the side folder or None), ``bytes`` (page + folder),
        ``tiles``, ``features``, ``inline`` and ``external_requests`` (URLs the page
        would request: only from a basemap the user chose).
    """
    import folium

    from maps.web import assets

    tile_options = tile_options or TileOptions()
    path = Path(path)
    side = side_folder(path)
    check_replaceable(path)
    check_replaceable(side)   # a folder of that name that mujun did not write stays
    if not overwrite:
        for target in (path, side):
            if existing_members(target):
                raise OutputExistsError(f"{target}：已存在；加 --overwrite 才会替换")
    # -- data -----------------------------------------------------------------------
    scripts: dict[str, str] = {}              # relative file -> script text
    configs = []
    bounds = None
    n_tiles = n_features = 0
    for layer in spec.layers:
        wgs = _display(layer.frame, basemap)
        merc = wgs.to_crs(3857)
        geoms = np.asarray(merc.geometry.values)
        tiles = tile_pyramid(geoms, layer.keys, values=layer.values, breaks=layer.breaks,
                             n_keys=len(layer.colours), options=tile_options)
        for (z, x, y), tile in tiles.items():
            scripts[f"{layer.id}/{z}/{x}/{y}.js"] = _tile_script(layer.id, z, x, y, tile)
        for chunk in range(0, max(1, math.ceil(len(layer.rows) / CHUNK))):
            part = layer.rows[chunk * CHUNK:(chunk + 1) * CHUNK]
            scripts[f"{layer.id}/a/{chunk}.js"] = _attr_script(layer.id, chunk, part)
        n_tiles += len(tiles)
        n_features += len(layer.frame)
        if len(wgs):
            b = wgs.total_bounds
            bounds = b if bounds is None else np.r_[np.minimum(bounds[:2], b[:2]),
                                                     np.maximum(bounds[2:], b[2:])]
        configs.append({
            "id": layer.id, "name": layer.name, "index": {f"{z}/{x}/{y}": 1
                                                          for (z, x, y) in tiles},
            "extent": tile_options.extent, "maxNative": tile_options.max_native,
            "minZoom": tile_options.min_zoom, "colours": layer.colours,
            "other": OTHER_COLOUR, "outline": OUTLINE_COLOUR, "opacity": layer.style.opacity,
            "keyLabels": layer.key_labels,
            "otherLabel": "无数据" if spec.lang == "zh" else "no data",
            "cellText": "本格 {n} 宗地" if spec.lang == "zh" else "{n} parcels in this cell",
            "columns": layer.columns, "labels": layer.labels, "chunk": CHUNK,
            "show": layer.show,
        })
    towns_wgs = _display(spec.towns, basemap) if spec.towns is not None else None
    if bounds is None and towns_wgs is not None and len(towns_wgs):
        bounds = towns_wgs.total_bounds
    if bounds is None:
        raise DataError(f"the {spec.kind} map has nothing to show: no features in the database")
    data_bytes = sum(len(s) for s in scripts.values())
    inline = data_bytes <= inline_limit_mb * 1e6
    for cfg in configs:
        cfg["base"] = f"{side.name}/{cfg['id']}"
    # -- page ------------------------------------------------------------------------
    centre = [(bounds[1] + bounds[3]) / 2, (bounds[0] + bounds[2]) / 2]
    m = folium.Map(location=centre, zoom_start=13, tiles=None, control_scale=True,
                   prefer_canvas=True, min_zoom=tile_options.min_zoom, max_zoom=20)
    m.default_js = []   # folium's CDN links: none of them is used, none may be requested
    m.default_css = []
    root = m.get_root()
    root.title = spec.title
    header = [("<meta charset='utf-8'>", "charset"),
              (f"<style>{assets.asset('leaflet.css')}</style>", "leaflet_css"),
              (f"<style>{assets.own('mujun-map.css')}</style>", "mujun_css"),
              (f"<script>{assets.asset('leaflet.js')}</script>", "leaflet_js"),
              (f"<script>{assets.asset('vectorgrid.js')}</script>", "vectorgrid_js")]
    if spec.heat is not None:
        header.append((f"<script>{assets.asset('heat.js')}</script>", "heat_js"))
    header.append((f"<script>{assets.own('mujun-map.js')}</script>", "mujun_js"))
    if inline:
        header.append(("<script>" + "".join(scripts.values()) + "</script>", "mujun_data"))
    for html, name in header:
        root.header.add_child(folium.Element(html), name=name)
    _add_basemap(m, basemap, spec.lang, side.name)
    from maps.web.elements import HeatLayer, MapSetup, TiledLayer

    for cfg in configs:
        TiledLayer(cfg, name=cfg["name"], show=cfg["show"]).add_to(m)
    if spec.heat is not None and len(spec.heat):
        HeatLayer(spec.heat, name=spec.heat_name).add_to(m)
    probe = _probe(spec, towns_wgs, basemap)
    if towns_wgs is not None:
        _add_towns(m, spec, towns_wgs)
    folium.LayerControl(collapsed=False).add_to(m)
    MapSetup(title=spec.title, subtitle=spec.subtitle, legends=spec.legends,
             probe=probe, layers=[c["id"] for c in configs]).add_to(m)
    m.fit_bounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]],
                 max_zoom=tile_options.max_native)
    html = m.get_root().render()
    external = external_requests(html)
    if basemap.offline and external:
        raise DataError(f"internal error: the page would request {external}; "
                        "every asset must be inline")
    # -- files -----------------------------------------------------------------------
    with atomic_output(path, overwrite) as tmp:
        tmp.write_text(html, encoding="utf-8")
    total = path.stat().st_size
    if not inline:
        with atomic_output(side, overwrite) as tmp_dir:
            for rel, text in scripts.items():
                target = tmp_dir / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text, encoding="utf-8")
            if basemap.name == "ortho" and basemap.url:
                _copy_ortho(basemap, tmp_dir, side)
        total += sum(p.stat().st_size for p in side.rglob("*") if p.is_file())
    elif basemap.name == "ortho" and basemap.url:
        with atomic_output(side, overwrite) as tmp_dir:
            tmp_dir.mkdir()
            _copy_ortho(basemap, tmp_dir, side)
        total += sum(p.stat().st_size for p in side.rglob("*") if p.is_file())
    elif overwrite and is_own_folder(side):
        shutil.rmtree(side)   # the earlier page's tiles, stale now that data is inline
    return {"path": str(path), "files": None if inline and basemap.name != "ortho"
            else str(side), "bytes": total, "data_bytes": data_bytes, "tiles": n_tiles,
            "features": n_features, "inline": inline, "external_requests": external}


def _copy_ortho(basemap: Basemap, tmp_dir: Path, side: Path) -> None:
    """Move prepared orthophoto tiles (``basemap.url`` points at a staging folder)."""
    staging = Path(basemap.url.split("/{z}")[0])  # type: ignore[union-attr]
    if staging.is_dir() and staging.resolve() != (side / "ortho").resolve():
        shutil.copytree(staging, tmp_dir / "ortho")


def _add_basemap(m: Any, basemap: Basemap, lang: str, side_name: str) -> None:
    import folium

    if basemap.name == "none" or basemap.url is None:
        return
    url = basemap.url
    if basemap.name == "ortho":
        url = side_name + "/ortho/{z}/{x}/{y}.jpg"
    options: dict[str, Any] = {"max_native_zoom": basemap.max_native, "max_zoom": 20,
                               "subdomains": basemap.subdomains}
    if basemap.bounds:
        options["bounds"] = [list(basemap.bounds[0]), list(basemap.bounds[1])]
        options["min_zoom"] = basemap.min_zoom
        options["min_native_zoom"] = basemap.min_zoom
    name = {"ortho": "正射影像" if lang == "zh" else "Orthophoto",
            "tianditu": "天地图影像" if lang == "zh" else "Tianditu imagery",
            "gaode": "高德地图" if lang == "zh" else "Gaode",
            "xyz": "底图" if lang == "zh" else "Basemap"}.get(basemap.name, basemap.name)
    folium.TileLayer(tiles=url, attr=basemap.attribution, name=name, overlay=False,
                     **options).add_to(m)
    if basemap.overlay_url:
        folium.TileLayer(tiles=basemap.overlay_url, attr=basemap.attribution,
                         name="注记" if lang == "zh" else "Labels", overlay=True,
                         subdomains=basemap.subdomains).add_to(m)


def _probe(spec: MapSpec, towns: Any, basemap: Basemap) -> list[float] | None:
    """A point inside a clickable feature (for tests and the benchmark)."""
    import shapely

    frame = None
    if spec.layers and len(spec.layers[0].frame):
        layer = spec.layers[0]
        areas = layer.frame.geometry.area.to_numpy()
        pick = int(np.argmax(areas))
        frame = _display(layer.frame.iloc[[pick]], basemap)
    elif towns is not None and len(towns):
        frame = towns.iloc[[int(np.argmax(towns.to_crs(3857).area.to_numpy()))]]
    if frame is None:
        return None
    point = shapely.point_on_surface(frame.geometry.values[0])
    return [point.y, point.x]


def _add_towns(m: Any, spec: MapSpec, towns: Any) -> None:
    import folium

    fields = [f for f in spec.towns_fields if f in towns.columns]
    aliases = [spec.towns_aliases[spec.towns_fields.index(f)] for f in fields]
    data = towns[[*fields, towns.geometry.name]].copy()
    for f in fields:
        if data[f].dtype.kind == "f":
            data[f] = data[f].round(2)
        elif data[f].dtype == object:   # folium's popup inserts values as HTML
            data[f] = data[f].map(lambda v: _html_escape(v) if isinstance(v, str) else v)
    style = spec.towns_style
    interactive = not spec.layers     # above parcel tiles the towns are outlines and labels

    def style_function(feature: dict) -> dict:
        if style is None:
            # outline only: clicks inside reach the parcels below
            return {"fill": False, "color": "#3949ab", "weight": 2, "dashArray": "6 4"}
        value = feature["properties"].get(style.field)
        return {"fillColor": style.colour_for(value), "fillOpacity": 0.7, "color": "#333333",
                "weight": 1.2}

    group = folium.FeatureGroup(name=spec.towns_name, show=True).add_to(m)
    kwargs: dict[str, Any] = {}
    if interactive:
        kwargs = {"highlight_function": lambda f: {"weight": 3, "color": "#000000"},
                  "popup": folium.GeoJsonPopup(fields=fields, aliases=aliases, localize=True,
                                               labels=True)}
    else:
        kwargs = {"interactive": False}
    folium.GeoJson(data.to_json(na="null", drop_id=True), style_function=style_function,
                   control=False, smooth_factor=1.0, **kwargs).add_to(group)
    import shapely

    for town, point in zip(towns["town"], shapely.point_on_surface(towns.geometry.values),
                           strict=True):
        if not town:
            continue
        icon = folium.DivIcon(html=f"<div class='mujun-town-label'>{_html_escape(town)}</div>",
                              icon_size=(120, 18), icon_anchor=(60, 9))
        folium.Marker([point.y, point.x], icon=icon, interactive=False).add_to(group)


def _html_escape(text: str) -> str:
    import html

    return html.escape(str(text))
