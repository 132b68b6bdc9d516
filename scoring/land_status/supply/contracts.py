"""The land contract (出让合同) of a plot: what the holder committed to (the tool side).

Committed investment, start / completion / production dates and committed per-mu
figures (FAR and coverage minimums, tax per mu; others free in ``committed``). Missing
figures are taken from the plot's control indicators. The contract is checked on a
parcel: the plot's own (a reclaimed parcel, or the parcel the plot mostly lies on),
or the one named when the transferred land was registered under a new code.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING, Any

from scoring.land_status.supply.errors import SupplyError
from scoring.land_status.supply.plots import get_plot, plot_id_of
from scoring.land_status.supply.vocabulary import STATUSES

if TYPE_CHECKING:
    import psycopg


def record_contract(conn: psycopg.Connection, ref: int | str, *, actor: str,
                    start_by: dt.date, complete_by: dt.date, produce_by: dt.date | None = None,
                    investment_wan: float | None = None, far_min: float | None = None,
                    coverage_min: float | None = None, tax_per_mu_wan: float | None = None,
                    holder: str | None = None, credit_code: str | None = None,
                    contract_no: str | None = None, signed: dt.date | None = None,
                    parcel_code: str | None = None, committed: dict | None = None
                    ) -> dict[str, Any]:
    """Record (or replace) a plot's contract (commits); returns the plot.

    Raises
    ------
    SupplyError
        The plot is not transferred (出让) yet, dates out of order, no parcel to check
        the contract on, or figures out of range.
    """
    from scoring.land_status.supply.pipeline import rank

    plot_id = plot_id_of(conn, ref)
    try:
        status, code, own_parcel, ind = conn.execute(
            "SELECT status, code, parcel_code, indicators FROM supply_plot WHERE plot_id = %s"
            " FOR UPDATE", (plot_id,)).fetchone()
        if rank(status) < rank("transferred"):
            raise SupplyError(f"地块 {code} 尚在「{STATUSES.label(status)}」：出让后才能登记合同")
        if complete_by < start_by:
            raise SupplyError(f"约定竣工日期 {complete_by} 早于约定开工日期 {start_by}")
        if produce_by is not None and produce_by < complete_by:
            raise SupplyError(f"约定达产日期 {produce_by} 早于约定竣工日期 {complete_by}")
        if coverage_min is not None and not 0 <= coverage_min <= 1:
            raise SupplyError(f"建筑系数 {coverage_min} 应为 0 到 1 之间的比例（如 0.4）")
        if credit_code is not None:
            from parcels.codes import check_credit_code, normalize_credit_code

            credit_code = normalize_credit_code(credit_code)
            if check_credit_code(credit_code) == "malformed":
                raise SupplyError(f"统一社会信用代码 {credit_code} 格式错误（应为 18 位）；"
                                  "请更正 --credit-code")
        for name, value, low in (("--investment", investment_wan, 0.0),
                                 ("--far-min", far_min, None),
                                 ("--tax-per-mu", tax_per_mu_wan, 0.0)):
            if value is not None and not (value >= low if low is not None else value > 0):
                raise SupplyError(f"{name} 应为{'不小于 0' if low is not None else '大于 0'}"
                                  f"的数（给出的是 {value}）")
        parcel = parcel_code or own_parcel
        if parcel is None:
            raise SupplyError(f"地块 {code} 没有对应的宗地：请用 --parcel 给出出让后登记的宗地代码")
        if not conn.execute("SELECT 1 FROM parcel WHERE parcel_code = %s", (parcel,)).fetchone():
            raise SupplyError(f"宗地 {parcel} 不在宗地库中；请先导入该宗地或更正 --parcel")
        ind = ind or {}
        conn.execute(
            "INSERT INTO supply_contract (plot_id, contract_no, holder, credit_code, parcel_code,"
            " signed_date, investment_wan, start_by, complete_by, produce_by, far_min,"
            " coverage_min, tax_per_mu_wan, committed, created_by)"
            " VALUES (%(p)s, %(no)s, %(holder)s, %(credit)s, %(parcel)s, %(signed)s, %(inv)s,"
            " %(start)s, %(complete)s, %(produce)s, %(far)s, %(cov)s, %(tax)s, %(extra)s::jsonb,"
            " %(actor)s)"
            " ON CONFLICT (plot_id) DO UPDATE SET contract_no = EXCLUDED.contract_no,"
            " holder = EXCLUDED.holder, credit_code = EXCLUDED.credit_code,"
            " parcel_code = EXCLUDED.parcel_code, signed_date = EXCLUDED.signed_date,"
            " investment_wan = EXCLUDED.investment_wan, start_by = EXCLUDED.start_by,"
            " complete_by = EXCLUDED.complete_by, produce_by = EXCLUDED.produce_by,"
            " far_min = EXCLUDED.far_min, coverage_min = EXCLUDED.coverage_min,"
            " tax_per_mu_wan = EXCLUDED.tax_per_mu_wan, committed = EXCLUDED.committed,"
            " updated_at = now()",
            {"p": plot_id, "no": contract_no, "holder": holder, "credit": credit_code,
             "parcel": parcel, "signed": signed, "inv": investment_wan, "start": start_by,
             "complete": complete_by, "produce": produce_by,
             "far": far_min if far_min is not None else ind.get("far_min"),
             "cov": coverage_min if coverage_min is not None else ind.get("coverage_min"),
             "tax": tax_per_mu_wan if tax_per_mu_wan is not None else ind.get("tax_wan_per_mu"),
             "extra": json.dumps(committed or {}, ensure_ascii=False), "actor": actor})
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    return get_plot(conn, plot_id)
