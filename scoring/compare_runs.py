"""``score compare`` and ``score --what-if``: read two score tables, compare them.

Tool module: reads the stored rows of a score run (or takes the rows a rule set would
give, computed and not stored: :func:`scoring.run.compute_scores`), adds the class
adjustments in force for the run's year and each firm's tax of that year, and hands
both tables to the pure kernel :func:`scoring.compare.compare_tables`.
:func:`comparison_json` and :func:`comparison_text` say what came out, with labels from
:mod:`scoring.vocabulary`.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from scoring.compare import CLASS_ORDER, SHIFT_ORDER, Comparison, compare_tables

if TYPE_CHECKING:
    import psycopg

log = logging.getLogger(__name__)


def item_labels(items: pd.Series) -> dict[str, str]:
    """item name → its label (亩均税收 …) from stored ``items`` dicts."""
    labels: dict[str, str] = {}
    for d in items.head(200):
        for name, it in (d or {}).items():
            labels.setdefault(name, (it or {}).get("label") or name)
    return labels


def _with_tax(conn: psycopg.Connection, table: pd.DataFrame, year: int) -> pd.DataFrame:
    from gis.db.copy import read_frame

    tax = read_frame(conn, "SELECT trim(credit_code) AS credit_code, tax_wan"
                     " FROM enterprise_year WHERE year = %s", (int(year),))
    return table.merge(tax, on="credit_code", how="left")


def _parsed(value):
    """Rows built for storing hold their JSON columns as text (:mod:`scoring.records`)."""
    import json

    return json.loads(value) if isinstance(value, str) else value


def _side(conn: psycopg.Connection, rows: pd.DataFrame, overrides: pd.DataFrame, year: int
          ) -> tuple[pd.DataFrame, dict[str, str]]:
    from scoring.export import flat_table, with_overrides

    if not len(rows):
        return pd.DataFrame({"credit_code": pd.Series(dtype=object)}), {}
    rows = rows.assign(**{c: rows[c].map(_parsed) for c in ("indicators", "items",
                                                            "rules_fired") if c in rows})
    table = with_overrides(flat_table(rows), overrides)
    return _with_tax(conn, table, year), item_labels(rows["items"])


#: Where score rows are read: the table, or (the review app's role, which may not read
#: the figures of the table) the view of migration 0030 that shows them in scope only.
SCORE_SOURCES = ("enterprise_score", "enterprise_score_figures")


def stored_table(conn: psycopg.Connection, run_id: int, *, source: str = "enterprise_score"
                 ) -> tuple[pd.DataFrame, dict]:
    """The columns a comparison needs from stored run ``run_id``, and the item labels.

    The item scores are taken out of the ``items`` JSON by the server (``jsonb_each``)
    and pivoted in one call, so no row's JSON is parsed in Python. ``source`` is one of
    :data:`SCORE_SOURCES`.
    """
    from psycopg import sql

    from gis.crs import m2_to_mu
    from gis.db.copy import read_frame
    from scoring.export import with_overrides
    from scoring.overrides import effective_overrides

    if source not in SCORE_SOURCES:
        raise ValueError(f"source {source!r}; one of {', '.join(SCORE_SOURCES)}")
    src = sql.Identifier(source)
    base = read_frame(conn, sql.SQL(
        "SELECT trim(s.credit_code) AS credit_code, s.name, s.town, s.industry_division,"
        " s.population, s.class, s.total, s.land_m2, y.tax_wan FROM {} s"
        " LEFT JOIN enterprise_year y ON y.credit_code = s.credit_code AND y.year = s.year"
        " WHERE s.run_id = %s ORDER BY 1").format(src), (run_id,))
    items = read_frame(conn, sql.SQL(
        "SELECT trim(s.credit_code) AS credit_code, i.key AS item,"
        " (i.value->>'score')::float8 AS score FROM {} s"
        " CROSS JOIN LATERAL jsonb_each(s.items) i WHERE s.run_id = %s").format(src), (run_id,))
    labels = dict(conn.execute(sql.SQL(
        "SELECT DISTINCT ON (i.key) i.key, coalesce(i.value->>'label', i.key)"
        " FROM {} s CROSS JOIN LATERAL jsonb_each(s.items) i"
        " WHERE s.run_id = %s ORDER BY i.key").format(src), (run_id,)).fetchall())
    base["land_mu"] = m2_to_mu(pd.to_numeric(base["land_m2"], errors="coerce"))
    if len(items):
        wide = items.pivot(index="credit_code", columns="item", values="score")
        wide.columns = [f"score_{c}" for c in wide.columns]
        base = base.merge(wide, left_on="credit_code", right_index=True, how="left")
    return with_overrides(base, effective_overrides(conn, run_id)), labels


def stored_side(conn: psycopg.Connection, run_id: int, *, source: str = "enterprise_score"
                ) -> tuple[pd.DataFrame, dict, dict]:
    """(table, item labels, run description) of stored score run ``run_id``."""
    from scoring.store import resolve_score_run, run_params

    run_id = resolve_score_run(conn, run_id)
    params = run_params(conn, run_id)["params"]
    table, labels = stored_table(conn, run_id, source=source)
    return table, labels, {"run_id": run_id, "ruleset": params.get("ruleset"),
                           "year": params.get("year"), "stored": True}


def compare_runs(conn: psycopg.Connection, run_a: int, run_b: int, *,
                 policy: str | Path | None = None,
                 policy_params: dict[str, float] | None = None,
                 source: str = "enterprise_score") -> Comparison:
    """Compare stored score runs ``run_a`` (甲) and ``run_b`` (乙).

    Parameters
    ----------
    source : str
        Where the score rows are read (:data:`SCORE_SOURCES`; the review app reads the
        view that shows figures in the user's scope only).
    policy : str or Path, optional
        A policy rule set (preset or YAML): also the change in policy amounts, the rule
        set applied in memory to each run's final classes (nothing stored), in
        ``Comparison.policy`` (:class:`scoring.compare_policy.PolicyChange`).
    policy_params : dict, optional
        County parameters of the policy rule set (``--policy-param``).

    Raises
    ------
    ScoreRunError
        Either is not a finished score run.
    PolicyError
        The policy rule set is invalid.
    """
    rs = _policy_ruleset(policy, policy_params)        # a bad rule set stops first
    ta, la, ra = stored_side(conn, run_a, source=source)
    tb, lb, rb = stored_side(conn, run_b, source=source)
    out = compare_tables(ta, tb, item_labels={**la, **lb})
    out.runs = {"a": ra, "b": rb}
    if rs is not None:
        from scoring.policy.inputs import read_enterprises

        out.policy = policy_change_of(conn, rs, read_enterprises(conn, ra["run_id"]),
                                      read_enterprises(conn, rb["run_id"]))
    return _name_industries(out)


def _policy_ruleset(policy: str | Path | None, params: dict[str, float] | None):
    """The loaded policy rule set, or None without ``--policy``."""
    if policy is None:
        return None
    from scoring.policy.ruleset import load_policy

    return load_policy(policy, params)


def policy_change_of(conn: psycopg.Connection, rs, ents_a: pd.DataFrame,
                     ents_b: pd.DataFrame):
    """Apply policy rule set ``rs`` in memory to two sets of classes; compare the amounts.

    ``ents_a``/``ents_b`` as :func:`scoring.policy.inputs.read_enterprises`; the utility
    quantities, land-use tax base and records are read once for the rule set's months.
    Nothing is stored.
    """
    from scoring.compare_policy import policy_change
    from scoring.policy.inputs import read_inputs
    from scoring.policy.kernel import apply_policy

    quantities, land_tax, records = read_inputs(conn, rs)
    out = policy_change(apply_policy(rs, ents_a, quantities, land_tax, records),
                        apply_policy(rs, ents_b, quantities, land_tax, records))
    out.ruleset = {"name": rs.name, "title": rs.title, "year": rs.year,
                   "period": rs.period.text(), "path": str(rs.path) if rs.path else None}
    return out


def _computed_enterprises(conn: psycopg.Connection, rows: pd.DataFrame,
                          overrides: pd.DataFrame) -> pd.DataFrame:
    """The policy kernel's enterprise frame for score rows that are not stored."""
    from gis.db.copy import read_frame

    cols = ["credit_code", "name", "town", "district", "industry_division", "population",
            "total", "class"]
    ents = rows.reindex(columns=cols).rename(columns={"class": "score_class"})
    ents["credit_code"] = ents["credit_code"].astype(str).str.strip()
    size = read_frame(conn, "SELECT trim(credit_code) AS credit_code, size_class"
                      " FROM enterprise")
    ents["size_class"] = ents["credit_code"].map(size.set_index("credit_code")["size_class"]) \
        if len(size) else None
    adjusted = dict(zip(overrides["credit_code"], overrides["adjusted_class"], strict=True)) \
        if len(overrides) else {}
    ents["adjusted_class"] = ents["credit_code"].map(adjusted)
    return ents.sort_values("credit_code").reset_index(drop=True)


def compare_what_if(conn: psycopg.Connection, ruleset: str | Path, year: int, *,
                    against: int | None = None, occupancy_run: int | None = None,
                    adjustments: tuple[Path, ...] = (), policy: str | Path | None = None,
                    policy_params: dict[str, float] | None = None) -> Comparison:
    """Score ``year`` under ``ruleset`` *without storing anything* and compare with a run.

    Parameters
    ----------
    against : int, optional
        The stored run to compare with (甲); default the latest score run of ``year``.
    occupancy_run, adjustments
        As :func:`scoring.run.run_scores` (default: the land ``against`` used).
    policy, policy_params
        As :func:`compare_runs`.

    Notes
    -----
    Only reads: no run, score, warning or verification row is written, and the
    transaction is rolled back at the end.
    """
    from scoring.overrides import year_overrides
    from scoring.run import compute_scores
    from scoring.store import resolve_score_run, run_params

    rs = _policy_ruleset(policy, policy_params)        # a bad rule set stops first
    try:
        run_a = resolve_score_run(conn, against, year)
        if occupancy_run is None:
            occupancy_run = run_params(conn, run_a)["params"].get("occupancy_run")
        ta, la, ra = stored_side(conn, run_a)
        c = compute_scores(conn, ruleset, year, occupancy_run=occupancy_run,
                           adjustments=adjustments)
        overrides = year_overrides(conn, year)
        tb, lb = _side(conn, c.rows, overrides, year)
        change = None
        if rs is not None:
            from scoring.policy.inputs import read_enterprises

            change = policy_change_of(conn, rs, read_enterprises(conn, run_a),
                                      _computed_enterprises(conn, c.rows, overrides))
    finally:
        conn.rollback()
    out = compare_tables(ta, tb, item_labels={**la, **lb})
    out.runs = {"a": ra, "b": {"run_id": None, "ruleset": c.ruleset.name, "year": c.year,
                               "stored": False, "path": c.ruleset.path}}
    out.policy = change
    return _name_industries(out)


def _name_industries(cmp: Comparison) -> Comparison:
    """Add the GB/T 4754-2017 division name beside each division code."""
    from parcels.industry import divisions_2017

    names = divisions_2017()
    codes = cmp.by_industry["industry_division"].astype(str).str[:2]
    cmp.by_industry.insert(1, "industry_name", codes.map(names))
    return cmp


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    clean = frame.astype(object).where(frame.notna(), None)
    return clean.to_dict("records")


def run_title(run: dict[str, Any], lang: str = "zh") -> str:
    """``运行 12（jiangsu-huaian-2024，2022年）`` or ``试算（FILE，2022年，未保存）``."""
    if run.get("stored"):
        return f"运行 {run['run_id']}（{run['ruleset']}，{run['year']}年）" if lang == "zh" \
            else f"run {run['run_id']} ({run['ruleset']}, {run['year']})"
    return f"试算（{run['ruleset']}，{run['year']}年，未保存）" if lang == "zh" \
        else f"what-if ({run['ruleset']}, {run['year']}, not stored)"


def basis_note(cmp: Comparison) -> str:
    """The sentence saying which class is compared (the final, adjusted one)."""
    return (f"档次为最终档次：有调档的企业按调档后的档次计（甲方 {cmp.adjusted.get('a', 0)} 家、"
            f"乙方 {cmp.adjusted.get('b', 0)} 家调档）")


def comparison_json(cmp: Comparison) -> dict[str, Any]:
    """Plain data for ``--json``: runs, class basis, matrix, changed firms, groups, classes."""
    matrix = {str(k): {str(c): int(v) for c, v in row.items()}
              for k, row in cmp.matrix.to_dict("index").items()}
    return {
        "a": cmp.runs.get("a"), "b": cmp.runs.get("b"),
        "class_basis": "final class (adjusted where an adjustment is in force)",
        "class_basis_zh": basis_note(cmp), "adjusted": cmp.adjusted,
        "classes": list(CLASS_ORDER), "shifts": list(SHIFT_ORDER),
        "firms": cmp.firms, "changed": cmp.changed_count, "matrix": matrix,
        "changed_firms": _records(cmp.changed), "by_town": _records(cmp.by_town),
        "by_industry": _records(cmp.by_industry), "by_class": _records(cmp.by_class),
        "policy": policy_json(cmp),
    }


def _yuan_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """``*_fen`` columns as exact 元 text in ``*_yuan`` columns."""
    from scoring.policy.store import yuan

    out = frame.copy()
    for col in [c for c in out.columns if str(c).endswith("_fen")]:
        out[col[:-len("_fen")] + "_yuan"] = [yuan(v) for v in out.pop(col)]
    return out


def policy_json(cmp: Comparison) -> dict[str, Any] | None:
    """The change in policy amounts as plain data (元 as exact text), or None."""
    from scoring.policy.store import yuan
    from scoring.policy.terms import label

    ch = cmp.policy
    if ch is None:
        return None
    items = _yuan_frame(ch.by_item)
    items.insert(2, "kind_label", [label("policy.item", k) for k in items["kind"]])
    return {"ruleset": ch.ruleset,
            "totals": {"amount_a_yuan": yuan(ch.totals["amount_a_fen"]),
                       "amount_b_yuan": yuan(ch.totals["amount_b_fen"]),
                       "difference_yuan": yuan(ch.totals["difference_fen"]),
                       "firms_changed": ch.totals["firms_changed"]},
            "by_transition": _records(_yuan_frame(ch.by_transition)),
            "by_item": _records(items), "firms": _records(_yuan_frame(ch.firms))}


def policy_text(cmp: Comparison, *, limit: int = 20) -> list[str]:
    """The lines of the policy section of :func:`comparison_text` (none without ``--policy``)."""
    from scoring.policy.store import yuan
    from scoring.policy.terms import label

    ch = cmp.policy
    if ch is None:
        return []
    t = ch.totals
    lab = {**{c: c for c in CLASS_ORDER}, "none": "未评"}
    lines = ["", f"差别化政策金额变化（{ch.ruleset.get('name')}，{ch.ruleset.get('year')}年，"
             f"执行期 {ch.ruleset.get('period')}；内存中试算，未保存；加价为正、减免为负）",
             f"  甲 {yuan(t['amount_a_fen'])} 元，乙 {yuan(t['amount_b_fen'])} 元，"
             f"变化 {yuan(t['difference_fen'])} 元；金额变化的企业 {t['firms_changed']:,} 家",
             "  按档次转移：甲→乙  企业数  甲金额(元)  乙金额(元)  变化(元)"]
    for r in ch.by_transition.to_dict("records"):
        if r["amount_a_fen"] or r["amount_b_fen"]:
            lines.append(f"    {lab[r['class_a']]}→{lab[r['class_b']]}  {r['firms']:>6,}"
                         f"  {yuan(r['amount_a_fen']):>12}  {yuan(r['amount_b_fen']):>12}"
                         f"  {yuan(r['difference_fen']):>12}")
    lines.append("  按政策项目：")
    for r in ch.by_item.to_dict("records"):
        lines.append(f"    {r['item']}（{label('policy.item', r['kind'])}）：甲 "
                     f"{yuan(r['amount_a_fen'])} 元，乙 {yuan(r['amount_b_fen'])} 元，"
                     f"变化 {yuan(r['difference_fen'])} 元")
    moved = ch.firms[ch.firms["difference_fen"].map(lambda v: v != 0)]
    if len(moved):
        lines.append(f"  金额变化最大的企业（前 {min(limit, len(moved))} 家）：")
        for r in moved.head(limit).to_dict("records"):
            lines.append(f"    {r['credit_code']} {r['name'] or ''} {lab[r['class_a']]}→"
                         f"{lab[r['class_b']]}：{yuan(r['amount_a_fen'])} → "
                         f"{yuan(r['amount_b_fen'])} 元（{yuan(r['difference_fen'])} 元）")
    return lines


def comparison_text(cmp: Comparison, *, limit: int = 20) -> str:
    """The comparison for a terminal, in Chinese."""
    from scoring.vocabulary import CLASSES, SHIFTS

    a, b = cmp.runs.get("a", {}), cmp.runs.get("b", {})
    lines = [f"甲：{run_title(a)}", f"乙：{run_title(b)}", basis_note(cmp),
             f"企业 {cmp.firms:,} 家，档次变化 {cmp.changed_count:,} 家", "",
             "档次转移矩阵（行：甲，列：乙）"]
    cols = [*CLASS_ORDER, "total"]
    lab = {**{c: c for c in CLASS_ORDER}, "none": "未评", "total": "合计"}
    lines.append(f"{'':>6}" + "".join(f"{lab[c]:>8}" for c in cols))
    for k, row in cmp.matrix.iterrows():
        lines.append(f"{lab[k]:>6}" + "".join(f"{int(row[c]):>8,}" for c in cols))
    lines += ["", "各档用地与税收：档次  甲企业数 甲用地(亩) 甲税收(万元)  乙企业数 乙用地(亩) 乙税收(万元)"]
    for r in cmp.by_class.to_dict("records"):
        name = "合计" if r["class"] == "total" else CLASSES.label(r["class"])
        lines.append(f"  {name:<12}{r['firms_a']:>8,}{_n(r['land_a']):>12}{_n(r['tax_a']):>12}"
                     f"{r['firms_b']:>10,}{_n(r['land_b']):>12}{_n(r['tax_b']):>12}")
    lines += ["", "各镇街档次变化：" + "、".join(SHIFTS.label(s) for s in SHIFT_ORDER)]
    for r in cmp.by_town.to_dict("records"):
        lines.append(f"  {r['town']!s:<10}" + " ".join(f"{r[s]:>6,}" for s in SHIFT_ORDER))
    if len(cmp.changed):
        lines += ["", f"档次变化的企业（前 {min(limit, len(cmp.changed))} 家，全部见 --json 或 -o）："]
        for r in cmp.changed.head(limit).to_dict("records"):
            moved = "，".join(f"{r[f'item_{k}']} {r[f'points_{k}']:+.1f}分" for k in (1, 2, 3)
                             if r[f"item_{k}"] is not None)
            lines.append(f"  {r['credit_code']} {r['name'] or ''} {r['class_a']}→{r['class_b']}"
                         f"（{SHIFTS.label(r['shift'])}）" + (f"：{moved}" if moved else ""))
    lines += policy_text(cmp, limit=limit)
    return "\n".join(lines)


def _n(v) -> str:
    return "-" if v is None or v != v else f"{v:,.1f}"
