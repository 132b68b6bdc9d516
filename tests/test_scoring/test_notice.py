"""`mujun score notice`: the public notice as a PDF whose text is Chinese and complete."""

from __future__ import annotations

import json

import pytest
from pypdf import PdfReader

from tests.cli_runner import run_mujun
from tests.test_scoring.county import Firm, load_county, make_firms, mujun

pytestmark = pytest.mark.postgis


def _rec(tax):
    return {"tax_wan": tax, "revenue_wan": 10 * tax, "electricity_kwh": 1e5}


def test_notice_lists_every_class_and_annex_in_chinese(tmp_path, db_dsn, monkeypatch, capsys):
    firms = [Firm(f"企业{i}", True, 10.0, {2021: _rec(10 * i), 2022: _rec(11 * i)})
             for i in range(1, 21)]
    firms.append(Firm("电力公司", True, 10.0, {2021: _rec(50), 2022: _rec(55)},
                      industry="D4411"))
    fs = make_firms(firms)
    occ = load_county(tmp_path, fs, monkeypatch, db_dsn, capsys, occupancy_year=2022)
    veto = tmp_path / "否决.csv"
    veto.write_text(f"统一社会信用代码,类型,原因\n{fs[19].code},一票否决,发生重大安全生产事故\n",
                    encoding="utf-8")
    run = json.loads(mujun(["score", "--ruleset", "jiangsu-huaian-2024", "--year", "2022",
                            "--occupancy-run", occ, "--adjustments", veto, "--json"],
                           monkeypatch, db_dsn, capsys))["run_id"]
    mujun(["score", "override", fs[0].code, "--class", "C", "--reason", "成长型企业",
           "--by", "张三"], monkeypatch, db_dsn, capsys)
    out = tmp_path / "公示.pdf"
    info = json.loads(mujun(["score", "notice", "-o", out, "--start", "2023-03-01",
                             "--issuer", "某县亩均办", "--json"], monkeypatch, db_dsn, capsys))
    assert info["run_id"] == run and info["end"] == "2023-03-30"
    assert info["firms"]["class_t"] == 1 and info["firms"]["veto"] == 1
    text = "".join(page.extract_text() for page in PdfReader(out).pages)
    # pypdf reads fpdf2's two-byte glyph codes with a NUL before each character
    flat = text.replace("\x00", "").replace("\n", "").replace(" ", "")
    assert "2022年度工业企业亩均效益综合评价分类结果公示" in flat
    assert "2023年3月1日至2023年3月30日（30天）" in flat
    for heading in ("A类企业", "B类企业", "C类企业", "D类企业", "附件1不参评企业（T类）",
                    "附件2保护期企业", "附件3一票否决企业"):
        assert heading in flat, heading
    assert "公用事业（行业大类44）" in flat and "发生重大安全生产事故" in flat
    assert "亩均税收" in flat and "电力公司" in flat and fs[0].code in flat
    assert "（调档）" in flat                          # firm 1, adjusted from D to C
    assert "万元" not in flat                          # desensitized: no figures
    code, _, err = run_mujun(["score", "notice", "-o", str(out)], monkeypatch, db_dsn, capsys)
    assert code == 4 and "Traceback" not in err      # never overwritten without --overwrite
    code, _, err = run_mujun(["score", "notice", "-o", str(tmp_path / "公示.odt")],
                             monkeypatch, db_dsn, capsys)
    assert code == 3 and "请写 .pdf 或 .docx" in err
    # the Word version carries the same text
    docx = tmp_path / "公示.docx"
    mujun(["score", "notice", "-o", docx, "--start", "2023-03-01"], monkeypatch, db_dsn, capsys)
    import re
    import zipfile

    with zipfile.ZipFile(docx) as z:
        assert set(z.namelist()) == {"[Content_Types].xml", "_rels/.rels", "word/document.xml"}
        xml = z.read("word/document.xml").decode("utf-8")
    from xml.etree import ElementTree

    ElementTree.fromstring(xml.encode("utf-8"))       # well-formed
    words = "".join(re.findall(r"<w:t[^>]*>([^<]*)</w:t>", xml))
    for heading in ("2022年度工业企业亩均效益综合评价分类结果公示", "A类企业", "D类企业",
                    "附件1 不参评企业（T类）", "附件3 一票否决企业", "公用事业（行业大类 44）",
                    "2023年3月1日至2023年3月30日（30天）"):
        assert heading in words, heading


def test_a_firm_in_its_protection_period_is_listed_in_annex_2():
    """The renderers print the protection-period annex with each firm and its reason."""
    import io
    import zipfile

    from maps.notice import render_docx, render_pdf
    from scoring.notice import reason_text

    firm = {"name": "新星精密机械有限公司", "credit_code": "91320500MA1XXXXX0K", "town": "甲镇"}
    notice = {
        "title": "2024年度工业企业亩均效益综合评价分类结果公示", "ruleset": "zhejiang-huangyan-2022",
        "method": {"title": "评价办法", "indicators": ["亩均税收"], "class_rule": "按得分排序分档"},
        "start": "2025-03-01", "end": "2025-03-30", "days": 30, "issuer": "",
        "classes": {k: [] for k in "ABCD"},
        "annexes": {"class_t": [], "veto": [],
                    "protection": [dict(firm, reason=reason_text("first year above scale"))]},
    }
    flat = "".join(p.extract_text() for p in PdfReader(io.BytesIO(render_pdf(notice))).pages)
    flat = flat.replace("\x00", "").replace("\n", "").replace(" ", "")
    assert "附件2保护期企业（列示不评价）（1家）" in flat
    assert "新星精密机械有限公司" in flat and "首次进入规模以上（首年）" in flat
    with zipfile.ZipFile(io.BytesIO(render_docx(notice))) as z:
        xml = z.read("word/document.xml").decode("utf-8")
    assert "新星精密机械有限公司" in xml and "首次进入规模以上（首年）" in xml
