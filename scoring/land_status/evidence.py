"""The evidence stored with a candidate (kernel): what a legal procedure needs to see.

The field names are the codes of the ``land_status.evidence`` vocabulary; officials read
the evidence through :mod:`scoring.land_status.explain`, never as raw keys.
"""

from __future__ import annotations

import pandas as pd

from gis.crs import SQM_PER_MU
from scoring.land_status.checks import _num, _val


def _dates(row: dict) -> dict:
    """The dates the rules read; from a contract, with the contract and the parcel's own."""
    out = {"supply": _val(row.get("supply_date")),
           "agreed_start": _val(row.get("agreed_start_date")),
           "agreed_finish": _val(row.get("agreed_finish_date"))}
    if row.get("dates_source") == "contract":
        out["dates_source"] = (f"出让合同（标准地地块 {row.get('contract_plot')}"
                               + (f"，合同号 {row['contract_no']}" if row.get("contract_no")
                                  else "") + "）")
        out["certificate_supply"] = _val(row.get("certificate_supply_date"))
        out["certificate_start"] = _val(row.get("certificate_start_date"))
        out["certificate_finish"] = _val(row.get("certificate_finish_date"))
    return out


def evidence(kind: str, row: dict, ctx: dict, years: float) -> dict:
    """What a legal procedure needs to see, for one candidate."""
    change = ctx["change"].get(row["parcel_code"])
    out = {
        "as_of": _val(ctx["as_of"]),
        "survey": {"id": _val(row.get("survey_id")), "date": _val(row.get("survey_date"))},
        "area_m2": _val(row["area_m2"]), "area_mu": _val(_num(row["area_m2"]) / SQM_PER_MU),
        "built_m2": _val(row["built_m2"]), "sliver_m2": _val(row.get("sliver_m2")),
        "coverage": _val(row["coverage"]), "far": _val(row["far"]),
        "far_min": _val(row.get("far_min")), "n_buildings": _val(row.get("n_buildings")),
        "dates": _dates(row),
        "years_idle": years,
        "enterprises": ctx["enterprises"].get(row["parcel_code"], []),
        "score_class": sorted(set(row.get("owner_classes") or [])) or None,
        "exemptions": row.get("exemptions") or [],
        "occupancy_run": ctx.get("occupancy_run"), "score_run": ctx.get("score_run"),
        "records_year": ctx.get("year"),
    }
    if change is not None:
        out["previous_survey"] = {"id": _val(change["prev_survey_id"]),
                                  "date": _val(change["prev_survey_date"])}
        out["change"] = {k: _val(change[k]) for k in (
            "built_before_m2", "built_after_m2", "new_m2", "demolished_m2", "expanded_m2",
            "n_new", "n_demolished", "n_expanded")}
    return out


def enterprise_evidence(links: pd.DataFrame, codes: set[str]) -> dict[str, list[dict]]:
    """Per parcel, the linked enterprises with their figures (for the evidence)."""
    out: dict[str, list[dict]] = {}
    if len(links) == 0:
        return out
    sub = links[links["parcel_code"].isin(codes)]
    for r in sub.to_dict("records"):
        out.setdefault(r["parcel_code"], []).append({
            "credit_code": r["credit_code"], "name": _val(r.get("name")),
            "role": r["right_type"], "status": _val(r.get("status")),
            "industry_code": _val(r.get("industry_code")),
            "tax_wan": _val(r.get("tax_wan")), "electricity_kwh": _val(r.get("electricity_kwh")),
            "class": _val(r.get("class")), "tax_per_mu": _val(r.get("tax_per_mu")),
            "benchmark": _val(r.get("benchmark"))})
    return out
