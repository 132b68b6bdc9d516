"""Kernel results → ``enterprise_score`` rows, with the JSON built column-wise.

Each stored row explains itself: ``indicators`` (indicator → value in its unit),
``items`` (item → value, benchmark, weight, score, rule) and ``rules_fired`` (population or
why not evaluated, land, class T, missing-data rules, caps, adjustments, veto, class). The
JSON texts are assembled with vectorized string operations per population and item, not
per enterprise.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from scoring.kernel import ScoreResult
from scoring.ruleset import RuleSet


def _num_text(values: np.ndarray, digits: int = 6) -> pd.Series:
    """JSON numbers (``null`` for NaN) as strings."""
    s = pd.Series(np.round(np.asarray(values, dtype=np.float64), digits)).astype(str)
    return s.where(~np.isnan(np.asarray(values, dtype=np.float64)), "null")


def _json_text(values) -> pd.Series:
    """JSON strings of text values (escaped column-wise; control characters become blanks)."""
    s = pd.Series(values, dtype=object).fillna("").astype(str)
    if s.str.contains(r'[\\"\x00-\x1f]', regex=True).any():
        s = (s.str.replace("\\", "\\\\", regex=False).str.replace('"', '\\"', regex=False)
             .str.replace(r"[\x00-\x1f]", " ", regex=True))
    return '"' + s + '"'


def _rule(name: str, detail: pd.Series, item: str | None = None) -> pd.Series:
    head = f'{{"rule": "{name}", ' + (f'"item": "{item}", ' if item else "") + '"detail": '
    return head + detail + "}"


def _join(parts: list[pd.Series], n: int, open_: str, close: str) -> pd.Series:
    if not parts:
        return pd.Series([open_ + close] * n)
    frame = pd.concat([p.reset_index(drop=True) for p in parts], axis=1).fillna("")
    joined = frame.iloc[:, 0]
    for j in range(1, frame.shape[1]):
        col = frame.iloc[:, j]
        sep = np.where((joined != "") & (col != ""), ", ", "")
        joined = joined + sep + col
    return open_ + joined + close


def build_rows(rs: RuleSet, inputs: pd.DataFrame, result: ScoreResult, *, year: int,
               occupancy_run: int, occupancy_params: dict, prev: pd.DataFrame | None,
               prev_run: int | None) -> pd.DataFrame:
    """The ``enterprise_score`` rows of a run (columns of :data:`scoring.store.SCORE_COLUMNS`)."""
    n = len(inputs)
    r = result.frame
    pop = r["population"].to_numpy(object)
    # indicators
    ind_parts = [f'"{name}": ' + _num_text(values) for name, values in result.indicators.items()]
    indicators = _join(ind_parts, n, "{", "}")
    # items, per population
    items = pd.Series(["{}"] * n)
    for p in rs.populations:
        mask = (pop == p.name) & (r["class"].to_numpy(object) != "T")
        if not mask.any():
            continue
        parts = []
        for it in p.items:
            got = result.items[(p.name, it.name)]
            bench = result.benchmarks.get((p.name, it.name), {})
            btext = ", ".join(f'"{k}": ' + ("null" if v is None or (isinstance(v, float)
                                                                    and np.isnan(v))
                                            else repr(round(float(v), 10)))
                              for k, v in bench.items())
            head = (f'"{it.name}": {{"label": {json.dumps(it.indicator.label, ensure_ascii=False)}, '
                    f'"unit": {json.dumps(it.indicator.unit.text, ensure_ascii=False)}, '
                    f'"weight": {it.weight!r}, "method": "{it.benchmark.method}", '
                    f'"direction": "{it.direction}", "benchmark": {{{btext}}}, "value": ')
            value = _num_text(result.indicators[it.indicator.name][mask])
            score = _num_text(got["score"][mask])
            rule = pd.Series(got["rule"][mask], dtype=object)
            parts.append(head + value + ', "score": ' + score + ', "rule": "' + rule + '"}')
        items.loc[mask] = _join(parts, int(mask.sum()), "{", "}").to_numpy()
    # rules fired
    in_pop = pd.Series(pop != None)  # noqa: E711 - elementwise
    labels = {p.name: p.label for p in rs.populations}
    rules: list[pd.Series] = []
    pop_text = pd.Series([f"{x} ({labels[x]})" if x is not None else "" for x in pop],
                         dtype=object)
    rules.append(_rule("population", _json_text(pop_text)).where(in_pop, ""))
    not_eval = r["not_evaluated"].astype(str)
    rules.append(_rule("not_evaluated", _json_text(not_eval)).where(not_eval != "", ""))
    land_txt = ("occupancy run " + str(occupancy_run) + ", year "
                + str(occupancy_params.get("year")) + ", tenant rule "
                + str(occupancy_params.get("tenant_rule")) + ", area basis "
                + str(occupancy_params.get("area_basis")) + ", role "
                + inputs["role"].fillna("none").astype(str) + ", parcels "
                + inputs.get("parcel_codes", pd.Series([""] * n)).fillna("").astype(str))
    rules.append(_rule("land", _json_text(land_txt)))
    if "merged_into" in inputs:
        merged = inputs["merged_into"].fillna("").astype(str)
        rules.append(_rule("merged_with_holder", _json_text("shares the result of " + merged))
                     .where(merged != "", ""))
    t = r["t_reason"].astype(str)
    rules.append(_rule("class_t", _json_text(t)).where(t != "", ""))
    for p in rs.populations:
        for it in p.items:
            rr = pd.Series(result.items[(p.name, it.name)]["rule"], dtype=object)
            special = rr.isin(["cap", "floor"]) | rr.str.startswith("missing:", na=False)
            if special.any():
                rules.append(_rule("item", '"' + rr + '"', it.name).where(special, ""))
    adj = r["adjust_reason"].astype(str)
    rules.append(_rule("adjustment", _json_text(adj)).where(adj != "", ""))
    veto = r["veto_reason"].astype(str)
    rules.append(_rule("veto", _json_text(veto)).where(veto != "", ""))
    from scoring.kernel import class_rule_text

    crule = r["class_rule"].astype(str)
    plain = (crule == "") & r["class"].notna()
    head = class_rule_text(rs)
    if rs.classes.method == "quota":
        head = head + ": position " + r["class_position"].astype(str) + " of " \
            + r["class_group_size"].astype(str)
    crule = crule.where(~plain, head)
    rules.append(_rule("class", _json_text(crule)).where(crule != "", ""))
    rules_fired = _join(rules, n, "[", "]")

    out = pd.DataFrame({
        "credit_code": inputs["credit_code"].to_numpy(object),
        "year": year,
        "ruleset": rs.name,
        "population": pop,
        "name": inputs["name"].to_numpy(object),
        "town": inputs["town"].to_numpy(object),
        "district": inputs.get("district", pd.Series([None] * n)).to_numpy(object),
        "industry_division": inputs["industry_division"].to_numpy(object),
        "land_m2": inputs["land_m2"].to_numpy(np.float64),
        "total": r["total"].to_numpy(np.float64),
        "class": r["class"].to_numpy(object),
        "rank_county": r["rank_county"].to_numpy(),
        "rank_town": r["rank_town"].to_numpy(),
        "rank_industry": r["rank_industry"].to_numpy(),
        "indicators": indicators.to_numpy(object),
        "items": items.to_numpy(object),
        "rules_fired": rules_fired.to_numpy(object),
        "occupancy_run": occupancy_run,
        "prev_run": prev_run,
    })
    if prev is not None and len(prev):
        p = prev.set_index("credit_code")
        out["prev_total"] = out["credit_code"].map(p["total"]).astype("float64")
        out["prev_class"] = out["credit_code"].map(p["class"])
    else:
        out["prev_total"] = np.nan
        out["prev_class"] = None
    for col in ("rank_county", "rank_town", "rank_industry"):
        out[col] = pd.array(out[col], dtype="Int64")
    return out
