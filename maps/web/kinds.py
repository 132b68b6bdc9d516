"""Map kinds: name -> function building a :class:`~maps.web.page.MapSpec` from the database.

==============  ==================================================================
industry        parcels coloured by the holder's GB/T 4754 division (产业地图)
per-mu          choropleth of tax, revenue or value added per mu, classes by
                mapclassify (quantiles, natural breaks, …)
classes         parcels coloured by the holder's class A/B/C/D/T (score run)
heat            heat map of tax per mu (parcel interior points)
candidates      land-status candidates by kind (idle, unfinished, built unused, …)
land-status     candidates by review status
towns           town aggregates: tax per mu, area, enterprises, classes
policy          parcels by the holder's differentiated-policy effect: surcharges,
                reliefs, both, none (policy run)
compare         parcels by how the holder's class moved between two score runs
                (up, down, same, entered, left, into/out of T; ``runs=(A, B)``)
land-tax        parcels by the holder's land-use tax finding (not registered, taxed
                on less land than held, on more, matched; ``report land-tax``)
supply          standard-land plots by status with indicators, contract performance,
                candidates from found to supplied, redevelopment areas, assessments
==============  ==================================================================

Every kind also shows the towns as an overlay (outlines with aggregate popups).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from gis.errors import ConfigError, DataError
from maps import data
from maps.fields import alias
from maps.styles import graduated, style_for
from maps.web.layer_parts import _categorical_layer, _towns_overlay
from maps.web.page import MapSpec, PolygonLayer, popup_rows

if TYPE_CHECKING:
    import psycopg

PER_MU_FIELDS = ("tax_per_mu", "revenue_per_mu", "value_added_per_mu")


@dataclass(frozen=True)
class MapOptions:
    """What the user chose besides the kind."""

    lang: str = "zh"
    field: str = "tax_per_mu"
    scheme: str = "quantiles"
    k: int = 5
    run_id: int | None = None
    year: int | None = None
    runs: tuple[int, ...] = ()


def _t(lang: str, zh: str, en: str) -> str:
    return zh if lang == "zh" else en


def _subtitle(ctx: data.Context, lang: str, extra: str = "") -> str:
    parts = []
    if ctx.year:
        parts.append(_t(lang, f"{ctx.year} 年数据", f"data {ctx.year}"))
    if ctx.occupancy_run:
        parts.append(_t(lang, f"用地测算运行 {ctx.occupancy_run}",
                        f"occupancy run {ctx.occupancy_run}"))
    if ctx.score_run:
        parts.append(_t(lang, f"评价运行 {ctx.score_run}", f"score run {ctx.score_run}"))
    parts.append(_t(lang, f"来源：mujun，{date.today():%Y-%m-%d} 制图",
                    f"source: mujun, drawn {date.today():%Y-%m-%d}"))
    if extra:
        parts.insert(0, extra)
    return " · ".join(parts)


PARCEL_POPUP = ["parcel_code", "name", "division_label", "town", "area_mu", "coverage", "far",
                "tax_per_mu", "revenue_per_mu", "class"]


def _parcel_popup(frame: Any, lang: str) -> tuple[list[str], list[str], list[list[Any]]]:
    from parcels.industry import divisions_2017

    names = divisions_2017()
    frame = frame.assign(division_label=[
        f"{d} {names.get(d, '')}".strip() if isinstance(d, str) and d else None
        for d in frame["division"]])
    labels = [alias("division_name", lang) if c == "division_label" else alias(c, lang)
              for c in PARCEL_POPUP]
    return PARCEL_POPUP, labels, popup_rows(frame, PARCEL_POPUP)


def industry_map(conn, options: MapOptions) -> MapSpec:
    lang = options.lang
    ctx = data.resolve_context(conn, run_id=options.run_id, year=options.year)
    frame = data.read_parcels(conn, ctx)
    style = style_for("industry")
    layer, legend = _categorical_layer(
        "industry", _t(lang, "宗地（产业）", "Parcels (industry)"), frame, style, lang,
        _parcel_popup(frame, lang))
    spec = MapSpec("industry", _t(lang, "产业地图：宗地主导产业", "Industry map: parcels by industry"),
                   _subtitle(ctx, lang), [layer], legends=[legend], lang=lang)
    _towns_overlay(spec, conn, ctx, lang)
    return spec


def per_mu_map(conn, options: MapOptions) -> MapSpec:
    from maps.classify import classify

    lang = options.lang
    if options.field not in PER_MU_FIELDS:
        raise ConfigError(f"--field {options.field!r}; choose one of {', '.join(PER_MU_FIELDS)}")
    ctx = data.resolve_context(conn, run_id=options.run_id, year=options.year)
    frame = data.read_parcels(conn, ctx)
    values = frame[options.field].to_numpy(dtype="float64")
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        raise DataError(f"no parcel has a {options.field} value for year {ctx.year}: load "
                        "enterprise records and run `mujun occupancy` first")
    breaks = np.asarray(classify(finite, options.scheme, options.k))
    title = {"zh": alias(options.field, "zh"), "en": alias(options.field, "en")}
    style = graduated("per_mu", options.field, breaks, title=title, lower=float(finite.min()))
    keys = np.where(np.isfinite(values),
                    np.minimum(np.searchsorted(breaks, values, side="left"), len(breaks) - 1),
                    -1).astype(np.int64)
    columns, labels, rows = _parcel_popup(frame, lang)
    labels_k = [label for _, label in style.legend(lang)]
    layer = PolygonLayer("permu", _t(lang, "宗地（亩均）", "Parcels (per mu)"), frame, keys,
                         style, list(style.colours), labels_k, columns, labels, rows,
                         values=values, breaks=breaks)
    scheme = {"quantiles": _t(lang, "分位数", "quantiles"),
              "natural_breaks": _t(lang, "自然断点", "natural breaks"),
              "fisher_jenks": "Fisher-Jenks",
              "equal_interval": _t(lang, "等间距", "equal interval")}[options.scheme]
    legend = {"title": title[lang], "rows": [*style.legend(lang),
                                             ("#bdbdbd", _t(lang, "无数据", "no data"))],
              "note": _t(lang, f"分级：{scheme}（mapclassify），{len(breaks)} 级",
                         f"classes: {scheme} (mapclassify), {len(breaks)}")}
    spec = MapSpec("per-mu", _t(lang, f"亩均效益：{title['zh']}", f"Per mu: {title['en']}"),
                   _subtitle(ctx, lang), [layer], legends=[legend], lang=lang)
    _towns_overlay(spec, conn, ctx, lang)
    return spec


def classes_map(conn, options: MapOptions) -> MapSpec:
    lang = options.lang
    ctx = data.resolve_context(conn, run_id=options.run_id, year=options.year,
                               run_kind="score" if options.run_id else "occupancy")
    frame = data.read_parcels(conn, ctx)
    style = style_for("classes")
    layer, legend = _categorical_layer(
        "classes", _t(lang, "宗地（评价等级）", "Parcels (class)"), frame, style, lang,
        _parcel_popup(frame, lang))
    if ctx.score_run is None:
        legend["note"] = _t(lang, "尚无评价结果：先运行 mujun score",
                            "no scores yet: run `mujun score` first")
    spec = MapSpec("classes", _t(lang, "亩均效益评价等级", "Per-mu evaluation classes"),
                   _subtitle(ctx, lang), [layer], legends=[legend], lang=lang)
    _towns_overlay(spec, conn, ctx, lang)
    return spec


def heat_map(conn, options: MapOptions) -> MapSpec:
    import shapely

    lang = options.lang
    ctx = data.resolve_context(conn, run_id=options.run_id, year=options.year)
    frame = data.read_parcels(conn, ctx)
    field = options.field if options.field in PER_MU_FIELDS else "tax_per_mu"
    values = frame[field].to_numpy(dtype="float64")
    ok = np.isfinite(values) & (values > 0)
    if not ok.any():
        raise DataError(f"no parcel has a positive {field} for year {ctx.year}")
    points = frame.iloc[np.flatnonzero(ok)]
    pts = shapely.point_on_surface(points.to_crs(4326).geometry.values)
    cap = float(np.percentile(values[ok], 95))
    weight = np.clip(values[ok] / cap, 0.05, 1.0)
    heat = np.c_[shapely.get_y(pts), shapely.get_x(pts), weight]
    spec = MapSpec("heat", _t(lang, f"热力图：{alias(field, 'zh')}", f"Heat map: {alias(field, 'en')}"),
                   _subtitle(ctx, lang), heat=heat,
                   heat_name=_t(lang, "亩均热力", "Per-mu heat"), lang=lang)
    from maps.styles import HEAT_GRADIENT

    spec.legends = [{"title": alias(field, lang),
                     "rows": [(c, f"{k * cap:,.1f}") for k, c in HEAT_GRADIENT.items()],
                     "note": _t(lang, f"{int(ok.sum()):,} 宗地；色阶上限为第 95 百分位",
                                f"{int(ok.sum()):,} parcels; scale capped at the 95th percentile")}]
    _towns_overlay(spec, conn, ctx, lang)
    return spec


def _candidate_map(conn, options: MapOptions, by: str) -> MapSpec:
    lang = options.lang
    ctx = data.resolve_context(conn, year=options.year)
    if options.run_id:
        ctx = data.Context(ctx.occupancy_run, ctx.year, ctx.score_run, options.run_id)
    frame = data.read_candidates(conn, ctx)
    style = style_for("candidates" if by == "kind" else "land_status")
    cols = ["candidate_id", "parcel_code", "kind_label", "status_label", "town", "area_m2",
            "reclaimable_m2", "certainty", "priority"]
    kinds = style_for("candidates")
    statuses = style_for("land_status")
    frame = frame.assign(kind_label=[kinds.label_for(v, lang) for v in frame["kind"]],
                         status_label=[statuses.label_for(v, lang) for v in frame["status"]])
    labels = [alias(c, lang) for c in cols]
    labels[2] = _t(lang, "候选类型", "kind")
    labels[3] = _t(lang, "处置状态", "status")
    layer, legend = _categorical_layer(
        "cand", _t(lang, "候选地块", "Candidate parcels"), frame, style, lang,
        (cols, labels, popup_rows(frame, cols)))
    legend["note"] = _t(lang, f"{len(frame):,} 个候选", f"{len(frame):,} candidates")
    title = (_t(lang, "存量用地盘活候选（按类型）", "Land candidates by kind") if by == "kind"
             else _t(lang, "候选地块处置状态", "Candidate review status"))
    spec = MapSpec("candidates" if by == "kind" else "land-status", title,
                   _subtitle(ctx, lang), [layer], legends=[legend], lang=lang)
    if len(frame) == 0:
        spec.layers = []
    _towns_overlay(spec, conn, ctx, lang)
    return spec


def candidates_map(conn, options: MapOptions) -> MapSpec:
    return _candidate_map(conn, options, "kind")


def land_status_map(conn, options: MapOptions) -> MapSpec:
    return _candidate_map(conn, options, "status")


def towns_map(conn, options: MapOptions) -> MapSpec:
    from maps.export.layers import quantile_style

    lang = options.lang
    ctx = data.resolve_context(conn, run_id=options.run_id, year=options.year)
    spec = MapSpec("towns", _t(lang, "镇街亩均效益汇总", "Towns: per-mu aggregates"),
                   _subtitle(ctx, lang), lang=lang)
    _towns_overlay(spec, conn, ctx, lang)
    field = options.field if options.field in PER_MU_FIELDS[:2] else "tax_per_mu"
    style = quantile_style("towns", field, spec.towns, k=min(options.k, 5),
                           title={"zh": alias(field, "zh"), "en": alias(field, "en")})
    spec.towns_style = style
    spec.towns_name = _t(lang, "镇街", "Towns")
    if style is not None:
        spec.legends = [{"title": style.title[lang], "rows": style.legend(lang),
                         "note": _t(lang, f"{len(spec.towns)} 个镇街；分位数分级",
                                    f"{len(spec.towns)} towns; quantile classes")}]
    return spec


def policy_map(conn, options: MapOptions) -> MapSpec:
    """Parcels coloured by their holder's surcharges and reliefs in a policy run."""
    from maps.styles import Category, categorized
    from scoring.policy.store import resolve_policy_run, yuan
    from scoring.policy.summary import enterprise_totals

    lang = options.lang
    run = resolve_policy_run(conn, options.run_id)
    params = conn.execute("SELECT params FROM run WHERE run_id = %s", (run,)).fetchone()[0]
    ctx = data.resolve_context(conn, year=options.year, score_run=params.get("score_run"))
    frame = data.read_parcels(conn, ctx)
    totals = enterprise_totals(conn, run)
    frame = frame.merge(totals, on="credit_code", how="left")
    style = categorized("policy", "effect", (
        Category("surcharge", "#d7301f", "差别化加价", "surcharge"),
        Category("both", "#fc8d59", "加价与减免", "surcharge and relief"),
        Category("relief", "#1a9850", "减免或奖励", "relief"),
        Category("none", "#fee08b", "仅资格限制或优先（无金额）", "eligibility only")),
        title={"zh": "差别化政策", "en": "Differentiated policy"})
    frame["surcharge_yuan"] = [None if v is None or v != v else yuan(v)
                               for v in frame["surcharge_fen"]]
    frame["relief_yuan"] = [None if v is None or v != v else yuan(v)
                            for v in frame["relief_fen"]]
    cols = ["parcel_code", "name", "town", "policy_class", "surcharge_yuan", "relief_yuan"]
    labels = [alias("parcel_code", lang), alias("name", lang), alias("town", lang),
              _t(lang, "执行等级", "class in force"), _t(lang, "加价（元）", "surcharge (yuan)"),
              _t(lang, "减免（元）", "relief (yuan)")]
    layer, legend = _categorical_layer(
        "policy", _t(lang, "宗地（差别化政策）", "Parcels (policy)"), frame, style, lang,
        (cols, labels, popup_rows(frame, cols)))
    extra = _t(lang, f"政策运行 {run}（{params.get('ruleset')}）",
               f"policy run {run} ({params.get('ruleset')})")
    spec = MapSpec("policy", _t(lang, "差别化政策：加价与减免", "Differentiated policy"),
                   _subtitle(ctx, lang, extra), [layer], legends=[legend], lang=lang)
    _towns_overlay(spec, conn, ctx, lang)
    return spec


