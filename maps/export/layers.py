"""The layers ``mujun export`` writes: name -> reader and style (a registry).

========================  ==============================================================
parcels                   parcels with occupancy, main holder, industry, per-mu, class
enterprises               enterprises with scores, at the union of their parcels
scores                    the score table: one row per enterprise (CSV, XLSX), one feature
                          per enterprise and parcel (GIS formats)
candidates                the ranked land-status candidates at their parcels
footprints                building footprints
towns                     town aggregates (area, built, enterprises, tax per mu, classes)
occupancy                 the occupancy run's per-parcel table as stored
enterprise_land           the occupancy run's per-enterprise land table (no geometry)
policy                    a policy run's notification list (no geometry; ``kind``: the
                          collecting body: power, water, sewage, gas, tax, credit)
========================  ==============================================================
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gis.errors import ConfigError
from maps import data
from maps.styles import LayerStyle, style_for

if TYPE_CHECKING:
    import psycopg


@dataclass(frozen=True)
class LayerSpec:
    """One exportable layer."""

    name: str
    zh: str
    en: str
    read: Callable[[Any, data.Context], Any]
    style: Callable[[Any], LayerStyle | None]
    run_kind: str = "occupancy"
    #: Reader for formats without geometry (CSV, XLSX), when it differs from ``read``.
    read_table: Callable[[Any, data.Context], Any] | None = None
    #: The layer's own fields beside maps.fields.FIELDS (e.g. a rule set's indicators).
    fields: Callable[[Any, data.Context], dict[str, Any]] | None = None
    #: Further XLSX sheets (name -> DataFrame).
    sheets: Callable[[Any, data.Context], dict[str, Any]] | None = None


def quantile_style(layer: str, field: str, frame: Any, *, k: int = 5,
                   title: dict[str, str] | None = None) -> LayerStyle | None:
    """A graduated style with mapclassify quantile breaks of ``frame[field]``."""
    from maps.classify import classify

    values = frame[field].dropna() if field in frame.columns else []
    if len(values) == 0:
        return None
    from maps.styles import graduated

    breaks = classify(values, "quantiles", k)
    return graduated(layer, field, breaks, title=title, lower=float(values.min()))


def _towns_style(frame: Any) -> LayerStyle | None:
    return quantile_style("towns", "tax_per_mu", frame,
                          title=style_for("towns").title) or style_for("towns")


LAYERS: dict[str, LayerSpec] = {s.name: s for s in (
    LayerSpec("parcels", "宗地（用地与产业）", "Parcels (occupancy, industry)",
              data.read_parcels, lambda f: style_for("industry")),
    LayerSpec("enterprises", "企业亩均评价", "Enterprises with scores",
              data.read_enterprises, lambda f: style_for("classes"), run_kind="score"),
    LayerSpec("scores", "亩均评价", "Per-mu scores", data.read_scores,
              lambda f: style_for("classes"), run_kind="score",
              read_table=data.read_scores_table, fields=data.score_fields),
    LayerSpec("candidates", "候选地块", "Land-status candidates",
              data.read_candidates, lambda f: style_for("candidates"), run_kind="candidates",
              sheets=data.candidate_sheets),
    LayerSpec("footprints", "建筑轮廓", "Building footprints",
              data.read_footprints, lambda f: style_for("footprints")),
    LayerSpec("towns", "镇街汇总", "Town aggregates", data.read_towns, _towns_style),
    LayerSpec("occupancy", "宗地用地测算", "Occupancy per parcel",
              data.read_occupancy_parcels, lambda f: style_for("parcels")),
    LayerSpec("enterprise_land", "企业用地", "Land per enterprise",
              data.read_enterprise_land, lambda f: None),
    LayerSpec("policy", "差别化政策告知清单", "Differentiated policy notification list",
              data.read_policy_table, lambda f: None, run_kind="policy",
              fields=data.policy_fields),
)}


def layer_spec(name: str) -> LayerSpec:
    """The registered layer ``name``; ConfigError listing the known ones otherwise."""
    try:
        return LAYERS[name]
    except KeyError:
        raise ConfigError(f"未知图层「{name}」；可选：{'、'.join(LAYERS)}") \
            from None


def export_layer(conn: psycopg.Connection, name: str, path: str | Path, *,
                 run_id: int | None = None, year: int | None = None,
                 crs: int | str | None = None, desensitize: bool = False,
                 encoding: str = "utf-8", lang: str = "zh", overwrite: bool = False,
                 filters: dict[str, Any] | None = None) -> dict[str, Any]:
    """Read layer ``name`` from the database and write it with :func:`write_layer`.

    Parameters
    ----------
    conn : psycopg.Connection
    name : str
        A key of :data:`LAYERS`.
    path : path-like
        Output; the suffix picks the format (:data:`gis.layer_writer.FORMATS`).
    run_id : int, optional
        The run to export: an occupancy run for parcels/occupancy/towns/enterprise_land,
        a score run for enterprises, a candidates run for candidates. Default: latest.
    year : int, optional
        Year of enterprise records (default: the run's newest).
    crs, encoding, overwrite
        As :func:`gis.layer_writer.write_layer`.
    desensitize : bool
        Mask names and credit codes, drop confidential figures and the further sheets
        (:mod:`maps.export.desensitize`).
    lang : {"zh", "en"}
        Language of the layer title.
    filters : dict, optional
        Row filters the layer's reader understands (candidates: kind, town, status).

    Returns
    -------
    dict
        What :func:`write_layer` returns plus the runs and year read.
    """
    from gis.layer_writer import format_for, write_layer
    from maps.export.styling import styler
    from maps.fields import FIELDS

    spec = layer_spec(name)
    fmt = format_for(Path(path))  # a bad suffix fails before the database is read
    ctx = data.resolve_context(conn, run_id=run_id, year=year, run_kind=spec.run_kind,
                               filters=filters)
    tabular = fmt.suffix in (".csv", ".xlsx") and spec.read_table is not None
    frame = (spec.read_table if tabular else spec.read)(conn, ctx)
    fields = {**FIELDS, **(spec.fields(conn, ctx) if spec.fields else {})}
    sheets = spec.sheets(conn, ctx) if spec.sheets and fmt.suffix == ".xlsx" else None
    masked = None
    if desensitize:
        from maps.export.desensitize import desensitize as mask

        frame, masked = mask(frame, fields)
        sheets = None
    info = write_layer(frame, path, layer=name, styler=styler(spec.style(frame)),
                       title=spec.zh if lang == "zh" else spec.en, crs=crs,
                       encoding=encoding, overwrite=overwrite, fields=fields, sheets=sheets)
    if masked is not None:
        info["desensitized"] = masked
    info.update(occupancy_run=ctx.occupancy_run, score_run=ctx.score_run, year=ctx.year)
    return info
