"""``mujun candidates``: idle, unfinished, inefficient and built-but-unused land to review."""

from __future__ import annotations

from pathlib import Path

import click

from gis.cli.main import PluginGroup
from gis.cli.options import (
    emit,
    json_option,
    polygon_layer_options,
)
from scoring.land_status.vocabulary import KINDS, REASONS, RULES, STATUSES

KIND_CHOICES = KINDS.codes()
STATUS_CHOICES = STATUSES.codes()


def _fmt(value, digits=1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


class CandidatesGroup(PluginGroup):
    """The subcommands below, and those other packages add through the
    ``mujun.candidates_commands`` entry points (the maps package's ``report`` and
    ``sheet``): this floor never looks a command of a floor above it up by name."""

    group_name = "mujun.candidates_commands"

    #: Checks of floors above that run after each rules run, on the same occupancy and
    #: score runs (the contract checks of standard land).
    checks_group = "mujun.candidates_checks"


@click.group("candidates", cls=CandidatesGroup, invoke_without_command=True)
@click.option("--as-of", "as_of", metavar="YYYY-MM-DD",
              help="Judge the land as of this date (default: today): occupancy rests, per "
                   "parcel, on the latest survey on or before it.")
@click.option("--rules", "rules_path", type=click.Path(exists=True, dir_okay=False,
                                                        path_type=Path),
              help="Rules YAML merged over the defaults (docs/land_status.md lists every key).")
@click.option("--occupancy-run", type=int, help="Use this stored occupancy run (default: one "
              "as of the date on the current inputs, computed when missing).")
@click.option("--score-run", type=int, help="Use this score run for classes and tax per mu "
              "(default: the latest of the records year).")
@click.option("--top", type=int, default=10, show_default=True,
              help="Candidates printed after the run.")
@json_option
@click.pass_context
def candidates(ctx: click.Context, as_of, rules_path, occupancy_run, score_run, top,
               as_json) -> None:
    """Find land to reclaim or revitalize (腾笼换鸟) and track the decisions on it.

    Without a subcommand, runs the land-status rules as a stored run: new candidates
    are opened, existing ones refreshed (decisions kept), and those whose conditions
    no longer hold closed with the reason; then the checks other packages register
    (the standard-land contracts: `mujun supply check`) on the same runs. Kinds: idle (not started, stalled),
    unfinished, inefficient, built but unused, approved but unsupplied (批而未供).
    """
    if ctx.invoked_subcommand is not None:
        return
    from scoring.land_status.run import run_candidates

    app = ctx.obj
    result = run_candidates(app.connect(), app.settings, as_of=as_of, rules_path=rules_path,
                            occupancy_run=occupancy_run, score_run=score_run)
    s = dict(result.summary, run_id=result.run_id)
    top_rows = result.candidates.head(top)
    s["top"] = [{"parcel_code": r.parcel_code, "kind": r.kind, "kinds": list(r.kinds),
                 "town": r.town, "area_m2": r.area_m2, "priority": r.priority}
                for r in top_rows.itertuples(index=False)]
    kinds = "、".join(f"{KINDS.label(k)} {v}" for k, v in s["by_kind"].items() if v)
    lines = [f"候选筛查 第 {result.run_id} 次，截至 {s['as_of']}（占地测算第 "
             f"{s['occupancy_run']} 次）：候选 {s['candidates']:,} 宗（{kinds or '无'}）；"
             f"新增 {s['created']}、更新 {s['refreshed']}（其中已有决定 {s['kept_decisions']}）、"
             f"关闭 {s['closed']}；可收回 {_fmt(s['reclaimable_m2'], 0)} 平方米"]
    lines.append("  按类型（含兼有）：" + ("、".join(
        f"{KINDS.label(k)} {v}" for k, v in s["with_kind"].items() if v) or "无"))
    lines.append("  按理由：" + ("、".join(
        f"{RULES.label(k)} {v}" for k, v in s["by_reason"].items()
        if k not in s["with_kind"]) or "无"))
    lines += [f"  {i:>2}. {r['parcel_code']}  "
              f"{'、'.join(KINDS.label(k) for k in r['kinds'])}  {r['town'] or '-'}  "
              f"{_fmt(r['area_m2'], 0)} 平方米  优先度 {_fmt(r['priority'])}"
              for i, r in enumerate(s["top"], 1)]
    lines += [f"说明：{n}" for n in s["notes"]]
    s["checks"], more = ctx.command.run_checks(app, as_of=s["as_of"],
                                               occupancy_run=s["occupancy_run"],
                                               score_run=s["score_run"])
    emit(s, as_json, "\n".join(lines + more))


@candidates.command("list")
@click.option("--kind", type=click.Choice(KIND_CHOICES))
@click.option("--town")
@click.option("--status", type=click.Choice(STATUS_CHOICES))
@click.option("--all", "include_closed", is_flag=True, help="Also closed candidates.")
@json_option
@click.pass_obj
def list_cmd(app, kind, town, status, include_closed, as_json) -> None:
    """List candidates ranked by priority (open ones unless --all or --status closed)."""
    from scoring.land_status.store import list_candidates

    frame = list_candidates(app.connect(), kind=kind, town=town, status=status,
                            include_closed=include_closed)
    records = frame.to_dict("records")
    lines = [f"{r['candidate_id']:>6}  {r['parcel_code']:<20} {KINDS.label(r['kind'])}  "
             f"{STATUSES.label(r['status'])}  "
             f"{r['town'] or '-':<8} {_fmt(r['area_m2'], 0):>10} 平方米  "
             f"优先度 {_fmt(r['priority'])}" for r in records]
    emit(records, as_json, "\n".join(lines) if lines else "没有候选地块")


@candidates.command("show")
@click.argument("candidate_id", type=int)
@json_option
@click.pass_obj
def show(app, candidate_id, as_json) -> None:
    """One candidate: evidence, rules tested, decision history (in words)."""
    from scoring.land_status.explain import explain
    from scoring.land_status.store import get_candidate

    c = get_candidate(app.connect(), candidate_id)
    lines = [f"候选 {c['candidate_id']}（第 {c['version']} 版）：{c['parcel_code']} "
             f"{KINDS.label(c['kind'])} — {STATUSES.label(c['status'])}"
             + (f"（{c['closed_reason']}）" if c.get("closed_reason") else ""),
             f"乡镇 {c['town'] or '-'}，面积 {_fmt(c['area_m2'], 0)} 平方米，可收回 "
             f"{_fmt(c['reclaimable_m2'], 0)} 平方米，确定度 {_fmt(c['certainty'], 2)}，"
             f"优先度 {_fmt(c['priority'])}"]
    explanation = explain(c)
    lines += explanation.text()
    emit(dict(c, explanation=explanation.as_dict()), as_json, "\n".join(lines))


@candidates.command("decide")
@click.argument("candidate_id", type=int)
@click.option("--status", required=True,
              type=click.Choice([s for s in STATUS_CHOICES if s not in ("new", "closed")]),
              help="The new status (the lifecycle decides which are allowed).")
@click.option("--reason", help="Reason code (required to reject): "
              + ", ".join(f"{t.code} {t.zh}" for t in REASONS) + ".")
@click.option("--comment", help="Free text kept with the decision.")
@click.option("--by", required=True, help="Who decides (recorded in the history).")
@click.option("--expected-version", type=int,
              help="Refuse if the candidate changed since this version (optimistic locking).")
@json_option
@click.pass_obj
def decide_cmd(app, candidate_id, status, reason, comment, by, expected_version,
               as_json) -> None:
    """Record a decision on a candidate (same lifecycle as the review web app)."""
    from scoring.land_status.lifecycle import decide

    conn = app.connect()
    try:
        version = decide(conn, candidate_id, status=status, by=by, reason=reason,
                         comment=comment, expected_version=expected_version)
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    emit({"candidate_id": candidate_id, "status": status, "version": version}, as_json,
         f"候选 {candidate_id} 现为 {STATUSES.label(status)}（第 {version} 版）")


@candidates.command("exempt")
@click.argument("parcel_code")
@click.option("--reason", required=True, help="Why: one of the rules file's "
              "exemptions.reasons (docs/land_status.md lists the defaults).")
@click.option("--by", required=True, help="Who records the exemption.")
@click.option("--kind", "kinds", multiple=True, type=click.Choice(KIND_CHOICES),
              help="Kinds it covers (repeatable; default: both idle kinds).")
@click.option("--comment")
@click.option("--document", help="File number of the supporting document.")
@click.option("--until", "valid_until", metavar="YYYY-MM-DD", help="Valid until (default: "
              "until revoked).")
@click.option("--rules", "rules_path", type=click.Path(exists=True, dir_okay=False,
                                                        path_type=Path))
@json_option
@click.pass_obj
def exempt(app, parcel_code, reason, by, kinds, comment, document, valid_until, rules_path,
           as_json) -> None:
    """Exempt a parcel from the idle kinds for a recorded reason (e.g. 政府原因)."""
    from gis.importing.values import as_date
    from scoring.land_status.exemptions import add_exemption
    from scoring.land_status.rules import IDLE_KINDS
    from scoring.land_status.rules_config import load_rules

    rules = load_rules(rules_path)
    conn = app.connect()
    try:
        eid = add_exemption(conn, parcel_code, reason=reason, by=by,
                            kinds=list(kinds) or list(IDLE_KINDS), comment=comment,
                            document=document,
                            valid_until=as_date(valid_until, "--until") if valid_until else None,
                            allowed_reasons=rules["exemptions"]["reasons"])
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    emit({"exemption_id": eid, "parcel_code": parcel_code, "reason": reason}, as_json,
         f"豁免 {eid}：{parcel_code}（{reason}）；下一次 `mujun candidates` 筛查时生效")


@candidates.command("exemptions")
@click.option("--all", "include_revoked", is_flag=True, help="Also revoked exemptions.")
@click.option("--revoke", type=int, metavar="ID", help="Revoke this exemption (needs --by).")
@click.option("--by", help="Who revokes.")
@json_option
@click.pass_obj
def exemptions(app, include_revoked, revoke, by, as_json) -> None:
    """List the exemptions (in force first), or revoke one."""
    from scoring.land_status.exemptions import as_records, list_exemptions, revoke_exemption

    conn = app.connect()
    if revoke is not None:
        if not by:
            raise click.UsageError("--revoke needs --by NAME")
        revoke_exemption(conn, revoke, by=by)
        conn.commit()
        emit({"revoked": revoke}, as_json, f"豁免 {revoke} 已撤销")
        return
    records = as_records(list_exemptions(conn, include_revoked=include_revoked))
    lines = [f"{r['exemption_id']:>5}  {r['parcel_code']:<20} {r['reason']}  "
             f"{'、'.join(KINDS.label(k) for k in r['kinds'])}  登记人 {r['created_by']}"
             + ("  （已撤销）" if r["revoked_at"] else "") for r in records]
    emit(records, as_json, "\n".join(lines) if lines else "没有豁免")


@candidates.command("approvals")
@polygon_layer_options
@click.pass_obj
def approvals(app, src, layer, crs, encoding, swap_xy, dry_run, accept_partial, rejects,
              overwrite, as_json) -> None:
    """Load approved conversions (批次: code, 批准日期, polygon) for the 批而未供 rule.

    The same steps as every import: lock, identity (the same file read the same way
    changes nothing), CRS checks, a report, --dry-run, --accept-partial with rejects.
    """
    from gis.importing.common import default_rejects_path
    from scoring.land_status.approvals import load_approvals

    if accept_partial and rejects is None:
        rejects = str(default_rejects_path(src))
    result = load_approvals(app.connect(), src, layer=layer, crs=crs, encoding=encoding,
                            swap_xy=swap_xy, dry_run=dry_run, accept_partial=accept_partial,
                            rejects=rejects, overwrite=overwrite, settings=app.settings)
    emit(result.to_dict(), as_json, result.text())