def compare_map(conn, options: MapOptions) -> MapSpec:
    """Parcels coloured by how their holder's final class moved from run A to run B.

    The parcels and their holders are those of run B's land (its occupancy run and
    year); the classes are the final ones (adjustments in force win), as in
    ``mujun score compare``.
    """
    from maps.class_shift import parcel_shifts
    from scoring.compare_runs import run_title, stored_side
    from scoring.vocabulary import CLASSES, SHIFTS

    lang = options.lang
    if len(options.runs) != 2:
        raise ConfigError("the compare map needs two score runs: "
                          "`mujun map compare RUN_A RUN_B -o FILE`")
    ta, _, ra = stored_side(conn, options.runs[0])
    tb, _, rb = stored_side(conn, options.runs[1])
    ctx = data.resolve_context(conn, run_id=rb["run_id"], run_kind="score")
    frame = parcel_shifts(data.read_parcels(conn, ctx), ta, tb)
    frame["shift_label"] = [None if v is None else SHIFTS.label(v, lang) for v in frame["shift"]]
    for side in ("a", "b"):
        frame[f"class_{side}_label"] = [None if v is None else CLASSES.label(v, lang)
                                        for v in frame[f"class_{side}"]]
    cols = ["parcel_code", "name", "town", "class_a_label", "class_b_label", "shift_label"]
    labels = [alias("parcel_code", lang), alias("name", lang), alias("town", lang),
              _t(lang, f"甲方等级（运行 {ra['run_id']}）", f"class in A (run {ra['run_id']})"),
              _t(lang, f"乙方等级（运行 {rb['run_id']}）", f"class in B (run {rb['run_id']})"),
              _t(lang, "等级变化", "class change")]
    layer, legend = _categorical_layer(
        "class_shift", _t(lang, "宗地（等级变化）", "Parcels (class change)"), frame,
        style_for("class_shift"), lang, (cols, labels, popup_rows(frame, cols)))
    legend["note"] = _t(lang, f"甲：{run_title(ra)}；乙：{run_title(rb)}；按宗地主要权利人的最终档次",
                        f"A: {run_title(ra, 'en')}; B: {run_title(rb, 'en')}; "
                        "final class of the main holder")
    extra = _t(lang, f"运行 {ra['run_id']} → 运行 {rb['run_id']}",
               f"run {ra['run_id']} → run {rb['run_id']}")
    spec = MapSpec("compare", _t(lang, "评价等级变化：两次评价对比", "Class change between two runs"),
                   _subtitle(ctx, lang, extra), [layer], legends=[legend], lang=lang)
    _towns_overlay(spec, conn, ctx, lang)
    return spec


