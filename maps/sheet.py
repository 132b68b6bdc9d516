"""The one-page verification sheet (核查表) of a candidate, as HTML or PDF.

The page shows: the candidate's facts (parcel, kind, status, areas, dates), the parcel
on the imagery (its footprints on the survey the finding rests on, and *before and
after* when an earlier survey covers the parcel), drawn by the one "parcel on the image"
renderer (:mod:`maps.parcel_image`) on the survey's own image, or on an orthophoto given
with ``image``; the rules tested and the evidence in words
(:func:`scoring.land_status.explain.explain`, the same lines as the review app and
``mujun candidates show``), the holders with their figures, the decision history, and
blank lines for the field check. HTML is self-contained (the figure inline, no request to
the network); PDF is written with fpdf2 and the Noto Sans CJK font from Debian's
``fonts-noto-cjk``.
"""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gis.crs import SQM_PER_MU
from gis.errors import ConfigError, DataError
from scoring.land_status.explain import Explanation, explain
from scoring.land_status.vocabulary import KINDS, STATUSES

if TYPE_CHECKING:
    import psycopg

#: Where Debian's fonts-noto-cjk puts the font (collection, index of Simplified Chinese).
CJK_FONTS = (
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc", 2),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
)

FORMATS = ("html", "pdf")


def find_cjk_font() -> tuple[str, int]:
    """Path and collection index of an installed CJK font.

    Raises
    ------
    ConfigError
        None installed: says to run ``scripts/bootstrap.sh fonts`` (fonts-noto-cjk).
    """
    for path, index in CJK_FONTS:
        if Path(path).exists():
            return path, index
    raise ConfigError("未安装中文字体，无法生成 PDF 核查表；请运行 `scripts/bootstrap.sh "
                      "fonts`（Debian 软件包 fonts-noto-cjk），或改写网页（-o sheet.html）")


def sheet_data(conn: psycopg.Connection, candidate_id: int) -> dict[str, Any]:
    """Everything the sheet shows, read once: candidate, history, geometries."""
    import shapely

    from scoring.land_status.store import get_candidate

    cand = get_candidate(conn, candidate_id)
    ev = cand.get("evidence") or {}
    row = conn.execute("SELECT ST_AsBinary(geom), town, district FROM parcel"
                       " WHERE parcel_code = %s", (cand["parcel_code"],)).fetchone()
    parcel = shapely.from_wkb(bytes(row[0])) if row else None
    current = (ev.get("survey") or {}).get("id")
    before = (ev.get("previous_survey") or {}).get("id")
    if before is None and current is not None and parcel is not None:
        # before and after: the latest earlier survey covering the parcel, if any
        row = conn.execute(
            "SELECT e.survey_id FROM survey s JOIN survey e ON e.survey_date < s.survey_date"
            " AND ST_Covers(e.coverage, ST_GeomFromWKB(%s, ST_SRID(e.coverage)))"
            " WHERE s.survey_id = %s ORDER BY e.survey_date DESC, e.survey_id DESC LIMIT 1",
            (shapely.to_wkb(parcel), int(current))).fetchone()
        before = row[0] if row else None
    surveys = []
    for sid in (before, current):
        if sid is not None and parcel is not None:
            found = conn.execute("SELECT survey_date, attrs ->> 'image' FROM survey"
                                 " WHERE survey_id = %s", (int(sid),)).fetchone()
            if found is not None:
                surveys.append((found[0].isoformat(), footprints_near(conn, int(sid), parcel),
                                found[1]))
    srid = conn.execute("SELECT value::int FROM mujun_setting WHERE key = 'working_srid'"
                        ).fetchone()
    return {"candidate": cand, "parcel": parcel, "surveys": surveys,
            "srid": int(srid[0]) if srid else None}


def footprints_near(conn: psycopg.Connection, survey_id: int, parcel) -> list:
    """The footprints of survey ``survey_id`` around the shapely ``parcel``."""
    import shapely

    minx, miny, maxx, maxy = parcel.bounds
    pad = max(maxx - minx, maxy - miny) * 0.3 + 10
    rows = conn.execute(
        "SELECT ST_AsBinary(geom) FROM footprint WHERE survey_id = %s"
        " AND geom && ST_MakeEnvelope(%s, %s, %s, %s, ST_SRID(geom))",
        (survey_id, minx - pad, miny - pad, maxx + pad, maxy + pad)).fetchall()
    return [shapely.from_wkb(bytes(r[0])) for r in rows]


