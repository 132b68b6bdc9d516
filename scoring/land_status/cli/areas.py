"""``mujun areas``: redevelopment areas (片区) of candidates, their progress and plans."""

from __future__ import annotations

from pathlib import Path

import click

from gis.cli.options import emit, json_option, overwrite_option
from gis.crs import SQM_PER_MU
from scoring.land_status.vocabulary import (
    AREA_EVENTS,
    AREA_METHODS,
    AREA_STATUSES,
    KINDS,
    PLAN_REASONS,
    STATUSES,
)

as_of_option = click.option("--as-of", "as_of", metavar="YYYY-MM-DD",
                            help="Judge the areas' status as of this date (default: today).")


def _as_of(value):
    if value is None:
        return None
    from gis.importing.values import as_date

    return as_date(value, "--as-of")


def _commit(conn, work):
    try:
        result = work()
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    return result


def _ids(values: tuple[str, ...]) -> list[int]:
    from scoring.errors import AreaError

    out = []
    for value in values:
        for part in str(value).replace("，", ",").replace(" ", ",").split(","):
            if not part:
                continue
            if not part.isdigit():
                raise AreaError(f"--candidates {part!r} is not a candidate number; "
                                "`mujun candidates list` shows them")
            out.append(int(part))
    return out


def _line(a: dict) -> str:
    return (f"{a['area_id']:>4}  {a['name']}  {AREA_METHODS.label(a['method'])}  "
            f"计划 {a['planned']}  目标 {a['target_mu']:,.2f} 亩  "
            f"已批准 {a['reclaimed_mu']:,.2f} 亩（{a['done_share']:.0%}）  "
            f"{AREA_STATUSES.label(a['status'])}  候选 {a['n_candidates']} 宗  "
            f"一企一策 {a['firms_planned']}/{a['firms_to_plan']} 家")


@click.group("areas")
def areas() -> None:
    """Redevelopment areas (片区): candidates grouped for one way of revitalizing them,
    with a planned month, a target area, progress and "one firm, one plan" notes."""


@areas.command("add")
@click.argument("name")
@click.option("--candidates", "candidate_ids", multiple=True, metavar="ID[,ID…]",
              help="The candidates of the area by number (comma-separated or repeated).")
@click.option("--polygon", type=click.Path(exists=True, path_type=Path),
              help="Or: a polygon file (any vector format): the open candidates whose parcel "
                   "lies at least half inside join the area.")
@click.option("--layer", help="--polygon: the layer, when the file has several.")
@click.option("--crs", help="--polygon: the CRS the file is in, when it declares none.")
@click.option("--swap-xy", is_flag=True, help="--polygon: exchange x and y (lat/lon swapped).")
@click.option("--method", required=True, metavar="METHOD",
              help="How the area is revitalized: " + "、".join(AREA_METHODS.labels().values())
                   + ".")
@click.option("--planned", required=True, metavar="YYYY-MM", help="Planned completion month.")
@click.option("--target-mu", required=True, type=float, help="Target area to reclaim, in mu.")
@click.option("--by", required=True, help="Who records the area.")
@json_option
@click.pass_obj
def add(app, name, candidate_ids, polygon, layer, crs, swap_xy, method, planned, target_mu, by,
        as_json) -> None:
    """Record an area NAME of candidates (by number, or inside a polygon)."""
    from scoring.errors import AreaError
    from scoring.land_status.areas.model import check_target, parse_method, parse_planned
    from scoring.land_status.areas.store import add_area

    # cheap checks first: a wrong method or month is reported before any file is read
    parse_method(method), parse_planned(planned), check_target(target_mu)
    ids = _ids(candidate_ids)
    if bool(ids) == (polygon is not None):
        raise AreaError("give the area's candidates (--candidates) or its outline "
                        "(--polygon), one of the two")
    conn = app.connect()

    def work():
        outline = srid = None
        if polygon is not None:
            from scoring.land_status.areas.polygon import read_outline

            outline, srid = read_outline(conn, polygon, layer=layer, crs=crs, swap_xy=swap_xy,
                                         settings=app.settings)
        return add_area(conn, name, method=method, planned=planned, target_mu=target_mu,
                        by=by, candidate_ids=ids or None, outline=outline, srid=srid,
                        source=str(polygon) if polygon else None)

    r = _commit(conn, work)
    emit(r, as_json, f"area {r['area_id']} {r['name']}: {AREA_METHODS.label(r['method'])}, "
                     f"计划 {r['planned']:%Y-%m}, 目标 {r['target_mu']:,.2f} 亩, "
                     f"{len(r['candidates'])} 宗候选 ({', '.join(map(str, r['candidates']))})")


