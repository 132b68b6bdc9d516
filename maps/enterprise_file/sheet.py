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
from maps.enterprise_file.imagery import WHICH
from maps.enterprise_file.panels import TITLES
from maps.enterprise_file.tables import header_facts, panel_tables

if TYPE_CHECKING:
    import psycopg

#: Width of the printable area (A4, 12 mm margins), in mm.
WIDTH = 186


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
    facts = header_facts(h)
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
                which = WHICH[im["which"]]
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
