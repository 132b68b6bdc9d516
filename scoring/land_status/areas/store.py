"""Redevelopment areas in PostGIS: making one, reading them back with their figures,
and the append-only "one firm, one plan" (一企一策) notes (tool: takes a connection).

Writers never commit: the caller commits (the command line after success, tests as
they like). Figures are computed when read (:mod:`.model`) from the members' parcels
and the 'approved' decisions of ``review_event``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from gis.crs import SQM_PER_MU
from scoring.errors import AreaError, AreaNotFound
from scoring.land_status.areas import model
from scoring.land_status.vocabulary import AREA_METHODS, STATUSES

if TYPE_CHECKING:
    import psycopg
    import shapely

#: Share of a parcel's area that must lie inside an outline for its candidate to join.
INSIDE_SHARE = 0.5

_AREA_COLUMNS = ("area_id", "name", "method", "planned", "target_mu", "source", "created_by",
                 "created_at", "closed_reason")

#: The members an area lists: those in it now, and for a closed area those it closed with.
_CURRENT = "(m.left_at IS NULL OR m.left_how = 'area_closed')"


def _frame(conn: psycopg.Connection, query: str, params: Any = None) -> pd.DataFrame:
    cur = conn.execute(query, params)
    return pd.DataFrame(cur.fetchall(), columns=[d.name for d in cur.description])


# ------------------------------------------------------------------ making an area
def check_candidates(conn: psycopg.Connection, ids: Sequence[int]) -> list[int]:
    """The candidates ``ids``, sorted, once each: they must exist, be open and have a
    stored parcel (else :class:`AreaError`)."""
    wanted = sorted({int(i) for i in ids})
    found = _frame(conn, "SELECT c.candidate_id, c.status, c.parcel_code, p.parcel_id "
                         "FROM candidate c LEFT JOIN parcel p ON p.parcel_code = c.parcel_code "
                         "WHERE c.candidate_id = ANY (%s) ORDER BY c.candidate_id", (wanted,))
    missing = sorted(set(wanted) - set(found["candidate_id"].astype(int)))
    if missing:
        raise AreaError(f"候选 {'、'.join(map(str, missing))} 不存在；"
                        "`mujun candidates list` 列出候选编号")
    closed = found[found["status"] == "closed"]
    if len(closed):
        raise AreaError(f"候选 {'、'.join(map(str, closed['candidate_id']))} 已是"
                        f"「{STATUSES.label('closed')}」状态（认定条件已不成立）；请不要把它列入片区")
    no_parcel = found[found["parcel_id"].isna()]
    if len(no_parcel):
        raise AreaError(f"候选 {'、'.join(map(str, no_parcel['candidate_id']))} 在宗地库中"
                        "没有宗地（如批准用地批次）；片区只能由宗地组成")
    return wanted


def _members_in(conn: psycopg.Connection, outline: shapely.MultiPolygon, srid: int,
                source: str) -> list[int]:
    import shapely

    found = conn.execute(
        "WITH o AS (SELECT ST_GeomFromWKB(%(wkb)s, %(srid)s) AS g)"
        " SELECT c.candidate_id FROM candidate c JOIN parcel p ON p.parcel_code = c.parcel_code,"
        " o WHERE c.status <> 'closed' AND p.geom && o.g AND ST_Intersects(p.geom, o.g)"
        " AND ST_Area(ST_Intersection(p.geom, o.g)) >= %(share)s * p.area_m2"
        " ORDER BY c.candidate_id",
        {"wkb": shapely.to_wkb(outline), "srid": int(srid), "share": INSIDE_SHARE}).fetchall()
    if not found:
        raise AreaError(f"{source}: no open candidate lies inside the polygon (at least "
                        f"{INSIDE_SHARE:.0%} of its parcel); check the outline, its CRS, and "
                        "that `mujun candidates` has run")
    return [int(r[0]) for r in found]


def add_area(conn: psycopg.Connection, name: str, *, method: str, planned: Any,
             target_mu: Any, by: str, candidate_ids: Sequence[int] | None = None,
             outline: shapely.MultiPolygon | None = None, srid: int | None = None,
             source: str | None = None) -> dict[str, Any]:
    """Record a redevelopment area and its candidates (no commit).

    Parameters
    ----------
    name : str
        Unique name of the area.
    method : str
        A code or label of ``land_status.area_method`` (改造提升 …).
    planned : str or date
        Planned month, ``YYYY-MM``.
    target_mu : float
        Area to reclaim or revitalize, in mu (> 0).
    by : str
        Who records it.
    candidate_ids : sequence of int, optional
        The candidates, by number (open ones with a parcel).
    outline, srid, source : optional
        Or: an outline in the working CRS (:func:`.polygon.read_outline`): the open
        candidates whose parcel lies at least :data:`INSIDE_SHARE` inside it join.

    Returns
    -------
    dict
        ``area_id``, ``name``, ``method``, ``planned``, ``target_mu``, ``candidates``.

    Raises
    ------
    AreaError
        Bad name, method, month or target; both or neither of ids and outline; an
        unknown, closed or parcel-less candidate; a candidate already in another area;
        a name already used; an outline holding no open candidate.
    """
    name = model.check_name(name)
    method = model.parse_method(method)
    planned = model.parse_planned(planned)
    target_mu = model.check_target(target_mu)
    if not str(by or "").strip():
        raise AreaError("say who records the area (--by)")
    if (candidate_ids is None or len(candidate_ids) == 0) == (outline is None):
        raise AreaError("give the area's candidates (--candidates) or its outline "
                        "(--polygon), one of the two")
    taken = conn.execute("SELECT area_id FROM redevelopment_area WHERE name = %s",
                         (name,)).fetchone()
    if taken:
        raise AreaError(f"an area named {name!r} exists (area {taken[0]}); choose another name")
    if outline is None:
        members = check_candidates(conn, candidate_ids or ())
    else:
        members = _members_in(conn, outline, int(srid or 0), source or "polygon")
    refuse_if_in_open_area(conn, members)
    import shapely

    geom_sql = ("ST_GeomFromWKB(%(wkb)s, %(srid)s)" if outline is not None else
                "(SELECT ST_Multi(ST_Union(p.geom)) FROM candidate c JOIN parcel p"
                " ON p.parcel_code = c.parcel_code WHERE c.candidate_id = ANY (%(ids)s))")
    area_id = conn.execute(
        "INSERT INTO redevelopment_area (name, method, planned, target_mu, geom, source,"
        f" created_by) VALUES (%(name)s, %(method)s, %(planned)s, %(target)s, {geom_sql},"
        " %(source)s, %(by)s) RETURNING area_id",
        {"name": name, "method": method, "planned": planned, "target": target_mu,
         "wkb": shapely.to_wkb(outline) if outline is not None else None,
         "srid": int(srid or 0), "ids": members, "source": source, "by": str(by).strip()},
    ).fetchone()[0]
    with conn.cursor() as cur:
        cur.executemany("INSERT INTO redevelopment_area_member (area_id, candidate_id)"
                        " VALUES (%s, %s)", [(area_id, c) for c in members])
    record_event(conn, area_id, "created", by=str(by).strip(), candidate_ids=members,
                 new_name=name)
    return {"area_id": int(area_id), "name": name, "method": method, "planned": planned,
            "target_mu": target_mu, "candidates": members}


def refuse_if_in_open_area(conn: psycopg.Connection, candidate_ids: Sequence[int]) -> None:
    """Raise :class:`AreaError` when one of the candidates is in an open area already."""
    elsewhere = conn.execute(
        "SELECT m.candidate_id, a.name FROM redevelopment_area_member m"
        " JOIN redevelopment_area a USING (area_id) WHERE m.candidate_id = ANY (%s)"
        " AND m.left_at IS NULL AND a.closed_at IS NULL ORDER BY m.candidate_id",
        ([int(c) for c in candidate_ids],)).fetchall()
    if elsewhere:
        listed = "、".join(f"{cid}（{area}）" for cid, area in elsewhere[:10])
        raise AreaError(f"候选 {listed} 已在另一个未关闭的片区中；一宗候选最多属于一个未关闭的片区，"
                        "请先用 `mujun areas remove-candidates` 从原片区移出")


def record_event(conn: psycopg.Connection, area_id: int, action: str, *, by: str,
                 candidate_ids: Sequence[int] = (), old_name: str | None = None,
                 new_name: str | None = None, reason: str | None = None) -> None:
    """Append one row to an area's history (``redevelopment_area_event``; no commit)."""
    conn.execute("INSERT INTO redevelopment_area_event (area_id, action, candidate_ids,"
                 " old_name, new_name, reason, actor) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                 (int(area_id), action, [int(c) for c in candidate_ids], old_name, new_name,
                  reason, by))


