"""Migration 0036 on a database holding areas made before it: each area gets its
'created' event (who and when from the area row), its members stay open memberships."""

from __future__ import annotations

import pytest

from gis.db.connection import connect
from gis.db.migrations import migrate

pytestmark = pytest.mark.postgis


def test_areas_made_before_0036_get_their_creation_in_the_history(database_before):
    with database_before(36) as dsn, connect(dsn) as conn:
        ids = [conn.execute("INSERT INTO candidate (parcel_code, kind) VALUES (%s,"
                            " 'inefficient') RETURNING candidate_id", (p,)).fetchone()[0]
               for p in ("A", "B")]
        area = conn.execute(
            "INSERT INTO redevelopment_area (name, method, planned, target_mu, geom,"
            " created_by, created_at) VALUES ('城东', 'upgrade', '2027-01-01', 10,"
            " ST_Multi(ST_MakeEnvelope(0, 0, 1, 1, 4549)), '张三', '2026-05-01T08:00Z')"
            " RETURNING area_id").fetchone()[0]
        for cid in ids:
            conn.execute("INSERT INTO redevelopment_area_member (area_id, candidate_id)"
                         " VALUES (%s, %s)", (area, cid))
        conn.commit()
        migrate(conn)
        event = conn.execute("SELECT action, candidate_ids, new_name, actor,"
                             " at::date::text FROM redevelopment_area_event").fetchall()
        assert event == [("created", sorted(ids), "城东", "张三", "2026-05-01")]
        assert conn.execute("SELECT count(*) FROM redevelopment_area_member"
                            " WHERE left_at IS NULL").fetchone() == (2,)
