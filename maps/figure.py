"""Report figures: ``mujun map KIND -o OUT.png|pdf|svg`` (matplotlib).

A page of A4 or A3 (landscape by default) with the map in the working CRS (metres, so
the scale bar is true), title, legend, scale bar, north arrow, the towns with their
names, and a footer with source, date and coordinate system. Chinese text is set in
Noto Sans CJK SC (Debian's ``fonts-noto-cjk``, installed by ``scripts/bootstrap.sh
fonts``); without it the figure is refused rather than drawn with empty boxes. PDF
embeds the glyphs it uses as a Type 3 font (outlines; the text stays searchable and
copyable). Type 42, the TrueType embedding, would make matplotlib subset the 20 MB font
collection on every save, about 3 s a figure. SVG keeps text as text (editable in
Inkscape/Illustrator) with the font named; PNG is rendered at ``dpi`` (300 by default).
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from gis.atomic import atomic_output
from gis.errors import ConfigError
from maps.styles import OTHER_COLOUR

if TYPE_CHECKING:
    from maps.web.page import MapSpec

log = logging.getLogger(__name__)

#: Paper name -> (width, height) in millimetres.
PAPERS = {"A4": (297.0, 210.0), "A3": (420.0, 297.0), "A4-portrait": (210.0, 297.0),
          "A3-portrait": (297.0, 420.0)}
CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans CJK JP", "Source Han Sans SC", "WenQuanYi Zen Hei",
             "Noto Sans SC")
MM = 1 / 25.4


def cjk_font() -> str:
    """Name of an installed font with Chinese glyphs.

    Raises
    ------
    ConfigError
        None installed: run ``scripts/bootstrap.sh fonts`` (Debian ``fonts-noto-cjk``).
    """
    from matplotlib import font_manager

    names = {f.name for f in font_manager.fontManager.ttflist}
    for name in CJK_FONTS:
        if name in names:
            return name
    raise ConfigError("未安装中文字体，图件中的文字会显示为方框；请运行 `scripts/bootstrap.sh "
                      "fonts`（Debian 软件包 fonts-noto-cjk）")


def nice_length(span: float) -> float:
    """A round scale-bar length (1, 2 or 5 × 10^n) near a fifth of ``span``.

    Examples
    --------
    >>> nice_length(7300.0)
    1000.0
    >>> nice_length(480.0)
    50.0
    """
    target = span / 5
    power = 10 ** math.floor(math.log10(target))
    for step in (5, 2, 1):
        if step * power <= target:
            return float(step * power)
    return float(power)


def _scale_bar(ax: Any, lang: str) -> None:
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    length = nice_length(x1 - x0)
    unit, div = ("km", 1000.0) if length >= 1000 else ("m", 1.0)
    bx = x0 + (x1 - x0) * 0.04
    by = y0 + (y1 - y0) * 0.05
    h = (y1 - y0) * 0.008
    for i in range(4):
        ax.add_patch(_rect(bx + i * length / 4, by, length / 4, h,
                           "black" if i % 2 == 0 else "white"))
    for i, frac in enumerate((0, 0.5, 1.0)):
        ax.text(bx + frac * length, by + 2.2 * h, f"{frac * length / div:g}" +
                (f" {unit}" if i == 2 else ""), ha="center", va="bottom", fontsize=7)
    ax.text(bx, by - 1.5 * h, "比例尺" if lang == "zh" else "scale", ha="left", va="top",
            fontsize=6, color="#444444", gid="scalebar-label")


def _rect(x: float, y: float, w: float, h: float, colour: str) -> Any:
    from matplotlib.patches import Rectangle

    return Rectangle((x, y), w, h, facecolor=colour, edgecolor="black", linewidth=0.6,
                     gid="scalebar")


def _north_arrow(ax: Any, lang: str) -> None:
    ax.annotate("", xy=(0.955, 0.95), xytext=(0.955, 0.86), xycoords="axes fraction",
                arrowprops={"facecolor": "black", "width": 4, "headwidth": 11,
                            "headlength": 10}, gid="north-arrow")
    ax.text(0.955, 0.965, "北" if lang == "zh" else "N", transform=ax.transAxes, ha="center",
            va="bottom", fontsize=11, fontweight="bold", gid="north-label")


def _draw_layers(ax: Any, spec: MapSpec) -> Any:
    from matplotlib.collections import PatchCollection
    from matplotlib.patches import PathPatch
    from matplotlib.path import Path as MplPath

    bounds = None
    for layer in spec.layers:
        frame = layer.frame
        colours = np.array([*layer.colours, OTHER_COLOUR])
        face = colours[np.where(layer.keys >= 0, layer.keys, len(layer.colours))]
        patches = []
        for geom in frame.geometry.values:
            if geom is None or geom.is_empty:
                patches.append(None)
                continue
            verts, codes = [], []
            for poly in getattr(geom, "geoms", [geom]):
                for ring in (poly.exterior, *poly.interiors):
                    xy = np.asarray(ring.coords)[:, :2]
                    verts.append(xy)
                    codes.append(np.r_[MplPath.MOVETO,
                                       np.full(len(xy) - 2, MplPath.LINETO), MplPath.CLOSEPOLY])
            patches.append(PathPatch(MplPath(np.concatenate(verts), np.concatenate(codes))))
        keep = [i for i, p in enumerate(patches) if p is not None]
        collection = PatchCollection([patches[i] for i in keep], facecolor=face[keep],
                                     edgecolor="#555555", linewidth=0.08,
                                     alpha=min(1.0, layer.style.opacity + 0.15))
        collection.set_gid(f"layer-{layer.id}")
        ax.add_collection(collection)
        b = frame.total_bounds
        bounds = b if bounds is None else np.r_[np.minimum(bounds[:2], b[:2]),
                                                 np.maximum(bounds[2:], b[2:])]
    return bounds


def _draw_heat(ax: Any, spec: MapSpec, crs: Any) -> Any:
    from matplotlib.colors import LinearSegmentedColormap
    from pyproj import Transformer

    from maps.styles import HEAT_GRADIENT

    lat, lon, weight = spec.heat[:, 0], spec.heat[:, 1], spec.heat[:, 2]
    x, y = Transformer.from_crs(4326, crs, always_xy=True).transform(lon, lat)
    cmap = LinearSegmentedColormap.from_list(
        "mujun_heat", [(0.0, "#ffffff00"), *[(k, c) for k, c in HEAT_GRADIENT.items()]])
    gridsize = int(np.clip(math.sqrt(len(x)) / 1.5, 15, 80))
    hb = ax.hexbin(x, y, C=weight, reduce_C_function=np.mean, gridsize=gridsize, cmap=cmap,
                   mincnt=1, linewidths=0, alpha=0.9, zorder=2)
    hb.set_gid("layer-heat")
    return np.array([np.min(x), np.min(y), np.max(x), np.max(y)])


def _draw_towns(ax: Any, spec: MapSpec) -> Any:
    towns = spec.towns
    if towns is None or not len(towns):
        return None
    style = spec.towns_style
    if style is not None:
        colours = [style.colour_for(v) for v in towns[style.field]]
        towns.plot(ax=ax, color=colours, edgecolor="#333333", linewidth=0.6, alpha=0.85,
                   gid="layer-towns")
    else:
        towns.boundary.plot(ax=ax, color="#3949ab", linewidth=0.8, linestyle="--", zorder=3)
    for town, point in zip(towns["town"], towns.geometry.representative_point(), strict=True):
        if town:
            ax.text(point.x, point.y, town, ha="center", va="center", fontsize=8,
                    color="#1a237e", fontweight="bold", zorder=4,
                    bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none",
                          "alpha": 0.6})
    return towns.total_bounds


def _fit(ax: Any, bounds: Any, box_ratio: float) -> None:
    """Limits with the data centred, padded, and grown to the box's width/height ratio."""
    w = (bounds[2] - bounds[0]) * 1.08 or 1.0
    h = (bounds[3] - bounds[1]) * 1.08 or 1.0
    if w / h < box_ratio:
        w = h * box_ratio
    else:
        h = w / box_ratio
    cx, cy = (bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2
    ax.set_xlim(cx - w / 2, cx + w / 2)
    ax.set_ylim(cy - h / 2, cy + h / 2)


def write_figure(spec: MapSpec, path: str | Path, *, paper: str = "A4", dpi: int = 300,
                 overwrite: bool = False) -> dict[str, Any]:
    """Draw ``spec`` as a report page (see the module docstring).

    Returns
    -------
    dict
        ``path``, ``bytes``, ``paper``, ``dpi``, ``font``.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    path = Path(path)
    if paper not in PAPERS:
        raise ConfigError(f"纸张「{paper}」无效（--paper）；可选：{'、'.join(PAPERS)}")
    font = cjk_font()
    width, height = PAPERS[paper]
    lang = spec.lang
    crs = None
    if spec.layers:
        crs = spec.layers[0].frame.crs
    elif spec.towns is not None:
        crs = spec.towns.crs
    rc = {"font.family": "sans-serif", "font.sans-serif": [font, "DejaVu Sans"],
          "axes.unicode_minus": False, "pdf.fonttype": 3, "svg.fonttype": "none"}
    with plt.rc_context(rc):
        fig = plt.figure(figsize=(width * MM, height * MM))
        legend_w = 0.24 if width > height else 0.0
        map_box = [0.03, 0.09, 0.94 - legend_w, 0.80] if legend_w else [0.04, 0.25, 0.92, 0.63]
        ax = fig.add_axes(map_box)
        ax.set_facecolor("#f7f7f4")
        bounds = _draw_layers(ax, spec)
        if spec.heat is not None and len(spec.heat) and crs is not None:
            bounds = _draw_heat(ax, spec, crs)
        town_bounds = _draw_towns(ax, spec)
        if bounds is None:
            bounds = town_bounds
        if bounds is None:
            raise ConfigError(f"{spec.title}：没有可绘制的内容")
        _fit(ax, bounds, (width * MM * map_box[2]) / (height * MM * map_box[3]))
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_xlabel("")
        ax.set_ylabel("")
        for spine in ax.spines.values():
            spine.set_linewidth(0.8)
        # -- furniture -----------------------------------------------------------------
        fig.text(0.5, 0.955, spec.title, ha="center", va="center", fontsize=16,
                 fontweight="bold", gid="title")
        _scale_bar(ax, lang)
        _north_arrow(ax, lang)
        handles, title = [], None
        for legend in spec.legends:
            title = legend["title"]
            handles += [Patch(facecolor=c, edgecolor="#555555", label=label)
                        for c, label in legend["rows"]]
        if handles:
            where = ({"loc": "upper left", "bbox_to_anchor": (map_box[0] + map_box[2] + 0.015,
                                                             map_box[1] + map_box[3])}
                     if legend_w else {"loc": "upper center", "bbox_to_anchor": (0.5, 0.22),
                                       "ncol": 3})
            leg = fig.legend(handles=handles, title=title, fontsize=7, title_fontsize=8.5,
                             frameon=True, borderpad=0.8, **where)
            leg.set_gid("legend")
            note = spec.legends[0].get("note")
            if note and legend_w:
                fig.text(map_box[0] + map_box[2] + 0.017, map_box[1], note, fontsize=6.5,
                         color="#555555", va="bottom", wrap=True)
        epsg = crs.to_epsg() if crs is not None else None
        crs_text = f"{crs.name} (EPSG:{epsg})" if epsg else (crs.name if crs else "")
        footer = (f"{spec.subtitle}；坐标系：{crs_text}" if lang == "zh"
                  else f"{spec.subtitle}; CRS: {crs_text}")
        fig.text(0.03, 0.035, footer, fontsize=7, color="#333333", va="center", gid="source")
        fmt = path.suffix.lower().lstrip(".")
        with atomic_output(path, overwrite) as tmp:
            fig.savefig(tmp, format=fmt, dpi=dpi,
                        metadata={"Title": spec.title} if fmt in ("pdf", "svg") else None)
        plt.close(fig)
    log.info("wrote figure %s", path)
    return {"path": str(path), "bytes": path.stat().st_size, "paper": paper, "dpi": dpi,
            "font": font, "files": None}