# ------------------------------------------------------------------ reading areas
def resolve_area(conn: psycopg.Connection, key: str | int) -> dict[str, Any]:
    """The area named ``key``, or numbered ``key`` (a name wins over a number)."""
    text = str(key).strip()
    row = _frame(conn, f"SELECT {', '.join(_AREA_COLUMNS)} FROM redevelopment_area"
                       " WHERE name = %s", (text,))
    if len(row) == 0 and text.isdigit():
        row = _frame(conn, f"SELECT {', '.join(_AREA_COLUMNS)} FROM redevelopment_area"
                           " WHERE area_id = %s", (int(text),))
    if len(row) == 0:
        raise AreaNotFound(f"没有名称或编号为「{text}」的片区；`mujun areas list` 列出全部片区")
    return row.iloc[0].to_dict()


def members(conn: psycopg.Connection, area_ids: Sequence[int]) -> pd.DataFrame:
    """The candidates of the areas, with their parcel area and approval date.

    Columns: ``area_id``, ``candidate_id``, ``parcel_code``, ``kind``, ``kinds``,
    ``status``, ``town``, ``district``, ``parcel_m2``, ``approved_on`` (the date of the
    first decision approving it for reclamation; missing when none).
    """
    frame = _frame(
        conn,
        "SELECT m.area_id, c.candidate_id, c.parcel_code, c.kind, c.kinds, c.status, c.town,"
        " c.district, p.area_m2 AS parcel_m2,"
        " (SELECT min(e.at)::date FROM review_event e WHERE e.candidate_id = c.candidate_id"
        "   AND e.action = 'decided' AND e.to_status = 'approved') AS approved_on"
        " FROM redevelopment_area_member m JOIN candidate c USING (candidate_id)"
        " LEFT JOIN parcel p ON p.parcel_code = c.parcel_code"
        f" WHERE m.area_id = ANY (%s) AND {_CURRENT} ORDER BY m.area_id, c.candidate_id",
        ([int(a) for a in area_ids],))
    frame["approved_on"] = frame["approved_on"].astype(object).where(
        frame["approved_on"].notna(), None)
    return frame


