"""Class adjustments under row-level security: the app role reads them in scope only."""

from __future__ import annotations

import psycopg
import pytest

from tests.test_review.conftest import start_session

pytestmark = pytest.mark.postgis


def test_the_app_role_reads_adjustments_of_its_districts_only(app_conn_factory, review_dsn,
                                                             seeded):
    from gis.db.connection import connect

    with connect(review_dsn) as admin:
        admin.execute(
            "INSERT INTO class_override (credit_code, year, run_id, initial_class, class,"
            " reason, decided_by, town, district) VALUES"
            " ('91330000SCOPE0001X', 2022, 1, 'D', 'C', '东区的调档', 'a', '甲镇', '东区'),"
            " ('91330000SCOPE0002X', 2022, 1, 'B', 'A', '西区的调档', 'b', '乙镇', '西区')")
        admin.commit()
        try:
            with app_conn_factory() as app:
                q = "SELECT reason FROM class_override WHERE credit_code LIKE '91330000SCOPE%'"
                assert app.execute(q).fetchall() == []                      # no session
                start_session(app, admin, "off_west")
                assert app.execute(q).fetchall() == [("西区的调档",)]
                app.rollback()
                start_session(app, admin, "admin")
                assert sorted(app.execute(q).fetchall()) == [("东区的调档",), ("西区的调档",)]
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    app.execute("INSERT INTO class_override (credit_code, year, run_id, class,"
                                " reason, decided_by) VALUES ('91330000SCOPE0003X', 2022, 1,"
                                " 'A', 'r', 'x')")
        finally:
            admin.rollback()
            admin.execute("TRUNCATE class_override")               # the owner may empty it
            admin.commit()
