"""The notification list each collecting body needs, from a stored policy run.

``--for power|water|sewage|gas|tax|credit`` picks the body: the power company gets the
electricity lines (with the firms' account numbers), the water company water, the sewage
utility sewage, the gas company gas, the tax bureau the land-use tax lines, the credit
office and banks the firms with their class in force and flags. Without ``--for``, every
line. Column labels are Chinese (:data:`COLUMNS`); written by :func:`write_notifications`
(``mujun policy export``) through the one table writer, or by ``mujun export policy``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from scoring.errors import PolicyRunError
from scoring.policy.model import RATE_UNIT
from scoring.policy.store import yuan
from scoring.policy.terms import label

if TYPE_CHECKING:
    import psycopg

#: --for -> the item kinds the body collects (credit: the eligibility lists).
BODIES = {"power": ("electricity",), "water": ("water",), "sewage": ("sewage",),
          "gas": ("gas",), "tax": ("land_tax",), "credit": ()}

#: column -> (zh, en)
COLUMNS = {
    "credit_code": ("统一社会信用代码", "credit code"), "name": ("企业名称", "enterprise"),
    "town": ("镇街", "town"), "class_label": ("执行等级", "class in force"),
    "adjusted_label": ("是否调档", "adjusted"), "item": ("项目", "item"),
    "item_label": ("政策项目", "policy item"), "accounts": ("户号", "accounts"),
    "base": ("计费基数", "base"), "base_unit_label": ("基数单位", "base unit"),
    "rate": ("加价或减免标准", "rate"), "rate_unit": ("标准单位", "rate unit"),
    "months": ("执行月数", "months in force"), "amount_yuan": ("金额（元）", "amount (yuan)"),
    "quota": ("指标增减", "quota granted or cut"), "collector": ("征收或兑现单位", "collector"),
    "billed": ("缴费方", "billed"), "borne_by": ("减免资金承担", "relief borne by"),
    "refundable_label": ("可返还", "refundable"), "flags_label": ("资格限制或优先", "flags"),
    "warnings_label": ("提示", "warnings"),
}


def notification_table(conn: psycopg.Connection, run_id: int,
                       body: str | None = None) -> pd.DataFrame:
    """One row per line (or per enterprise for ``credit``), Chinese values, machine columns.

    Raises
    ------
    PolicyRunError
        ``body`` is not one of :data:`BODIES`.
    """
    from gis.db.copy import read_frame

    if body is not None and body not in BODIES:
        raise PolicyRunError(f"--for {body!r}: choose one of {', '.join(BODIES)}")
    if body == "credit":
        frame = read_frame(conn, "SELECT trim(credit_code) AS credit_code, name, town, class,"
                                 " adjusted, flags, warnings FROM policy_enterprise"
                                 " WHERE run_id = %s AND exempt_reason IS NULL"
                                 " ORDER BY class, credit_code", (run_id,))
        out = frame[["credit_code", "name", "town"]].copy()
        out["class_label"] = frame["class"]
        out["adjusted_label"] = ["是" if a else "否" for a in frame["adjusted"]]
        out["flags_label"] = ["、".join(label("policy.flag", f) for f in fl)
                              for fl in frame["flags"]]
        return out
    kinds = list(BODIES[body]) if body else None
    frame = read_frame(conn, """
        SELECT trim(l.credit_code) AS credit_code, e.name, l.town, l.class, e.adjusted,
               l.item, l.kind, l.base::text AS base, l.base_unit, l.rate::text AS rate,
               l.months, l.amount_fen::text AS amount_fen, l.quota::text AS quota,
               l.collector, l.refundable, l.borne_by, e.warnings,
               (SELECT string_agg(a.account_no, '、' ORDER BY a.account_no)
                  FROM utility_account a
                 WHERE a.credit_code = trim(l.credit_code) AND a.kind = l.kind) AS accounts,
               (SELECT string_agg(DISTINCT CASE WHEN a.payer = 'landlord'
                                   THEN '房东 ' || trim(a.payer_code) ELSE '本企业' END, '、')
                  FROM utility_account a
                 WHERE a.credit_code = trim(l.credit_code) AND a.kind = l.kind) AS billed
        FROM policy_line l JOIN policy_enterprise e USING (run_id, credit_code)
        WHERE l.run_id = %s AND (%s::text[] IS NULL OR l.kind = ANY(%s))
        ORDER BY l.item, l.credit_code""", (run_id, kinds, kinds))
    out = frame[["credit_code", "name", "town"]].copy()
    out["class_label"] = frame["class"]
    out["adjusted_label"] = ["是" if a else "否" for a in frame["adjusted"]]
    out["item"] = frame["item"]
    out["item_label"] = [label("policy.item", k) for k in frame["kind"]]
    out["accounts"] = frame["accounts"]
    out["base"] = frame["base"]
    out["base_unit_label"] = [label("policy.unit", u) for u in frame["base_unit"]]
    out["rate"] = frame["rate"].map(lambda r: None if r is None else str(r).rstrip("0")
                                    .rstrip("."))
    out["rate_unit"] = [RATE_UNIT[k] for k in frame["kind"]]
    out["months"] = frame["months"]
    out["amount_yuan"] = [None if f is None else yuan(int(f)) for f in frame["amount_fen"]]
    out["quota"] = frame["quota"]
    out["collector"] = frame["collector"]
    out["billed"] = frame["billed"]
    out["borne_by"] = frame["borne_by"]
    out["refundable_label"] = ["是" if r else "否" for r in frame["refundable"]]
    out["warnings_label"] = ["；".join(label("policy.warning", w["code"]) for w in ws
                                      if w["item"] == it)
                             for ws, it in zip(frame["warnings"], frame["item"], strict=True)]
    return out


#: Title of the list (XLSX sheet name).
TITLE = "差别化政策告知清单"


def write_notifications(conn: psycopg.Connection, path, *, run_id: int | None = None,
                        body: str | None = None, overwrite: bool = False) -> dict:
    """Write the notification list of a policy run as XLSX or CSV, with Chinese headers.

    Through the one table writer (:func:`gis.layer_writer.write_layer`): atomic, never
    over an existing file without ``overwrite``, formula-safe cells, CSV with a BOM.

    Returns
    -------
    dict
        What :func:`gis.layer_writer.write_layer` returns plus ``policy_run``.

    Raises
    ------
    PolicyRunError
        ``path`` is not ``.xlsx`` or ``.csv``, or ``body`` is unknown.
    """
    from pathlib import Path

    from gis.layer_writer import FieldInfo, format_for, write_layer
    from scoring.policy.store import resolve_policy_run

    fmt = format_for(Path(path))
    if fmt.suffix not in (".csv", ".xlsx"):
        raise PolicyRunError(f"{path}：告知清单是表格，请以 .xlsx 或 .csv 结尾")
    run = resolve_policy_run(conn, run_id)
    frame = notification_table(conn, run, body)
    fields = {name: FieldInfo(name, zh, en) for name, (zh, en) in COLUMNS.items()}
    info = write_layer(frame, path, layer="policy", title=TITLE, overwrite=overwrite,
                       fields=fields)
    info["policy_run"] = run
    return info
