"""Amounts and counts of a policy run per class group, town or industry (pure + one read).

Like the provincial dashboards: A+B — reliefs (万元) and quotas granted; C+D (C- included)
— surcharges (万元) and quotas cut; planned beside what the ledger says was collected,
refunded and granted.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    import psycopg

BY = ("class", "town", "industry")


def class_group(klass: str | None) -> str:
    """``A+B``, ``C+D`` (C- and other derived classes of C or D included) or ``other``.

    >>> class_group("B"), class_group("C-"), class_group("T")
    ('A+B', 'C+D', 'other')
    """
    if klass in ("A", "B"):
        return "A+B"
    if klass and klass[0] in ("C", "D"):
        return "C+D"
    return "other"


def _wan(fen: int) -> str:
    """Fen as 万元 with four decimals (exact: 1 万元 = 1,000,000 fen)."""
    return str((Decimal(int(fen)) / Decimal(1_000_000)).quantize(Decimal("0.0001")))


def summarize_ledger(ledger: pd.DataFrame, ents: pd.DataFrame, by: str = "class"
                     ) -> list[dict[str, Any]]:
    """One record per class group (and town or industry division when ``by`` says so)."""
    lines = ledger.merge(ents[["credit_code", "industry_division"]], on="credit_code",
                         how="left")
    lines["group"] = [class_group(c) for c in lines["class"]]
    keys = ["group", *{"town": ["town"], "industry": ["industry_division"]}.get(by, [])]
    out = []
    for key, grp in lines.groupby(keys, dropna=False, sort=True):
        key = key if isinstance(key, tuple) else (key,)
        amounts = [int(a) for a in grp["amount_fen"] if a is not None]
        quota = [Decimal(str(q)) for q in grp["quota"] if q is not None and q == q]
        rec = {"group": key[0], "enterprises": int(grp["credit_code"].nunique()),
               "lines": len(grp),
               "surcharge_wan": _wan(sum(a for a in amounts if a > 0)),
               "relief_wan": _wan(-sum(a for a in amounts if a < 0)),
               "quota_granted": str(sum((q for q in quota if q > 0), Decimal(0))),
               "quota_cut": str(-sum((q for q in quota if q < 0), Decimal(0))),
               "collected_wan": _wan(sum(int(v) for v in grp["collected_fen"])),
               "refunded_wan": _wan(sum(int(v) for v in grp["refunded_fen"])),
               "granted_wan": _wan(-sum(int(v) for v in grp["granted_fen"]))}
        if len(key) > 1:
            rec[by] = None if key[1] != key[1] else key[1]
        out.append(rec)
    return out


def policy_summary(conn: psycopg.Connection, run_id: int, by: str = "class"
                   ) -> list[dict[str, Any]]:
    """:func:`summarize_ledger` of a stored policy run."""
    from gis.db.copy import read_frame
    from scoring.policy.ledger import read_ledger

    ents = read_frame(conn, "SELECT trim(credit_code) AS credit_code, industry_division"
                            " FROM policy_enterprise WHERE run_id = %s", (run_id,))
    return summarize_ledger(read_ledger(conn, run_id), ents, by)


def enterprise_totals(conn: psycopg.Connection, run_id: int) -> pd.DataFrame:
    """Per enterprise of a policy run: class in force, surcharges and reliefs (fen), items.

    ``effect``: ``surcharge``, ``relief``, ``both`` or ``none`` (a class in force, no money).
    """
    from gis.db.copy import read_frame

    frame = read_frame(conn, """
        SELECT trim(e.credit_code) AS credit_code, e.class AS policy_class,
               coalesce(sum(l.amount_fen) FILTER (WHERE l.amount_fen > 0), 0)::text
                   AS surcharge_fen,
               coalesce(-sum(l.amount_fen) FILTER (WHERE l.amount_fen < 0), 0)::text
                   AS relief_fen,
               string_agg(DISTINCT l.kind, ',') AS kinds
        FROM policy_enterprise e
        LEFT JOIN policy_line l USING (run_id, credit_code)
        WHERE e.run_id = %s AND e.exempt_reason IS NULL
        GROUP BY e.credit_code, e.class""", (run_id,))
    for col in ("surcharge_fen", "relief_fen"):
        frame[col] = pd.Series([int(v) for v in frame[col]], index=frame.index, dtype=object)
    sur = frame["surcharge_fen"].to_numpy() > 0
    rel = frame["relief_fen"].to_numpy() > 0
    frame["effect"] = [("both" if s and r else "surcharge" if s else "relief" if r else "none")
                       for s, r in zip(sur, rel, strict=True)]
    return frame
