"""Interface strings in Chinese (default) and English; the JS gets the same table."""

from __future__ import annotations

LANGUAGES = ("zh", "en")

STRINGS: dict[str, dict[str, str]] = {
    "title": {"zh": "盘活候选审核", "en": "Reclamation candidate review"},
    "login": {"zh": "登录", "en": "Log in"},
    "logout": {"zh": "退出", "en": "Log out"},
    "username": {"zh": "用户名", "en": "User name"},
    "password": {"zh": "密码", "en": "Password"},
    "login_failed": {"zh": "用户名或密码错误", "en": "Wrong user name or password"},
    "login_locked": {"zh": "登录失败次数过多，请稍后再试", "en": "Too many failed logins; try again later"},
    "filters": {"zh": "筛选", "en": "Filters"},
    "kind": {"zh": "类型", "en": "Kind"},
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
    "reason": {"zh": "否决理由", "en": "Reason"},
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
    "s_new": {"zh": "新发现", "en": "new"},
    "s_under_review": {"zh": "审核中", "en": "under review"},
    "s_confirmed": {"zh": "已确认", "en": "confirmed"},
    "s_rejected": {"zh": "已否决", "en": "rejected"},
    "s_field_check": {"zh": "待实地核查", "en": "field check"},
    "s_approved": {"zh": "批准收回/盘活", "en": "approved for reclamation"},
    "s_closed": {"zh": "已关闭", "en": "closed"},
    "k_idle_not_started": {"zh": "闲置(未动工)", "en": "idle, not started"},
    "k_idle_stalled": {"zh": "闲置(停工)", "en": "idle, stalled"},
    "k_unfinished": {"zh": "未建成", "en": "unfinished"},
    "k_inefficient": {"zh": "低效用地", "en": "inefficient"},
    "k_built_unused": {"zh": "建而未用", "en": "built but unused"},
    "k_approved_unsupplied": {"zh": "批而未供", "en": "approved, not supplied"},
}


def table(lang: str) -> dict[str, str]:
    """All strings in ``lang`` (falls back to Chinese)."""
    lang = lang if lang in LANGUAGES else "zh"
    return {key: values[lang] for key, values in STRINGS.items()}
