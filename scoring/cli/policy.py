"""``mujun policy``: differentiated prices, quotas and flags per class (差别化政策).

Thin click wrappers over :mod:`scoring.policy`; heavy imports inside the commands.
"""

from __future__ import annotations

from pathlib import Path

import click

from gis.cli.options import emit, json_option, overwrite_option


def _params(pairs: tuple[str, ...]) -> dict[str, float]:
    out = {}
    for pair in pairs:
        name, _, value = pair.partition("=")
        try:
            out[name.strip()] = float(value)
        except ValueError:
            raise click.BadParameter(f"「{pair}」：请写成 参数名=数值（例如 gas_surcharge_d=0.2）",
                                     param_hint="--param") from None
    return out


_param_option = click.option("--param", "params", multiple=True, metavar="NAME=VALUE",
                             help="Set a county parameter of the rule set (repeatable).")


@click.group("policy")
def policy() -> None:
    """Surcharges, relief and quotas per class (差别化政策).

    A policy rule set (YAML per jurisdiction and year; docs/policy.md) says which items
    apply to which classes at which rate, from when, and who collects. `policy apply`
    computes every enterprise's lines from the classes of a score run (the adjusted
    class where one was recorded) and stores a run; the ledger follows each line from
    notified to collected to refunded or granted.
    """


@policy.command("rulesets")
@json_option
def rulesets_cmd(as_json: bool) -> None:
    """List the bundled policy rule sets (内置政策规则)."""
    from scoring.policy.ruleset import list_policies

    recs = list_policies()
    lines = []
    for r in recs:
        lines.append(f"{r['name']:<14} {r['title']}（{r['year']}）")
        lines.append(f"{'':<14} 依据：{r['source']}")
        lines.extend(f"{'':<14} 待县级设定：{p}" for p in r["open_points"])
    emit(recs, as_json, "\n".join(lines))


@policy.command("check")
@click.argument("ruleset", metavar="NAME|FILE")
@_param_option
@json_option
def check_cmd(ruleset: str, params: tuple[str, ...], as_json: bool) -> None:
    """Validate a policy rule set (检查政策规则)."""
    from scoring.policy.model import BASE_UNIT, RATE_UNIT
    from scoring.policy.ruleset import load_policy, open_points
    from scoring.policy.terms import label

    rs = load_policy(ruleset, _params(params))
    classes = (*rs.classes, *(d.name for d in rs.derived))
    items = []
    for it in rs.items:
        rates = {c: (None if rs.rate(it, c) is None else str(rs.rate(it, c)))
                 for c in classes if rs.applies(it, c)}
        items.append({"item": it.name, "kind": it.kind, "label": label("policy.item", it.kind),
                      "rate_unit": RATE_UNIT[it.kind], "base_unit": BASE_UNIT[it.kind],
                      "source": it.source, "rates": rates, "collector": it.collector,
                      "refundable": it.refundable, "borne_by": it.borne_by,
                      "period": (it.period or rs.period).text()})
    rec = {"name": rs.name, "valid": True, "title": rs.title, "year": rs.year,
           "class_year": rs.class_year, "period": rs.period.text(), "items": items,
           "flags": {c: list(f) for c, f in rs.flags.items()},
           "open_points": open_points(rs)}
    lines = [f"{rs.path}: 有效。{rs.title}，{rs.year} 年，执行期 {rs.period.text()}，"
             f"适用{'上年度' if rs.class_year == 'previous' else '当年度'}评价等级"]
    for it in items:
        rates = "，".join(f"{c} {r if r is not None else '（参数未设定）'}"
                         for c, r in it["rates"].items())
        lines.append(f"  {it['item']}：{it['label']}（{it['rate_unit']}）{rates}；"
                     f"征收/兑现：{it['collector'] or '-'}"
                     + ("；可返还" if it["refundable"] else "")
                     + (f"；减免资金承担：{it['borne_by']}" if it["borne_by"] else ""))
    for c, fl in rs.flags.items():
        lines.append(f"  {c} 类：" + "、".join(label("policy.flag", f) for f in fl))
    lines.extend(f"  待县级设定：{p}" for p in rec["open_points"])
    emit(rec, as_json, "\n".join(lines))


