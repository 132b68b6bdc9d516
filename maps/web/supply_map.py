"""``mujun map supply``: from reclaimed land to land on offer, on one map.

Layers, each switchable and with its legend (words from the vocabularies):

1. **标准地** — plots coloured by their status in the supply pipeline (储备 … 履约/违约);
   the popup holds the plot's fields, every control indicator with its unit, the
   area-wide assessments it lies in and its contract with its state;
2. **合同履约** — the plots with a contract, by contract state (履约期内, 发现违约线索,
   已履约, 已认定违约);
3. **候选 → 供应** — the candidates on the way from found to supplied (待决定, 已确认,
   批准收回/盘活, 已再供应), with the counts per stage in the legend;
4. **片区** — redevelopment areas by status against their target;
5. **区域评估** — the area-wide assessment coverages by topic.

Layers with nothing to show are left out; with nothing at all the map is refused.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from gis.errors import DataError
from maps import data
from maps.fields import alias
from maps.styles import Category, categorized
from maps.supply_data import (
    check_something,
    read_areas,
    read_assessments,
    read_pipeline,
    read_plots,
)
from maps.web.page import MapSpec, popup_rows

#: Colours of the supply pipeline: greys → blues while preparing, greens once supplied,
#: red for a breach (order and labels from ``supply.status``).
PLOT_STATUS_COLOURS = {
    "reserve": "#bdbdbd", "preparation": "#9ecae1", "assessment": "#6baed6",
    "indicators": "#4292c6", "announced": "#2171b5", "transferred": "#c7e9c0",
    "contracted": "#a1d99b", "started": "#74c476", "completed": "#41ab5d",
    "in_production": "#238b45", "output_review": "#006d2c", "performed": "#00441b",
    "breached": "#d7191c",
}
STAGE_COLOURS = {"found": "#fdae61", "decided": "#f46d43", "approved": "#66bd63",
                 "supplied": "#1a9850", "rejected": "#bababa"}
CONTRACT_COLOURS = {"in_force": "#4393c3", "breach_found": "#fdb863", "performed": "#1a9850",
                    "breached": "#d7191c"}
AREA_STATUS_COLOURS = {"not_started": "#cab2d6", "in_progress": "#6a3d9a",
                       "target_met": "#33a02c", "overdue": "#e31a1c", "closed": "#999999"}
TOPIC_COLOURS = {"environment": "#1b9e77", "energy": "#d95f02", "geohazard": "#7570b3",
                 "seismic": "#e7298a", "water": "#66a61e", "soil": "#e6ab02",
                 "relics": "#a6761d", "flood": "#666666"}


def _t(lang: str, zh: str, en: str) -> str:
    return zh if lang == "zh" else en


def _categories(vocab: Any, colours: dict[str, str]) -> tuple[Category, ...]:
    from maps.styles import vocabulary_categories

    return vocabulary_categories(vocab, colours)


def _labelled(frame: Any, column: str, vocab: Any, lang: str) -> Any:
    return [vocab.label(v, lang) if v is not None else None for v in frame[column]]


def _layer(layer_id: str, name: str, frame: Any, field: str, vocab: Any,
           colours: dict[str, str], title: str, lang: str, cols: list[str],
           labels: list[str], note: str, opacity: float = 0.7) -> tuple[Any, dict]:
    from maps.web.layer_parts import _categorical_layer

    style = categorized(layer_id, field, _categories(vocab, colours),
                        title={"zh": title, "en": title}, opacity=opacity)
    layer, legend = _categorical_layer(layer_id, name, frame, style, lang,
                                       (cols, labels, popup_rows(frame, cols)))
    legend["note"] = note
    return layer, legend


def supply_map(conn: Any, options: Any) -> MapSpec:
    """The supply map's content (see the module docstring)."""
    from scoring.land_status.supply.vocabulary import (
        FIELDS,
        INDICATORS,
        ORIGINS,
        STATUSES,
        TOPICS,
        header,
    )
    from scoring.land_status.vocabulary import (
        AREA_FIELDS,
        AREA_METHODS,
        AREA_STATUSES,
        CONTRACT_STATES,
        EVIDENCE,
        PIPELINE_STAGES,
    )
    from scoring.land_status.vocabulary import STATUSES as CANDIDATE_STATUSES

    lang = options.lang
    today = dt.date.today()
    plots, assessments = read_plots(conn, today), read_assessments(conn, today)
    areas, pipeline = read_areas(conn, today), read_pipeline(conn)
    check_something(plots, areas, pipeline)
    layers, legends = [], []
    contract_cols = ["contract_no", "holder", "start_by", "complete_by", "produce_by"]

    if len(plots):
        plots = plots.assign(status_label=_labelled(plots, "status", STATUSES, lang),
                             origin_label=_labelled(plots, "origin", ORIGINS, lang),
                             contract_label=_labelled(plots, "contract_state", CONTRACT_STATES,
                                                      lang))
        ind_cols = [f"ind_{t.code}" for t in INDICATORS]
        cols = ["code", "status_label", "status_date", "area_mu", "town", "park", "origin_label",
                "industry_code", *ind_cols, "assessments", "contract_label", *contract_cols]
        labels = ([header("code", lang), header("status", lang), header("status_date", lang),
                   FIELDS.label("area_mu", lang), header("town", lang), header("park", lang),
                   header("origin", lang), header("industry_code", lang)]
                  + [header(t.code, lang) for t in INDICATORS]
                  + [header("topic", lang), _t(lang, "合同履约", "contract"),
                     *(EVIDENCE.label(c, lang) for c in contract_cols)])
        layer, legend = _layer("plots", _t(lang, "标准地（按供应状态）", "Standard-land plots"),
                               plots, "status", STATUSES, PLOT_STATUS_COLOURS,
                               _t(lang, "标准地供应状态", "Plot status"), lang, cols, labels,
                               _t(lang, f"{len(plots):,} 宗标准地，共 "
                                        f"{plots['area_mu'].sum():,.2f} 亩",
                                  f"{len(plots):,} plots, {plots['area_mu'].sum():,.2f} mu"))
        layers.append(layer)
        legends.append(legend)
        contracted = plots[plots["contract_state"].notna()]
        if len(contracted):
            cols = ["code", "contract_label", "status_label", *contract_cols]
            labels = [header("code", lang), _t(lang, "合同履约", "contract"),
                      header("status", lang), *(EVIDENCE.label(c, lang) for c in contract_cols)]
            layer, legend = _layer("contracts", _t(lang, "合同履约", "Contract performance"),
                                   contracted, "contract_state", CONTRACT_STATES,
                                   CONTRACT_COLOURS, _t(lang, "合同履约", "Contract performance"),
                                   lang, cols, labels,
                                   _t(lang, f"{len(contracted):,} 份合同",
                                      f"{len(contracted):,} contracts"), opacity=0.85)
            layers.append(layer)
            legends.append(legend)

    if len(pipeline):
        pipeline = pipeline.assign(
            stage_label=_labelled(pipeline, "stage", PIPELINE_STAGES, lang),
            status_label=_labelled(pipeline, "status", CANDIDATE_STATUSES, lang))
        counts = pipeline["stage"].value_counts()
        flow = " → ".join(f"{PIPELINE_STAGES.label(s, lang)} {int(counts.get(s, 0)):,}"
                          for s in PIPELINE_STAGES.codes() if s != "rejected")
        cols = ["candidate_id", "parcel_code", "stage_label", "status_label", "town", "area_mu",
                "plot_code"]
        labels = [alias("candidate_id", lang), alias("parcel_code", lang),
                  _t(lang, "所处环节", "stage"), _t(lang, "处置状态", "status"),
                  alias("town", lang), FIELDS.label("area_mu", lang), header("code", lang)]
        layer, legend = _layer("pipeline", _t(lang, "候选 → 供应", "Candidates to supply"),
                               pipeline, "stage", PIPELINE_STAGES, STAGE_COLOURS,
                               _t(lang, "从候选到供应", "From candidate to supply"), lang, cols,
                               labels, flow)
        layers.append(layer)
        legends.append(legend)

    if len(areas) and "status" in areas.columns:
        areas = areas.assign(
            method_label=_labelled(areas, "method", AREA_METHODS, lang),
            status_label=_labelled(areas, "status", AREA_STATUSES, lang),
            done_pct=(areas["done_share"] * 100).round(1))
        cols = ["name", "method_label", "planned", "target_mu", "reclaimed_mu", "done_pct",
                "status_label", "n_candidates", "firms_planned", "firms_to_plan"]
        fields = {"method_label": "method", "status_label": "status", "done_pct": "done_share"}

        def head(c: str) -> str:
            term = AREA_FIELDS.get(fields.get(c, c))
            return term.label(lang) + (f"（{term.unit}）" if term.unit else "")

        layer, legend = _layer("areas", _t(lang, "片区", "Redevelopment areas"), areas,
                               "status", AREA_STATUSES, AREA_STATUS_COLOURS,
                               _t(lang, "片区进展", "Area progress"), lang, cols,
                               [head(c) for c in cols],
                               _t(lang, f"{len(areas):,} 个片区，目标 "
                                        f"{areas['target_mu'].sum():,.2f} 亩，已批准 "
                                        f"{areas['reclaimed_mu'].sum():,.2f} 亩",
                                  f"{len(areas):,} areas"), opacity=0.35)
        layers.append(layer)
        legends.append(legend)

    if len(assessments):
        assessments = assessments.assign(topic_label=_labelled(assessments, "topic", TOPICS,
                                                               lang))
        cols = ["topic_label", "title", "conclusion", "document", "valid_until"]
        labels = [header("topic", lang), _t(lang, "名称", "title"), header("conclusion", lang),
                  header("document", lang), header("valid_until", lang)]
        layer, legend = _layer("assessments", _t(lang, "区域评估", "Area-wide assessments"),
                               assessments, "topic", TOPICS, TOPIC_COLOURS,
                               _t(lang, "区域评估事项", "Assessment topic"), lang, cols, labels,
                               _t(lang, f"{len(assessments):,} 项评估",
                                  f"{len(assessments):,} assessments"), opacity=0.25)
        layers.append(layer)
        legends.append(legend)

    title = _t(lang, "标准地供应与存量盘活", "Standard land on offer and land reclaimed")
    subtitle = _t(lang, f"截至 {today:%Y-%m-%d} · 来源：mujun",
                  f"as of {today:%Y-%m-%d} · source: mujun")
    spec = MapSpec("supply", title, subtitle, layers, legends=legends, lang=lang)
    try:
        ctx = data.resolve_context(conn, year=options.year)
        from maps.web.layer_parts import _towns_overlay

        _towns_overlay(spec, conn, ctx, lang)
    except DataError:       # no occupancy run yet: the map goes without the towns overlay
        spec.towns = None
    return spec
