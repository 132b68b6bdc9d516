"""Panel 基本信息: name, code, status, town, park, GB/T 4754 division, 规上/规下, tags."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from gis.errors import DataError
from maps.enterprise_file.rows import rows

if TYPE_CHECKING:
    import psycopg


class EnterpriseNotFound(DataError):
    """The credit code is not in the database (or not in the user's area)."""


def header(conn: psycopg.Connection, code: str) -> dict[str, Any]:
    """The header of the firm ``code`` (normalized).

    Raises
    ------
    EnterpriseNotFound
        No such firm (for the review app's role: none in the user's area).
    """
    from parcels.industry import divisions_2017
    from parcels.vocabulary import ENTERPRISE_STATUS, SIZES
    from scoring.inputs import industry_division

    found = rows(conn.execute(
        "SELECT trim(credit_code) AS credit_code, name, industry_code, industry_version,"
        " size_class, town, status, established_date, deregistered_date, is_utility"
        " FROM enterprise WHERE credit_code = %s", (code,)))
    if not found:
        raise EnterpriseNotFound(f"企业 {code} 不在数据库中：请核对统一社会信用代码，或先用"
                                 " mujun import enterprises 导入")
    h = found[0]
    div = industry_division(pd.Series([h["industry_code"]]),
                            pd.Series([h["industry_version"]])).iloc[0]
    h["industry_division"] = div
    h["industry_name"] = divisions_2017().get(div) if div else None
    h["size"] = SIZES.label(h["size_class"]) or "未知"
    h["status_label"] = ENTERPRISE_STATUS.label(h["status"])
    park = conn.execute("SELECT mode() WITHIN GROUP (ORDER BY p.park) FROM land_right r"
                        " JOIN parcel p USING (parcel_code) WHERE r.credit_code = %s"
                        " AND p.park IS NOT NULL", (code,)).fetchone()
    h["park"] = park[0] if park else None
    h["record_tags"] = record_tags(h["is_utility"], conn.execute(
        "SELECT year, size_class, high_tech FROM enterprise_year WHERE credit_code = %s"
        " ORDER BY year DESC LIMIT 2", (code,)).fetchall())
    return h


def record_tags(is_utility: bool, years: list[tuple]) -> list[str]:
    """The tags of a firm's records (codes of ``enterprise.tag``): a public utility; a
    high-tech enterprise in its latest year; above designated size in its latest year
    after a year below it (pure; ``years`` newest first, as (year, size_class, high_tech)).

    Examples
    --------
    >>> record_tags(False, [(2024, "large", True), (2023, "small", None)])
    ['high_tech', 'first_above_scale']
    >>> record_tags(True, [(2024, "large", None), (2022, "small", None)])   # a gap year
    ['utility']
    >>> record_tags(False, [(2024, "large", False)])                      # no year before
    []
    """
    tags = ["utility"] if is_utility else []
    if years and years[0][2]:
        tags.append("high_tech")
    if (len(years) > 1 and years[0][1] == "large" and years[1][1] == "small"
            and years[0][0] == years[1][0] + 1):
        tags.append("first_above_scale")
    return tags
