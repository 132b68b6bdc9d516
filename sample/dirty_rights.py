"""The dirty land rights: a GBK CSV with Chinese headers and planted link defects.

An unknown parcel, an unknown enterprise, shares above one, a lease ending before it
starts and a malformed code (:mod:`sample.dirty`).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from parcels.codes import make_credit_code, make_parcel_code
from sample.defects import defect

RIGHT_HEADERS = {
    "parcel_code": "宗地代码",
    "credit_code": "统一社会信用代码",
    "right_type": "权利类型",
    "share": "份额",
    "leased_land_m2": "租赁土地面积",
    "leased_floor_m2": "租赁建筑面积",
    "start_date": "起始日期",
    "end_date": "终止日期",
}

def write_dirty_rights(
    rights: pd.DataFrame, parcels, path: Path, rng, defects: list, county
) -> Path:
    """Land rights as a GBK CSV with Chinese headers and planted defects."""
    table = rights.copy()
    table["right_type"] = table["right_type"].map({"owner": "所有", "tenant": "租赁"})
    for col in ("start_date", "end_date"):
        table[col] = pd.to_datetime(table[col]).dt.strftime("%Y-%m-%d")
    table = table.astype(object).where(table.notna(), None)
    owners = table.index[table["right_type"] == "所有"].to_numpy()
    tenants = table.index[table["right_type"] == "租赁"].to_numpy()
    n = len(table)

    def line(i: int) -> int:
        return i + 2  # header is line 1

    extra = []
    template_owner = table.loc[owners[0]].to_dict()
    unknown_parcel = dict(template_owner)
    unknown_parcel["parcel_code"] = make_parcel_code(county[0], county[1], 998, 1)
    extra.append((unknown_parcel, "unknown_parcel", "parcel code not in the parcel layer"))
    unknown_ent = dict(template_owner)
    unknown_ent["parcel_code"] = table.loc[owners[1], "parcel_code"]
    unknown_ent["credit_code"] = make_credit_code("9", "1", county[0], "MB000001")
    unknown_ent["share"] = None
    unknown_ent["right_type"] = "租赁"
    unknown_ent["leased_land_m2"] = 500.0
    extra.append((unknown_ent, "unknown_enterprise", "valid credit code of no known enterprise"))
    single = table.loc[owners[2]].to_dict()
    second_owner = dict(single, credit_code=table.loc[owners[3], "credit_code"], share=0.2)
    extra.append(
        (second_owner, "share_sum", f"owner shares of {single['parcel_code']} add up to 1.2")
    )
    if len(tenants):
        bad = table.loc[tenants[0]].to_dict()
        bad["start_date"], bad["end_date"] = bad["end_date"], bad["start_date"]
        bad["credit_code"] = table.loc[owners[4], "credit_code"]
        extra.append((bad, "end_before_start", "lease ends before it starts"))
    malformed = dict(table.loc[owners[5]].to_dict())
    malformed["credit_code"] = malformed["credit_code"][:16]
    malformed["right_type"] = "租赁"
    malformed["share"] = None
    malformed["leased_floor_m2"] = 300.0
    extra.append((malformed, "malformed_code", "16-character credit code"))
    rows = [table]
    for k, (record, kind, detail) in enumerate(extra):
        record = {key: record[key] for key in RIGHT_HEADERS}
        rows.append(pd.DataFrame([record]))
        defects.append(
            defect(
                "land_rights.csv",
                n + k,
                f"{record['parcel_code']}/{record['credit_code']}",
                kind,
                detail,
                row=line(n + k),
            )
        )
    out = pd.concat(rows, ignore_index=True).rename(columns=RIGHT_HEADERS)
    out.to_csv(path, index=False, encoding="gbk", lineterminator="\r\n")
    return path
