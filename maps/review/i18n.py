"""Interface strings in Chinese (default) and English; the JS gets the same table.

The words of land status (kinds, statuses, reason codes, sort keys, actions, holders'
statuses and rights, evidence fields) are not written here: they come from the one
vocabulary (:mod:`scoring.land_status.vocabulary`), added to the table under a prefix
per domain (:data:`PREFIXES`), so the page, the map legend, reports and the sheet say
the same words.
"""

from __future__ import annotations

from scoring.land_status import vocabulary as land_terms
from scoring.policy import terms as policy_terms

LANGUAGES = ("zh", "en")

STRINGS: dict[str, dict[str, str]] = {
    "supply_title": {"zh": "标准地供应与片区进展", "en": "Standard land on offer and areas"},
    "supply_open": {"zh": "标准地供应", "en": "Standard land"},
    "supply_plots": {"zh": "标准地", "en": "Plots"},
    "supply_steps": {"zh": "各环节地块数", "en": "Plots per step"},
    "supply_areas": {"zh": "片区进展", "en": "Redevelopment areas"},
    "supply_code": {"zh": "地块编号", "en": "Plot"},
    "supply_step": {"zh": "环节", "en": "Step"},
    "supply_since": {"zh": "自", "en": "Since"},
    "supply_area_mu": {"zh": "面积（亩）", "en": "Area (mu)"},
    "supply_info": {"zh": "供地信息", "en": "Supply information"},
    "supply_indicators": {"zh": "控制指标", "en": "Control indicators"},
    "supply_history": {"zh": "环节记录", "en": "Steps"},
    "supply_save": {"zh": "保存供地信息", "en": "Save"},
    "supply_advance": {"zh": "推进到", "en": "Advance to"},
    "supply_date": {"zh": "日期", "en": "Date"},
    "supply_document": {"zh": "文号", "en": "Document"},
    "supply_saved": {"zh": "已保存", "en": "Saved"},
    "supply_advanced": {"zh": "已推进", "en": "Advanced"},
    "supply_none": {"zh": "暂无标准地", "en": "No plots"},
    "area_name": {"zh": "片区", "en": "Area"},
    "area_method": {"zh": "盘活方式", "en": "Method"},
    "area_planned": {"zh": "计划完成", "en": "Planned"},
    "area_target": {"zh": "目标（亩）", "en": "Target (mu)"},
    "area_done": {"zh": "已批准（亩）", "en": "Approved (mu)"},
    "area_status": {"zh": "进展", "en": "Status"},
    "back_to_map": {"zh": "返回候选地图", "en": "Back to the map"},
    "title": {"zh": "盘活候选审核", "en": "Reclamation candidate review"},
    "login": {"zh": "登录", "en": "Log in"},
    "logout": {"zh": "退出", "en": "Log out"},
    "username": {"zh": "用户名", "en": "User name"},
    "password": {"zh": "密码", "en": "Password"},
    "login_failed": {"zh": "用户名或密码错误", "en": "Wrong user name or password"},
    "login_locked": {"zh": "登录失败次数过多，请稍后再试", "en": "Too many failed logins; try again later"},
    "filters": {"zh": "筛选", "en": "Filters"},
    "kind": {"zh": "类型", "en": "Kind"},
    "list_sep": {"zh": "、", "en": ", "},
    "town": {"zh": "镇街", "en": "Town"},
    "status": {"zh": "状态", "en": "Status"},
    "class": {"zh": "企业等级", "en": "Class"},
    "min_area": {"zh": "最小面积(m²)", "en": "Min area (m²)"},
    "max_area": {"zh": "最大面积(m²)", "en": "Max area (m²)"},
    "sort": {"zh": "排序", "en": "Sort"},
    "apply": {"zh": "应用", "en": "Apply"},
    "all": {"zh": "全部", "en": "All"},
    "priority": {"zh": "优先级", "en": "Priority"},
    "area": {"zh": "面积", "en": "Area"},
    "parcel": {"zh": "宗地", "en": "Parcel"},
    "candidates": {"zh": "候选地块", "en": "Candidates"},
    "evidence": {"zh": "证据", "en": "Evidence"},
    "rules": {"zh": "触发规则", "en": "Rules fired"},
    "history": {"zh": "决定记录", "en": "Decision history"},
    "enterprises": {"zh": "企业", "en": "Enterprises"},
    "figures_hidden": {"zh": "无权查看企业经济数据", "en": "Enterprise figures are not shown to your role"},
    "before": {"zh": "之前", "en": "Before"},
    "after": {"zh": "之后", "en": "After"},
    "image_missing": {"zh": "影像不可用", "en": "Image not available"},
    "decide": {"zh": "决定", "en": "Decide"},
    "comment": {"zh": "意见", "en": "Comment"},
    "reason": {"zh": "理由", "en": "Reason"},
    "submit": {"zh": "提交", "en": "Submit"},
    "bulk": {"zh": "批量决定所选", "en": "Decide selected"},
    "field_notes": {"zh": "实地核查记录", "en": "Field notes"},
    "add_note": {"zh": "添加核查记录", "en": "Add field note"},
    "photos": {"zh": "照片", "en": "Photos"},
    "export_xlsx": {"zh": "导出 XLSX", "en": "Export XLSX"},
    "export_gpkg": {"zh": "导出 GeoPackage", "en": "Export GeoPackage"},
    "conflict": {"zh": "该候选已被他人修改，请刷新后重试", "en": "Someone else changed this candidate; reload and try again"},
    "saved": {"zh": "已保存", "en": "Saved"},
    "close": {"zh": "关闭", "en": "Close"},
    "no_results": {"zh": "没有符合条件的候选", "en": "No candidates match"},
    "language": {"zh": "English", "en": "中文"},
    "time": {"zh": "时间", "en": "Time"},
    "role_viewer": {"zh": "查看", "en": "viewer"},
    "role_technician": {"zh": "技术员", "en": "technician"},
    "role_planner": {"zh": "规划", "en": "planner"},
    "role_official": {"zh": "审核人员", "en": "official"},
    "role_admin": {"zh": "管理员", "en": "administrator"},
    "checks": {"zh": "所检验的规则", "en": "Rules tested"},
    "met": {"zh": "满足", "en": "met"},
    "not_met": {"zh": "不满足", "en": "not met"},
    "by": {"zh": "人员", "en": "By"},
    "action": {"zh": "操作", "en": "Action"},
    "revenue_wan": {"zh": "营业收入（万元）", "en": "Revenue (10k yuan)"},
    "appeals": {"zh": "申诉", "en": "Appeals"},
    "appeal_no": {"zh": "申诉编号", "en": "Appeal no."},
    "appeal_kind": {"zh": "申诉类型", "en": "Kind of appeal"},
    "appeal_status": {"zh": "申诉状态", "en": "Appeal status"},
    "appeal_claim": {"zh": "申诉事由", "en": "Claim"},
    "appeal_add": {"zh": "登记申诉", "en": "Record an appeal"},
    "appeal_decide": {"zh": "处理申诉", "en": "Decide the appeal"},
    "appeal_history": {"zh": "处理记录", "en": "History"},
    "appeal_new_status": {"zh": "处理结果", "en": "New status"},
    "appeal_reason": {"zh": "处理理由", "en": "Reason"},
    "appeal_field": {"zh": "申诉指标", "en": "Figure"},
    "appeal_value": {"zh": "申诉数值", "en": "Claimed value"},
    "appeal_class": {"zh": "申请类别", "en": "Class asked for"},
    "appeal_approved_by": {"zh": "审批人（调档的审批人，可不填）", "en": "Approved by (optional)"},
    "appeal_override": {"zh": "调档记录编号", "en": "Class adjustment no."},
    "appeal_none": {"zh": "没有符合条件的申诉", "en": "No appeals match"},
    "credit_code": {"zh": "统一社会信用代码", "en": "Credit code"},
    "submitted_by": {"zh": "登记人", "en": "Recorded by"},
    "submitted_at": {"zh": "登记时间", "en": "Recorded at"},
    "year": {"zh": "数据年度", "en": "Data year"},
    "compare_link": {"zh": "方案对比", "en": "Compare runs"},
    "compare_title": {"zh": "评价方案对比", "en": "Comparing two score runs"},
    "compare_back": {"zh": "返回审核地图", "en": "Back to the review map"},
    "compare_run_a": {"zh": "甲方（对比基准）", "en": "Run A (baseline)"},
    "compare_run_b": {"zh": "乙方", "en": "Run B"},
    "compare_show": {"zh": "对比", "en": "Compare"},
    "compare_scope": {"zh": "只含您有权查看区域的企业；档次为最终档次（调档后）",
                      "en": "Only firms of the areas you may see; classes are final (after adjustments)"},
    "compare_summary": {"zh": "企业 {firms} 家，档次变化 {changed} 家",
                        "en": "{firms} firms, {changed} changed class"},
    "compare_truncated": {"zh": "仅列出前 {shown} 家（共 {total} 家）；全部见 mujun score compare 甲方运行号 乙方运行号 -o 文件.xlsx",
                          "en": "First {shown} of {total} listed; all with mujun score compare RUN_A RUN_B -o FILE.xlsx"},
    "compare_matrix": {"zh": "档次转移矩阵（行：甲方，列：乙方；单位：家）",
                       "en": "Class transitions (rows: A, columns: B; firms)"},
    "compare_by_class": {"zh": "各档用地与税收", "en": "Land and tax per class"},
    "compare_by_town": {"zh": "各镇街档次变化（家）", "en": "Shifts per town (firms)"},
    "compare_by_industry": {"zh": "各行业档次变化（家）", "en": "Shifts per industry division (firms)"},
    "compare_changed": {"zh": "档次变化的企业及影响最大的指标", "en": "Firms whose class changed, and the items that moved them"},
    "compare_map": {"zh": "档次变化地图（档次变化企业的宗地）", "en": "Class-change map (parcels of the firms that moved)"},
    "compare_loading": {"zh": "正在计算对比……", "en": "Comparing…"},
    "compare_no_runs": {"zh": "尚无评价运行：先运行 mujun score", "en": "No score run yet: run mujun score first"},
}


