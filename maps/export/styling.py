"""The maps package's styles handed to the one layer writer (:class:`gis.layer_writer.Styler`).

:class:`MapStyler` turns a :class:`maps.styles.LayerStyle` (the web maps' colours) into
a QGIS style document (:func:`maps.qml.to_qml`: GeoPackage ``layer_styles``, Shapefile
``.qml``) and into one OGR feature style per row (KML fill colours).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from maps.styles import LayerStyle


@dataclass(frozen=True)
class MapStyler:
    """A :class:`gis.layer_writer.Styler` drawing a layer as the web maps do."""

    style: LayerStyle

    def qml(self, aliases: Mapping[str, str], field_map: Mapping[str, str] | None = None
            ) -> str:
        """The QGIS style document for the fields as written."""
        from maps.qml import to_qml

        return to_qml(self.style, aliases, field_map=field_map)

    def feature_styles(self, frame: Any) -> list[str]:
        """One OGR style string per row: fill colour of its class, the style's outline."""
        style = self.style
        values = (frame[style.field] if style.field in frame.columns
                  else [None] * len(frame))
        outline = style.outline.lstrip("#")
        # OGR feature style: colours as #RRGGBBAA
        return [f'BRUSH(fc:#{style.colour_for(v).lstrip("#")}c0);PEN(c:#{outline}ff,w:1px)'
                for v in values]


def styler(style: LayerStyle | None) -> MapStyler | None:
    """``MapStyler(style)``, or None for an unstyled layer."""
    return None if style is None else MapStyler(style)
