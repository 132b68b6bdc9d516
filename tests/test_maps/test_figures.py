"""Report figures: page size, legend, scale bar, north arrow, source, real CJK glyphs."""

from __future__ import annotations

import re
import warnings
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from maps.figure import PAPERS, nice_length
from maps.make import make_map
from maps.web.kinds import MapOptions
from tests.pdf_text import pdf_text

SVG = "{http://www.w3.org/2000/svg}"


def _no_missing_glyphs(record):
    missing = [str(w.message) for w in record if "missing from" in str(w.message)]
    assert not missing, missing


def test_svg_has_every_element_and_chinese_text(city_db, tmp_path):
    conn, _, _ = city_db
    out = tmp_path / "classes.svg"
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        info = make_map(conn, "classes", out, paper="A4")
    _no_missing_glyphs(record)
    assert info["font"].startswith("Noto Sans CJK")
    root = ET.parse(out).getroot()
    ids = {el.get("id") for el in root.iter() if el.get("id")}
    assert {"title", "legend", "scalebar", "north-label", "source", "layer-classes"} <= ids
    texts = "".join("".join(t.itertext()) for t in root.iter(f"{SVG}text"))
    assert "亩均效益评价等级" in texts and "A类（优先发展）" in texts and "北" in texts
    assert "来源" in texts and "EPSG:4549" in texts
    assert "Noto Sans CJK" in out.read_text(encoding="utf-8")
    w, h = (float(root.get(k).rstrip("pt")) for k in ("width", "height"))
    assert (w, h) == pytest.approx((297 / 25.4 * 72, 210 / 25.4 * 72), abs=1)


def test_pdf_embeds_the_cjk_font_at_a3(city_db, tmp_path):
    conn, _, _ = city_db
    out = tmp_path / "towns.pdf"
    make_map(conn, "towns", out, paper="A3")
    data = out.read_bytes()
    fonts = set(re.findall(rb"/BaseFont\s*/([A-Za-z0-9+\-]+)", data))
    assert any(b"NotoSansCJK" in f for f in fonts), fonts
    assert b"/Type3" in data and b"/CharProcs" in data   # the glyphs drawn, not just named
    flat = pdf_text(out).replace("\n", "").replace(" ", "")
    assert "镇街亩均效益汇总" in flat                  # and the title reads back
    box = [float(v) for v in re.search(rb"/MediaBox\s*\[([^\]]*)\]", data).group(1).split()]
    assert box[2:] == pytest.approx([420 / 25.4 * 72, 297 / 25.4 * 72], abs=1)


def test_png_is_300_dpi_a4_and_draws_the_map(city_db, tmp_path):
    from PIL import Image

    conn, _, _ = city_db
    out = tmp_path / "industry.png"
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        make_map(conn, "industry", out)
    _no_missing_glyphs(record)
    image = Image.open(out)
    want = (297 / 25.4 * 300, 210 / 25.4 * 300)                 # 3508 × 2480
    assert image.size == pytest.approx(want, abs=1)
    rgb = np.asarray(image.convert("RGB"))
    assert len(np.unique(rgb[::7, ::7].reshape(-1, 3), axis=0)) > 30   # many class colours


@pytest.mark.parametrize("kind", ["per-mu", "heat", "candidates", "land-status", "land-tax"])
def test_other_kinds_as_figures(city_db, tmp_path, kind):
    conn, _, _ = city_db
    out = tmp_path / f"{kind}.svg"
    make_map(conn, kind, out, options=MapOptions(lang="en", year=2024), paper="A4-portrait")
    root = ET.parse(out).getroot()
    ids = {el.get("id") for el in root.iter() if el.get("id")}
    assert {"title", "legend", "scalebar", "source"} <= ids
    texts = "".join("".join(t.itertext()) for t in root.iter(f"{SVG}text"))
    assert "N" in texts and "source" in texts


def test_nice_scale_lengths():
    assert nice_length(7300.0) == 1000.0
    assert nice_length(480.0) == 50.0
    for span in np.geomspace(10, 1e6, 40):
        length = nice_length(float(span))
        assert span / 12.5 - 1e-9 <= length <= span / 5 + 1e-9
        mantissa = length / 10 ** np.floor(np.log10(length))
        assert round(mantissa) in (1, 2, 5)
    assert set(PAPERS) == {"A4", "A3", "A4-portrait", "A3-portrait"}
