"""`mujun report annual`: the year's report on the sample city, as Word and as PDF.

Every figure the test looks for is computed here, independently, from the stored runs
(SQL on ``enterprise_score``, ``enterprise_year``, ``candidate``, ``policy_line``,
``enterprise_land``), and must appear in the text python-docx and pypdf read back.
"""

from __future__ import annotations

import json
import re

import openpyxl
import pytest

from gis.crs import SQM_PER_MU
from tests.cli_runner import run_mujun

pytestmark = [pytest.mark.postgis, pytest.mark.slow]


def _mujun(args, monkeypatch, dsn, capsys) -> str:
    code, out, err = run_mujun([str(a) for a in args], monkeypatch, dsn, capsys)
    assert code == 0, err
    return out


def _money(value: float) -> str:
    return f"{value:,.2f}"


@pytest.fixture(scope="module")
def year_db(city_db, tmp_path_factory):
    """The sample city with a 2023 and a 2024 score run, a policy run on 2024's classes,
    a candidates run with two approvals, and a land-tax base of 2024 for two firms."""
    from gis.settings import load_settings
    from scoring.land_status.lifecycle import decide
    from scoring.land_status.run import run_candidates
    from scoring.run import run_scores

    conn, dsn, occ = city_db
    # this module imports its own 2024 tax base of two firms (the shared fixture's base of
    # most firms is for the land-tax map)
    conn.execute("DELETE FROM land_tax_base WHERE year = 2024")
    conn.commit()
    # the sample city has no development zones: the parcels of two towns form two parks
    towns = [r[0] for r in conn.execute("SELECT DISTINCT town FROM parcel WHERE town IS NOT"
                                        " NULL ORDER BY 1 LIMIT 2").fetchall()]
    for town, park in zip(towns, ("高新技术产业园", "经济开发区"), strict=True):
        conn.execute("UPDATE parcel SET park = %s WHERE town = %s", (park, town))
    conn.commit()
    run_scores(conn, "zhejiang-huangyan-2022", 2023, occupancy_run=occ)   # fixed benchmarks
    settings = load_settings({"dsn": dsn, "home": str(tmp_path_factory.mktemp("home"))},
                             environ={})
    cand = run_candidates(conn, settings, as_of="2024-12-31", occupancy_run=occ).run_id
    ids = [r[0] for r in conn.execute("SELECT candidate_id FROM candidate WHERE run_id = %s"
                                      " AND status = 'new' ORDER BY candidate_id LIMIT 2",
                                      (cand,)).fetchall()]
    assert len(ids) == 2, "the sample city's rules find candidates"
    for cid in ids:
        for status in ("under_review", "confirmed", "approved"):
            decide(conn, cid, status=status, by="测试员")
    conn.commit()
    land = conn.execute("SELECT trim(credit_code), land_m2 FROM enterprise_land"
                        " WHERE run_id = %s AND year = 2024 AND land_m2 > 0"
                        " ORDER BY credit_code LIMIT 2", (occ,)).fetchall()
    tax = tmp_path_factory.mktemp("tax") / "土地使用税2024.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["统一社会信用代码", "应税面积(平方米)", "土地等级", "单位税额"])
    ws.append([land[0][0], round(float(land[0][1]), 2), "一级", 6])         # agrees
    ws.append([land[1][0], round(float(land[1][1]) / 2, 2), "二级", 4])     # half taxed
    wb.save(tax)
    return {"conn": conn, "dsn": dsn, "occ": occ, "cand": cand, "approved": ids,
            "tax_file": tax, "half": land[1]}


def _expected(conn, year: int) -> dict:
    """The figures of ``year``'s latest score run, straight from the tables."""
    run = conn.execute("SELECT max(run_id) FROM run WHERE kind = 'score'"
                       " AND (params->>'year')::int = %s", (year,)).fetchone()[0]
    n, land_m2, tax, revenue = conn.execute(
        "SELECT count(*), sum(s.land_m2), sum(y.tax_wan), sum(y.revenue_wan)"
        " FROM enterprise_score s LEFT JOIN enterprise_year y"
        " ON y.credit_code = s.credit_code AND y.year = s.year"
        " WHERE s.run_id = %s AND s.population IS NOT NULL", (run,)).fetchone()
    classes = dict(conn.execute("SELECT class, count(*) FROM enterprise_score"
                                " WHERE run_id = %s AND class IS NOT NULL GROUP BY 1",
                                (run,)).fetchall())
    land_mu = float(land_m2) / SQM_PER_MU
    return {"run": run, "evaluated": n, "land_mu": land_mu, "tax": float(tax),
            "revenue": float(revenue), "tax_per_mu": float(tax) / land_mu, "classes": classes}


