"""``mujun score``: per-mu scores and classes under a county's rule set; explain, export."""

from __future__ import annotations

from pathlib import Path

import click

from gis.cli.main import PluginGroup
from gis.cli.options import emit, json_option, overwrite_option
from scoring.cli.score_compare import (
    compare_cmd,
    policy_option,
    policy_param_option,
    policy_param_values,
    show_comparison,
)
from scoring.cli.score_rank import rank_cmd

GROUP_CHOICES = ("town", "district", "industry", "park")
#: How a firm without a town, district, park or division is grouped in the text view.
NO_GROUP = "（未填）"
#: --by → the field whose header names the group column.
GROUP_FIELDS = {"town": "town", "district": "district", "industry": "industry_division",
                "park": "park"}


def _fmt(value, digits=1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def run_summary_lines(run_id: int, s: dict) -> list[str]:
    """The text view of a stored run's summary: classes, populations, data warnings."""
    from parcels.vocabulary import VERIFICATION_KINDS
    from scoring.vocabulary import CLASSES

    def counts(classes: dict) -> str:
        return "、".join(f"{CLASSES.label(k)} {v:,} 家" for k, v in classes.items()) or "无"

    lines = [f"亩均效益评价 第 {run_id} 次：规则 {s['ruleset']}，{s['year']} 年，用地取自占地"
             f"测算第 {s['occupancy_run']} 次；企业 {s['enterprises']:,} 家，参评 "
             f"{s['evaluated']:,} 家",
             "档次：" + counts(s["classes"])]
    if s.get("protection"):
        lines.append(f"保护期（列示不评价）：{s['protection']:,} 家")
    for name, p in s["populations"].items():
        lines.append(f"  {p['label'] or name}：{p['enterprises']:,} 家，平均总分 "
                     f"{_fmt(p['mean_total'], 2)}；" + counts(p["classes"]))
    if s["warnings"]:
        lines.append("数据警告（已列入乡镇核实）：" + "、".join(
            f"{VERIFICATION_KINDS.label(k)} {v:,} 项" for k, v in s["warnings"].items()))
    return lines


class ScoreGroup(PluginGroup):
    """The subcommands below, and those other packages add through the
    ``mujun.score_commands`` entry points (the maps package's ``notice``, a document):
    this floor never looks a command of a floor above it up by name."""

    group_name = "mujun.score_commands"

    #: Checks of floors above that run after each stored score run (the contract checks
    #: of standard land: tax per mu against the commitment), as of today.
    checks_group = "mujun.score_checks"


@click.group("score", cls=ScoreGroup, invoke_without_command=True)
@click.option("--ruleset", metavar="NAME|FILE",
              help="A bundled rule set (`mujun score rulesets`) or a YAML file.")
@click.option("--year", type=int, help="Data year to score (the previous year's records feed "
              "growth rates and previous-year benchmarks).")
@click.option("--occupancy-run", type=int, metavar="N",
              help="Occupancy run giving each enterprise's land (default: the latest of the "
                   "year, else the latest).")
@click.option("--adjustments", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              multiple=True, help="Bonus/penalty/veto/exemption list (CSV/XLSX keyed by credit "
              "code), added to those the rule set names. Repeatable.")
@click.option("--what-if", "what_if", is_flag=True, help="Try the rule set without storing "
              "anything: compare its classes with a stored run (`score compare` output).")
@click.option("--against", type=int, metavar="RUN", help="--what-if: the score run to compare "
              "with (default: the latest of --year).")
@click.option("-o", "--output", type=click.Path(path_type=Path),
              help="--what-if: write the comparison (.xlsx or .csv).")
@policy_option
@policy_param_option
@overwrite_option
@json_option
@click.pass_context
def score(ctx: click.Context, ruleset: str | None, year: int | None,
          occupancy_run: int | None, adjustments: tuple[Path, ...], what_if: bool,
          against: int | None, output: Path | None, policy: str | None,
          policy_params: tuple[str, ...], overwrite: bool, as_json: bool) -> None:
    """Score enterprises per mu, class them A-D (亩均效益评价).

    Without a subcommand, scores --year under --ruleset and stores a run (kind
    score): per enterprise the indicator values, item scores, total, class, ranks
    in county, town and industry division, the change since last year's run and
    the occupancy run that gave the land. Data warnings (high electricity with
    near-zero tax, zero electricity, implausible tax per mu, records without land,
    land without records, ×10 jumps) join the verification queue
    (`mujun verify export`). Rule-set schema and presets: docs/scoring.md.
    """
    if ctx.invoked_subcommand is not None:
        return
    if not ruleset or year is None:
        raise click.UsageError("请给出评价规则（--ruleset 名称或文件）和年份（--year），"
                               "或一个子命令；`mujun score rulesets` 列出内置规则")
    if not what_if and (against is not None or output is not None or policy):
        raise click.UsageError("对比运行（--against）、政策（--policy）和输出（-o）只用于"
                               "试算（--what-if）；已存的评价用 `mujun score export` 导出")
    if what_if:
        from scoring.compare_runs import compare_what_if

        cmp = compare_what_if(ctx.obj.connect(), ruleset, year, against=against,
                              occupancy_run=occupancy_run, adjustments=adjustments,
                              policy=policy,
                              policy_params=policy_param_values(policy, policy_params))
        show_comparison(cmp, output, overwrite, as_json)
        return
    from gis.progress import progress_bar
    from scoring.run import run_scores

    app = ctx.obj
    conn = app.connect()
    with progress_bar(None, "score", "enterprise", app.settings.progress) as progress:
        result = run_scores(conn, ruleset, year, occupancy_run=occupancy_run,
                            adjustments=adjustments, progress=progress)
    s = dict(result.summary, run_id=result.run_id)
    lines = run_summary_lines(result.run_id, s)
    from datetime import date

    s["checks"], more = ctx.command.run_checks(app, as_of=date.today().isoformat(),
                                               occupancy_run=s["occupancy_run"],
                                               score_run=result.run_id)
    emit(s, as_json, "\n".join(lines + more))


score.add_command(compare_cmd)
score.add_command(rank_cmd)


@score.command("explain")
@click.argument("credit_code")
@click.option("--year", type=int, help="Year of the score run (default: the latest run).")
@click.option("--run", "run_id", type=int, help="Score run id.")
@json_option
@click.pass_obj
def explain_cmd(app, credit_code: str, year: int | None, run_id: int | None,
                as_json: bool) -> None:
    """Why an enterprise has its class (评价说明)."""
    from scoring.explain import explain, explain_text

    rec = explain(app.connect(), credit_code, year=year, run_id=run_id)
    emit(rec, as_json, explain_text(rec) if not as_json else None)


@score.command("override")
@click.argument("credit_code")
@click.option("--class", "klass", required=True, type=click.Choice(("A", "B", "C", "D", "T"),
              case_sensitive=False), help="The adjusted class.")
@click.option("--reason", required=True, help="Why (shown by `score explain`, exported).")
@click.option("--by", "decided_by", required=True, metavar="NAME", help="Who decided.")
@click.option("--approved-by", metavar="NAME", help="Who approved the adjustment.")
@click.option("--run", "run_id", type=int, help="Score run id (default: the latest).")
@json_option
@click.pass_obj
def override_cmd(app, credit_code: str, klass: str, reason: str, decided_by: str,
                 approved_by: str | None, run_id: int | None, as_json: bool) -> None:
    """Adjust an enterprise's class, with who and why (调档).

    The adjustment is kept (append-only) for the enterprise and the run's data year: it
    applies to later score runs of the same year too, and `score explain` and `score
    export` show the initial and the adjusted class. A new adjustment supersedes the
    earlier one; to undo one, record the computed class.
    """
    from scoring.overrides import record_override
    from scoring.vocabulary import CLASSES

    rec = record_override(app.connect(), credit_code, klass, reason=reason,
                          decided_by=decided_by, approved_by=approved_by, run_id=run_id)
    initial = CLASSES.label(rec["initial_class"]) if rec["initial_class"] else "-"
    emit(rec, as_json, f"{rec['credit_code']} {rec['year']} 年：档次 {initial}（第 "
                       f"{rec['run_id']} 次评价）由 {rec['decided_by']} 调整为 "
                       f"{CLASSES.label(rec['class'])}"
                       + (f"，{rec['approved_by']} 批准" if rec["approved_by"] else "")
                       + f"（调档记录 {rec['override_id']}）")


@score.command("export")
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path),
              help="scores.csv | scores.xlsx (Chinese headers) | scores.gpkg (on parcels) — "
                   "any format of `mujun export` (`mujun export scores` adds the QGIS style).")
