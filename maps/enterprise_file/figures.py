"""Panel 部门数据: the annual figures by the department that delivers them (tax, power,
statistics, environment) and by the import that wrote each value, with its date.

Each figure's source is recorded by the database (``enterprise_year.sources``, migration
0029): the import batch that wrote its current value. A batch is shown by its file's
name (an upheld data appeal's correction as 申诉更正) and its import date.
"""

from __future__ import annotations

from pathlib import PurePath
from typing import TYPE_CHECKING, Any

from maps.enterprise_file.rows import rows

if TYPE_CHECKING:
    import psycopg

#: field → the department that delivers it.
DEPARTMENT_OF = {"tax_wan": "tax", "electricity_kwh": "power", "revenue_wan": "statistics",
                 "value_added_wan": "statistics", "energy_tce": "statistics",
                 "rd_wan": "statistics", "employees": "statistics",
                 "emissions_t": "environment"}


def source_name(kind: str | None, source: str | None, params: dict | None = None) -> str:
    """How a batch is named to an official: the file's name, or the appeal it corrected.

    Examples
    --------
    >>> source_name("enterprises", "/data/2024/税务局2024.csv")
    '税务局2024.csv'
    >>> source_name("verification", "appeal 7")
    '申诉 7 更正'
    >>> source_name("sample", "/home/x/demo/enterprise_years.csv")
    '示例数据（enterprise_years.csv）'
    >>> source_name(None, None)
    '未记录来源'
    """
    if source is None:
        return "未记录来源"
    if kind == "verification" and source.startswith("appeal "):
        return f"申诉 {source.removeprefix('appeal ')} 更正"
    name = PurePath(source).name or source
    return f"示例数据（{name}）" if kind == "sample" else name


def figures(conn: psycopg.Connection, code: str) -> list[dict[str, Any]]:
    """Every stored figure of ``code``: year, department, figure, value, unit and source
    (batch, file, import date), by year (newest first), department and figure."""
    from parcels.vocabulary import DEPARTMENTS, FIGURES

    found = rows(conn.execute(
        "SELECT y.year, f.key AS field, (to_jsonb(y) ->> f.key)::double precision AS value,"
        " (y.sources ->> f.key)::bigint AS batch_id, b.kind, b.source,"
        " coalesce(b.finished_at, b.started_at) AS imported_at"
        " FROM enterprise_year y CROSS JOIN LATERAL jsonb_each(to_jsonb(y)) f"
        " LEFT JOIN import_batch b ON b.batch_id = (y.sources ->> f.key)::bigint"
        " WHERE y.credit_code = %s AND f.key = ANY(%s) AND jsonb_typeof(f.value) = 'number'",
        (code, list(DEPARTMENT_OF))))
    order = {c: i for i, c in enumerate(FIGURES.codes())}
    depts = {c: i for i, c in enumerate(DEPARTMENTS.codes())}
    for r in found:
        dept = DEPARTMENT_OF[r["field"]]
        term = FIGURES.get(r["field"])
        r.update(department=dept, department_label=DEPARTMENTS.label(dept),
                 label=term.zh, unit=term.unit,
                 source_name=source_name(r.pop("kind"), r.pop("source")))
    found.sort(key=lambda r: (-r["year"], depts[r["department"]], order[r["field"]]))
    return found