def figure_png(data: dict[str, Any], image: str | Path | None = None) -> bytes:
    """PNG of the parcel on each survey (side by side): the survey's footprints on ``image``,
    else on the survey's own image when it is there, else on a plain ground."""
    from PIL import Image

    from maps.parcel_image import render_chip

    parcel = data["parcel"]
    if parcel is None or data.get("srid") is None:
        return _blank_png()
    panels = data["surveys"] or [(None, [], None)]
    pngs = []
    for _date, footprints, survey_image in panels:
        source = image if image is not None else survey_image
        try:
            pngs.append(render_chip(source, parcel, data["srid"], max_size=480,
                                    footprints=footprints))
        except DataError:      # the survey's own image gone or unreadable: footprints only
            if image is not None:
                raise
            pngs.append(render_chip(None, parcel, data["srid"], max_size=480,
                                    footprints=footprints))
    tiles = [Image.open(io.BytesIO(b)).convert("RGB") for b in pngs]
    gap = 12
    width = sum(t.width for t in tiles) + gap * (len(tiles) - 1)
    out = Image.new("RGB", (width, max(t.height for t in tiles)), (255, 255, 255))
    x = 0
    for t in tiles:
        out.paste(t, (x, 0))
        x += t.width + gap
    buf = io.BytesIO()
    out.save(buf, format="PNG")
    return buf.getvalue()


def _blank_png() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (480, 480), (230, 230, 230)).save(buf, format="PNG")
    return buf.getvalue()


def figure_caption(data: dict[str, Any]) -> str:
    """Which survey each panel shows (left to right)."""
    dates = [d for d, *_ in data["surveys"]]
    if not dates:
        return "无覆盖该宗地的影像"
    names = ("左", "右") if len(dates) == 2 else ("",)
    return "；".join(f"{n}：{d} 影像" if n else f"{d} 影像"
                    for n, d in zip(names, dates, strict=False)) + \
        "（红线：宗地界线，橙色：建筑物）"


def _fmt(v: Any, digits: int = 2) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:,.{digits}f}"
    return str(v)


def facts_rows(cand: dict[str, Any], explanation: Explanation) -> list[tuple[str, str]]:
    """(label, value) pairs of the sheet's header table: the candidate, then the evidence."""
    area = cand.get("area_m2")
    rec = cand.get("reclaimable_m2")
    head = [
        ("编号", str(cand["candidate_id"])), ("宗地代码", cand["parcel_code"]),
        ("类型", KINDS.label(cand["kind"])),
        ("状态", STATUSES.label(cand["status"])),
        ("镇(街道)", cand.get("town") or "-"),
        ("可盘活面积", f"{_fmt(rec, 1)} 平方米 ({_fmt(rec / SQM_PER_MU if rec else None)} 亩)"),
        ("确定性 / 优先级", f"{_fmt(cand.get('certainty'))} / {_fmt(cand.get('priority'), 1)}"),
    ]
    if area is not None and not any(f.key == "area_m2" for f in explanation.facts):
        head.insert(5, ("面积", f"{_fmt(area, 1)} 平方米 ({_fmt(area / SQM_PER_MU)} 亩)"))
    return head + [(f.label, f.text) for f in explanation.facts]


def evidence_rows(explanation: Explanation) -> list[tuple[str, str, str]]:
    """(rule, what was found against what, met) of every rule tested."""
    return [(c.label, c.text, "满足" if c.passed else "不满足") for c in explanation.checks]


def _html_table(header: list[str], rows: list[tuple]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>"
                   for r in rows) or f"<tr><td colspan='{len(header)}'>无</td></tr>"
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render_html(data: dict[str, Any], png: bytes) -> str:
    """The sheet as one self-contained HTML page (A4, print-ready)."""
    cand = data["candidate"]
    ex = explain(cand)
    facts = "".join(f"<tr><th>{html.escape(a)}</th><td>{html.escape(b)}</td></tr>"
                    for a, b in facts_rows(cand, ex))
    img = base64.b64encode(png).decode("ascii")
    title = f"土地利用状况核查表 — {cand['parcel_code']}"
    return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
