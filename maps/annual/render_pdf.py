"""The annual report as an A4 PDF with an embedded Chinese font (fpdf2, Noto Sans CJK).

Renders the blocks of :func:`maps.annual.content.report_blocks`; the font is the one
:func:`maps.sheet.find_cjk_font` finds (as the notice and the candidate sheets), embedded
as a subset, so the text can be extracted and searched.
"""

from __future__ import annotations

import io
from typing import Any

#: Usable width of the page (A4 minus the margins), mm.
WIDTH = 174.0


def render_pdf(blocks: list[tuple[str, Any]]) -> bytes:
    """The blocks as PDF bytes."""
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    from maps.sheet import find_cjk_font

    font, index = find_cjk_font()
    pdf = FPDF(format="A4", unit="mm")
    pdf.set_margins(18, 16, 18)
    pdf.set_auto_page_break(True, margin=16)
    pdf.add_font("cjk", fname=font, collection_font_number=index)
    pdf.add_page()
    heading = FontFace(emphasis="", fill_color=(238, 243, 248))
    for kind, value in blocks:
        if kind == "title":
            pdf.set_font("cjk", size=16)
            pdf.multi_cell(0, 10, value, align="C", new_x="LMARGIN", new_y="NEXT")
        elif kind == "subtitle":
            pdf.set_font("cjk", size=10.5)
            pdf.multi_cell(0, 7, value, align="C", new_x="LMARGIN", new_y="NEXT")
        elif kind == "heading":
            pdf.ln(3)
            pdf.set_font("cjk", size=12.5)
            pdf.multi_cell(0, 8, value, new_x="LMARGIN", new_y="NEXT")
        elif kind in ("para", "note"):
            pdf.set_font("cjk", size=10 if kind == "para" else 9)
            pdf.set_text_color(0 if kind == "para" else 90)
            pdf.multi_cell(0, 6, value, new_x="LMARGIN", new_y="NEXT")
            pdf.set_text_color(0)
        elif kind == "table":
            header, rows = value
            pdf.ln(1)
            pdf.set_font("cjk", size=8 if len(header) <= 6 else 6.5)
            with pdf.table(line_height=4.6, headings_style=heading,
                           text_align="CENTER") as table:
                for row in (header, *rows):
                    cells = table.row()
                    for cell in row:
                        cells.cell(str(cell))
            pdf.ln(1)
        elif kind == "image":
            png, caption = value
            width = WIDTH
            height = _height(png, width)
            if pdf.get_y() + height + 8 > pdf.h - pdf.b_margin:
                pdf.add_page()
            pdf.image(io.BytesIO(png), x=pdf.l_margin, w=width)
            pdf.set_font("cjk", size=9)
            pdf.multi_cell(0, 6, caption, align="C", new_x="LMARGIN", new_y="NEXT")
        else:
            raise ValueError(f"unknown block {kind!r}")
    return bytes(pdf.output())


def _height(png: bytes, width: float) -> float:
    from PIL import Image

    with Image.open(io.BytesIO(png)) as im:
        return width * im.height / im.width