def _docx_text(path) -> tuple[str, list[list[str]], int]:
    """Paragraphs and table cells as text, the table rows, the number of images."""
    from docx import Document

    doc = Document(str(path))
    parts = [p.text for p in doc.paragraphs]
    rows = []
    for table in doc.tables:
        for row in table.rows:
            rows.append([c.text for c in row.cells])
            parts += rows[-1]
    return "\n".join(parts), rows, len(doc.inline_shapes)


def _pdf_text(path) -> str:
    from tests.pdf_text import pdf_text

    return pdf_text(path).replace("\n", "").replace(" ", "")


def test_annual_report_figures_match_the_stored_runs(year_db, tmp_path, monkeypatch, capsys):
    conn, dsn = year_db["conn"], year_db["dsn"]
    _mujun(["import", "land-tax", year_db["tax_file"], "--year", 2024], monkeypatch, dsn,
           capsys)
    now, before = _expected(conn, 2024), _expected(conn, 2023)
    # an official moves one D firm of 2024 to C: the report counts final classes
    moved = conn.execute("SELECT trim(credit_code) FROM enterprise_score WHERE run_id = %s"
                         " AND class = 'D' ORDER BY credit_code LIMIT 1",
                         (now["run"],)).fetchone()[0]
    _mujun(["score", "override", moved, "--class", "C", "--reason", "停产整改已完成",
            "--by", "张三", "--run", now["run"]], monkeypatch, dsn, capsys)
    now["classes"]["D"] -= 1
    now["classes"]["C"] += 1
    out = tmp_path / "亩均评价年度报告.docx"
    info = json.loads(_mujun(["report", "annual", "--year", 2024, "-o", out, "--issuer",
                              "某县亩均办", "--json"], monkeypatch, dsn, capsys))
    policy = conn.execute("SELECT max(run_id) FROM run WHERE kind = 'policy'").fetchone()[0]
    assert info["score_run"] == now["run"] and info["previous_run"] == before["run"]
    assert info["candidates_run"] == year_db["cand"] and info["policy_run"] == policy
    assert info["trend_years"] == [2023, 2024] and info["notes"] == {}
    assert info["totals"]["evaluated"] == now["evaluated"]
    assert info["totals"]["tax_per_mu"] == pytest.approx(now["tax_per_mu"], abs=1e-4)

    # the figures, as printed, computed from the tables
    surcharge = conn.execute("SELECT coalesce(sum(amount_fen), 0) FROM policy_line"
                             " WHERE run_id = %s AND amount_fen > 0", (policy,)).fetchone()[0]
    found, area = conn.execute("SELECT count(*), sum(area_m2) FROM candidate WHERE run_id = %s",
                               (year_db["cand"],)).fetchone()
    approved_m2 = conn.execute(
        "SELECT sum(coalesce(reclaimable_m2, area_m2)) FROM candidate"
        " WHERE candidate_id = ANY(%s)", (year_db["approved"],)).fetchone()[0]
    # land-tax check: every firm with land but the two in the file is unregistered; the
    # half-taxed firm's other half is untaxed; the matched firm adds nothing
    firms, land_m2 = conn.execute(
        "SELECT count(DISTINCT credit_code), sum(land_m2) FROM enterprise_land"
        " WHERE run_id = %s AND year = 2024 AND land_m2 > 0", (year_db["occ"],)).fetchone()
    matched, half = (float(conn.execute(
        "SELECT l.land_m2 - b.taxable_area_m2 FROM enterprise_land l JOIN land_tax_base b"
        " ON trim(b.credit_code) = trim(l.credit_code) AND b.year = l.year"
        " WHERE l.run_id = %s AND l.year = 2024 AND b.unit_tax = %s",
        (year_db["occ"], rate)).fetchone()[0]) for rate in (6, 4))
    untaxed_m2 = float(land_m2) - float(conn.execute(
        "SELECT sum(l.land_m2) FROM enterprise_land l JOIN land_tax_base b"
        " ON trim(b.credit_code) = trim(l.credit_code) AND b.year = l.year"
        " WHERE l.run_id = %s AND l.year = 2024", (year_db["occ"],)).fetchone()[0]) + half
    assert abs(matched) < 0.01                     # within the tolerance: adds nothing
    figures = {
        "participants": f"{now['evaluated']:,}家企业参加",
        "land": f"用地{_money(now['land_mu'])}亩",
        "tax": f"税收{_money(now['tax'])}万元",
        "revenue": f"营业收入（产值）{_money(now['revenue'])}万元",
        "tax_per_mu": f"亩均税收{_money(now['tax_per_mu'])}万元/亩",
        "last_tax_per_mu": _money(before["tax_per_mu"]),
        "change": f"{now['tax_per_mu'] - before['tax_per_mu']:+,.2f}",
        "candidates": f"候选宗地{found:,}宗、{_money(float(area) / SQM_PER_MU)}亩",
        "approved": f"已批准收回/盘活2宗、{_money(float(approved_m2) / SQM_PER_MU)}亩",
        "surcharge": _money(float(surcharge) / 1e6),
        "unregistered": f"用地未登记纳税{firms - 2:,}家",
        "sources": f"评价运行 {now['run']}",
        "last": f"评价运行 {before['run']}",
        "candidates_run": f"土地状况识别运行 {year_db['cand']}",
        "policy_run": f"政策运行 {policy}",
    }
    from scoring.vocabulary import CLASSES

    classed = sum(now["classes"].values())
    class_rows = {}
    for klass in "ABCDT":
        n_now, n_before = now["classes"].get(klass, 0), before["classes"].get(klass, 0)
        class_rows[CLASSES.label(klass)] = [
            f"{n_now:,}", f"{n_now / classed:.1%}", f"{n_before:,}",
            f"{n_now - n_before:+,}" if n_now != n_before else "0"]

    text, rows, images = _docx_text(out)
    by_label = {r[0]: r for r in rows}
    for label, (n, share, last, change) in class_rows.items():
        row = by_label[label]           # 档次, 企业数, 占比, 用地, 税收, 上年企业数, 增减
        assert [row[1], row[2], row[5], row[6]] == [n, share, last, change], row
    assert images == 4                       # classes, trend, towns, the class map
    assert "2024年度工业企业亩均效益综合评价报告" in text and "某县亩均办" in text
    # the sections, in order, in Word's heading style, in the vocabulary's words
    from docx import Document

    from maps.annual.terms import SECTIONS

    headings = [p.text for p in Document(str(out)).paragraphs
                if p.style.name == "Heading 1"]
    assert headings == [SECTIONS.label(c) for c in SECTIONS.codes()]
    assert headings[0] == "一、总体情况" and headings[-1] == "十、数据来源"
    from maps.annual.terms import SOURCES

    sources = [r[0] for r in rows if r[0] in set(SOURCES.labels().values())]
    assert sources == [SOURCES.label(c) for c in SOURCES.codes()]   # every run named
    flat_docx = text.replace("\n", "")
    for name, figure in figures.items():
        assert figure in flat_docx, (name, figure)
    # areas are summed from per-firm figures rounded to 0.01 m²
    printed = re.search(r"未计税占地([\d,.]+)平方米", flat_docx)[1]
    assert float(printed.replace(",", "")) == pytest.approx(untaxed_m2, abs=0.05)
    assert "本部分无数据" not in text

    pdf = tmp_path / "亩均评价年度报告.pdf"
    _mujun(["report", "annual", "--year", 2024, "-o", pdf], monkeypatch, dsn, capsys)
    flat = _pdf_text(pdf)
    for name, figure in figures.items():
        assert figure.replace(" ", "") in flat, (name, figure)
    from pypdf import PdfReader

    fonts = {str(f.get_object().get("/BaseFont")) for page in PdfReader(str(pdf)).pages
             for f in (page["/Resources"].get("/Font") or {}).values()}
    assert any("NotoSans" in f or "CJK" in f for f in fonts), fonts   # the font is embedded

    # never over an existing file without --overwrite; nothing half-written
    code, _, err = run_mujun(["report", "annual", "--year", "2024", "-o", str(pdf)],
                             monkeypatch, dsn, capsys)
    assert code == 4 and "--overwrite" in err and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["亩均评价年度报告.docx",
                                                          "亩均评价年度报告.pdf"]