@click.option("--year", type=int, help="Latest score run of this year.")
@click.option("--run", "run_id", type=int, help="Score run id (default: the latest).")
@overwrite_option
@json_option
@click.pass_context
def export_cmd(ctx: click.Context, output: Path, year: int | None, run_id: int | None,
               overwrite: bool, as_json: bool) -> None:
    """Write a run's rows per enterprise (导出评价结果).

    The same rows as `mujun export scores`, through the one layer writer and field
    table (`mujun export` adds the map styles). GIS formats put each enterprise on
    each of its parcels.
    """
    from scoring.export import write_scores

    info = write_scores(ctx.obj.connect(), output, run_id=run_id, year=year,
                        overwrite=overwrite)
    emit(info, as_json, f"已写出 {info['path']}：企业评价结果 {info['rows']:,} 行")


@score.command("summary")
@click.option("--by", type=click.Choice(GROUP_CHOICES), default="town", show_default=True,
              help="Group enterprises by town, district, industry division or park (园区).")
@click.option("--year", type=int, help="Latest score run of this year.")
@click.option("--run", "run_id", type=int, help="Score run id (default: the latest).")
@json_option
@click.pass_obj
def summary_cmd(app, by: str, year: int | None, run_id: int | None, as_json: bool) -> None:
    """Land, tax, per-mu values and class counts per group (分组汇总)."""
    from scoring.summary import summarize_run

    frame = summarize_run(app.connect(), by=by, run_id=run_id, year=year)
    records = frame.to_dict("records")
    from scoring.vocabulary import FIELDS

    group = FIELDS.label(GROUP_FIELDS[by])
    header = "\t".join([group] + [FIELDS.label(c) for c in ("firms", "land_mu", "tax_wan",
                                                             "tax_per_mu")]
                        + [f"{k}类（家）" for k in "ABCDT"])
    lines = [header] + ["\t".join(
        [NO_GROUP if r[by] in (None, "(none)") else str(r[by]), f"{r['enterprises']:,}",
         f"{r['land_mu']:,.1f}", f"{r['tax_wan']:,.1f}", _fmt(r["tax_per_mu"], 2)]
        + [f"{r[k]:,}" for k in "ABCDT"]) for r in records]
    emit(records, as_json, "\n".join(lines))


