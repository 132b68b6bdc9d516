"""The JavaScript and CSS the pages inline, installed from the npm registry at set-up.

``scripts/bootstrap.sh webassets`` (part of ``make setup``) runs ``npm ci`` in
``maps/web/`` with the committed ``package.json``/``package-lock.json``:
Leaflet 1.9.4, Leaflet.VectorGrid 1.3.0 and Leaflet.heat 0.2.0. Nothing is fetched
at run time: a page carries these files inline (images in the CSS as data URIs), so
it makes no request outside the machine. ``MUJUN_WEB_ASSETS`` points at another
``node_modules`` folder (e.g. on an installed system).
"""

from __future__ import annotations

import base64
import os
import re
from functools import cache
from pathlib import Path

from gis.errors import ConfigError

HERE = Path(__file__).resolve().parent

#: name -> path inside node_modules
FILES: dict[str, str] = {
    "leaflet.js": "leaflet/dist/leaflet.js",
    "leaflet.css": "leaflet/dist/leaflet.css",
    "vectorgrid.js": "leaflet.vectorgrid/dist/Leaflet.VectorGrid.bundled.min.js",
    "heat.js": "leaflet.heat/dist/leaflet-heat.js",
}


def node_modules() -> Path:
    """The folder holding the installed packages."""
    env = os.environ.get("MUJUN_WEB_ASSETS")
    return Path(env) if env else HERE / "node_modules"


@cache
def asset(name: str) -> str:
    """Text of an installed asset (CSS with its images inlined as data URIs).

    Raises
    ------
    ConfigError
        The npm packages are not installed (run the set-up step).
    """
    path = node_modules() / FILES[name]
    if not path.is_file():
        raise ConfigError(
            f"web map assets are not installed ({path} is missing); run "
            "`scripts/bootstrap.sh webassets` (part of `make setup`), which installs "
            "Leaflet and its plugins from the npm registry")
    text = path.read_text(encoding="utf-8")
    if name.endswith(".css"):
        text = _inline_images(text, path.parent)
    # a page must not point anywhere: drop source-map comments
    return re.sub(r"//# sourceMappingURL=\S+", "", text)


def _inline_images(css: str, folder: Path) -> str:
    def repl(match: re.Match[str]) -> str:
        ref = match.group(1).strip("'\"")
        if ref.startswith(("data:", "#")):
            return match.group(0)
        data = (folder / ref).read_bytes()
        return f"url(data:image/png;base64,{base64.b64encode(data).decode('ascii')})"

    return re.sub(r"url\(([^)]+)\)", repl, css)


@cache
def own(name: str) -> str:
    """Text of one of mujun's own page files (``maps/web/js/…``)."""
    return (HERE / "js" / name).read_text(encoding="utf-8")
