"""folium elements of mujun's pages: tiled polygon layers, heat layer, title/legends/probe."""

from __future__ import annotations

from typing import Any

import numpy as np
from branca.element import MacroElement
from folium.map import Layer
from jinja2 import Template

from maps.web.script_json import script_json


class TiledLayer(Layer):
    """A tiled polygon layer (``mujun.tiledLayer``) listed in the layer control."""

    _template = Template("""
{% macro script(this, kwargs) %}
var {{ this.get_name() }} = mujun.tiledLayer({{ this._parent.get_name() }}, {{ this.config_json }});
{% endmacro %}
""")

    def __init__(self, config: dict[str, Any], name: str, show: bool = True):
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "MujunTiles"
        self.config_json = script_json(config)


class HeatLayer(Layer):
    """Leaflet.heat over (lat, lon, weight) points."""

    _template = Template("""
{% macro script(this, kwargs) %}
var {{ this.get_name() }} = L.heatLayer({{ this.points_json }},
    {radius: 14, blur: 18, minOpacity: 0.25, maxZoom: 15, max: 1.0,
     gradient: {{ this.gradient_json }}});
{% endmacro %}
""")

    def __init__(self, points: np.ndarray, name: str, show: bool = True):
        from maps.styles import HEAT_GRADIENT

        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "MujunHeat"
        rounded = np.round(np.asarray(points, dtype="float64"), 5).tolist()
        self.points_json = script_json(rounded)
        self.gradient_json = script_json({str(k): v for k, v in HEAT_GRADIENT.items()})


class MapSetup(MacroElement):
    """Title, legends, and handles for tests: ``window.mujunMap``, ``mujun.probe``."""

    _template = Template("""
{% macro script(this, kwargs) %}
window.mujunMap = {{ this._parent.get_name() }};
mujun.probe = {{ this.probe_json }};
mujun.tiled = {{ this.layers_json }};
mujun.title({{ this._parent.get_name() }}, {{ this.title_json }});
{% for legend in this.legends %}mujun.legend({{ this._parent.get_name() }}, {{ legend }});
{% endfor %}
{% endmacro %}
""")

    def __init__(self, title: str, subtitle: str, legends: list[dict[str, Any]],
                 probe: list[float] | None, layers: list[str]):
        super().__init__()
        self._name = "MujunSetup"
        self.title_json = script_json({"title": title, "subtitle": subtitle})
        self.legends = [script_json(lg) for lg in legends]
        self.probe_json = script_json(probe)
        self.layers_json = script_json(layers)
