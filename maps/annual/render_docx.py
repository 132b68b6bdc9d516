"""The annual report as a Word document (python-docx), charts and map embedded.

Renders the blocks of :func:`maps.annual.content.report_blocks`: headings in Word's
heading styles (so the navigation pane lists the sections), tables in the grid style,
images 160 mm wide; Chinese text set in 宋体 (SimSun) through the East Asian font of
each style.
"""

from __future__ import annotations

import io
from typing import Any

#: Width of the embedded images, mm.
IMAGE_MM = 160


def _east_asian(style, font: str = "SimSun") -> None:
    from docx.oxml.ns import qn

    style.font.name = font
    rpr = style.element.get_or_add_rPr()
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.append(rfonts)
    rfonts.set(qn("w:eastAsia"), font)


def render_docx(blocks: list[tuple[str, Any]]) -> bytes:
    """The blocks as .docx bytes."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Mm, Pt, RGBColor

    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.left_margin = section.right_margin = Mm(20)
    for name in ("Normal", "Title", "Heading 1", "Caption"):
        _east_asian(doc.styles[name])
    doc.styles["Normal"].font.size = Pt(10.5)
    for kind, value in blocks:
        if kind == "title":
            doc.add_heading(value, level=0).alignment = WD_ALIGN_PARAGRAPH.CENTER
        elif kind == "subtitle":
            doc.add_paragraph(value).alignment = WD_ALIGN_PARAGRAPH.CENTER
        elif kind == "heading":
            doc.add_heading(value, level=1)
        elif kind == "para":
            doc.add_paragraph(value)
        elif kind == "note":
            run = doc.add_paragraph().add_run(value)
            run.font.size = Pt(9)
            run.font.color.rgb = RGBColor(0x5A, 0x5A, 0x5A)
        elif kind == "table":
            header, rows = value
            table = doc.add_table(rows=1 + len(rows), cols=len(header), style="Table Grid")
            size = Pt(8 if len(header) <= 6 else 7)
            for r, row in enumerate((header, *rows)):
                for c, text in enumerate(row):
                    cell = table.cell(r, c)
                    cell.text = str(text)
                    for run in cell.paragraphs[0].runs:
                        run.font.size = size
                        run.font.bold = r == 0
        elif kind == "image":
            png, caption = value
            doc.add_picture(io.BytesIO(png), width=Mm(IMAGE_MM))
            doc.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
            doc.add_paragraph(caption, style="Caption").alignment = WD_ALIGN_PARAGRAPH.CENTER
        else:
            raise ValueError(f"unknown block {kind!r}")
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()