def holders(conn: psycopg.Connection, area_ids: Sequence[int]) -> pd.DataFrame:
    """The firms holding land (owner or tenant, right in force today) of the areas'
    candidates, with their class in the latest score run (a recorded adjustment applied).

    Columns: ``area_id``, ``candidate_id``, ``credit_code``, ``name``, ``class``,
    ``inefficient`` (the candidate carries the inefficient kind).
    """
    from scoring.overrides import effective_overrides
    from scoring.store import latest_score_run

    run = latest_score_run(conn)
    frame = _frame(
        conn,
        "SELECT DISTINCT m.area_id, c.candidate_id, btrim(r.credit_code) AS credit_code,"
        " e.name, s.class, 'inefficient' = ANY (c.kinds) AS inefficient"
        " FROM redevelopment_area_member m JOIN candidate c USING (candidate_id)"
        " JOIN land_right r ON r.parcel_code = c.parcel_code"
        "  AND (r.end_date IS NULL OR r.end_date >= current_date)"
        " LEFT JOIN enterprise e ON e.credit_code = r.credit_code"
        " LEFT JOIN enterprise_score s ON s.run_id = %s AND s.credit_code = r.credit_code"
        f" WHERE m.area_id = ANY (%s) AND {_CURRENT}"
        " ORDER BY m.area_id, c.candidate_id, credit_code",
        (run, [int(a) for a in area_ids]))
    if run is not None and len(frame):
        adjusted = effective_overrides(conn, run)
        if len(adjusted):
            new = frame["credit_code"].map(adjusted.set_index("credit_code")["adjusted_class"])
            frame["class"] = new.where(new.notna(), frame["class"])
    return frame


