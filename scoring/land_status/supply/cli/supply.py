"""``mujun supply``: standard-land plots (标准地), their pipeline, information and contracts."""

from __future__ import annotations

from pathlib import Path

import click

from gis.cli.options import emit, json_option, overwrite_option
from scoring.land_status.supply.vocabulary import STATUSES

STATUS_CHOICES = STATUSES.codes()


def _status(ctx, param, value: str | None) -> str | None:
    """A status by code or by its Chinese name (出让 = transferred)."""
    if value is None:
        return None
    by_zh = {t.zh: t.code for t in STATUSES}
    code = by_zh.get(value.strip(), value.strip())
    if code not in STATUSES:
        raise click.BadParameter(f"{value!r}: choose one of {STATUSES.choices()}")
    return code


def _date(value: str | None, what: str):
    from gis.importing.values import as_date

    return as_date(value, what) if value is not None else None


def _fmt(v, digits=2) -> str:
    return "-" if v is None or v != v else f"{v:,.{digits}f}"


def _plot_text(p: dict) -> str:
    from scoring.land_status.supply.vocabulary import (
        INDICATORS,
        INFO,
        ORIGINS,
        TOPIC_STATES,
        TOPICS,
    )
    from scoring.land_status.supply.vocabulary import header as h
    from scoring.land_status.vocabulary import EVIDENCE

    origin = ORIGINS.label(p["origin"]) + (f"（候选 {p['candidate_id']}）"
                                           if p.get("candidate_id") else "")
    lines = [f"地块 {p['code']}（编号 {p['plot_id']}）：{STATUSES.label(p['status'])}，"
             f"{p['status_date']}",
             f"  {h('area_m2')}：{_fmt(p['area_m2'])}（{_fmt(p['area_mu'], 4)} 亩）",
             f"  {h('origin')}：{origin}"]
    for key in ("town", "district", "park", "parcel_code", "planned_use", "industry_code",
                "indicator_table"):
        if p.get(key):
            lines.append(f"  {h(key)}：{p[key]}")
    if p.get("indicators"):
        lines.append("控制指标")
        for t in INDICATORS:
            v = p["indicators"].get(t.code)
            if v is not None:
                shown = f"{100 * v:.1f}%" if t.unit == "%" else f"{v:g}" + (
                    f" {t.unit}" if t.unit else "")
                lines.append(f"  {t.zh}：{shown}")
    if p.get("info"):
        lines.append("供地信息")
        for k, v in p["info"].items():
            term = INFO.get(k)
            lines.append(f"  {term.zh if term else k}：{v}"
                         + (f" {term.unit}" if term and term.unit else ""))
    if p.get("assessments"):
        lines.append("区域评估")
        for a in p["assessments"]:
            until = f"，有效期至 {a['valid_until']}" if a.get("valid_until") else ""
            lines.append(f"  {TOPICS.label(a['topic'])}：{a['conclusion']}{until}"
                         f"（{TOPIC_STATES.label(a['state'])}）")
    c = p.get("contract")
    if c:
        lines.append(f"{EVIDENCE.label('contract')}")
        for key in ("contract_no", "holder", "start_by", "complete_by", "produce_by",
                    "investment_wan"):
            if c.get(key) is not None:
                term = EVIDENCE.get(key)
                lines.append(f"  {term.zh}：{c[key]}" + (f" {term.unit}" if term.unit else ""))
        for key, col in (("committed_far", "far_min"), ("committed_coverage", "coverage_min"),
                         ("committed_tax_per_mu", "tax_per_mu_wan")):
            if c.get(col) is not None:
                term = EVIDENCE.get(key)
                v = f"{100 * c[col]:.1f}%" if term.unit == "%" else f"{c[col]:g}" + (
                    f" {term.unit}" if term.unit else "")
                lines.append(f"  {term.zh}：{v}")
        lines.append(f"  {h('parcel_code')}：{c['parcel_code']}")
    if p.get("history"):
        lines.append("状态记录")
        for e in p["history"]:
            frm = STATUSES.label(e["from_status"]) + " → " if e["from_status"] else ""
            extra = "".join(f"，{h(k)} {e[k]}" for k in ("document", "reason") if e.get(k))
            lines.append(f"  {e['on_date']} {frm}{STATUSES.label(e['to_status'])}"
                         f"（{e['actor']}{extra}）")
    return "\n".join(lines)


@click.group("supply")
def supply() -> None:
    """Standard-land plots (标准地): from reclaimed or new land to a contract kept.

    \b
    A plot carries its control indicators from a per-industry table, moves through
    储备 → 前期开发 → 区域评估 → 指标确定 → 公告 → 出让 → 合同 → 开工 → 竣工 → 投产 →
    达产复核 → 履约 / 违约, inherits the area-wide assessments (区域评估) it lies in and
    the supply information a firm asks for. `supply check` checks the contracts against
    the latest survey and score run; breaches become land-status candidates.
    """


@supply.command("add")
@click.option("--from-candidate", "candidate_id", type=int, metavar="ID",
              help="An approved land-status candidate: its parcel becomes the plot.")