@policy.command("apply")
@click.option("--ruleset", required=True, metavar="NAME|FILE",
              help="A bundled policy rule set (`mujun policy rulesets`) or a YAML file.")
@click.option("--score-run", type=int, metavar="N",
              help="The score run whose classes apply (default: the latest of the data year).")
@click.option("--year", type=int, help="The policy year (default: the rule set's); with "
              "class_year: previous the classes of the year before apply.")
@click.option("--period", metavar="START:END",
              help="Months in force for every item, e.g. 2018-07:2018-12.")
@_param_option
@json_option
@click.pass_obj
def apply_cmd(app, ruleset: str, score_run: int | None, year: int | None,
              period: str | None, params: tuple[str, ...], as_json: bool) -> None:
    """Compute each firm's policy lines, store a run (政策执行).

    Per enterprise and item: the class in force (the adjusted class when an official
    changed it; derived classes such as C-), the base quantity with its unit and
    source, the rate, the months in force and the amount in 元 to the fen (quotas in
    tce or t). Missing inputs are listed (a D firm with no electricity account).
    """
    from scoring.policy.apply import parse_period, run_policy

    run = run_policy(app.connect(), ruleset, score_run=score_run, year=year,
                     period=parse_period(period) if period else None, params=_params(params))
    s = dict(run.summary, run_id=run.run_id)
    if as_json:
        from scoring.policy.apply import result_records

        s.update(result_records(run.result))
    emit(s, as_json, None if as_json else summary_text(s))


def summary_text(s: dict) -> str:
    """The run summary in Chinese, one item per line."""
    from scoring.policy.terms import label

    lines = [f"政策运行 {s['run_id']}：{s['ruleset']}，{s['year']} 年，采用评分运行 "
             f"{s['score_run']}（{s['class_year']} 年度等级）；企业 {s['enterprises']:,} 家，"
             f"其中调档 {s['adjusted']:,} 家、不适用 {s['exempt']:,} 家",
             "等级：" + "，".join(f"{k} {v:,}" for k, v in s["classes"].items())]
    for it in s["items"]:
        parts = []
        for c, v in it["classes"].items():
            figure = f"{v['amount_yuan']} 元" if v["amount_yuan"] is not None else \
                (f"{v['quota']}" if v["quota"] is not None else "无数据")
            parts.append(f"{c} 类 {v['enterprises']:,} 家 {figure}")
        lines.append(f"  {label('policy.item', it['kind'])}（{it['item']}）："
                     + ("；".join(parts) or "无适用企业"))
    for code, n in s["warnings"].items():
        lines.append(f"  提示：{label('policy.warning', code)} {n:,} 项")
    for note in s["notes"]:
        lines.append(f"  提示：{label('policy.warning', note['code'])}："
                     f"{note['item']}（{'、'.join(note['parameters'])}）")
    return "\n".join(lines)


@policy.command("runs")
@json_option
@click.pass_obj
def runs_cmd(app, as_json: bool) -> None:
    """List the stored policy runs (政策运行)."""
    rows = app.connect().execute(
        "SELECT run_id, params->>'ruleset', params->>'year', params->>'score_run',"
        " params->>'period', finished_at FROM run WHERE kind = 'policy' AND status = 'done'"
        " ORDER BY run_id").fetchall()
    recs = [{"run_id": r[0], "ruleset": r[1], "year": r[2], "score_run": r[3],
             "period": r[4], "finished_at": r[5]} for r in rows]
    emit(recs, as_json, "\n".join(
        f"{r['run_id']:>5}  {r['ruleset']:<16} {r['year']}  评分运行 {r['score_run']}  "
        f"执行期 {r['period']}" for r in recs) or "尚无政策运行")