def plan_notes(conn: psycopg.Connection, area_ids: Sequence[int]) -> pd.DataFrame:
    """The plan notes of the areas, oldest first."""
    return _frame(conn, "SELECT note_id, area_id, btrim(credit_code) AS credit_code, at,"
                        " author, note FROM firm_plan_note WHERE area_id = ANY (%s)"
                        " ORDER BY area_id, note_id", ([int(a) for a in area_ids],))


def _figures(area: dict[str, Any], mem: pd.DataFrame, firms: pd.DataFrame,
             notes: pd.DataFrame, as_of: dt.date) -> dict[str, Any]:
    reclaimed = model.reclaimed_mu(mem)
    n_approved = int(mem["approved_on"].notna().sum()) if len(mem) else 0
    planned_codes = set(notes["credit_code"]) if len(notes) else set()
    return dict(
        area,
        method_label=AREA_METHODS.label(area["method"]),
        planned=area["planned"].strftime("%Y-%m"),
        n_candidates=len(mem), n_approved=n_approved,
        candidates_mu=round(float(mem["parcel_m2"].fillna(0).sum()) / SQM_PER_MU, 4),
        reclaimed_mu=round(reclaimed, 4),
        done_share=round(reclaimed / float(area["target_mu"]), 4),
        status=model.area_status(reclaimed_mu=reclaimed, target_mu=float(area["target_mu"]),
                                 planned=area["planned"], as_of=as_of, n_approved=n_approved,
                                 closed=area.get("closed_reason") is not None),
        firms_to_plan=len(firms),
        firms_planned=int(firms["credit_code"].isin(planned_codes).sum()) if len(firms) else 0,
    )


def list_areas(conn: psycopg.Connection, *, as_of: dt.date | None = None,
               firms: bool = True) -> list[dict]:
    """Every area with its figures (see :func:`get_area`), by number.

    ``firms=False`` leaves out the firms needing a plan (``firms_to_plan`` and
    ``firms_planned`` are then 0): progress only, without reading firms and scores.
    """
    as_of = as_of or dt.date.today()
    areas = _frame(conn, f"SELECT {', '.join(_AREA_COLUMNS)} FROM redevelopment_area"
                         " ORDER BY area_id")
    if len(areas) == 0:
        return []
    ids = areas["area_id"].astype(int).tolist()
    mem = members(conn, ids)
    if firms:
        hold, notes = holders(conn, ids), plan_notes(conn, ids)
    else:
        hold = pd.DataFrame(columns=["area_id", "credit_code", "name", "class", "inefficient"])
        notes = pd.DataFrame(columns=["area_id", "credit_code"])
    firms = model.firms_to_plan(hold)        # every area at once
    if "area_id" not in firms.columns:
        firms["area_id"] = pd.Series(dtype=object)
    by_area = {aid: (g, firms[firms["area_id"] == aid], notes[notes["area_id"] == aid])
               for aid, g in mem.groupby("area_id")}
    empty = (mem.iloc[:0], firms.iloc[:0], notes.iloc[:0])
    return [_figures(area, *by_area.get(area["area_id"], empty), as_of)
            for area in areas.to_dict("records")]