@click.option("--polygon", type=click.Path(exists=True, dir_okay=False),
              help="A polygon file (any OGR format) of new land.")
@click.option("--code", help="The plot's code (default for a candidate: its parcel's code).")
@click.option("--judicial", is_flag=True, help="The land comes from a judicial disposal (司法处置).")
@click.option("--crs", help="CRS of a polygon file that declares none, e.g. 4528.")
@click.option("--industry", metavar="CODE", help="GB/T 4754-2017 industry, e.g. C3311 or 33.")
@click.option("--indicators", "table", type=click.Path(exists=True, dir_okay=False),
              help="Control-indicator table (YAML or CSV; default: the bundled template).")
@click.option("--park", help="Industrial park (园区).")
@click.option("--use", "planned_use", help="Planned use (规划用途).")
@click.option("--date", "on", metavar="YYYY-MM-DD", help="Enters 储备 on (default: today).")
@click.option("--by", required=True, metavar="NAME", help="Who records the plot.")
@json_option
@click.pass_obj
def add(app, candidate_id, polygon, code, judicial, crs, industry, table, park, planned_use,
        on, by, as_json) -> None:
    """Record a plot: --from-candidate ID, or --polygon FILE --code CODE."""
    from scoring.land_status.supply.plots import add_plot

    p = add_plot(app.connect(), actor=by, candidate_id=candidate_id, polygon=polygon,
                 code=code, origin="judicial" if judicial else None, industry=industry,
                 indicators=table, park=park, planned_use=planned_use,
                 on=_date(on, "--date"), crs=crs, settings=app.settings)
    emit(p, as_json, _plot_text(p))


@supply.command("list")
@click.option("--status", callback=_status, metavar="STATUS",
              help="Only plots in this status (code or Chinese name, e.g. 出让).")
@json_option
@click.pass_obj
def list_cmd(app, status, as_json) -> None:
    """The plots with status, area, town and industry."""
    from scoring.land_status.supply.plots import list_plots
    from scoring.land_status.supply.vocabulary import header

    frame = list_plots(app.connect(), status=status)
    records = frame.to_dict("records")
    cols = ("plot_id", "code", "status", "status_date", "area_m2", "area_mu", "town",
            "industry_code")
    lines = ["\t".join(header(c) for c in cols)]
    for r in records:
        lines.append("\t".join(
            STATUSES.label(r[c]) if c == "status" else _fmt(r[c]) if c == "area_m2"
            else _fmt(r[c], 4) if c == "area_mu" else "-" if r[c] is None else str(r[c])
            for c in cols))
    counts = frame["status"].value_counts().to_dict() if len(frame) else {}
    emit({"plots": records, "by_status": {s: int(counts.get(s, 0)) for s in STATUS_CHOICES}},
         as_json, "\n".join(lines) if records else "没有地块")


@supply.command("show")
@click.argument("plot")
@click.option("--date", "on", metavar="YYYY-MM-DD",
              help="Assessments valid or expired on this day (default: today).")
@json_option
@click.pass_obj
def show(app, plot, on, as_json) -> None:
    """One plot (id or code): indicators, information, assessments, contract, history."""
    from scoring.land_status.supply.plots import get_plot

    p = get_plot(app.connect(), plot, on=_date(on, "--date"))
    emit(p, as_json, _plot_text(p))


@supply.command("advance")
@click.argument("plot")
@click.option("--to", "to", required=True, callback=_status, metavar="STATUS",
              help="The next status (or an earlier one, with --reason): code or Chinese name, "
                   "e.g. transferred or 出让.")
@click.option("--date", "on", required=True, metavar="YYYY-MM-DD", help="When it happened.")
@click.option("--ref", "document", metavar="DOC", help="Document number (文号) of the step.")
@click.option("--reason", help="Why the plot goes back to an earlier step.")
@click.option("--by", required=True, metavar="NAME", help="Who records the step.")
@json_option
@click.pass_obj
def advance_cmd(app, plot, to, on, document, reason, by, as_json) -> None:
    """Move a plot one step along the pipeline (or back, with a reason)."""
    from scoring.land_status.supply.plots import advance

    p = advance(app.connect(), plot, to, _date(on, "--date"), actor=by, document=document,
                reason=reason)
    emit(p, as_json, f"地块 {p['code']}：{STATUSES.label(p['status'])}（{p['status_date']}）")


@supply.command("indicators")
@click.argument("plot")
@click.option("--industry", required=True, metavar="CODE", help="GB/T 4754-2017 industry.")
@click.option("--indicators", "table", type=click.Path(exists=True, dir_okay=False),
              help="Control-indicator table (YAML or CSV; default: the bundled template).")
@json_option
@click.pass_obj
def indicators_cmd(app, plot, industry, table, as_json) -> None:
    """(Re)take a plot's control indicators for an industry, before it is announced."""
    from scoring.land_status.supply.plots import set_indicators

    p = set_indicators(app.connect(), plot, industry, table=table)
    emit(p, as_json, _plot_text(p))


@supply.command("info")
@click.argument("plot", required=False)
@click.option("--set", "pairs", multiple=True, metavar="KEY=VALUE",
              help="One item of supply information (repeatable; an empty value removes it).")