def land_tax_map(conn, options: MapOptions) -> MapSpec:
    """Parcels coloured by their holder's finding in the land-tax check of ``year``.

    The findings and amounts are those of :func:`scoring.land_tax.land_tax_check` (the
    latest occupancy run with figures for the year against the year's tax base); the
    parcels are that occupancy run's, each with its main owner. Amounts in 元 a year.
    """
    from scoring.land_tax import land_tax_check
    from scoring.vocabulary import LAND_TAX_FIELDS, LAND_TAX_STATUS

    lang = options.lang
    year = options.year
    if year is None:
        raise ConfigError("土地使用税核查图需要年份：mujun map land-tax --year 年份 -o 文件")
    table, towns, info = land_tax_check(conn, year=int(year))
    ctx = data.resolve_context(conn, run_id=info["occupancy_run"], year=int(year))
    frame = land_tax_parcels(data.read_parcels(conn, ctx), table)
    frame["status_label"] = [None if v is None else LAND_TAX_STATUS.label(v, lang)
                             for v in frame["status"]]
    cols = ["parcel_code", "name", "town", "status_label", "occupied_m2", "taxed_m2",
            "area_difference_m2", "unit_rate", "tax_due_yuan", "tax_difference_yuan"]
    labels = [alias("parcel_code", lang), LAND_TAX_FIELDS.label("name", lang),
              LAND_TAX_FIELDS.label("town", lang), LAND_TAX_FIELDS.label("status", lang),
              *(LAND_TAX_FIELDS.label(c, lang) for c in cols[4:])]
    layer, legend = _categorical_layer(
        "land_tax", _t(lang, "宗地（土地使用税核查）", "Parcels (land-use tax check)"), frame,
        style_for("land_tax"), lang, (cols, labels, popup_rows(frame, cols)))
    total = towns.iloc[-1]
    legend["note"] = _t(
        lang, f"{year} 年；按宗地主要权利人；少征合计 {total['tax_missing_yuan']:,.2f} 元/年，"
              f"多征合计 {total['tax_excess_yuan']:,.2f} 元/年",
        f"{year}; by the parcel's main holder; not collected {total['tax_missing_yuan']:,.2f}"
        f" yuan a year, over-collected {total['tax_excess_yuan']:,.2f} yuan a year")
    spec = MapSpec("land-tax", _t(lang, f"土地使用税核查：{year} 年", f"Land-use tax check {year}"),
                   _subtitle(ctx, lang), [layer], legends=[legend], lang=lang)
    _towns_overlay(spec, conn, ctx, lang)
    return spec