def get_area(conn: psycopg.Connection, key: str | int, *,
             as_of: dt.date | None = None) -> dict[str, Any]:
    """One area (by name or number): its figures, members, progress, firms and notes.

    Returns
    -------
    dict
        The area's columns; ``method_label``; ``n_candidates``, ``n_approved``,
        ``candidates_mu``, ``reclaimed_mu`` (approved candidates' parcel area, mu),
        ``done_share`` (reclaimed / target), ``status`` (``land_status.area_status``
        as of ``as_of``, default today), ``firms_to_plan``, ``firms_planned``; and
        ``members``, ``progress``, ``firms`` (each with its ``notes``), ``history`` (the
        area's events, oldest first) and ``left`` (candidates removed, with when and
        why) as lists of dicts.
    """
    as_of = as_of or dt.date.today()
    area = resolve_area(conn, key)
    aid = int(area["area_id"])
    mem, notes = members(conn, [aid]), plan_notes(conn, [aid])
    firms = model.firms_to_plan(holders(conn, [aid]))
    out = _figures(area, mem, firms, notes, as_of)
    out["members"] = mem.drop(columns=["area_id"]).to_dict("records")
    out["progress"] = model.progress(mem, float(area["target_mu"])).to_dict("records")
    by_firm = {code: g.drop(columns=["area_id"]).to_dict("records")
               for code, g in notes.groupby("credit_code")} if len(notes) else {}
    out["firms"] = [dict(f, notes=by_firm.get(f["credit_code"], []))
                    for f in firms.to_dict("records")]
    out["history"] = history(conn, aid)
    out["left"] = _frame(conn, "SELECT candidate_id, left_at, left_reason"
                               " FROM redevelopment_area_member WHERE area_id = %s"
                               " AND left_how = 'removed' ORDER BY left_at, candidate_id",
                         (aid,)).to_dict("records")
    return out


def history(conn: psycopg.Connection, area_id: int) -> list[dict]:
    """An area's history, oldest first: ``event_id``, ``action``, ``candidate_ids``,
    ``old_name``, ``new_name``, ``reason``, ``actor``, ``at``."""
    return _frame(conn, "SELECT event_id, action, candidate_ids, old_name, new_name, reason,"
                        " actor, at FROM redevelopment_area_event WHERE area_id = %s"
                        " ORDER BY event_id", (int(area_id),)).to_dict("records")


# ------------------------------------------------------------------ plan notes
def add_plan_note(conn: psycopg.Connection, key: str | int, credit_code: str, text: str, *,
                  by: str) -> dict[str, Any]:
    """Append a "one firm, one plan" note for a firm of an area (no commit).

    The firm must be one the area lists for a plan (class D, or holding land of an
    inefficient-land candidate in it). Notes are never edited: a revised plan is a new
    note, and the latest is the plan in force.

    Raises
    ------
    AreaNotFound, AreaError
    """
    area = resolve_area(conn, key)
    note = model.check_note(text)
    if not str(by or "").strip():
        raise AreaError("say who writes the plan (--by)")
    code = str(credit_code or "").strip().upper()
    firms = model.firms_to_plan(holders(conn, [int(area["area_id"])]))
    if code not in set(firms["credit_code"]):
        listed = "、".join(f"{c}（{n or '-'}）" for c, n in
                          zip(firms["credit_code"], firms["name"], strict=True)) or "none"
        raise AreaError(f"firm {code} is not one of area {area['name']!r}'s firms needing "
                        f"a plan (class D or on inefficient land); those are: {listed}")
    row = conn.execute("INSERT INTO firm_plan_note (area_id, credit_code, author, note)"
                       " VALUES (%s, %s, %s, %s) RETURNING note_id, at",
                       (int(area["area_id"]), code, str(by).strip(), note)).fetchone()
    return {"note_id": int(row[0]), "at": row[1], "area_id": int(area["area_id"]),
            "credit_code": code}