@page {{ size: A4; margin: 12mm; }}
body {{ font-family: "Noto Sans CJK SC", "Noto Sans SC", sans-serif; font-size: 11px; margin: 0; }}
h1 {{ font-size: 17px; margin: 0 0 6px; }} h2 {{ font-size: 13px; margin: 8px 0 3px; }}
table {{ border-collapse: collapse; width: 100%; }}
th, td {{ border: 1px solid #999; padding: 2px 4px; text-align: left; vertical-align: top; }}
th {{ background: #eef3f8; white-space: nowrap; }}
.facts th {{ width: 28%; }} .figure img {{ width: 100%; max-height: 300px; object-fit: contain; }}
.sign td {{ height: 26px; }}
</style></head><body>
<h1>{html.escape(title)}</h1>
<table class="facts">{facts}</table>
<h2>影像与建筑物</h2>
<div class="figure"><img alt="{html.escape(figure_caption(data))}" src="data:image/png;base64,{img}"></div>
<p>{html.escape(figure_caption(data))}</p>
<h2>{html.escape(ex.title)}</h2>
{_html_table(["规则", "核查结果", "是否满足"], evidence_rows(ex))}
<h2>权利人</h2>
{_html_table(list(ex.enterprises.header) or ["权利人"], list(ex.enterprises.rows))}
<h2>处理记录</h2>
{_html_table(list(ex.history.header), list(ex.history.rows))}
<h2>实地核查</h2>
<table class="sign"><tr><th>核查结论</th><td colspan="3"></td></tr>
<tr><th>核查人</th><td></td><th>核查日期</th><td></td></tr></table>
</body></html>
"""


def render_pdf(data: dict[str, Any], png: bytes) -> bytes:
    """The sheet as a one-page A4 PDF (fpdf2, Noto Sans CJK)."""
    from fpdf import FPDF

    font, index = find_cjk_font()
    cand = data["candidate"]
    ex = explain(cand)
    pdf = FPDF(format="A4", unit="mm")
    pdf.set_auto_page_break(False)
    pdf.set_margins(12, 10, 12)
    pdf.add_page()
    pdf.add_font("cjk", fname=font, collection_font_number=index)
    pdf.set_font("cjk", size=14)
    pdf.cell(0, 8, f"土地利用状况核查表 — {cand['parcel_code']}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=8)
    with pdf.table(col_widths=(30, 60, 30, 60), line_height=4.6, first_row_as_headings=False
                   ) as table:
        facts = facts_rows(cand, ex)
        for i in range(0, len(facts), 2):
            row = table.row()
            for label, value in facts[i:i + 2]:
                row.cell(label)
                row.cell(value)
    pdf.ln(1)
    pdf.image(io.BytesIO(png), w=min(186, 62 * max(1, len(data["surveys"]))), h=56,
              keep_aspect_ratio=True)
    pdf.cell(0, 4, figure_caption(data), new_x="LMARGIN", new_y="NEXT")
    _pdf_table(pdf, ex.title, ["规则", "核查结果", "是否满足"], evidence_rows(ex)[:14],
               (52, 112, 22))
    header = list(ex.enterprises.header)[:7] or ["权利人"]
    _pdf_table(pdf, "权利人", header, [r[:7] for r in ex.enterprises.rows[:4]],
               tuple([186 / len(header)] * len(header)))
    _pdf_table(pdf, "处理记录", list(ex.history.header), list(ex.history.rows[-6:]),
               (26, 20, 24, 40, 30, 46))
    pdf.set_font("cjk", size=10)
    pdf.ln(2)
    pdf.cell(0, 6, "核查结论：______________________________   核查人：__________   "
                   "日期：__________", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _pdf_table(pdf, title: str, header: list[str], rows: list[tuple], widths: tuple) -> None:
    pdf.set_font("cjk", size=10)
    pdf.ln(1)
    pdf.cell(0, 5, title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=7.5)
    from fpdf.fonts import FontFace

    heading = FontFace(emphasis="", fill_color=(238, 243, 248))
    with pdf.table(col_widths=widths, line_height=3.8, headings_style=heading) as table:
        row = table.row()
        for h in header:
            row.cell(h)
        for r in rows or [("无",) + ("",) * (len(header) - 1)]:
            row = table.row()
            for c in r:
                row.cell(str(c)[:60])


def write_sheet(conn: psycopg.Connection, candidate_id: int, path: str | Path, *,
                image: str | Path | None = None, overwrite: bool = False) -> dict[str, Any]:
    """Write the verification sheet of ``candidate_id`` to ``path`` (.html or .pdf).

    Raises
    ------
    DataError
        Unknown candidate, or a suffix other than .html/.pdf.
    ConfigError
        PDF without an installed CJK font.
    OutputExistsError
        ``path`` exists and ``overwrite`` is false.
    """
    from gis.atomic import atomic_output

    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt == "htm":
        fmt = "html"
    if fmt not in FORMATS:
        raise DataError(f"{path}：核查表只能写成 .html 或 .pdf")
    if fmt == "pdf":
        find_cjk_font()
    data = sheet_data(conn, candidate_id)
    png = figure_png(data, image)
    content = (render_pdf(data, png) if fmt == "pdf"
               else render_html(data, png).encode("utf-8"))
    with atomic_output(path, overwrite=overwrite) as tmp:
        tmp.write_bytes(content)
    return {"path": str(path), "format": fmt, "candidate_id": int(candidate_id),
            "bytes": len(content), "surveys": [d for d, *_ in data["surveys"]]}
