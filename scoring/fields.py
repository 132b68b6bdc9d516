"""The columns of the score table (``mujun score export``): aliases and confidentiality.

Indicator values and item scores are named by the rule set
(:func:`scoring.export.column_labels`); these are the fixed columns. Totals, ranks and
adjustments are confidential (dropped by ``--desensitize``).
"""

from __future__ import annotations

from gis.layer_writer.fields import FieldInfo, field_table

_F = FieldInfo

SCORE_FIELDS = field_table(
    _F("total", "综合得分", "total score", "drop"),
    _F("class", "评价等级", "class"),
    _F("population", "评价类别", "population"),
    _F("ruleset", "评价规则", "rule set"),
    _F("rank_county", "县内排名", "county rank", "drop"),
    _F("rank_town", "镇内排名", "town rank", "drop"),
    _F("rank_industry", "行业排名", "industry rank", "drop"),
    _F("score_run", "评价运行编号", "score run"),
    _F("indicators", "指标", "indicators", "drop"),
    _F("items", "得分项", "score items", "drop"),
    _F("rules_fired", "触发规则", "rules fired", "drop"),
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
)