@areas.command("list")
@as_of_option
@json_option
@click.pass_obj
def list_cmd(app, as_of, as_json) -> None:
    """Every area: method, planned month, target and area approved, status."""
    from scoring.land_status.areas.store import list_areas

    rows = list_areas(app.connect(), as_of=_as_of(as_of))
    emit(rows, as_json, "\n".join(_line(a) for a in rows) if rows else "no areas")


@areas.command("show")
@click.argument("area")
@as_of_option
@json_option
@click.pass_obj
def show(app, area, as_of, as_json) -> None:
    """One AREA (name or number): its candidates and decisions, progress by date, and
    the firms needing "one firm, one plan" with their notes."""
    from scoring.land_status.areas.store import get_area

    a = get_area(app.connect(), area, as_of=_as_of(as_of))
    lines = [_line(a), "候选宗地:"]
    lines += [f"  {m['candidate_id']:>6}  {m['parcel_code']}  "
              f"{'、'.join(KINDS.label(k) for k in m['kinds'] or [])}  "
              f"{STATUSES.label(m['status'])}  {(m['parcel_m2'] or 0) / SQM_PER_MU:,.2f} 亩"
              + (f"  批准于 {m['approved_on']}" if m["approved_on"] else "")
              for m in a["members"]]
    lines.append("进展（按批准日期）:" if a["progress"] else f"进展: {AREA_STATUSES.label('not_started')}")
    lines += [f"  {p['date']}  +{p['n_approved']} 宗  累计 {p['cumulative_mu']:,.2f} 亩"
              f"（{p['done_share']:.0%}）" for p in a["progress"]]
    lines.append("一企一策:" if a["firms"] else ("一企一策: 无（" + "、".join(PLAN_REASONS.labels().values()) + "的企业均无）"))
    for f in a["firms"]:
        why = "、".join(PLAN_REASONS.label(r) for r in f["reasons"])
        lines.append(f"  {f['credit_code']}  {f['name'] or '-'}  等级 {f['class'] or '-'}  "
                     f"（{why}）" + ("" if f["notes"] else "  尚无方案"))
        lines += [f"    {n['at']:%Y-%m-%d} {n['author']}: {n['note']}" for n in f["notes"]]
    if a["left"]:
        lines.append("已移出的候选:")
        lines += [f"  {m['candidate_id']:>6}  {m['left_at']:%Y-%m-%d}  {m['left_reason']}"
                  for m in a["left"]]
    lines.append("变更记录:")
    lines += [f"  {e['at']:%Y-%m-%d %H:%M}  {e['actor']}  {AREA_EVENTS.label(e['action'])}"
              + _event_detail(e) for e in a["history"]]
    emit(a, as_json, "\n".join(lines))


def _event_detail(e: dict) -> str:
    parts = []
    if e["candidate_ids"]:
        parts.append("候选 " + "、".join(map(str, e["candidate_ids"])))
    if e["action"] == "renamed":
        parts.append(f"「{e['old_name']}」→「{e['new_name']}」")
    if e["reason"]:
        parts.append(f"原因：{e['reason']}")
    return ("  " + "；".join(parts)) if parts else ""


def _candidate_args(values: tuple[str, ...]) -> list[int]:
    from scoring.errors import AreaError

    out = []
    for value in values:
        for part in str(value).replace("，", ",").replace(",", " ").split():
            if not part.isdigit():
                raise AreaError(f"「{part}」不是候选编号；`mujun candidates list` 列出编号")
            out.append(int(part))
    return out


by_option = click.option("--by", required=True, help="Who records the change.")