def _yuan(fen) -> str:
    from scoring.policy.store import yuan

    return yuan(fen) if fen is not None else "-"


@policy.command("ledger")
@click.option("--run", "run_id", type=int, help="Policy run (default: the latest).")
@click.option("--enterprise", metavar="CODE", help="Only this enterprise (credit code).")
@click.option("--item", help="Only this item (its name in the rule set).")
@json_option
@click.pass_obj
def ledger_cmd(app, run_id: int | None, enterprise: str | None, item: str | None,
               as_json: bool) -> None:
    """Each line planned against what was paid (政策台账).

    Status: 已告知 (notified) until a collecting body reports; then the latest report's:
    已征收 (collected), 已返还 (refunded) or 已兑现 (granted). Amounts in 元.
    """
    from parcels.codes import normalize_credit_code
    from scoring.policy.ledger import read_ledger
    from scoring.policy.store import resolve_policy_run
    from scoring.policy.terms import label

    conn = app.connect()
    run = resolve_policy_run(conn, run_id)
    frame = read_ledger(conn, run, enterprise=normalize_credit_code(enterprise)
                        if enterprise else None, item=item)
    recs = []
    for r in frame.to_dict("records"):
        recs.append({**{k: r[k] for k in ("credit_code", "name", "town", "item", "kind",
                                           "class", "base_unit", "months", "collector",
                                           "refundable", "status")},
                     "base": None if r["base"] is None else str(r["base"]),
                     "rate": None if r["rate"] is None else str(r["rate"]),
                     "amount_yuan": None if r["amount_fen"] is None else _yuan(r["amount_fen"]),
                     "quota": None if r["quota"] is None else str(r["quota"]),
                     "collected_yuan": _yuan(r["collected_fen"]),
                     "refunded_yuan": _yuan(r["refunded_fen"]),
                     "granted_yuan": _yuan(r["granted_fen"]),
                     "status_label": label("policy.status", r["status"])})
    head = (f"{'统一社会信用代码':<18} {'企业名称':<14} {'项目':<10} {'等级':<4} {'应征/应兑(元)':>14} "
            f"{'已征收(元)':>12} {'已返还(元)':>12} {'已兑现(元)':>12} 状态")
    lines = [f"政策运行 {run} 台账（{len(recs):,} 行）", head]
    for r in recs:
        planned = r["amount_yuan"] if r["amount_yuan"] is not None else (
            f"{r['quota']} {label('policy.unit', r['base_unit'])}" if r["quota"] else "无数据")
        lines.append(f"{r['credit_code']:<18} {str(r['name'] or '')[:14]:<14} "
                     f"{r['item'][:10]:<10} {r['class']:<4} {planned:>14} "
                     f"{r['collected_yuan']:>12} {r['refunded_yuan']:>12} "
                     f"{r['granted_yuan']:>12} {r['status_label']}")
    emit({"run_id": run, "lines": recs}, as_json, "\n".join(lines))


@policy.command("record")
@click.argument("src", type=click.Path(exists=True, dir_okay=False))
@click.option("--run", "run_id", type=int, help="Policy run (default: the latest).")
@click.option("--sheet", help="Sheet name or 0-based number (default: first).")
@click.option("--encoding", help="CSV text encoding (default: detected UTF-8/GBK).")
@click.option("--dry-run", is_flag=True, help="Check and report everything, write nothing.")
@click.option("--accept-partial", is_flag=True,
              help="Store the good rows; list rejected ones in the rejects file.")
@click.option("--rejects", type=click.Path(dir_okay=False),
              help="Rejects CSV for --accept-partial (default: ./SRC.rejects.csv).")
