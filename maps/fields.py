"""The fields of exported layers: Chinese and English aliases, and what is confidential.

Every column a layer export can carry is listed in :data:`FIELDS` with its Chinese
alias (XLSX headers, QGIS aliases, the Shapefile alias table, popups), its English
alias and how ``--desensitize`` treats it:

``mask_name``
    enterprise names: keep the first character, the rest becomes ``*``
    (``苏州某某纺织有限公司`` -> ``苏*********``);
``mask_code``
    credit codes: keep the first 8 characters (registration authority, entity type
    and administrative division), mask the organisation code and check character;
``drop``
    confidential figures (tax, revenue, value added, energy, electricity, R&D,
    employees, per-mu figures derived from them, score items): removed;
``keep``
    everything else (areas, coverage, industry, class, town).

The list is printed by ``mujun export --fields`` and documented in docs/maps.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Treatment = Literal["keep", "mask_name", "mask_code", "drop"]


@dataclass(frozen=True)
class FieldInfo:
    """One exported column."""

    name: str
    zh: str
    en: str
    treatment: Treatment = "keep"


_F = FieldInfo
FIELDS: dict[str, FieldInfo] = {f.name: f for f in (
    _F("parcel_code", "宗地代码", "parcel code"),
    _F("town", "镇街", "town"),
    _F("district", "区县", "district"),
    _F("park", "园区", "park"),
    _F("land_use_code", "土地用途", "land use"),
    _F("area_m2", "实测面积（平方米）", "measured area (m²)"),
    _F("area_mu", "实测面积（亩）", "measured area (mu)"),
    _F("cert_area_m2", "证载面积（平方米）", "certificate area (m²)"),
    _F("cert_diff_m2", "面积差（平方米）", "measured − certificate (m²)"),
    _F("built_m2", "建筑占地（平方米）", "built area (m²)"),
    _F("built_mu", "建筑占地（亩）", "built area (mu)"),
    _F("sliver_m2", "错位碎片（平方米）", "misregistration slivers (m²)"),
    _F("coverage", "建筑系数", "building coverage"),
    _F("floor_area_m2", "建筑面积（平方米）", "floor area (m²)"),
    _F("far", "容积率", "floor-area ratio"),
    _F("planned_far", "规划容积率", "planned FAR"),
    _F("n_buildings", "建筑数", "buildings"),
    _F("run_id", "运行编号", "run id"),
    _F("year", "年度", "year"),
    _F("credit_code", "统一社会信用代码", "credit code", "mask_code"),
    _F("holder_code", "权利人信用代码", "holder credit code", "mask_code"),
    _F("name", "企业名称", "enterprise name", "mask_name"),
    _F("holder", "土地权利人", "land holder", "mask_name"),
    _F("industry_code", "行业代码", "industry code"),
    _F("division", "行业大类", "industry division"),
    _F("division_name", "行业名称", "industry name"),
    _F("size_class", "规模", "size class"),
    _F("status", "状态", "status"),
    _F("land_m2", "用地面积（平方米）", "land (m²)"),
    _F("land_mu", "用地面积（亩）", "land (mu)"),
    _F("n_parcels", "宗地数", "parcels"),
    _F("role", "权利类型", "role"),
    _F("merged_into", "合并至", "merged into", "mask_code"),
    _F("tax_wan", "税收（万元）", "tax (10k yuan)", "drop"),
    _F("revenue_wan", "营业收入（万元）", "revenue (10k yuan)", "drop"),
    _F("value_added_wan", "增加值（万元）", "value added (10k yuan)", "drop"),
    _F("energy_tce", "能耗（吨标煤）", "energy (tce)", "drop"),
    _F("electricity_kwh", "用电量（千瓦时）", "electricity (kWh)", "drop"),
    _F("rd_wan", "研发投入（万元）", "R&D (10k yuan)", "drop"),
    _F("employees", "从业人数", "employees", "drop"),
    _F("tax_per_mu", "亩均税收（万元/亩）", "tax per mu (10k yuan/mu)", "drop"),
    _F("revenue_per_mu", "亩均营收（万元/亩）", "revenue per mu (10k yuan/mu)", "drop"),
    _F("value_added_per_mu", "亩均增加值（万元/亩）", "value added per mu (10k yuan/mu)", "drop"),
    _F("total", "综合得分", "total score", "drop"),
    _F("class", "评价等级", "class"),
    _F("population", "评价类别", "population"),
    _F("ruleset", "评价规则", "rule set"),
    _F("rank_county", "县内排名", "county rank", "drop"),
    _F("rank_town", "镇内排名", "town rank", "drop"),
    _F("rank_industry", "行业排名", "industry rank", "drop"),
    _F("candidate_id", "候选编号", "candidate id"),
    _F("kind", "候选类型", "candidate kind"),
    _F("kind_name", "类型名称", "kind name"),
    _F("certainty", "可信度", "certainty"),
    _F("priority", "优先级", "priority"),
    _F("reclaimable_m2", "可盘活面积（平方米）", "reclaimable area (m²)"),
    _F("footprint_id", "建筑编号", "footprint id"),
    _F("height_m", "高度（米）", "height (m)"),
    _F("storeys", "层数", "storeys"),
    _F("image_date", "影像日期", "image date"),
    _F("method", "提取方法", "method"),
    _F("confidence", "置信度", "confidence"),
    _F("n_enterprises", "企业数", "enterprises"),
    _F("n_parcels_town", "宗地数", "parcels"),
    _F("score_run", "评价运行编号", "score run"),
    _F("indicators", "指标", "indicators", "drop"),
    _F("items", "得分项", "score items", "drop"),
    _F("rules_fired", "触发规则", "rules fired", "drop"),
    _F("evidence", "证据", "evidence", "drop"),
    # the score table (``mujun export scores`` / ``mujun score export``); indicator
    # values and item scores are named by the rule set: see maps.data.score_fields
    _F("industry_division", "行业大类", "industry division"),
    _F("prev_total", "上年得分", "previous total", "drop"),
    _F("prev_class", "上年等级", "previous class"),
    _F("change", "得分变化", "change of total", "drop"),
    _F("class_t_reason", "暂不评价原因", "reason not evaluated"),
    _F("adjustments", "加减分及否决", "bonus, penalty, veto", "drop"),
    _F("protection", "保护期（列示不评级）", "protection period (listed, not classed)"),
    _F("adjusted_class", "调整后等级", "adjusted class"),
    _F("override_reason", "调档理由", "reason of the adjustment"),
    _F("override_by", "调档决定人", "adjusted by"),
    _F("override_approved_by", "调档批准人", "adjustment approved by"),
    _F("override_at", "调档时间", "adjusted at"),
    _F("final_class", "最终等级", "final class"),
    _F("occupancy_run", "用地核算批次", "occupancy run"),
    _F("right_type", "权利类型", "right type"),
    # the ranked candidate list (``mujun export candidates`` / ``mujun candidates report``)
    _F("rank", "排名", "rank"),
    _F("status_name", "状态名称", "status name"),
    _F("reclaimable_mu", "可盘活面积（亩）", "reclaimable area (mu)"),
    _F("years_idle", "闲置/滞后年限", "years idle or late"),
    _F("survey_date", "影像日期", "survey date"),
    _F("holders", "权利人", "holders", "drop"),
    _F("rules", "触发规则", "rules that fired"),
    _F("updated_at", "更新时间", "updated at"),
    _F("version", "版本", "version"),
)}


def alias(name: str, lang: Literal["zh", "en"] = "zh",
          extra: dict[str, FieldInfo] | None = None) -> str:
    """Alias of a column (the column name itself when unknown).

    ``extra`` adds a layer's own fields (e.g. a rule set's indicators) to :data:`FIELDS`.
    """
    info = (extra or {}).get(name) or FIELDS.get(name)
    if info is None:
        return name
    return info.zh if lang == "zh" else info.en


def treatment(name: str, extra: dict[str, FieldInfo] | None = None) -> Treatment:
    """How ``--desensitize`` treats a column (unknown columns are kept)."""
    info = (extra or {}).get(name) or FIELDS.get(name)
    return "keep" if info is None else info.treatment
