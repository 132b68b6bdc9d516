"""Each annual figure's source (`enterprise_year.sources`, migration 0029): the import batch
that wrote its current value, whatever wrote it — a property test against a model."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.postgis

FIELDS = ("tax_wan", "electricity_kwh", "revenue_wan", "employees")
CODE = "91320509FIGSRC0001"

#: One delivery: the batch (index) and the cells it carries (None: a blank that clears).
delivery = st.tuples(st.integers(0, 2), st.dictionaries(
    st.sampled_from(FIELDS), st.one_of(st.none(), st.integers(0, 3)), min_size=1))


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(delivery, min_size=1, max_size=6))
def test_sources_follow_the_writes(db_conn, deliveries):
    from psycopg import sql

    db_conn.execute("DELETE FROM enterprise_year")
    db_conn.execute("INSERT INTO enterprise (credit_code, name) VALUES (%s, '来源测试')"
                    " ON CONFLICT DO NOTHING", (CODE,))
    batches = [db_conn.execute("INSERT INTO import_batch (kind, source) VALUES"
                               " ('enterprises', %s) RETURNING batch_id", (f"b{i}",)).fetchone()[0]
               for i in range(3)]
    values: dict[str, int | None] = {}
    sources: dict[str, int] = {}
    for index, cells in deliveries:
        batch = batches[index]
        cols = list(cells)
        db_conn.execute(sql.SQL(
            "INSERT INTO enterprise_year (credit_code, year, {cols}, batch_id)"
            " VALUES (%s, 2024, {vals}, %s) ON CONFLICT (credit_code, year) DO UPDATE SET"
            " {sets}, batch_id = EXCLUDED.batch_id").format(
                cols=sql.SQL(", ").join(map(sql.Identifier, cols)),
                vals=sql.SQL(", ").join(sql.Placeholder() * len(cols)),
                sets=sql.SQL(", ").join(sql.SQL("{c} = EXCLUDED.{c}").format(c=sql.Identifier(c))
                                        for c in cols)),
            (CODE, *cells.values(), batch))
        for field, value in cells.items():          # the model
            if value is None:
                sources.pop(field, None)
            elif value != values.get(field) or field not in sources:
                sources[field] = batch
            values[field] = value
    stored = db_conn.execute("SELECT sources FROM enterprise_year WHERE credit_code = %s",
                             (CODE,)).fetchone()[0]
    assert stored == sources
    db_conn.rollback()
