"""The annual report's charts (matplotlib) and its class map, as PNG images.

Chinese text is set in the font :func:`maps.figure.cjk_font` finds (Noto Sans CJK);
class colours come from the one colour table (:data:`maps.styles.CLASS_CATEGORIES`),
class labels from the scoring vocabulary. Each function returns PNG bytes, so a
renderer embeds them without a file.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    import psycopg

#: Resolution of the embedded charts and map.
DPI = 150


def _figure(width_mm: float, height_mm: float):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from maps.figure import MM, cjk_font

    plt.rcParams.update({"font.family": "sans-serif",
                         "font.sans-serif": [cjk_font(), "DejaVu Sans"],
                         "axes.unicode_minus": False})
    fig, ax = plt.subplots(figsize=(width_mm * MM, height_mm * MM))
    return plt, fig, ax


def _png(plt, fig) -> bytes:
    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png", dpi=DPI)
    plt.close(fig)
    return buffer.getvalue()


def class_chart(classes: pd.DataFrame, year: int) -> bytes:
    """Firms per class this year (coloured by class) beside last year's (grey)."""
    import numpy as np

    from maps.annual.terms import COLUMNS
    from maps.styles import CLASS_CATEGORIES
    from scoring.vocabulary import CLASSES

    colours = {c.value: c.colour for c in CLASS_CATEGORIES}
    plt, fig, ax = _figure(160, 70)
    x = np.arange(len(classes))
    has_last = classes["last_firms"].notna().any()
    width = 0.38 if has_last else 0.6
    if has_last:
        ax.bar(x - width / 2, classes["last_firms"].fillna(0).astype(int), width,
               color="#cfd8dc", edgecolor="#607d8b", label=f"{year - 1}年")
    bars = ax.bar(x + (width / 2 if has_last else 0), classes["firms"], width,
                  color=[colours.get(c, "#bdbdbd") for c in classes["class"]],
                  edgecolor="#424242", label=f"{year}年")
    ax.bar_label(bars, fontsize=7)
    ax.set_xticks(x, [CLASSES.label(c) for c in classes["class"]], fontsize=7)
    ax.set_ylabel(COLUMNS.label("firms"), fontsize=8)
    ax.set_title(f"{year}年各档次企业数" + ("及与上年比较" if has_last else ""), fontsize=9)
    ax.legend(fontsize=7, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return _png(plt, fig)


def trend_chart(trend: pd.DataFrame) -> bytes:
    """Tax, revenue and value added per mu by year (万元/亩)."""
    from maps.annual.terms import FIGURES

    plt, fig, ax = _figure(160, 70)
    for column, colour in (("tax_per_mu", "#c62828"), ("value_added_per_mu", "#1565c0"),
                           ("revenue_per_mu", "#2e7d32")):
        ax.plot(trend["year"], trend[column], marker="o", color=colour,
                label=FIGURES.label(column))
    ax.set_xticks(trend["year"], [f"{y}年" for y in trend["year"]], fontsize=7)
    ax.set_ylabel("万元/亩", fontsize=8)
    ax.set_title("亩均效益历年变化（参评企业合计）", fontsize=9)
    ax.legend(fontsize=7, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return _png(plt, fig)


def town_chart(towns: pd.DataFrame, limit: int = 20) -> bytes:
    """Tax per mu of the ranked towns (the first ``limit``), best at the top."""
    from scoring.vocabulary import FIELDS

    t = towns.head(limit).iloc[::-1]
    plt, fig, ax = _figure(160, max(50.0, 8.0 * len(t) + 20))
    bars = ax.barh(t["group"].astype(str), t["tax_per_mu"].fillna(0.0), color="#3949ab")
    ax.bar_label(bars, labels=[f"{v:,.2f}" if v == v else "-" for v in t["tax_per_mu"]],
                 fontsize=7, padding=2)
    ax.set_xlabel(FIELDS.label("tax_per_mu"), fontsize=8)
    ax.tick_params(labelsize=7)
    ax.set_title("各镇街亩均税收", fontsize=9)
    ax.spines[["top", "right"]].set_visible(False)
    return _png(plt, fig)


def class_map(conn: psycopg.Connection, score_run: int) -> bytes:
    """The class map of ``score_run`` (``mujun map classes --run``) as a PNG page."""
    import tempfile
    from pathlib import Path

    from maps.make import make_map
    from maps.web.kinds import MapOptions

    with tempfile.TemporaryDirectory(prefix="mujun-annual-") as tmp:
        path = Path(tmp) / "classes.png"
        make_map(conn, "classes", path, options=MapOptions(run_id=score_run), paper="A4",
                 dpi=DPI)
        return path.read_bytes()
