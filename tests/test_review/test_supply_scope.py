"""Standard-land plots under row-level security: the app role reads them in scope only,
with their steps and contracts, reads the area-wide assessments, and writes only what the
supply page's planners may (0035: their information and steps, with 'supply')."""

from __future__ import annotations

import psycopg
import pytest

from tests.test_review.conftest import start_session

pytestmark = pytest.mark.postgis

_BOX = "ST_Multi(ST_MakeEnvelope(500000, 3450000, 500100, 3450100, 4549))"


def test_the_app_role_reads_plots_of_its_districts_only(app_conn_factory, review_dsn, seeded):
    from gis.db.connection import connect

    with connect(review_dsn) as admin:
        ids = [admin.execute(
            "INSERT INTO supply_plot (code, geom, area_m2, town, district, origin, status_date,"
            f" created_by) VALUES (%s, {_BOX}, 10000, %s, %s, 'new', '2025-01-01', 'a')"
            " RETURNING plot_id", (code, town, district)).fetchone()[0]
            for code, town, district in (("RLS-E", "甲镇", "东区"), ("RLS-W", "乙镇", "西区"))]
        for plot_id in ids:
            admin.execute("INSERT INTO supply_plot_event (plot_id, to_status, on_date, actor)"
                          " VALUES (%s, 'reserve', '2025-01-01', 'a')", (plot_id,))
            admin.execute("INSERT INTO supply_contract (plot_id, parcel_code, start_by,"
                          " complete_by, created_by) VALUES (%s, 'X', '2025-06-01',"
                          " '2026-06-01', 'a')", (plot_id,))
        admin.execute("INSERT INTO area_assessment (topic, conclusion, geom) VALUES"
                      f" ('flood', '可行', {_BOX})")
        admin.commit()
        try:
            with app_conn_factory() as app:
                plots = "SELECT code FROM supply_plot WHERE code LIKE 'RLS-%' ORDER BY code"
                events = ("SELECT count(*) FROM supply_plot_event e JOIN supply_plot p"
                          " USING (plot_id) WHERE p.code LIKE 'RLS-%'")
                contracts = "SELECT count(*) FROM supply_contract WHERE parcel_code = 'X'"
                assessments = "SELECT count(*) FROM area_assessment"
                assert app.execute(plots).fetchall() == []                  # no session
                assert app.execute("SELECT count(*) FROM supply_plot_event"
                                   ).fetchone()[0] == 0
                assert app.execute(contracts).fetchone()[0] == 0
                assert app.execute(assessments).fetchone()[0] == 0
                start_session(app, admin, "off_west")
                assert app.execute(plots).fetchall() == [("RLS-W",)]
                assert app.execute(events).fetchone()[0] == 1
                assert app.execute(contracts).fetchone()[0] == 1
                assert app.execute(assessments).fetchone()[0] == 1
                app.rollback()
                start_session(app, admin, "admin")
                assert app.execute(plots).fetchall() == [("RLS-E",), ("RLS-W",)]
                app.rollback()
                # only the 'supply' permission edits plots (the supply page, 0035): an
                # official of the district changes nothing and records no step
                start_session(app, admin, "off_west")
                assert app.execute("UPDATE supply_plot SET status = 'announced'"
                                   " WHERE code LIKE 'RLS-%'").rowcount == 0
                app.rollback()
                start_session(app, admin, "off_west")
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    app.execute("INSERT INTO supply_plot_event (plot_id, to_status, on_date,"
                                f" actor) VALUES ({ids[1]}, 'announced', '2025-02-01',"
                                " 'off_west')")
                app.rollback()
                start_session(app, admin, "admin")
                for statement in (
                        "UPDATE supply_plot SET area_m2 = 1",
                        "DELETE FROM supply_contract",
                        "INSERT INTO area_assessment (topic, conclusion, geom) VALUES"
                        f" ('soil', 'x', {_BOX})"):
                    with pytest.raises(psycopg.errors.InsufficientPrivilege):
                        app.execute(statement)
                    app.rollback()
                    start_session(app, admin, "admin")
        finally:
            admin.rollback()
            admin.execute("DELETE FROM supply_contract WHERE parcel_code = 'X'")
            admin.execute("TRUNCATE supply_plot_event")
            admin.execute("DELETE FROM supply_plot WHERE code LIKE 'RLS-%'")
            admin.execute("DELETE FROM area_assessment")
            admin.commit()
