"""``mujun appeals``: data and class appeals against a score run, and their decisions."""

from __future__ import annotations

import click

from gis.cli.options import emit, json_option


@click.group("appeals")
def appeals() -> None:
    """Data and class appeals against a score run (申诉).

    Statuses: submitted (已受理) → under_review (审核中) → upheld (申诉成立) or rejected
    (申诉不成立), each step with who and why, kept append-only. An upheld class appeal
    becomes a class adjustment (`mujun score override`); an upheld data appeal writes the
    corrected figure, used by the next score run of the year.
    """


def _line(r: dict) -> str:
    from scoring.policy.terms import label

    what = (f"要求调整为 {r['requested_class']} 类" if r["kind"] == "class"
            else f"{label('appeal.field', r['field'])} 应为 {r['claimed_value']:g}")
    return (f"{r['appeal_id']:>5}  {r['credit_code']}  {r['year']}  {r['kind_zh']}  {what}  "
            f"{r['status_zh']}  {r['claim'][:40]}")


@appeals.command("add")
@click.argument("credit_code")
@click.option("--kind", type=click.Choice(("data", "class")), required=True,
              help="data: a figure is wrong; class: the class is.")
@click.option("--claim", required=True, help="What the firm says, in its words.")
@click.option("--by", "by", required=True, metavar="NAME", help="Who records the appeal.")
@click.option("--class", "requested_class", type=click.Choice(("A", "B", "C", "D", "T"),
              case_sensitive=False), help="class: the class asked for.")
@click.option("--field", type=click.Choice(("tax_wan", "revenue_wan", "value_added_wan",
                                            "energy_tce", "electricity_kwh", "rd_wan",
                                            "employees", "emissions_t")),
              help="data: the figure (units as stored: 万元, 吨标准煤, 千瓦时, 人, 吨).")
@click.option("--value", type=float, help="data: the value the firm claims.")
@click.option("--run", "run_id", type=int, help="Score run appealed (default: the latest).")
@json_option
@click.pass_obj
def add_cmd(app, credit_code, kind, claim, by, requested_class, field, value, run_id,
            as_json):
    """Record an appeal, status submitted (登记申诉)."""
    from scoring.appeals import add_appeal

    rec = add_appeal(app.connect(), credit_code, kind, claim=claim, by=by,
                     requested_class=requested_class, field=field, value=value, run_id=run_id)
    emit(rec, as_json, f"申诉已登记：\n{_line(rec)}")


@appeals.command("list")
@click.option("--status", type=click.Choice(("submitted", "under_review", "upheld",
                                             "rejected")), help="Only this status.")
@click.option("--enterprise", metavar="CODE", help="Only this enterprise.")
@json_option
@click.pass_obj
def list_cmd(app, status, enterprise, as_json):
    """List appeals, newest first (申诉列表)."""
    from scoring.appeals import list_appeals

    recs = list_appeals(app.connect(), status=status, credit_code=enterprise)
    emit(recs, as_json, "\n".join(_line(r) for r in recs) or "无申诉")


@appeals.command("decide")
@click.argument("appeal_id", type=int)
@click.option("--status", type=click.Choice(("under_review", "upheld", "rejected")),
              required=True, help="The next step.")
@click.option("--reason", required=True, help="Why (printed in the history).")
@click.option("--by", "by", required=True, metavar="NAME", help="Who decides.")
@click.option("--approved-by", metavar="NAME", help="Who approved (an upheld class appeal's "
              "adjustment records it).")
@json_option
@click.pass_obj
def decide_cmd(app, appeal_id, status, reason, by, approved_by, as_json):
    """Review, uphold or reject an appeal (处理申诉)."""
    from scoring.appeals import decide_appeal

    rec = decide_appeal(app.connect(), appeal_id, status, reason=reason, by=by,
                        approved_by=approved_by)
    tail = ""
    if rec["override_id"]:
        tail = f"\n已调档为 {rec['requested_class']} 类（调档记录 {rec['override_id']}）"
    elif rec["batch_id"]:
        tail = (f"\n已更正 {rec['field']}（核实批次 {rec['batch_id']}）；请重新评分："
                f"mujun score --ruleset NAME --year {rec['year']}")
    emit(rec, as_json, _line(rec) + tail)