@click.option("--file", "path", type=click.Path(exists=True, dir_okay=False),
              help="A filled-in template (YAML: key: value).")
@click.option("--template", is_flag=True, help="Print the template and exit.")
@json_option
@click.pass_obj
def info(app, plot, pairs, path, template, as_json) -> None:
    """Supply information a firm asks for: utilities, policies, nearby services."""
    from scoring.land_status.supply.plots import get_plot, info_template, parse_info, set_info

    if template:
        click.echo(info_template(), nl=False)
        return
    if plot is None:
        raise click.UsageError("name the plot (id or code), or ask for --template")
    values = parse_info(list(pairs), path)
    p = set_info(app.connect(), plot, values) if values else get_plot(app.connect(), plot)
    emit(p, as_json, _plot_text(p))


@supply.command("contract")
@click.argument("plot")
@click.option("--start-by", required=True, metavar="YYYY-MM-DD", help="Agreed start (开工).")
@click.option("--complete-by", required=True, metavar="YYYY-MM-DD",
              help="Agreed completion (竣工).")
@click.option("--produce-by", metavar="YYYY-MM-DD", help="Agreed full production (达产).")
@click.option("--investment", "investment_wan", type=float, help="Committed investment, 万元.")
@click.option("--far-min", type=float, help="Committed minimum FAR (default: the indicator).")
@click.option("--coverage-min", type=float,
              help="Committed minimum coverage, 0-1 (default: the indicator).")
@click.option("--tax-per-mu", "tax_per_mu_wan", type=float,
              help="Committed tax per mu after full production, 万元/亩 (default: the indicator).")
@click.option("--holder", help="The holder's name (受让人).")
@click.option("--credit-code", help="The holder's unified social credit code.")
@click.option("--no", "contract_no", help="Contract number.")
@click.option("--signed", metavar="YYYY-MM-DD", help="Signed on.")
@click.option("--parcel", "parcel_code",
              help="The parcel the contract is checked on (default: the plot's parcel).")
@click.option("--by", required=True, metavar="NAME", help="Who records the contract.")
@json_option
@click.pass_obj
def contract(app, plot, start_by, complete_by, produce_by, investment_wan, far_min,
             coverage_min, tax_per_mu_wan, holder, credit_code, contract_no, signed,
             parcel_code, by, as_json) -> None:
    """Record the land contract (出让合同) of a transferred plot."""
    from scoring.land_status.supply.contracts import record_contract

    p = record_contract(app.connect(), plot, actor=by,
                        start_by=_date(start_by, "--start-by"),
                        complete_by=_date(complete_by, "--complete-by"),
                        produce_by=_date(produce_by, "--produce-by"),
                        investment_wan=investment_wan, far_min=far_min,
                        coverage_min=coverage_min, tax_per_mu_wan=tax_per_mu_wan,
                        holder=holder, credit_code=credit_code, contract_no=contract_no,
                        signed=_date(signed, "--signed"), parcel_code=parcel_code)
    emit(p, as_json, _plot_text(p))


@supply.command("check")
@click.option("--as-of", "as_of", metavar="YYYY-MM-DD",
              help="Check as of this date (default: today): the latest survey on or before it.")
@click.option("--score-run", type=int, help="Score run for tax per mu (default: the latest).")
@click.option("--rules", "rules_path", type=click.Path(exists=True, dir_okay=False,
                                                        path_type=Path),
              help="Land-status rules YAML (idle and unfinished thresholds).")
@json_option
@click.pass_obj
def check(app, as_of, score_run, rules_path, as_json) -> None:
    """Check every contract (履约) after a new survey or score run.

    Breaches become land-status candidates of kind 违反供地合同, with the clause as
    evidence (`mujun candidates show ID`).
    """
    from scoring.land_status.supply.check import check_contracts
    from scoring.land_status.vocabulary import RULES

    res = check_contracts(app.connect(), app.settings, as_of=as_of, score_run=score_run,
                          rules_path=rules_path)
    s = dict(res.summary, run_id=res.run_id)
    lines = [f"履约核查（批次 {res.run_id}，判定日 {s['as_of']}）：合同 {s['contracts']} 份，"
             f"可核查 {s['checked']} 份，违约 {s['breaches']} 份"]
    lines += [f"  {RULES.label(rule)}：{n}" for rule, n in s["by_rule"].items() if n]
    lines.append(f"  候选：新建 {s['created']}，并入已有候选 {s['joined']}，"
                 f"移除 {s['left']}，关闭 {s['closed']}")
    emit(s, as_json, "\n".join(lines))


@supply.command("export")
@click.option("-o", "--output", "path", required=True, type=click.Path(dir_okay=False),
              help="Output file; the suffix picks the format (.gpkg .shp .geojson .kml .gdb "
                   ".csv .xlsx).")
@overwrite_option
@json_option
@click.pass_obj
def export(app, path, overwrite, as_json) -> None:
    """Write every plot with its status, indicators and contract dates."""
    from scoring.land_status.supply.export import write_plots

    out = write_plots(app.connect(), path, overwrite=overwrite)
    emit(out, as_json, f"地块已写入 {path}")