@areas.command("add-candidates")
@click.argument("area")
@click.argument("candidate_ids", nargs=-1, required=True)
@by_option
@json_option
@click.pass_obj
def add_candidates_cmd(app, area, candidate_ids, by, as_json) -> None:
    """Add candidates (by number) to an open AREA; recorded in its history."""
    from scoring.land_status.areas.changes import add_candidates

    ids = _candidate_args(candidate_ids)
    conn = app.connect()
    r = _commit(conn, lambda: add_candidates(conn, area, ids, by=by))
    emit(r, as_json, f"片区 {r['area_id']} {r['name']}：加入候选 "
                     f"{'、'.join(map(str, r['added']))}，现有 {len(r['candidates'])} 宗")


@areas.command("remove-candidates")
@click.argument("area")
@click.argument("candidate_ids", nargs=-1, required=True)
@click.option("--reason", required=True, help="Why they leave the area.")
@by_option
@json_option
@click.pass_obj
def remove_candidates_cmd(app, area, candidate_ids, reason, by, as_json) -> None:
    """Take candidates out of an open AREA, with a reason (kept in its history)."""
    from scoring.land_status.areas.changes import remove_candidates

    ids = _candidate_args(candidate_ids)
    conn = app.connect()
    r = _commit(conn, lambda: remove_candidates(conn, area, ids, reason=reason, by=by))
    emit(r, as_json, f"片区 {r['area_id']} {r['name']}：移出候选 "
                     f"{'、'.join(map(str, r['removed']))}，现有 {len(r['candidates'])} 宗")


@areas.command("rename")
@click.argument("area")
@click.argument("new_name")
@by_option
@json_option
@click.pass_obj
def rename_cmd(app, area, new_name, by, as_json) -> None:
    """Give an open AREA the name NEW_NAME (the old name stays in its history)."""
    from scoring.land_status.areas.changes import rename_area

    conn = app.connect()
    r = _commit(conn, lambda: rename_area(conn, area, new_name, by=by))
    emit(r, as_json, f"片区 {r['area_id']}：「{r['old_name']}」更名为「{r['name']}」")


@areas.command("close")
@click.argument("area")
@click.option("--reason", required=True, help="Why the area is closed.")
@by_option
@json_option
@click.pass_obj
def close_cmd(app, area, reason, by, as_json) -> None:
    """Close AREA, with a reason: it stays listed with its candidates and history, and its
    candidates may join another area."""
    from scoring.land_status.areas.changes import close_area

    conn = app.connect()
    r = _commit(conn, lambda: close_area(conn, area, reason=reason, by=by))
    emit(r, as_json, f"片区 {r['area_id']} {r['name']}：{AREA_STATUSES.label('closed')}"
                     f"（关闭原因：{r['reason']}），{len(r['candidates'])} 宗候选保留在其记录中")


@areas.command("plan")
@click.argument("area")
@click.argument("credit_code")
@click.option("--text", required=True, help="The plan for this firm (a new note; notes are "
              "never edited, the latest is the plan in force).")
@click.option("--by", required=True, help="Who writes the plan.")
@json_option
@click.pass_obj
def plan(app, area, credit_code, text, by, as_json) -> None:
    """Add a "one firm, one plan" (一企一策) note for firm CREDIT_CODE of AREA."""
    from scoring.land_status.areas.store import add_plan_note

    conn = app.connect()
    r = _commit(conn, lambda: add_plan_note(conn, area, credit_code, text, by=by))
    emit(r, as_json, f"plan note {r['note_id']} for {r['credit_code']} in area {r['area_id']}")


@areas.command("export")
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path),
              help="OUT.gpkg (areas and their candidates' parcels), OUT.shp (areas) or "
                   "OUT.xlsx (areas, candidates, progress, plans).")
@as_of_option
@overwrite_option
@json_option
@click.pass_obj
def export(app, output, as_of, overwrite, as_json) -> None:
    """Write the areas with their figures, candidates, progress and plans."""
    from scoring.land_status.areas.export import export_areas

    written = export_areas(app.connect(), output, overwrite=overwrite, as_of=_as_of(as_of))
    emit(written, as_json, "\n".join(f"wrote {w['rows']} rows of {w['layer']} to {w['path']}"
                                     for w in written))
