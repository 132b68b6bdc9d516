"""Policy runs in PostGIS: ``policy_enterprise``, ``policy_line`` (migration 0023).

A policy run is a ``run`` row of kind ``policy``. Nothing here commits: the caller does.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from scoring.errors import PolicyRunError

if TYPE_CHECKING:
    import psycopg

    from scoring.policy.kernel import PolicyResult

RUN_KIND = "policy"

ENTERPRISE_COLUMNS = ("run_id", "credit_code", "name", "town", "district", "industry_division",
                      "size_class", "score_class", "class", "adjusted", "exempt_reason",
                      "flags", "warnings")
LINE_COLUMNS = ("run_id", "credit_code", "item", "kind", "class", "base", "base_unit",
                "base_source", "rate", "months", "amount_fen", "quota", "collector",
                "refundable", "borne_by", "town", "district")


def scaled(value: Any, places: int) -> Decimal | None:
    """Whole units of ``10**-places`` as an exact decimal (``None`` stays ``None``).

    >>> scaled(1234, 3), scaled(None, 3), scaled(-5, 2)
    (Decimal('1.234'), None, Decimal('-0.05'))
    """
    if value is None or value != value:
        return None
    return Decimal(int(value)).scaleb(-places)


def yuan(fen: int | None) -> str:
    """Fen as yuan text with two decimals, exact (``yuan(-123456) == '-1234.56'``)."""
    if fen is None:
        return ""
    fen = int(fen)
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100}.{abs(fen) % 100:02d}"


def _none(v: Any) -> Any:
    return None if v is None or (isinstance(v, float) and v != v) else v


def save_policy(conn: psycopg.Connection, run_id: int, result: PolicyResult) -> None:
    """COPY the enterprises and lines of ``result`` under ``run_id``."""
    from psycopg.types.json import Jsonb

    ents = result.enterprises
    with conn.cursor() as cur:
        with cur.copy(f"COPY policy_enterprise ({', '.join(ENTERPRISE_COLUMNS)}) "
                      "FROM STDIN") as cp:
            for r in ents.itertuples(index=False):
                cp.write_row((run_id, r.credit_code, _none(r.name), _none(r.town),
                              _none(r.district), _none(r.industry_division),
                              _none(r.size_class), _none(r.score_class), _none(r[
                                  ents.columns.get_loc("class")]), bool(r.adjusted),
                              _none(r.exempt_reason), list(r.flags), Jsonb(r.warnings)))
        lines = result.lines
        with cur.copy(f"COPY policy_line ({', '.join(LINE_COLUMNS)}) FROM STDIN") as cp:
            for r in zip(*(lines[c].to_numpy() for c in (
                    "credit_code", "item", "kind", "class", "base_milli", "base_unit",
                    "base_source", "rate_nano", "months", "amount_fen", "quota_milli",
                    "collector", "refundable", "borne_by", "town", "district")), strict=True):
                cp.write_row((run_id, r[0], r[1], r[2], r[3], scaled(r[4], 3), r[5], r[6],
                              scaled(r[7], 9), int(r[8]), _none(r[9]), scaled(r[10], 3),
                              r[11] or None, bool(r[12]), r[13] or None, _none(r[14]),
                              _none(r[15])))


def latest_policy_run(conn: psycopg.Connection) -> int | None:
    """Id of the latest finished policy run, or ``None``."""
    row = conn.execute("SELECT run_id FROM run WHERE kind = %s AND status = 'done'"
                       " ORDER BY finished_at DESC, run_id DESC LIMIT 1",
                       (RUN_KIND,)).fetchone()
    return int(row[0]) if row else None


def resolve_policy_run(conn: psycopg.Connection, run_id: int | None = None) -> int:
    """``run_id`` checked to be a finished policy run, or the latest one.

    Raises
    ------
    PolicyRunError
        No such run, or none stored yet.
    """
    if run_id is None:
        found = latest_policy_run(conn)
        if found is None:
            raise PolicyRunError("尚无政策运行；请先运行 `mujun policy apply --ruleset 规则`")
        return found
    row = conn.execute("SELECT kind, status FROM run WHERE run_id = %s", (run_id,)).fetchone()
    if row is None or row[0] != RUN_KIND or row[1] != "done":
        raise PolicyRunError(f"第 {run_id} 次运行不是已完成的政策运行（--run）；"
                             "`mujun policy runs` 列出全部政策运行")
    return int(run_id)
