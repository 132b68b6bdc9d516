"""Policy inputs, runs and appeals under row-level security: the app role reads them in scope."""

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
    "policy_line": ("INSERT INTO run (run_id, kind, code_version, status) VALUES (990001, "
                    "'policy', 't', 'done'); INSERT INTO policy_line (run_id, credit_code, item,"
                    " kind, class, base_unit, base_source, months, amount_fen, town, district)"
                    " VALUES (990001, '91330000SCOPE0001X', 'p', 'electricity', 'D', 'kWh',"
                    " 'accounts', 12, 100, '甲镇', '东区'), (990001, '91330000SCOPE0002X', 'p',"
                    " 'electricity', 'D', 'kWh', 'accounts', 12, 200, '丙镇', '西区')",
                    "SELECT amount_fen FROM policy_line WHERE run_id = 990001"),
    "appeal": ("INSERT INTO appeal (credit_code, year, run_id, kind, claim, requested_class,"
               " submitted_by, town, district) VALUES ('91330000SCOPE0001X', 2022, 1, 'class',"
               " '东', 'C', 'a', '甲镇', '东区'), ('91330000SCOPE0002X', 2022, 1, 'class', '西',"
               " 'C', 'a', '丙镇', '西区')",
               "SELECT claim FROM appeal WHERE credit_code LIKE '91330000SCOPE%'"),
}
WEST = {"utility_account": [("SCOPE-W",)], "land_tax_base": [("91330000SCOPE0002X",)],
        "policy_line": [(200,)], "appeal": [("西",)]}
#: readable without the figures permission (names and classes, no amounts)
NO_FIGURES = {"appeal"}


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
                if table not in NO_FIGURES:
                    assert app.execute(query).fetchall() == []
        finally:
            admin.rollback()
            admin.execute("DELETE FROM account_quantity WHERE account_no LIKE 'SCOPE%'")
            admin.execute(f"DELETE FROM {table} WHERE credit_code LIKE '91330000SCOPE%'")
            admin.execute("DELETE FROM run WHERE run_id = 990001")
            admin.commit()
