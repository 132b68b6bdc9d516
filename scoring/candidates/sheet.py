"""The one-page verification sheet (核查表) of a candidate, as HTML or PDF.

The page shows: the candidate's facts (parcel, kind, status, areas, dates), the parcel
on the imagery (its footprints on the survey the finding rests on, and *before and
after* when the candidate compares two surveys; an orthophoto can be drawn under them
with ``image``), the evidence table (every rule tested with its value and threshold),
the holders with their figures, the decision history, and blank lines for the field
check. HTML is self-contained (the figure inline, no request to the network); PDF is
written with fpdf2 and the Noto Sans CJK font from Debian's ``fonts-noto-cjk``.
"""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gis.crs import SQM_PER_MU
from gis.errors import ConfigError, DataError
from scoring.candidates.lifecycle import REJECT_REASONS, STATUS_LABELS
from scoring.candidates.report import RULE_LABELS
from scoring.candidates.rules import KIND_LABELS

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
    raise ConfigError("no Chinese font is installed for PDF sheets; run `scripts/bootstrap.sh "
                      "fonts` (Debian package fonts-noto-cjk) or write HTML (-o sheet.html)")


def sheet_data(conn: psycopg.Connection, candidate_id: int) -> dict[str, Any]:
    """Everything the sheet shows, read once: candidate, history, geometries."""
    import shapely

    from scoring.candidates.store import get_candidate

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
            date = conn.execute("SELECT survey_date FROM survey WHERE survey_id = %s",
                                (int(sid),)).fetchone()
            if date is not None:
                surveys.append((date[0].isoformat(), _footprints_near(conn, int(sid), parcel)))
    return {"candidate": cand, "parcel": parcel, "surveys": surveys}


def _footprints_near(conn: psycopg.Connection, survey_id: int, parcel) -> list:
    import shapely

    minx, miny, maxx, maxy = parcel.bounds
    pad = max(maxx - minx, maxy - miny) * 0.3 + 10
    rows = conn.execute(
        "SELECT ST_AsBinary(geom) FROM footprint WHERE survey_id = %s"
        " AND geom && ST_MakeEnvelope(%s, %s, %s, %s, ST_SRID(geom))",
        (survey_id, minx - pad, miny - pad, maxx + pad, maxy + pad)).fetchall()
    return [shapely.from_wkb(bytes(r[0])) for r in rows]


def figure_png(data: dict[str, Any], image: str | Path | None = None) -> bytes:
    """PNG of the parcel with the footprints of each survey (side by side), ~1000 px wide."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    parcel = data["parcel"]
    panels = data["surveys"] or [(None, [])]
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 4.0), dpi=110,
                             squeeze=False)
    for ax, (date, footprints) in zip(axes[0], panels, strict=True):
        if parcel is not None:
            minx, miny, maxx, maxy = parcel.bounds
            pad = max(maxx - minx, maxy - miny) * 0.25 + 5
            if image is not None:
                _draw_image(ax, image, (minx - pad, miny - pad, maxx + pad, maxy + pad))
            for g in footprints:
                _fill(ax, g, "#e4572e", 0.75)
            _outline(ax, parcel, "#1f4e79", 2.2)
            ax.set_xlim(minx - pad, maxx + pad)
            ax.set_ylim(miny - pad, maxy + pad)
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(f"survey {date}" if date else "no survey", fontsize=10)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def _polys(g):
    return list(getattr(g, "geoms", [g]))


def _fill(ax, g, color, alpha):
    for p in _polys(g):
        if p.is_empty or p.geom_type != "Polygon":
            continue
        x, y = p.exterior.xy
        ax.fill(x, y, color=color, alpha=alpha, linewidth=0.5)


def _outline(ax, g, color, width):
    for p in _polys(g):
        if p.is_empty or p.geom_type != "Polygon":
            continue
        x, y = p.exterior.xy
        ax.plot(x, y, color=color, linewidth=width)


def _draw_image(ax, image, bounds) -> None:
    import numpy as np
    import rasterio
    from rasterio.windows import from_bounds

    try:
        with rasterio.open(image) as src:
            window = from_bounds(*bounds, transform=src.transform)
            bands = [1, 2, 3] if src.count >= 3 else [1]
            arr = src.read(bands, window=window, boundless=True, fill_value=0)
    except rasterio.errors.RasterioError as exc:
        raise DataError(f"cannot read the image: {exc}", source=str(image)) from exc
    arr = np.moveaxis(arr, 0, -1).astype(float)
    hi = np.percentile(arr, 99) or 1.0
    arr = np.clip(arr / hi, 0, 1)
    ax.imshow(arr if arr.shape[-1] == 3 else arr[..., 0], extent=(bounds[0], bounds[2],
              bounds[1], bounds[3]), cmap=None if arr.shape[-1] == 3 else "gray")


def _fmt(v: Any, digits: int = 2) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:,.{digits}f}"
    return str(v)


def facts_rows(cand: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, value) pairs of the sheet's header table."""
    ev = cand.get("evidence") or {}
    dates = ev.get("dates") or {}
    area = cand.get("area_m2")
    rec = cand.get("reclaimable_m2")
    return [
        ("编号", str(cand["candidate_id"])), ("宗地代码", cand["parcel_code"]),
        ("类型", KIND_LABELS.get(cand["kind"], cand["kind"])),
        ("状态", STATUS_LABELS.get(cand["status"], cand["status"])),
        ("镇(街道)", cand.get("town") or "-"),
        ("面积", f"{_fmt(area, 1)} 平方米 ({_fmt(area / SQM_PER_MU if area else None)} 亩)"),
        ("可盘活面积", f"{_fmt(rec, 1)} 平方米 ({_fmt(rec / SQM_PER_MU if rec else None)} 亩)"),
        ("确定性 / 优先级", f"{_fmt(cand.get('certainty'))} / {_fmt(cand.get('priority'), 1)}"),
        ("判定日期", ev.get("as_of") or "-"),
        ("影像日期", (ev.get("survey") or {}).get("date") or "-"),
        ("前期影像", (ev.get("previous_survey") or {}).get("date") or "-"),
        ("供地 / 约定动工 / 约定竣工", f"{dates.get('supply') or '-'} / "
         f"{dates.get('agreed_start') or '-'} / {dates.get('agreed_finish') or '-'}"),
        ("建筑系数 / 容积率", f"{_fmt(ev.get('coverage'), 3)} / {_fmt(ev.get('far'))}"),
        ("闲置/滞后年限", _fmt(ev.get("years_idle"))),
    ]