#: Vocabulary → prefix of its codes in the table (``k_unfinished``, ``s_closed`` …).
PREFIXES = {"k_": land_terms.KINDS, "s_": land_terms.STATUSES, "r_": land_terms.REASONS,
            "o_": land_terms.SORTS, "a_": land_terms.ACTIONS, "hs_": land_terms.HOLDER_STATUSES,
            "hr_": land_terms.HOLDER_ROLES, "e_": land_terms.EVIDENCE}

#: Appeal words (scoring/policy/terms.yaml) → prefix: ``ak_class``, ``as_upheld``, ``af_tax_wan``.
APPEAL_PREFIXES = {"ak_": "appeal.kind", "as_": "appeal.status", "af_": "appeal.field"}


def table(lang: str) -> dict[str, str]:
    """All strings in ``lang`` (falls back to Chinese), the vocabulary's labels included."""
    lang = lang if lang in LANGUAGES else "zh"
    out = {key: values[lang] for key, values in STRINGS.items()}
    for prefix, vocab in PREFIXES.items():
        out.update({prefix + code: label for code, label in vocab.labels(lang).items()})
    for prefix, domain in APPEAL_PREFIXES.items():
        out.update({prefix + code: label for code, label
                    in policy_terms.vocabularies()[domain].labels(lang).items()})
    return out
