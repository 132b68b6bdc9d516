"""``mujun map``: one function for web pages (.html) and report figures (.png/.pdf/.svg)."""

from __future__ import annotations

import logging
import os
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gis.errors import ConfigError

if TYPE_CHECKING:
    import psycopg

    from maps.web.kinds import MapOptions
    from maps.web.tiles import TileOptions

log = logging.getLogger(__name__)

PAGE_SUFFIXES = (".html", ".htm")
FIGURE_SUFFIXES = (".png", ".pdf", ".svg")
#: The map's parcels as a GIS layer (popup fields, the legend's style stored with it).
LAYER_SUFFIXES = (".gpkg",)


def make_map(conn: psycopg.Connection, kind: str, path: str | Path, *,
             options: MapOptions | None = None, basemap: str = "none",
             basemap_url: str | None = None, tianditu_token: str | None = None,
             ortho: str | Path | None = None, paper: str = "A4", dpi: int = 300,
             inline_limit_mb: float = 8.0, tile_options: TileOptions | None = None,
             overwrite: bool = False) -> dict[str, Any]:
    """Write map ``kind`` to ``path``: a page for ``.html``, a figure for ``.png/.pdf/.svg``,
    the map's layer (popup fields, QGIS style) for ``.gpkg``.

    Parameters
    ----------
    conn : psycopg.Connection
    kind : str
        A key of :data:`maps.web.kinds.KINDS`.
    path : path-like
    options : MapOptions
        Language, per-mu field, classification scheme and classes, run, year.
    basemap : {"none", "ortho", "tianditu", "gaode", "xyz"}
        Pages only. ``ortho`` cuts ``ortho`` (the survey orthophoto) into local tiles.
    basemap_url, tianditu_token : str, optional
        For ``xyz`` and ``tianditu`` (the token also from ``MUJUN_TIANDITU_TOKEN``).
    paper : {"A4", "A3", "A4-portrait", "A3-portrait"}
        Figures only; ``dpi`` likewise.
    inline_limit_mb : float
        Pages whose data is larger are written with a ``_files`` folder beside them.
    overwrite : bool

    Returns
    -------
    dict
        What was written, with ``seconds``.
    """
    from maps.web.kinds import MapOptions, build_spec

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in PAGE_SUFFIXES + FIGURE_SUFFIXES + LAYER_SUFFIXES:
        raise ConfigError(f"{path}：请写成网页（.html）、图件（.png、.pdf、.svg）或图层"
                          "（.gpkg）")
    options = options or MapOptions()
    start = time.perf_counter()
    spec = build_spec(conn, kind, options)
    if suffix in FIGURE_SUFFIXES:
        from maps.figure import write_figure

        info = write_figure(spec, path, paper=paper, dpi=dpi, overwrite=overwrite)
    elif suffix in LAYER_SUFFIXES:
        info = _write_layer(spec, path, overwrite=overwrite)
    else:
        info = _write_page(spec, path, basemap=basemap, basemap_url=basemap_url,
                           token=tianditu_token or os.environ.get("MUJUN_TIANDITU_TOKEN"),
                           ortho=ortho, inline_limit_mb=inline_limit_mb,
                           tile_options=tile_options, overwrite=overwrite)
    info.update(kind=kind, title=spec.title, seconds=round(time.perf_counter() - start, 2))
    log.info("wrote the %s map to %s", kind, path)
    return info


def _write_layer(spec, path: Path, *, overwrite: bool) -> dict[str, Any]:
    """The map's first layer: its popup fields (labels as aliases), geometry and style."""
    from gis.layer_writer import FieldInfo, write_layer
    from maps.export.styling import styler

    if not spec.layers:
        raise ConfigError(f"{path}: 该图种（{spec.kind}）没有宗地图层，不能写成 .gpkg；"
                          "请写成网页（.html）或图片（.png/.pdf/.svg）")
    layer = spec.layers[0]
    columns = list(dict.fromkeys([*layer.columns, layer.style.field]))
    columns = [c for c in columns if c in layer.frame]
    frame = layer.frame[[*columns, layer.frame.geometry.name]]
    labels = dict(zip(layer.columns, layer.labels, strict=True))
    fields = {c: FieldInfo(c, labels.get(c, c), labels.get(c, c)) for c in columns}
    info = write_layer(frame, path, layer=spec.kind.replace("-", "_"), styler=styler(layer.style),
                       title=spec.title, overwrite=overwrite, fields=fields)
    info["bytes"] = path.stat().st_size
    return info


def _write_page(spec, path: Path, *, basemap: str, basemap_url, token, ortho,
                inline_limit_mb: float, tile_options, overwrite: bool) -> dict[str, Any]:
    from maps.web.basemaps import basemap as resolve
    from maps.web.basemaps import ortho_tiles
    from maps.web.page import write_page
    from maps.web.tiles import TileOptions

    tile_options = tile_options or TileOptions()
    if basemap == "ortho":
        if ortho is None:
            raise ConfigError("--basemap ortho needs --ortho IMAGE (the survey orthophoto)")
        with tempfile.TemporaryDirectory(dir=path.parent if path.parent.exists() else None,
                                         prefix=".ortho-") as staging:
            tiles = ortho_tiles(ortho, staging)
            chosen = resolve("ortho", ortho_dir=staging, ortho_info=tiles)
            return write_page(spec, path, basemap=chosen, tile_options=tile_options,
                              inline_limit_mb=inline_limit_mb, overwrite=overwrite)
    chosen = resolve(basemap, url=basemap_url, token=token)
    return write_page(spec, path, basemap=chosen, tile_options=tile_options,
                      inline_limit_mb=inline_limit_mb, overwrite=overwrite)
