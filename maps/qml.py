"""QGIS styles (QML) from :class:`maps.styles.LayerStyle`: the web maps' colours in QGIS.

A GeoPackage written by :func:`gis.layer_writer.write_layer` (styled through
:mod:`maps.export.styling`) carries the QML in its
``layer_styles`` table (QGIS's own schema, ``useAsDefault = 1``), so the layer opens
styled; a Shapefile gets the same QML as a ``.qml`` file beside it, which QGIS loads
by default. The QML also holds the Chinese field aliases.

Examples
--------
>>> from maps.styles import style_for
>>> xml = to_qml(style_for("classes"), {"class": "评价等级"})
>>> "categorizedSymbol" in xml and 'name="评价等级"' in xml
True
"""

from __future__ import annotations

from collections.abc import Mapping
from xml.etree import ElementTree as ET

from maps.styles import LayerStyle

QGIS_VERSION = "3.28.0-Firenze"


def _rgba(colour: str, alpha: float = 1.0) -> str:
    colour = colour.lstrip("#")
    r, g, b = (int(colour[i:i + 2], 16) for i in (0, 2, 4))
    return f"{r},{g},{b},{round(alpha * 255)}"


def _option(parent: ET.Element, name: str, value: str) -> None:
    ET.SubElement(parent, "Option", {"type": "QString", "name": name, "value": value})


def _symbol(parent: ET.Element, name: str, colour: str, style: LayerStyle) -> None:
    if style.geometry == "point":
        symbol = ET.SubElement(parent, "symbol", {"type": "marker", "name": name, "alpha": "1",
                                                   "clip_to_extent": "1", "force_rhr": "0"})
        layer = ET.SubElement(symbol, "layer", {"class": "SimpleMarker", "pass": "0",
                                                 "locked": "0", "enabled": "1"})
        opts = ET.SubElement(layer, "Option", {"type": "Map"})
        _option(opts, "color", _rgba(colour, style.opacity))
        _option(opts, "name", "circle")
        _option(opts, "outline_color", _rgba(style.outline))
        _option(opts, "outline_width", "0.2")
        _option(opts, "size", "3")
        _option(opts, "size_unit", "MM")
        return
    symbol = ET.SubElement(parent, "symbol", {"type": "fill", "name": name, "alpha": "1",
                                               "clip_to_extent": "1", "force_rhr": "0"})
    layer = ET.SubElement(symbol, "layer", {"class": "SimpleFill", "pass": "0", "locked": "0",
                                             "enabled": "1"})
    opts = ET.SubElement(layer, "Option", {"type": "Map"})
    _option(opts, "color", _rgba(colour, style.opacity))
    _option(opts, "outline_color", _rgba(style.outline))
    _option(opts, "outline_style", "solid")
    _option(opts, "outline_width", "0.1")
    _option(opts, "outline_width_unit", "MM")
    _option(opts, "style", "solid")


def _renderer(root: ET.Element, style: LayerStyle, fields: Mapping[str, str]) -> None:
    if style.kind == "single":
        renderer = ET.SubElement(root, "renderer-v2", {"type": "singleSymbol", "symbollevels": "0",
                                                       "forceraster": "0", "enableorderby": "0"})
        _symbol(ET.SubElement(renderer, "symbols"), "0", style.colours[0], style)
        return
    attr = style.field or ""
    if style.kind == "categorized":
        renderer = ET.SubElement(root, "renderer-v2", {
            "type": "categorizedSymbol", "attr": attr, "symbollevels": "0",
            "forceraster": "0", "enableorderby": "0"})
        cats = ET.SubElement(renderer, "categories")
        symbols = ET.SubElement(renderer, "symbols")
        for i, cat in enumerate(style.categories):
            ET.SubElement(cats, "category", {"render": "true", "symbol": str(i),
                                             "value": cat.value, "label": cat.zh,
                                             "type": "string"})
            _symbol(symbols, str(i), cat.colour, style)
        other = str(len(style.categories))
        ET.SubElement(cats, "category", {"render": "true", "symbol": other, "value": "",
                                         "label": "其他", "type": "string"})
        from maps.styles import OTHER_COLOUR

        _symbol(symbols, other, OTHER_COLOUR, style)
        return
    renderer = ET.SubElement(root, "renderer-v2", {
        "type": "graduatedSymbol", "attr": attr, "graduatedMethod": "GraduatedColor",
        "symbollevels": "0", "forceraster": "0", "enableorderby": "0"})
    ranges = ET.SubElement(renderer, "ranges")
    symbols = ET.SubElement(renderer, "symbols")
    lower = style.lower if style.lower is not None else -1e300
    for i, (upper, colour) in enumerate(zip(style.breaks, style.colours, strict=True)):
        label = f"≤ {upper:g}" if style.lower is None and i == 0 else f"{lower:g} – {upper:g}"
        ET.SubElement(ranges, "range", {"render": "true", "symbol": str(i), "lower": repr(lower),
                                        "upper": repr(upper), "label": label})
        _symbol(symbols, str(i), colour, style)
        lower = upper


def to_qml(style: LayerStyle, aliases: Mapping[str, str], *,
           field_map: Mapping[str, str] | None = None) -> str:
    """A QGIS style document for a layer drawn with ``style``.

    Parameters
    ----------
    style : LayerStyle
    aliases : mapping
        Field name (as written in the file) -> alias shown by QGIS.
    field_map : mapping, optional
        Column name -> field name in the file, when the writer renamed fields
        (Shapefile's 10-byte limit); the renderer's attribute follows it.

    Returns
    -------
    str
        The QML document (UTF-8 text).
    """
    if field_map and style.field in field_map:
        from dataclasses import replace

        style = replace(style, field=field_map[style.field])
    root = ET.Element("qgis", {"version": QGIS_VERSION, "styleCategories": "AllStyleCategories"})
    _renderer(root, style, aliases)
    config = ET.SubElement(root, "fieldConfiguration")
    alias_el = ET.SubElement(root, "aliases")
    for index, (name, text) in enumerate(aliases.items()):
        field = ET.SubElement(config, "field", {"name": name, "configurationFlags": "None"})
        widget = ET.SubElement(field, "editWidget", {"type": "TextEdit"})
        ET.SubElement(ET.SubElement(widget, "config"), "Option")
        ET.SubElement(alias_el, "alias", {"field": name, "index": str(index), "name": text})
    ET.SubElement(root, "layerOpacity").text = "1"
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + body + "\n"
