"""The public notice of a score run (公示) as a document: A4 PDF or Word.

:func:`render_pdf` writes the content :func:`scoring.notice.notice_content` builds as an
A4 PDF with an embedded Chinese font (fpdf2 and Noto Sans CJK, as the land-status
sheets); :func:`render_docx` as a Word document (WordprocessingML written directly,
宋体). :func:`write_notice` is ``mujun score notice``. The notice is desensitized: names,
credit codes and towns only, no tax or other figures.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gis.importing.values import as_date
from scoring.notice import ANNEXES, CLASS_NAMES, notice_content

if TYPE_CHECKING:
    import psycopg


def render_pdf(notice: dict[str, Any]) -> bytes:
    """The notice as an A4 PDF with an embedded Chinese font."""
    from fpdf import FPDF

    from maps.sheet import find_cjk_font

    font, index = find_cjk_font()
    pdf = FPDF(format="A4", unit="mm")
    pdf.set_margins(18, 16, 18)
    pdf.set_auto_page_break(True, margin=16)
    pdf.add_page()
    pdf.add_font("cjk", fname=font, collection_font_number=index)
    pdf.set_font("cjk", size=15)
    pdf.multi_cell(0, 9, notice["title"], align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=10)
    start = as_date(notice["start"], "notice start")
    text = _intro(notice)
    pdf.multi_cell(0, 6, text, new_x="LMARGIN", new_y="NEXT")
    for klass, label in CLASS_NAMES.items():
        firms = notice["classes"][klass]
        _section(pdf, f"{label}企业（{len(firms)} 家）",
                 [(str(i), f["name"] or "", f["credit_code"], f["town"]
                   + ("（调档）" if f.get("adjusted") else ""))
                  for i, f in enumerate(firms, 1)], ("序号", "企业名称", "统一社会信用代码", "镇街"),
                 (14, 76, 46, 38))
    for key, title in ANNEXES:
        firms = notice["annexes"][key]
        _section(pdf, f"{title}（{len(firms)} 家）",
                 [(str(i), f["name"] or "", f["credit_code"], f["reason"])
                  for i, f in enumerate(firms, 1)], ("序号", "企业名称", "统一社会信用代码", "原因"),
                 (14, 60, 44, 56))
    pdf.ln(4)
    if notice.get("issuer"):
        pdf.cell(0, 6, notice["issuer"], align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 6, f"{start.year}年{start.month}月{start.day}日", align="R",
             new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _section(pdf, title: str, rows: list[tuple], header: tuple, widths: tuple) -> None:
    pdf.ln(2)
    pdf.set_font("cjk", size=11)
    pdf.cell(0, 7, title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=8.5)
    from fpdf.fonts import FontFace

    heading = FontFace(emphasis="", fill_color=(238, 243, 248))
    with pdf.table(col_widths=widths, line_height=5, headings_style=heading) as table:
        row = table.row()
        for h in header:
            row.cell(h)
        for r in rows or [("", "无", "", "")]:
            row = table.row()
            for c in r:
                row.cell(str(c))


def _notice_blocks(notice: dict[str, Any]) -> list[tuple[str, Any]]:
    """The notice as blocks: ("title"|"para"|"heading", text) and ("table", (header, rows))."""
    start = as_date(notice["start"], "notice start")
    blocks: list[tuple[str, Any]] = [("title", notice["title"]), ("para", _intro(notice))]
    for klass, label in CLASS_NAMES.items():
        firms = notice["classes"][klass]
        blocks.append(("heading", f"{label}企业（{len(firms)} 家）"))
        blocks.append(("table", (("序号", "企业名称", "统一社会信用代码", "镇街"),
                                 [(str(i), f["name"] or "", f["credit_code"], f["town"]
                                   + ("（调档）" if f.get("adjusted") else ""))
                                  for i, f in enumerate(firms, 1)])))
    for key, title in ANNEXES:
        firms = notice["annexes"][key]
        blocks.append(("heading", f"{title}（{len(firms)} 家）"))
        blocks.append(("table", (("序号", "企业名称", "统一社会信用代码", "原因"),
                                 [(str(i), f["name"] or "", f["credit_code"], f["reason"])
                                  for i, f in enumerate(firms, 1)])))
    if notice.get("issuer"):
        blocks.append(("right", notice["issuer"]))
    blocks.append(("right", f"{start.year}年{start.month}月{start.day}日"))
    return blocks


def _intro(notice: dict[str, Any]) -> str:
    m = notice["method"]
    start, end = (as_date(notice[k], f"notice {k}") for k in ("start", "end"))
    return (f"根据{m.get('title') or notice['ruleset']}，对全市（县）工业企业开展亩均效益综合评价，"
            f"评价指标为{'、'.join(m['indicators']) or '（见评价办法）'}，{m['class_rule']}。"
            f"现将分类结果予以公示，公示期为{start.year}年{start.month}月{start.day}日至"
            f"{end.year}年{end.month}月{end.day}日（{notice['days']}天）。公示期间如有异议，"
            "请以书面形式向评价工作领导小组办公室提出数据申诉或调档申诉。")


_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def render_docx(notice: dict[str, Any]) -> bytes:
    """The notice as a Word document (WordprocessingML written directly; SimSun/宋体 text)."""
    import io
    import zipfile
    from xml.sax.saxutils import escape

    def run(text: str, size: int = 21, bold: bool = False) -> str:
        props = (f'<w:rPr><w:rFonts w:ascii="SimSun" w:eastAsia="SimSun" w:hAnsi="SimSun"/>'
                 f'{"<w:b/>" if bold else ""}<w:sz w:val="{size}"/></w:rPr>')
        return f'<w:r>{props}<w:t xml:space="preserve">{escape(text)}</w:t></w:r>'

    def para(text: str, *, size: int = 21, bold: bool = False, align: str = "") -> str:
        jc = f'<w:pPr><w:jc w:val="{align}"/></w:pPr>' if align else ""
        return f"<w:p>{jc}{run(text, size, bold)}</w:p>"

    body = []
    for kind, value in _notice_blocks(notice):
        if kind == "title":
            body.append(para(value, size=32, bold=True, align="center"))
        elif kind == "para":
            body.append(para(value))
        elif kind == "heading":
            body.append(para(value, size=24, bold=True))
        elif kind == "right":
            body.append(para(value, align="right"))
        else:
            header, rows = value
            cells = [header, *(rows or [("", "无", "", "")])]
            trs = "".join("<w:tr>" + "".join(f"<w:tc><w:p>{run(str(c), 18, i == 0)}</w:p></w:tc>"
                                             for c in row) + "</w:tr>"
                          for i, row in enumerate(cells))
            border = "".join(f'<w:{b} w:val="single" w:sz="4" w:color="999999"/>'
                             for b in ("top", "left", "bottom", "right", "insideH", "insideV"))
            body.append(f'<w:tbl><w:tblPr><w:tblW w:w="5000" w:type="pct"/><w:tblBorders>'
                        f'{border}</w:tblBorders></w:tblPr>{trs}</w:tbl>')
    document = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                f'<w:document xmlns:w="{_W}"><w:body>{"".join(body)}'
                '<w:sectPr><w:pgSz w:w="11906" w:h="16838"/></w:sectPr></w:body></w:document>')
    types = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
             '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
             '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
             'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
             '<Override PartName="/word/document.xml" ContentType="application/vnd.'
             'openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>')
    rels = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/'
            '2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>')
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", types)
        z.writestr("_rels/.rels", rels)
        z.writestr("word/document.xml", document)
    return buffer.getvalue()


def write_notice(conn: psycopg.Connection, path: str | Path, *, run_id: int | None = None,
                 days: int = 30, start: dt.date | None = None, issuer: str = "",
                 overwrite: bool = False) -> dict[str, Any]:
    """Write the notice of a score run (default: the latest) to ``path`` (.pdf or .docx)."""
    from gis.atomic import atomic_output
    from gis.errors import DriverError
    from scoring.store import resolve_score_run

    path = Path(path)
    renderers = {".pdf": render_pdf, ".docx": render_docx}
    if path.suffix.lower() not in renderers:
        raise DriverError(f"公示不能写成{path.suffix or '无扩展名的文件'}；请写 .pdf 或 .docx",
                          source=str(path))
    run = resolve_score_run(conn, run_id)
    notice = notice_content(conn, run, days=days, start=start, issuer=issuer)
    data = renderers[path.suffix.lower()](notice)
    with atomic_output(path, overwrite=overwrite) as tmp:
        Path(tmp).write_bytes(data)
    counts = {k: len(v) for k, v in notice["classes"].items()}
    counts.update({k: len(v) for k, v in notice["annexes"].items()})
    return {"path": str(path), "run_id": run, "start": notice["start"], "end": notice["end"],
            "days": days, "firms": counts}
