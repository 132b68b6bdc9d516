"""Text of a PDF that mujun wrote, extracted with pypdf.

fpdf2 embeds Noto Sans CJK (a CFF, CID-keyed font) as a Type0 font whose ``/Encoding``
is an embedded CMap stream mapping two-byte codes to CIDs. pypdf does not read embedded
CMap encodings and falls back to one-byte codes, so once a document uses more than 255
glyphs the text comes out garbled (below that, as a NUL before each character). The
codes are plain two-byte codes and the font's ``/ToUnicode`` map gives their text, so
the reader's in-memory copy is told ``/Identity-H`` (two-byte codes) before extracting;
the file is not changed.
"""

from __future__ import annotations

from pathlib import Path


def pdf_text(path: str | Path) -> str:
    """Every page's text, as pypdf extracts it with two-byte codes read as such."""
    from pypdf import PdfReader
    from pypdf.generic import NameObject

    reader = PdfReader(str(path))
    for page in reader.pages:
        fonts = (page.get("/Resources") or {}).get("/Font") or {}
        for ref in fonts.values():
            font = ref.get_object()
            encoding = font.get("/Encoding")
            if encoding is not None and hasattr(encoding.get_object(), "get_data"):
                font[NameObject("/Encoding")] = NameObject("/Identity-H")
    return "".join(page.extract_text() for page in reader.pages)
