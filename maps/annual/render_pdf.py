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
    from fpdf.enums import WrapMode
    from fpdf.fonts import FontFace

    from maps.sheet import find_cjk_font

    font, index = find_cjk_font()
    pdf = FPDF(format="A4", unit="mm")
    pdf.set_margins(18, 16, 18)
    pdf.set_auto_page_break(True, margin=16)
    pdf.add_font("cjk", fname=font, collection_font_number=index)
    pdf.add_page()
    heading = FontFace(emphasis="", fill_color=(238, 243, 248))
    for i, (kind, value) in enumerate(blocks):
        if kind == "title":
            pdf.set_font("cjk", size=16)
            pdf.multi_cell(0, 10, value, align="C", new_x="LMARGIN", new_y="NEXT")
        elif kind == "subtitle":
            pdf.set_font("cjk", size=10.5)
            pdf.multi_cell(0, 7, value, align="C", new_x="LMARGIN", new_y="NEXT")
        elif kind == "heading":
            # no heading alone at a page foot: room for it and what follows (an image whole)
            after = blocks[i + 1] if i + 1 < len(blocks) else ("", None)
            need = 14 + (_height(after[1][0], WIDTH) + 8 if after[0] == "image" else 26)
            if pdf.get_y() + need > pdf.h - pdf.b_margin:
                pdf.add_page()
            pdf.ln(3)
            pdf.set_font("cjk", size=12.5)
            pdf.multi_cell(0, 8, value, new_x="LMARGIN", new_y="NEXT")
        elif kind in ("para", "note"):
            pdf.set_font("cjk", size=10 if kind == "para" else 9)
            pdf.set_text_color(0 if kind == "para" else 90)
            # left-aligned: justifying Chinese text stretches its few spaces
            # and Chinese lines break between any two characters, not at the few spaces
            pdf.multi_cell(0, 6, value, align="L", wrapmode=WrapMode.CHAR, new_x="LMARGIN",
                           new_y="NEXT")
            pdf.set_text_color(0)
        elif kind == "table":
            header, rows = value
            pdf.ln(1)
            pdf.set_font("cjk", size=8 if len(header) <= 6 else 6.5)
            with pdf.table(line_height=4.6, headings_style=heading, text_align="CENTER",
                           col_widths=column_widths(header, rows)) as table:
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


def column_widths(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> tuple[float, ...]:
    """Relative column widths: the widest cell of each column (a Chinese character counts
    two; headers wrap, so count for less), and never under a tenth of the widest column's
    (a header must fit a character a line); six at least (a share, "22.7%").

    >>> column_widths(("数据", "运行"), [("本年度评价运行", "2")])
    (14, 6)
    >>> column_widths(("a", "b"), [("x" * 100, "1")])
    (100, 10)
    """
    def width(text: str) -> int:
        return sum(2 if ord(ch) > 0x2E7F else 1 for ch in str(text))

    widths = [max([6, round(width(h) * 0.5)] + [width(r[i]) for r in rows])
              for i, h in enumerate(header)]
    floor = max(widths) / 10
    return tuple(max(w, round(floor)) for w in widths)


def _height(png: bytes, width: float) -> float:
    from PIL import Image

    with Image.open(io.BytesIO(png)) as im:
        return width * im.height / im.width
