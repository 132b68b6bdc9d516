"""Kernel results → ``enterprise_score`` rows, with the JSON built column-wise.

Each stored row explains itself: ``indicators`` (indicator → value in its unit),
``items`` (item → value, benchmark, weight, score, rule) and ``rules_fired`` (population or
why not evaluated, land, class T, missing-data rules, caps, adjustments, veto, class). The
JSON texts are assembled with Arrow's vectorized string kernels (numbers formatted in C++)
per population and item, never per enterprise in Python.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from scoring.kernel import ScoreResult
from scoring.ruleset import RuleSet


def _num(values: np.ndarray, digits: int = 6) -> pa.Array:
    """JSON numbers as text (``null`` for NaN and infinities, which JSON cannot hold)."""
    v = np.asarray(values, dtype=np.float64)
    v = np.where(np.isfinite(v), v, np.nan)
    with np.errstate(over="ignore", invalid="ignore"):
        r = np.round(v, digits)                     # overflows near 1.8e308: keep those
    arr = pa.array(np.where(np.isfinite(r), r, v), from_pandas=True)
    return pc.fill_null(pc.cast(arr, pa.string()), "null")


def _text(values) -> pa.Array:
    """Text values as an Arrow string array ('' for missing)."""
    s = pd.Series(values, dtype=object)
    return pa.array(s.where(s.notna(), "").astype(str).to_numpy(object), type=pa.string())


def _cat(*parts) -> pa.Array:
    """Element-wise concatenation (a null part gives null)."""
    return pc.binary_join_element_wise(*parts, "")


def _jstr(values) -> pa.Array:
    """JSON string literals; control characters become blanks."""
    s = values if isinstance(values, pa.Array) else _text(values)
    s = pc.replace_substring(s, "\\", "\\\\")
    s = pc.replace_substring(s, '"', '\\"')
    s = pc.replace_substring_regex(s, r"[\x00-\x1f]", " ")
    return _cat('"', s, '"')


def _when(mask: np.ndarray, values: pa.Array) -> pa.Array:
    """``values`` where ``mask``, null elsewhere (null parts are left out of a join)."""
    return pc.if_else(pa.array(np.asarray(mask, dtype=bool)), values,
                      pa.scalar(None, pa.string()))


def _rule(name: str, detail: pa.Array, item: str | None = None) -> pa.Array:
    head = f'{{"rule": "{name}", ' + (f'"item": "{item}", ' if item else "") + '"detail": '
    return _cat(head, detail, "}")


def _join(parts: list[pa.Array], n: int, open_: str, close: str) -> pa.Array:
    """``open_ + the non-null parts joined by ', ' + close`` per row."""
    if not parts:
        return pa.array([open_ + close] * n, type=pa.string())
    pieces = [pc.fill_null(_cat(", ", p), "") for p in parts]
    joined = pc.utf8_slice_codeunits(_cat(*pieces), 2)       # drop the leading ", "
    return _cat(open_, joined, close)


def _objects(arr: pa.Array) -> np.ndarray:
    return np.asarray(arr.to_numpy(zero_copy_only=False), dtype=object)


def build_rows(rs: RuleSet, inputs: pd.DataFrame, result: ScoreResult, *, year: int,
               occupancy_run: int, occupancy_params: dict, prev: pd.DataFrame | None,
               prev_run: int | None) -> pd.DataFrame:
    """The ``enterprise_score`` rows of a run (columns of :data:`scoring.store.SCORE_COLUMNS`)."""
    from scoring.kernel import class_rule_text

    n = len(inputs)
    r = result.frame
    pop = r["population"].to_numpy(object)
    klass = r["class"].to_numpy(object)
    # indicators
    indicators = _join([_cat(f'"{name}": ', _num(values))
                        for name, values in result.indicators.items()], n, "{", "}")
    # items, per population
    items = np.full(n, "{}", dtype=object)
    for p in rs.populations:
        mask = (pop == p.name) & (klass != "T")
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
            parts.append(_cat(head, _num(result.indicators[it.indicator.name][mask]),
                              ', "score": ', _num(got["score"][mask]), ', "rule": "',
                              _text(got["rule"][mask]), '"}'))
        items[mask] = _objects(_join(parts, int(mask.sum()), "{", "}"))
    # rules fired
    in_pop = pop != None  # noqa: E711 - elementwise
    labels = {p.name: f"{p.name} ({p.label})" for p in rs.populations}
    rules: list[pa.Array] = [
        _when(in_pop, _rule("population", _jstr([labels.get(x, "") for x in pop]))),
    ]
    not_eval = r["not_evaluated"].to_numpy(object)
    rules.append(_when(not_eval != "", _rule("not_evaluated", _jstr(not_eval))))
    land_head = (f"occupancy run {occupancy_run}, year {occupancy_params.get('year')}, tenant "
                 f"rule {occupancy_params.get('tenant_rule')}, area basis "
                 f"{occupancy_params.get('area_basis')}, role ")
    role = _text(inputs["role"].fillna("none") if "role" in inputs else ["none"] * n)
    parcels = _text(inputs["parcel_codes"] if "parcel_codes" in inputs else [""] * n)
    rules.append(_rule("land", _jstr(_cat(land_head, role, ", parcels ", parcels))))
    if "merged_into" in inputs:
        merged = inputs["merged_into"].to_numpy(object)
        has = pd.notna(merged)
        rules.append(_when(has, _rule("merged_with_holder",
                                      _jstr(_cat("shares the result of ", _text(merged))))))
    t = r["t_reason"].to_numpy(object)
    rules.append(_when(t != "", _rule("class_t", _jstr(t))))
    if "protection" in r:
        guarded = r["protection"].to_numpy(object)
        rules.append(_when(guarded != "", _rule("protection", _jstr(guarded))))
    for p in rs.populations:
        for it in p.items:
            rr = result.items[(p.name, it.name)]["rule"]
            special = (rr != "") & (rr != "value")
            if special.any():
                rules.append(_when(special, _rule("item", _cat('"', _text(rr), '"'), it.name)))
    adj = r["adjust_reason"].to_numpy(object)
    rules.append(_when(adj != "", _rule("adjustment", _jstr(adj))))
    veto = r["veto_reason"].to_numpy(object)
    rules.append(_when(veto != "", _rule("veto", _jstr(veto))))
    crule = r["class_rule"].to_numpy(object)
    plain = (crule == "") & pd.notna(klass)
    head = class_rule_text(rs)
    if rs.classes.method == "quota":
        head = _cat(head + ": position ", pc.cast(pa.array(r["class_position"].to_numpy()),
                                                  pa.string()),
                    " of ", pc.cast(pa.array(r["class_group_size"].to_numpy()), pa.string()))
    else:
        head = pa.array([head] * n, type=pa.string())
    class_text = pc.if_else(pa.array(plain), head, _text(crule))
    rules.append(_when(plain | (crule != ""), _rule("class", _jstr(class_text))))
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
        "indicators": _objects(indicators),
        "items": items,
        "rules_fired": _objects(rules_fired),
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
