"""Redevelopment areas change over time (tool: takes a connection; no commit).

Candidates join an area and leave it (with a reason), an area is renamed, and closed
(with a reason). Nothing is deleted: a candidate that leaves keeps its row with when,
how and why (``left_at``, ``left_how``, ``left_reason``), a closed area stays listed with
the candidates it closed with, and every change appends one row to the area's history
(``redevelopment_area_event``, append-only) with who and when. A candidate is in one
open area at most (checked here, and by a unique index on the open rows).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from scoring.errors import AreaError
from scoring.land_status.areas import model
from scoring.land_status.areas.store import (
    check_candidates,
    record_event,
    refuse_if_in_open_area,
    resolve_area,
)
from scoring.land_status.vocabulary import AREA_STATUSES

if TYPE_CHECKING:
    import psycopg


def _actor(by: Any) -> str:
    text = str(by or "").strip()
    if not text:
        raise AreaError("请用 --by 说明由谁登记这项变更")
    return text


def _reason(reason: Any, what: str) -> str:
    text = str(reason or "").strip()
    if not text or len(text) > 2000:
        raise AreaError(f"{what}须说明原因（--reason，1 到 2000 个字）")
    return text


def _open_area(conn: psycopg.Connection, key: str | int) -> dict[str, Any]:
    """The area ``key``, locked for the change; a closed one is refused."""
    area = resolve_area(conn, key)
    conn.execute("SELECT 1 FROM redevelopment_area WHERE area_id = %s FOR UPDATE",
                 (int(area["area_id"]),))
    if area["closed_reason"] is not None:
        raise AreaError(f"片区「{area['name']}」的状态为「{AREA_STATUSES.label('closed')}」"
                        f"（关闭原因：{area['closed_reason']}），不能再变更，可另设新片区")
    return area


def _current_ids(conn: psycopg.Connection, area_id: int) -> list[int]:
    rows = conn.execute("SELECT candidate_id FROM redevelopment_area_member"
                        " WHERE area_id = %s AND left_at IS NULL ORDER BY candidate_id",
                        (area_id,)).fetchall()
    return [int(r[0]) for r in rows]


def add_candidates(conn: psycopg.Connection, key: str | int, candidate_ids: Sequence[int], *,
                   by: str) -> dict[str, Any]:
    """Add candidates to an open area; the outline grows to cover their parcels.

    Raises
    ------
    AreaNotFound, AreaError
        The area is closed; no id given; a candidate unknown, closed, without parcel,
        already in this area or in another open area.
    """
    actor = _actor(by)
    area = _open_area(conn, key)
    aid = int(area["area_id"])
    if not candidate_ids:
        raise AreaError("请给出要加入片区的候选编号")
    ids = check_candidates(conn, candidate_ids)
    already = sorted(set(ids) & set(_current_ids(conn, aid)))
    if already:
        raise AreaError(f"候选 {'、'.join(map(str, already))} 已在片区「{area['name']}」中")
    refuse_if_in_open_area(conn, ids)
    with conn.cursor() as cur:
        cur.executemany("INSERT INTO redevelopment_area_member (area_id, candidate_id)"
                        " VALUES (%s, %s)", [(aid, c) for c in ids])
    conn.execute(
        "UPDATE redevelopment_area a SET geom = ST_Multi(ST_CollectionExtract(ST_Union("
        " a.geom, (SELECT ST_Union(p.geom) FROM candidate c JOIN parcel p"
        " ON p.parcel_code = c.parcel_code WHERE c.candidate_id = ANY (%s))), 3))"
        " WHERE a.area_id = %s", (ids, aid))
    record_event(conn, aid, "added", by=actor, candidate_ids=ids)
    return {"area_id": aid, "name": area["name"], "added": ids,
            "candidates": _current_ids(conn, aid)}


def remove_candidates(conn: psycopg.Connection, key: str | int, candidate_ids: Sequence[int],
                      *, reason: str, by: str) -> dict[str, Any]:
    """Take candidates out of an open area, with a reason (their rows stay, marked left).

    The outline is kept: it is the area as planned (a polygon area's outline was drawn;
    a list area's outline still shows where the candidate was).

    Raises
    ------
    AreaNotFound, AreaError
        The area is closed; no reason; a candidate not in the area.
    """
    actor = _actor(by)
    why = _reason(reason, "移出候选")
    area = _open_area(conn, key)
    aid = int(area["area_id"])
    wanted = sorted({int(c) for c in candidate_ids})
    if not wanted:
        raise AreaError("请给出要移出片区的候选编号")
    current = set(_current_ids(conn, aid))
    absent = [c for c in wanted if c not in current]
    if absent:
        raise AreaError(f"候选 {'、'.join(map(str, absent))} 不在片区「{area['name']}」中；"
                        f"`mujun areas show {area['name']}` 列出其候选")
    conn.execute("UPDATE redevelopment_area_member SET left_at = now(), left_how = 'removed',"
                 " left_reason = %s WHERE area_id = %s AND candidate_id = ANY (%s)"
                 " AND left_at IS NULL", (why, aid, wanted))
    record_event(conn, aid, "removed", by=actor, candidate_ids=wanted, reason=why)
    return {"area_id": aid, "name": area["name"], "removed": wanted,
            "candidates": _current_ids(conn, aid)}


def rename_area(conn: psycopg.Connection, key: str | int, new_name: str, *,
                by: str) -> dict[str, Any]:
    """Give an open area a new name (the old one stays in its history).

    Raises
    ------
    AreaNotFound, AreaError
        The area is closed; the name is empty, too long, unchanged or taken.
    """
    actor = _actor(by)
    name = model.check_name(new_name)
    area = _open_area(conn, key)
    aid = int(area["area_id"])
    if name == area["name"]:
        raise AreaError(f"片区已名为「{name}」")
    taken = conn.execute("SELECT area_id FROM redevelopment_area WHERE name = %s",
                         (name,)).fetchone()
    if taken:
        raise AreaError(f"名称「{name}」已被片区 {taken[0]} 使用（名称不能与任何片区重复，关闭的也算）；请另选名称")
    conn.execute("UPDATE redevelopment_area SET name = %s WHERE area_id = %s", (name, aid))
    record_event(conn, aid, "renamed", by=actor, old_name=area["name"], new_name=name)
    return {"area_id": aid, "old_name": area["name"], "name": name}


def close_area(conn: psycopg.Connection, key: str | int, *, reason: str,
               by: str) -> dict[str, Any]:
    """Close an area, with a reason: it stays listed with its candidates and history; its
    candidates are free to join another area.

    Raises
    ------
    AreaNotFound, AreaError
        Already closed; no reason.
    """
    actor = _actor(by)
    why = _reason(reason, "关闭片区")
    area = _open_area(conn, key)
    aid = int(area["area_id"])
    ids = _current_ids(conn, aid)
    conn.execute("UPDATE redevelopment_area_member SET left_at = now(),"
                 " left_how = 'area_closed' WHERE area_id = %s AND left_at IS NULL", (aid,))
    conn.execute("UPDATE redevelopment_area SET closed_at = now(), closed_reason = %s"
                 " WHERE area_id = %s", (why, aid))
    record_event(conn, aid, "closed", by=actor, candidate_ids=ids, reason=why)
    return {"area_id": aid, "name": area["name"], "reason": why, "candidates": ids}


