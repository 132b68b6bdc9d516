"""Migration 0009 gives footprints loaded before it one survey per batch."""

from __future__ import annotations

from gis.db.connection import connect
from gis.db.migrations import migrate


def test_existing_footprints_get_one_survey_per_batch(database_before):
    with database_before(9) as dsn, connect(dsn) as conn:
        for b, (date, src) in enumerate([("2022-05-01", "a.gpkg"), (None, "b.gpkg")], 1):
            conn.execute("INSERT INTO import_batch (batch_id, kind, source) "
                         "VALUES (%s, 'footprints', %s)", (b, src))
            for k in range(3):
                conn.execute(
                    "INSERT INTO footprint (geom, image_date, batch_id) VALUES "
                    "(ST_Multi(ST_MakeEnvelope(%s, %s, %s + 10, %s + 10, 4549)), %s, %s)",
                    (100 * b + 20 * k, 0, 100 * b + 20 * k, 0, date, b))
        conn.execute("INSERT INTO footprint (geom) VALUES "
                     "(ST_Multi(ST_MakeEnvelope(0, 500, 5, 505, 4549)))")
        conn.commit()
        migrate(conn)
        rows = conn.execute(
            "SELECT s.batch_id, s.survey_date IS NOT NULL, ST_XMin(s.coverage), "
            "ST_XMax(s.coverage), count(f.*) FROM survey s JOIN footprint f USING (survey_id)"
            " GROUP BY s.survey_id ORDER BY s.batch_id NULLS LAST").fetchall()
        assert rows == [(1, True, 100.0, 150.0, 3), (2, True, 200.0, 250.0, 3),
                        (None, True, 0.0, 5.0, 1)]
        dated = conn.execute("SELECT survey_date::text FROM survey WHERE batch_id = 1").fetchone()
        assert dated == ("2022-05-01",)
        assert conn.execute("SELECT count(*) FROM footprint WHERE survey_id IS NULL"
                            ).fetchone() == (0,)