def evidence_rows(cand: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(rule, value, threshold, result) of every rule tested."""
    out = []
    for r in cand.get("rules") or []:
        out.append((RULE_LABELS.get(r["rule"], r["rule"]), _fmt(r.get("value"), 3),
                    _fmt(r.get("threshold"), 3), "是" if r.get("passed") else "否"))
    return out


def enterprise_rows(cand: dict[str, Any]) -> list[tuple[str, ...]]:
    ev = cand.get("evidence") or {}
    return [(e.get("name") or "-", e["credit_code"], e.get("role") or "-",
             e.get("status") or "未登记", _fmt(e.get("tax_wan")),
             _fmt(e.get("electricity_kwh"), 0), e.get("class") or "-")
            for e in ev.get("enterprises") or []]


def history_rows(cand: dict[str, Any]) -> list[tuple[str, ...]]:
    out = []
    for e in cand.get("history") or []:
        reason = e.get("reason_code")
        reason = REJECT_REASONS.get(reason, reason) if reason else ""
        out.append((str(e["at"])[:16], e["actor"], e["action"],
                    f"{STATUS_LABELS.get(e.get('from_status'), e.get('from_status') or '')} → "
                    f"{STATUS_LABELS.get(e.get('to_status'), e.get('to_status') or '')}",
                    (reason + " " + (e.get("comment") or "")).strip()))
    return out


def _html_table(header: list[str], rows: list[tuple]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>"
                   for r in rows) or f"<tr><td colspan='{len(header)}'>无</td></tr>"
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render_html(data: dict[str, Any], png: bytes) -> str:
    """The sheet as one self-contained HTML page (A4, print-ready)."""
    cand = data["candidate"]
    facts = "".join(f"<tr><th>{html.escape(a)}</th><td>{html.escape(b)}</td></tr>"
                    for a, b in facts_rows(cand))
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
<h2>影像与建筑物 (蓝: 宗地界线, 红: 建筑物)</h2>
<div class="figure"><img alt="parcel on the survey imagery" src="data:image/png;base64,{img}"></div>
<h2>判定依据</h2>
{_html_table(["规则", "数值", "阈值", "满足"], evidence_rows(cand))}
<h2>权利人</h2>
{_html_table(["名称", "统一社会信用代码", "关系", "状态", "税收(万元)", "用电(千瓦时)", "类别"],
             enterprise_rows(cand))}
<h2>处理记录</h2>
{_html_table(["时间", "人员", "操作", "状态", "原因/说明"], history_rows(cand))}
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
        facts = facts_rows(cand)
        for i in range(0, len(facts), 2):
            row = table.row()
            for label, value in facts[i:i + 2]:
                row.cell(label)
                row.cell(value)
    pdf.ln(1)
    pdf.image(io.BytesIO(png), w=min(186, 62 * max(1, len(data["surveys"]))), h=56,
              keep_aspect_ratio=True)
    _pdf_table(pdf, "判定依据", ["规则", "数值", "阈值", "满足"], evidence_rows(cand)[:14],
               (70, 45, 45, 26))
    _pdf_table(pdf, "权利人", ["名称", "信用代码", "关系", "状态", "税收", "用电", "类别"],
               enterprise_rows(cand)[:4], (46, 40, 16, 20, 22, 26, 16))
    _pdf_table(pdf, "处理记录", ["时间", "人员", "操作", "状态", "原因/说明"],
               history_rows(cand)[-6:], (30, 22, 20, 44, 70))
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
        raise DataError(f"{path}: the sheet is written as .html or .pdf")
    if fmt == "pdf":
        find_cjk_font()
    data = sheet_data(conn, candidate_id)
    png = figure_png(data, image)
    content = (render_pdf(data, png) if fmt == "pdf"
               else render_html(data, png).encode("utf-8"))
    with atomic_output(path, overwrite=overwrite) as tmp:
        tmp.write_bytes(content)
    return {"path": str(path), "format": fmt, "candidate_id": int(candidate_id),
            "bytes": len(content), "surveys": [d for d, _ in data["surveys"]]}
