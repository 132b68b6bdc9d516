"""Migration 0027 merges a parcel's open candidates of several kinds into one, keeping
every decision and event."""

from __future__ import annotations

import psycopg
import pytest

from gis.db.connection import connect
from gis.db.migrations import migrate


def _candidate(conn, parcel, kind, status="new"):
    cid = conn.execute("INSERT INTO candidate (parcel_code, kind, status) VALUES (%s, %s, 'new')"
                       " RETURNING candidate_id", (parcel, kind)).fetchone()[0]
    conn.execute("INSERT INTO review_event (candidate_id, actor, action, to_status)"
                 " VALUES (%s, 'system', 'created', 'new')", (cid,))
    if status != "new":
        conn.execute("UPDATE candidate SET status = %s WHERE candidate_id = %s", (status, cid))
        conn.execute("INSERT INTO review_event (candidate_id, actor, action, from_status,"
                     " to_status) VALUES (%s, '王科长', 'decided', 'new', %s)", (cid, status))
    return cid


def test_duplicates_merge_into_the_decided_one_and_keep_their_history(database_before):
    with database_before(27) as dsn, connect(dsn) as conn:
        a_ineff = _candidate(conn, "A", "inefficient", "under_review")  # the decided one
        a_unused = _candidate(conn, "A", "built_unused")
        b_ineff = _candidate(conn, "B", "inefficient")
        b_unused = _candidate(conn, "B", "built_unused")
        c_idle = _candidate(conn, "C", "idle_not_started", "confirmed")
        conn.commit()
        events = conn.execute("SELECT event_id, candidate_id, action FROM review_event"
                              " ORDER BY event_id").fetchall()
        migrate(conn)
        rows = {r[0]: r[1:] for r in conn.execute(
            "SELECT candidate_id, kind, kinds, status, merged_into FROM candidate")}
        # A: the decided one survives, its decision kept, carrying both kinds
        assert rows[a_ineff] == ("inefficient", ["inefficient", "built_unused"],
                                 "under_review", None)
        assert rows[a_unused][2:] == ("closed", a_ineff)
        # B: nothing decided: the first kind by precedence (built_unused) survives
        assert rows[b_unused] == ("built_unused", ["built_unused", "inefficient"], "new",
                                  None)
        assert rows[b_ineff][2:] == ("closed", b_unused)
        assert rows[c_idle] == ("idle_not_started", ["idle_not_started"], "confirmed", None)
        # no event lost or changed; a 'merged' event on each survivor, 'closed' on the others
        assert conn.execute("SELECT event_id, candidate_id, action FROM review_event"
                            " WHERE event_id <= %s ORDER BY event_id",
                            (events[-1][0],)).fetchall() == events
        new = conn.execute("SELECT candidate_id, action, comment FROM review_event"
                           " WHERE event_id > %s ORDER BY event_id",
                           (events[-1][0],)).fetchall()
        assert {(c, a) for c, a, _ in new} == {(a_ineff, "merged"), (b_unused, "merged"),
                                               (a_unused, "closed"), (b_ineff, "closed")}
        assert any(f"merged candidate {a_unused} (built_unused, new)" in m for *_, m in new)
        # from now on one open candidate per parcel
        with pytest.raises(psycopg.errors.UniqueViolation, match="candidate_open_idx"):
            conn.execute("INSERT INTO candidate (parcel_code, kind)"
                         " VALUES ('C', 'inefficient')")
