"""The test database between tests: what one test leaves, the next does not see, and
what a test's own fixtures write before ``db_conn`` is built stays.

The two tests run in this order (one file runs whole in one process, ``--dist loadfile``).
"""

from __future__ import annotations

import pytest

from gis.db.connection import connect
from tests.cli_runner import fetch
from tests.database_state import DB_STATE

pytestmark = pytest.mark.postgis

CODE = "91320585TC0001XY5X"


def _insert_firm(dsn: str) -> None:
    with connect(dsn) as conn:
        conn.execute("INSERT INTO enterprise (credit_code, name) VALUES (%s, %s)",
                     (CODE, "企业一"))
        conn.commit()


def test_a_cli_style_write_leaves_the_database_dirty(db_dsn):
    _insert_firm(db_dsn)


@pytest.fixture
def firm_written_first(db_dsn):
    assert DB_STATE["dirty"] is False           # cleared before this fixture ran
    _insert_firm(db_dsn)


def test_fixture_rows_written_before_db_conn_survive(firm_written_first, db_conn):
    assert fetch(db_conn, "SELECT name FROM enterprise") == [("企业一",)]