def land_tax_parcels(parcels: Any, table: Any) -> Any:
    """``parcels`` with the land-tax finding and amounts of each parcel's holder (pure).

    A parcel whose holder is not in ``table`` (or that has no holder) gets no status
    (``None``) and no amounts (NaN).

    Examples
    --------
    >>> import pandas as pd
    >>> p = pd.DataFrame({"parcel_code": ["P1", "P2"], "credit_code": ["X", None]})
    >>> t = pd.DataFrame({"credit_code": ["X"], "status": ["untaxed_land"],
    ...                   "tax_difference_yuan": [600.0]})
    >>> land_tax_parcels(p, t)[["status", "tax_difference_yuan"]].values.tolist()
    [['untaxed_land', 600.0], [None, nan]]
    """
    keep = ["status", "occupied_m2", "taxed_m2", "area_difference_m2", "unit_rate",
            "tax_due_yuan", "tax_difference_yuan"]
    per = table.drop_duplicates("credit_code").set_index("credit_code")
    codes = parcels["credit_code"].astype(object)
    out = parcels.copy()
    for col in keep:
        values = codes.map(per[col]) if col in per else pd.Series(np.nan, index=out.index)
        out[col] = values.astype(object).where(values.notna(), None) if col == "status" \
            else pd.to_numeric(values, errors="coerce")
    return out
def supply_map(conn, options: MapOptions) -> MapSpec:
    """Plots, contracts, the candidates' pipeline, areas, assessments (:mod:`.supply_map`)."""
    from maps.web.supply_map import supply_map as build

    return build(conn, options)


#: Kind name -> builder. ``mujun map KIND`` takes its choices from here.
KINDS: dict[str, Callable[[Any, MapOptions], MapSpec]] = {
    "industry": industry_map,
    "per-mu": per_mu_map,
    "classes": classes_map,
    "heat": heat_map,
    "candidates": candidates_map,
    "land-status": land_status_map,
    "towns": towns_map,
    "policy": policy_map,
    "compare": compare_map,
    "land-tax": land_tax_map,
    "supply": supply_map,
}


def build_spec(conn: psycopg.Connection, kind: str, options: MapOptions) -> MapSpec:
    """The content of a ``kind`` map; ConfigError listing the kinds when unknown."""
    try:
        builder = KINDS[kind]
    except KeyError:
        raise ConfigError(f"unknown map kind {kind!r}; choose one of {', '.join(KINDS)}") \
            from None
    return builder(conn, options)
