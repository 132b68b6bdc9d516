"""Policy inputs and runs under row-level security: the app role reads them in scope only."""

from __future__ import annotations

import pytest

from tests.test_review.conftest import start_session

pytestmark = pytest.mark.postgis

TABLES = {
    "utility_account": ("INSERT INTO utility_account (kind, account_no, credit_code, matched,"
                        " town, district) VALUES ('electricity', 'SCOPE-E', "
                        "'91330000SCOPE0001X', true, '甲镇', '东区'), ('electricity', 'SCOPE-W',"
                        " '91330000SCOPE0002X', true, '丙镇', '西区')",
                        "SELECT account_no FROM utility_account WHERE account_no LIKE 'SCOPE%'"),
    "land_tax_base": ("INSERT INTO land_tax_base (credit_code, year, taxable_area_m2, unit_tax,"
                      " town, district) VALUES ('91330000SCOPE0001X', 2022, 100, 5, '甲镇', "
                      "'东区'), ('91330000SCOPE0002X', 2022, 100, 5, '丙镇', '西区')",
                      "SELECT trim(credit_code) FROM land_tax_base WHERE credit_code LIKE "
                      "'91330000SCOPE%'"),
}
WEST = {"utility_account": [("SCOPE-W",)], "land_tax_base": [("91330000SCOPE0002X",)]}


@pytest.mark.parametrize("table", sorted(TABLES))
def test_the_app_role_reads_policy_inputs_of_its_districts_only(table, app_conn_factory,
                                                               review_dsn, seeded):
    from gis.db.connection import connect

    insert, query = TABLES[table]
    with connect(review_dsn) as admin:
        admin.execute(insert)
        if table == "utility_account":
            admin.execute("INSERT INTO account_quantity (kind, account_no, year, month, quantity)"
                          " VALUES ('electricity', 'SCOPE-E', 2022, 0, 1),"
                          " ('electricity', 'SCOPE-W', 2022, 0, 2)")
        admin.commit()
        try:
            with app_conn_factory() as app:
                assert app.execute(query).fetchall() == []                  # no session
                start_session(app, admin, "off_west")
                assert app.execute(query).fetchall() == WEST[table]
                if table == "utility_account":
                    assert app.execute("SELECT quantity FROM account_quantity WHERE account_no"
                                       " LIKE 'SCOPE%'").fetchall() == [(2,)]
                app.rollback()
                start_session(app, admin, "viewer_east")                    # no figures
                assert app.execute(query).fetchall() == []
        finally:
            admin.rollback()
            admin.execute("DELETE FROM account_quantity WHERE account_no LIKE 'SCOPE%'")
            admin.execute(f"DELETE FROM {table} WHERE credit_code LIKE '91330000SCOPE%'")
            admin.commit()