@score.command("rulesets")
@json_option
def rulesets_cmd(as_json: bool) -> None:
    """List the bundled rule sets (内置评价规则)."""
    from scoring.ruleset import list_presets

    presets = list_presets()
    emit(presets, as_json, "\n".join(f"{p['name']:<26} {p['title']}" for p in presets))


@score.command("check")
@click.argument("ruleset", metavar="NAME|FILE")
@json_option
def check_cmd(ruleset: str, as_json: bool) -> None:
    """Validate a rule set, nothing scored (检查评价规则)."""
    from scoring.ruleset import load_ruleset
    from scoring.units import unit_label
    from scoring.vocabulary import BENCHMARKS

    rs = load_ruleset(ruleset)
    data = {"name": rs.name, "title": rs.title, "populations": {
        p.name: {"label": p.label, "size_class": list(p.size_classes),
                 "min_land_mu": p.min_land_mu, "min_floor_m2": p.min_floor_m2,
                 "items": {it.name: {"weight": it.weight, "benchmark": it.benchmark.method,
                                     "unit": it.indicator.unit.text} for it in p.items}}
        for p in rs.populations}, "classes": rs.classes.method,
        "protection": {"first_year_above_scale": rs.protection.first_year_above_scale,
                       "years_after_start": rs.protection.years_after_start},
        "adjustments": {"max_points": rs.adjustments.max_points,
                        "max_bonus": rs.adjustments.max_bonus,
                        "max_penalty": rs.adjustments.max_penalty}}
    lines = [f"{rs.name}：规则有效（{rs.title}）"]
    for p in rs.populations:
        lines.append(f"  {p.label or p.name}：" + "、".join(
            f"{it.indicator.label or it.name} 权重 {it.weight:g}"
            f"（{BENCHMARKS.label(it.benchmark.method)}，{unit_label(it.indicator.unit.text)}）"
            for it in p.items))
    if rs.protection.active:
        lines.append("  保护期：" + "、".join(x for x in (
            "首次规上当年" if rs.protection.first_year_above_scale else "",
            f"投产后 {rs.protection.years_after_start:g} 年内"
            if rs.protection.years_after_start is not None else "") if x))
    lines.append(f"  加减分：每行清单至多 {rs.adjustments.max_points:g} 分")
    emit(data, as_json, "\n".join(lines))


@score.command("runs")
@json_option
@click.pass_obj
def runs_cmd(app, as_json: bool) -> None:
    """List the stored score runs (评价运行)."""
    from scoring.store import list_runs

    records = list_runs(app.connect()).to_dict("records")
    from gis.run_terms import RUN_STATUS

    lines = [f"{r['run_id']:>5}  {RUN_STATUS.label(r['status']):<6} "
             f"{str(r['started_at'])[:19]}  规则 {r['params'].get('ruleset')}  "
             f"{r['params'].get('year')} 年  占地测算第 {r['params'].get('occupancy_run')} 次"
             for r in records]
    emit(records, as_json, "\n".join(lines) if lines else "尚无评价运行")