@click.option("--overwrite", is_flag=True, help="Replace an existing rejects file.")
@json_option
@click.pass_obj
def record_cmd(app, src, run_id, sheet, encoding, dry_run, accept_partial, rejects, overwrite,
               as_json):
    """Record what was collected or granted (登记征收兑现).

    \b
    Columns: 统一社会信用代码, 项目 (item name or 差别化电价 ...), 季度 (2018Q3,
    2018年第3季度), 状态 (已征收 / 已返还 / 已兑现), 金额 (元, to the fen) or
    指标数量 (quotas), 备注. A surcharge is collected, a refundable one may be
    refunded up to what was collected, a relief or quota is granted. Every row
    is checked against the run's lines; any error means nothing is stored. The
    same file read again changes nothing.
    """
    from gis.importing.common import default_rejects_path
    from scoring.policy.ledger import record_file

    if accept_partial and rejects is None:
        rejects = str(default_rejects_path(src))
    result = record_file(app.connect(), src, run_id=run_id, sheet=sheet, encoding=encoding,
                         dry_run=dry_run, accept_partial=accept_partial, rejects=rejects,
                         overwrite=overwrite)
    emit(result.to_dict(), as_json, result.text())


@policy.command("summary")
@click.option("--by", type=click.Choice(("class", "town", "industry")), default="class",
              show_default=True, help="Class groups alone, or per town / industry division.")
@click.option("--run", "run_id", type=int, help="Policy run (default: the latest).")
@json_option
@click.pass_obj
def summary_cmd(app, by: str, run_id: int | None, as_json: bool) -> None:
    """Amounts and counts per class group, in 万元 (政策汇总)."""
    from scoring.policy.store import resolve_policy_run
    from scoring.policy.summary import policy_summary
    from scoring.policy.terms import label

    conn = app.connect()
    run = resolve_policy_run(conn, run_id)
    recs = policy_summary(conn, run, by)
    col = {"town": "乡镇", "industry": "行业大类"}.get(by)
    lines = [f"政策运行 {run} 汇总（金额：万元）",
             f"{'类别':<10}" + (f"{col:<10}" if col else "") + f"{'企业数':>6} {'加价':>12} "
             f"{'减免':>12} {'已征收':>12} {'已返还':>12} {'已兑现':>12} {'指标增加':>10} "
             f"{'指标压减':>10}"]
    for r in recs:
        lines.append(f"{label('policy.class_group', r['group']):<10}"
                     + (f"{r.get(by) or '-'!s:<10}" if col else "")
                     + f"{r['enterprises']:>6} {r['surcharge_wan']:>12} {r['relief_wan']:>12} "
                       f"{r['collected_wan']:>12} {r['refunded_wan']:>12} "
                       f"{r['granted_wan']:>12} {r['quota_granted']:>10} {r['quota_cut']:>10}")
    emit({"run_id": run, "by": by, "groups": recs}, as_json, "\n".join(lines))


@policy.command("export")
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path),
              help="Output file: .xlsx (Chinese headers) or .csv (UTF-8 with BOM).")
@click.option("--for", "body", type=click.Choice(("power", "water", "sewage", "gas", "tax",
                                                  "credit")),
              help="The collecting body's list (default: every line).")
@click.option("--run", "run_id", type=int, help="Policy run (default: the latest).")
@overwrite_option
@json_option
@click.pass_context
def export_cmd(ctx: click.Context, output: Path, body: str | None, run_id: int | None,
               overwrite: bool, as_json: bool) -> None:
    """Write a collecting body's notification list (政策执行清单).

    power / water / sewage / gas: the firms charged, their accounts (户号), base, rate,
    months and amount (元); tax: the land-use tax reliefs and surcharges; credit: every
    firm with its class in force and eligibility flags, for the credit office and banks.
    """
    from scoring.policy.export import write_notifications

    info = write_notifications(ctx.obj.connect(), output, run_id=run_id, body=body,
                               overwrite=overwrite)
    emit(info, as_json, f"已写出 {info['path']}：政策运行 {info['policy_run']} 的清单 "
                        f"{info['rows']:,} 行")
