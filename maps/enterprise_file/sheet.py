"""The enterprise file as an A4 PDF (``mujun enterprise sheet CODE -o 一企一档.pdf``): the
chosen panels as tables, and the parcels on the imagery of the first and last survey,
with the Chinese font embedded (fpdf2 and Noto Sans CJK, as the verification sheets).
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gis.errors import DataError
from maps.enterprise_file.panels import TITLES
from maps.enterprise_file.text import num

if TYPE_CHECKING:
    import psycopg

#: Width of the printable area (A4, 12 mm margins), in mm.
WIDTH = 186


def panel_tables(rec: dict[str, Any]) -> list[tuple[str, list[str], list[tuple], tuple]]:
    """(title, header, rows, column widths in mm) of each table panel of ``rec``
    (pure; the header panel and the images are drawn apart)."""
    out = []
    if "history" in rec:
        out.append((TITLES["history"], ["年度", "运行", "评价办法", "总分", "评价档次", "调档",
                                        "调档理由", "全县/镇街/行业排名"],
                    [(r["year"], r["run_id"], r["ruleset"] or "-", num(r["total"], 2),
                      r["initial_class"] or "未评价", r["adjusted_class"] or "-",
                      r["adjustment_reason"] or "-",
                      f"{r['rank_county'] or '-'}/{r['rank_town'] or '-'}/"
                      f"{r['rank_industry'] or '-'}") for r in rec["history"]],
                    (12, 12, 34, 16, 16, 12, 52, 32)))
    if "per_mu" in rec:
        rows = []
        for r in rec["per_mu"]:
            for v in (x for x in r.values() if isinstance(x, dict)):
                rows.append((r["year"], num(r["land_mu"], 2), v["label"], num(v["value"], 2),
                             num(v["industry_average"], 2), num(v["town_average"], 2),
                             "-" if v["change"] is None else f"{v['change']:+.2f}"))
        out.append((TITLES["per_mu"] + "（万元/亩）", ["年度", "用地（亩）", "指标", "本企业",
                                                   "行业平均", "镇街平均", "较上年"],
                    rows, (14, 22, 50, 24, 26, 26, 24)))
    if "land" in rec:
        out.append((TITLES["land"] + "（平方米）", ["方式", "宗地代码", "承租方", "证载面积",
                                                 "实测面积", "建筑占地", "建筑系数", "容积率"],
                    [(r["right"], r["parcel_code"], r["tenant"] or "-", num(r["cert_area_m2"]),
                      num(r["measured_m2"]), num(r["built_m2"]), num(r["coverage"], 2),
                      num(r["far"], 2)) for r in rec["land"]],
                    (14, 44, 36, 20, 20, 20, 16, 16)))
    if "figures" in rec:
        out.append((TITLES["figures"], ["年度", "部门", "指标", "数值", "单位", "来源", "导入日期"],
                    [(r["year"], r["department_label"], r["label"], num(r["value"], 2),
                      r["unit"], r["source_name"], (r["imported_at"] or "")[:10] or "-")
                     for r in rec["figures"]],
                    (12, 24, 30, 28, 18, 50, 24)))
    if "warnings" in rec:
        out.append((TITLES["warnings"], ["状态", "内容", "发现时间"],
                    [(w["status_label"], w["problem"] or w["kind"], (w["created_at"] or "")[:10])
                     for w in rec["warnings"]], (20, 136, 30)))
    if "candidates" in rec:
        out.append((TITLES["candidates"], ["编号", "宗地代码", "类型", "状态", "可盘活（平方米）"],
                    [(c["candidate_id"], c["parcel_code"], c["kind_label"], c["status_label"],
                      num(c["reclaimable_m2"])) for c in rec["candidates"]],
                    (16, 50, 50, 36, 34)))
    if "policies" in rec:
        rows = []
        for run in rec["policies"]:
            flags = "、".join(run["flag_labels"]) or "-"
            for line in run["lines"] or [None]:
                rows.append((run["run_id"], run["class"] or "-", flags,
                             line["kind_label"] if line else "-",
                             "-" if line is None else (
                                 f"{num(line['amount_yuan'], 2)} 元"
                                 if line["amount_yuan"] is not None
                                 else f"{num(line['quota'], 2)} {line['base_unit']}"),
                             line["status_label"] if line else "-"))
        out.append((TITLES["policies"], ["政策运行", "执行档次", "措施", "项目", "金额或指标", "台账状态"],
                    rows, (18, 18, 50, 44, 32, 24)))
    if "appeals" in rec:
        out.append((TITLES["appeals"], ["编号", "年度", "类型", "申诉内容", "状态", "决定"],
                    [(a["appeal_id"], a["year"], a["kind_label"],
                      (f"{a['field_label']} {num(a['claimed_value'], 2)}；" if a["field"] else
                       f"调为 {a['requested_class']} 类；") + a["claim"],
                      a["status_label"], a["decision"] or "-") for a in rec["appeals"]],
                    (14, 12, 20, 80, 22, 38)))
    return out


def render_pdf(rec: dict[str, Any], images: Iterable[dict[str, Any]] = ()) -> bytes:
    """The file as an A4 PDF (several pages when long) with the CJK font embedded."""
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    from maps.sheet import find_cjk_font

    font, index = find_cjk_font()
    h = rec["header"]
    pdf = FPDF(format="A4", unit="mm")
    pdf.set_margins(12, 12, 12)
    pdf.set_auto_page_break(True, margin=12)
    pdf.add_page()
    pdf.add_font("cjk", fname=font, collection_font_number=index)
    pdf.set_font("cjk", size=15)
    pdf.cell(0, 9, f"一企一档 — {h['name']}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=9)
    heading = FontFace(emphasis="", fill_color=(238, 243, 248))
    facts = [("统一社会信用代码", h["credit_code"]), ("状态", h["status_label"]),
             ("镇街", h["town"] or "-"), ("园区", h["park"] or "-"),
             ("行业", f"{h['industry_division'] or '-'} {h['industry_name'] or ''}"),
             ("规模", h["size"] + ("、公用事业" if h["is_utility"] else ""))]
    with pdf.table(col_widths=(32, 61, 32, 61), line_height=5, first_row_as_headings=False
                   ) as table:
        for i in range(0, len(facts), 2):
            row = table.row()
            for label, value in facts[i:i + 2]:
                row.cell(label)
                row.cell(str(value))
    for title, header, rows, widths in panel_tables(rec):
        pdf.ln(2)
        pdf.set_font("cjk", size=11)
        pdf.cell(0, 6, title, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("cjk", size=7.5)
        with pdf.table(col_widths=widths, line_height=4, headings_style=heading) as table:
            row = table.row()
            for c in header:
                row.cell(c)
            for r in rows or [("无",) + ("",) * (len(header) - 1)]:
                row = table.row()
                for c in r:
                    row.cell(str(c))
    images = list(images)
    if "imagery" in rec:
        pdf.ln(2)
        pdf.set_font("cjk", size=11)
        pdf.cell(0, 6, TITLES["imagery"] + "（红线：宗地界线，橙色：建筑物）",
                 new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("cjk", size=8)
        if not images:
            pdf.cell(0, 5, "无覆盖其宗地的调查", new_x="LMARGIN", new_y="NEXT")
        side = 58
        for i in range(0, len(images), 3):
            if pdf.get_y() + side + 8 > pdf.h - 12:
                pdf.add_page()
            y = pdf.get_y()
            for k, im in enumerate(images[i:i + 3]):
                x = 12 + k * (side + 6)
                pdf.image(io.BytesIO(im["png"]), x=x, y=y, w=side, h=side, keep_aspect_ratio=True)
                pdf.set_xy(x, y + side + 0.5)
                which = "第一次调查" if im["which"] == "first" else "最近一次调查"
                pdf.cell(side, 4, f"{im['parcel_code']} {which} {im['date']}")
            pdf.set_xy(12, y + side + 6)
    return bytes(pdf.output())


def write_sheet(conn: psycopg.Connection, credit_code: str, path: str | Path, *,
                panels: Iterable[str] | None = None, overwrite: bool = False) -> dict[str, Any]:
    """Write the file of ``credit_code`` as a PDF at ``path`` (atomically).

    Raises
    ------
    DataError
        ``path`` does not end in .pdf; the firm is not in the database.
    ConfigError
        No CJK font installed; an unknown panel.
    OutputExistsError
        ``path`` exists and ``overwrite`` is false.
    """
    from gis.atomic import atomic_output
    from maps.enterprise_file import enterprise_file
    from maps.enterprise_file.imagery import imagery_pngs
    from maps.sheet import find_cjk_font

    path = Path(path)
    if path.suffix.lower() != ".pdf":
        raise DataError(f"{path}：一企一档只能写成 PDF 文件（文件名以 .pdf 结尾）")
    find_cjk_font()
    rec = enterprise_file(conn, credit_code, panels=panels)
    images = imagery_pngs(conn, rec["imagery"]) if "imagery" in rec else []
    content = render_pdf(rec, images)
    with atomic_output(path, overwrite=overwrite) as tmp:
        tmp.write_bytes(content)
    return {"path": str(path), "credit_code": rec["header"]["credit_code"],
            "panels": rec["panels"], "images": len(images), "bytes": len(content)}
