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


def _fmt(value, digits=1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


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
    """Score enterprises per mu of occupied land and class them A/B/C/D (T: exempt).

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
        raise click.UsageError("give --ruleset NAME|FILE and --year Y (or a subcommand; "
                               "`mujun score rulesets` lists the presets)")
    if not what_if and (against is not None or output is not None or policy):
        raise click.UsageError("--against, --policy and -o go with --what-if (a stored run "
                               "is exported with `mujun score export`)")
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
    lines = [f"score run {result.run_id}: {s['ruleset']} for {s['year']}, land from occupancy "
             f"run {s['occupancy_run']}; {s['enterprises']:,} enterprises, "
             f"{s['evaluated']:,} evaluated",
             "classes: " + ", ".join(f"{k} {v:,}" for k, v in s["classes"].items())]
    if s.get("protection"):
        lines.append(f"protection period (listed, not classed): {s['protection']:,} firms")
    for name, p in s["populations"].items():
        lines.append(f"  {name} ({p['label']}): {p['enterprises']:,} firms, mean total "
                     f"{_fmt(p['mean_total'], 2)}; " + ", ".join(
                         f"{k} {v:,}" for k, v in p["classes"].items()))
    if s["warnings"]:
        lines.append("warnings (in the verification queue): "
                     + ", ".join(f"{k} {v:,}" for k, v in s["warnings"].items()))
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
    """Why an enterprise has its class: items, benchmarks, rules fired, land."""
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
    """Adjust an enterprise's class (调档), with who, why and who approved.

    The adjustment is kept (append-only) for the enterprise and the run's data year: it
    applies to later score runs of the same year too, and `score explain` and `score
    export` show the initial and the adjusted class. A new adjustment supersedes the
    earlier one; to undo one, record the computed class.
    """
    from scoring.overrides import record_override

    rec = record_override(app.connect(), credit_code, klass, reason=reason,
                          decided_by=decided_by, approved_by=approved_by, run_id=run_id)
    emit(rec, as_json, f"{rec['credit_code']} {rec['year']}: class {rec['initial_class'] or '-'}"
                       f" (score run {rec['run_id']}) adjusted to {rec['class']} by "
                       f"{rec['decided_by']}" + (f", approved by {rec['approved_by']}"
                                                 if rec["approved_by"] else "")
                       + f" (adjustment {rec['override_id']})")


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
    """Write one row per enterprise of a score run (CSV, XLSX or GeoPackage).

    The same rows as `mujun export scores`, through the one layer writer and field
    table (`mujun export` adds the map styles). GIS formats put each enterprise on
    each of its parcels.
    """
    from scoring.export import write_scores

    info = write_scores(ctx.obj.connect(), output, run_id=run_id, year=year,
                        overwrite=overwrite)
    emit(info, as_json, f"wrote {info['rows']:,} scores to {info['path']} ({info['format']})")


@score.command("summary")
@click.option("--by", type=click.Choice(GROUP_CHOICES), default="town", show_default=True,
              help="Group enterprises by town, district, industry division or park (园区).")
@click.option("--year", type=int, help="Latest score run of this year.")
@click.option("--run", "run_id", type=int, help="Score run id (default: the latest).")
@json_option
@click.pass_obj
def summary_cmd(app, by: str, year: int | None, run_id: int | None, as_json: bool) -> None:
    """Land, tax, per-mu values and class counts per group of a score run."""
    from scoring.summary import summarize_run

    frame = summarize_run(app.connect(), by=by, run_id=run_id, year=year)
    records = frame.to_dict("records")
    header = f"{by:<16}{'firms':>7}{'land mu':>12}{'tax 万元':>12}{'tax/mu':>9}" \
             f"{'A':>6}{'B':>6}{'C':>6}{'D':>6}{'T':>6}"
    lines = [header] + [
        f"{r[by]!s:<16}{r['enterprises']:>7,}{r['land_mu']:>12,.1f}{r['tax_wan']:>12,.1f}"
        f"{_fmt(r['tax_per_mu'], 2):>9}" + "".join(f"{r[k]:>6,}" for k in "ABCDT")
        for r in records]
    emit(records, as_json, "\n".join(lines))


@score.command("rulesets")
@json_option
def rulesets_cmd(as_json: bool) -> None:
    """List the bundled rule sets (copy `template` to write your county's)."""
    from scoring.ruleset import list_presets

    presets = list_presets()
    emit(presets, as_json, "\n".join(f"{p['name']:<26} {p['title']}" for p in presets))


@score.command("check")
@click.argument("ruleset", metavar="NAME|FILE")
@json_option
def check_cmd(ruleset: str, as_json: bool) -> None:
    """Validate a rule set and print its populations and items (nothing is scored)."""
    from scoring.ruleset import load_ruleset

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
    lines = [f"{rs.name}: valid ({rs.title})"]
    for p in rs.populations:
        lines.append(f"  {p.name} ({p.label}): " + ", ".join(
            f"{it.name} {it.weight:g} [{it.benchmark.method}, {it.indicator.unit.text}]"
            for it in p.items))
    if rs.protection.active:
        lines.append("  protection period: " + ", ".join(x for x in (
            "first year above scale" if rs.protection.first_year_above_scale else "",
            f"{rs.protection.years_after_start:g} years after start-up"
            if rs.protection.years_after_start is not None else "") if x))
    lines.append(f"  adjustments: at most {rs.adjustments.max_points:g} points per list row")
    emit(data, as_json, "\n".join(lines))


@score.command("runs")
@json_option
@click.pass_obj
def runs_cmd(app, as_json: bool) -> None:
    """List the stored score runs (ids for --run)."""
    from scoring.store import list_runs

    records = list_runs(app.connect()).to_dict("records")
    lines = [f"{r['run_id']:>5}  {r['status']:<8} {str(r['started_at'])[:19]}  "
             f"{r['params'].get('ruleset')} year={r['params'].get('year')} "
             f"occupancy_run={r['params'].get('occupancy_run')}" for r in records]
    emit(records, as_json, "\n".join(lines) if lines else "no score runs yet")
