"""Read what a policy run needs from PostGIS: classes, utility quantities, tax base, records.

Tool module (it takes an open connection and returns the frames :mod:`.kernel` reads).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from scoring.policy.model import Period, PolicyRuleSet

if TYPE_CHECKING:
    import psycopg


def read_enterprises(conn: psycopg.Connection, score_run: int) -> pd.DataFrame:
    """The enterprises of a score run with their computed and adjusted class."""
    from gis.db.copy import read_frame
    from scoring.overrides import effective_overrides

    ents = read_frame(
        conn, "SELECT trim(s.credit_code) AS credit_code, s.name, s.town, s.district,"
        " s.industry_division, e.size_class, s.population, s.total, s.class AS score_class"
        " FROM enterprise_score s LEFT JOIN enterprise e USING (credit_code)"
        " WHERE s.run_id = %s ORDER BY s.credit_code", (score_run,))
    over = effective_overrides(conn, score_run)
    adjusted = dict(zip(over["credit_code"], over["adjusted_class"], strict=True)) \
        if len(over) else {}
    ents["adjusted_class"] = ents["credit_code"].map(adjusted)
    return ents


def read_quantities(conn: psycopg.Connection, period: Period) -> pd.DataFrame:
    """Each matched account's quantities of the period's years, times the user's share.

    ``quantity_milli`` is the enterprise's share of the account's quantity in whole
    thousandths of a kWh or m³ (exact: numeric arithmetic in the database).
    """
    from gis.db.copy import read_frame

    frame = read_frame(
        conn, "SELECT a.credit_code, a.kind, a.account_no, q.year, q.month,"
        " round(q.quantity * a.share * 1000)::bigint AS quantity_milli"
        " FROM utility_account a JOIN account_quantity q USING (kind, account_no)"
        " WHERE a.matched AND q.year BETWEEN %s AND %s",
        (period.start // 12, period.end // 12))
    return frame


def read_land_tax(conn: psycopg.Connection, year: int) -> pd.DataFrame:
    """The land-use tax due per taxpayer in ``year``, in whole 0.0001 元 (``due_e4``)."""
    from gis.db.copy import read_frame

    return read_frame(
        conn, "SELECT trim(credit_code) AS credit_code,"
        " round(sum(taxable_area_m2 * unit_tax) * 10000)::bigint AS due_e4"
        " FROM land_tax_base WHERE year = %s GROUP BY credit_code", (year,))


def read_records(conn: psycopg.Connection, period: Period) -> pd.DataFrame:
    """Annual records from the year before the period to its last year."""
    from gis.db.copy import read_frame

    return read_frame(
        conn, "SELECT trim(credit_code) AS credit_code, year::int AS year, electricity_kwh,"
        " energy_tce, emissions_t FROM enterprise_year WHERE year BETWEEN %s AND %s",
        (period.start // 12 - 1, period.end // 12))


def read_inputs(conn: psycopg.Connection, rs: PolicyRuleSet, period: Period | None = None
                ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Quantities, land-use tax due and records for the months ``rs`` (or ``period``) spans.

    What :func:`scoring.policy.kernel.apply_policy` reads besides the enterprises: the
    same for a stored policy run and for one computed in memory (``score compare --policy``).
    """
    periods = [period or i.period or rs.period for i in rs.items] or [period or rs.period]
    span = Period(min(p.start for p in periods), max(p.end for p in periods))
    return (read_quantities(conn, span), read_land_tax(conn, span.start // 12),
            read_records(conn, span))
