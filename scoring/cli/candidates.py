"""``mujun candidates``: idle, unfinished, inefficient and built-but-unused land to review."""

from __future__ import annotations

from pathlib import Path

import click

from gis.cli.options import emit, json_option, overwrite_option

KIND_CHOICES = ("idle_not_started", "idle_stalled", "unfinished", "inefficient", "built_unused",
                "approved_unsupplied")
STATUS_CHOICES = ("new", "under_review", "confirmed", "rejected", "field_check", "approved",
                  "closed")


def _fmt(value, digits=1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


@click.group("candidates", invoke_without_command=True)
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
    no longer hold closed with the reason. Kinds: idle (not started, stalled),
    unfinished, inefficient, built but unused, approved but unsupplied (批而未供).
    """
    if ctx.invoked_subcommand is not None:
        return
    from scoring.candidates.run import run_candidates

    app = ctx.obj
    result = run_candidates(app.connect(), app.settings, as_of=as_of, rules_path=rules_path,
                            occupancy_run=occupancy_run, score_run=score_run)
    s = dict(result.summary, run_id=result.run_id)
    top_rows = result.candidates.head(top)
    s["top"] = [{"parcel_code": r.parcel_code, "kind": r.kind, "town": r.town,
                 "area_m2": r.area_m2, "priority": r.priority}
                for r in top_rows.itertuples(index=False)]
    kinds = ", ".join(f"{k} {v}" for k, v in s["by_kind"].items() if v)
    lines = [f"candidates run {result.run_id} as of {s['as_of']} (occupancy run "
             f"{s['occupancy_run']}): {s['candidates']:,} candidates ({kinds or 'none'}); "
             f"{s['created']} new, {s['refreshed']} refreshed ({s['kept_decisions']} with "
             f"decisions), {s['closed']} closed; reclaimable {_fmt(s['reclaimable_m2'], 0)} m²"]
    lines += [f"  {i:>2}. {r['parcel_code']}  {r['kind']:<17} {r['town'] or '-'}  "
              f"{_fmt(r['area_m2'], 0)} m²  priority {_fmt(r['priority'])}"
              for i, r in enumerate(s["top"], 1)]
    lines += [f"note: {n}" for n in s["notes"]]
    emit(s, as_json, "\n".join(lines))


@candidates.command("list")
@click.option("--kind", type=click.Choice(KIND_CHOICES))
@click.option("--town")
@click.option("--status", type=click.Choice(STATUS_CHOICES))
@click.option("--all", "include_closed", is_flag=True, help="Also closed candidates.")
@json_option
@click.pass_obj
def list_cmd(app, kind, town, status, include_closed, as_json) -> None:
    """List candidates ranked by priority (open ones unless --all or --status closed)."""
    from scoring.candidates.store import list_candidates

    frame = list_candidates(app.connect(), kind=kind, town=town, status=status,
                            include_closed=include_closed)
    records = frame.to_dict("records")
    lines = [f"{r['candidate_id']:>6}  {r['parcel_code']:<20} {r['kind']:<19} {r['status']:<12} "
             f"{r['town'] or '-':<8} {_fmt(r['area_m2'], 0):>10} m²  "
             f"priority {_fmt(r['priority'])}" for r in records]
    emit(records, as_json, "\n".join(lines) if lines else "no candidates")


@candidates.command("show")
@click.argument("candidate_id", type=int)
@json_option
@click.pass_obj
def show(app, candidate_id, as_json) -> None:
    """One candidate: evidence, rules tested, decision history."""
    import json

    from scoring.candidates.store import get_candidate

    c = get_candidate(app.connect(), candidate_id)
    lines = [f"candidate {c['candidate_id']} (version {c['version']}): {c['parcel_code']} "
             f"{c['kind']} — {c['status']}" + (f" ({c['closed_reason']})"
                                                if c.get("closed_reason") else ""),
             f"town {c['town'] or '-'}, area {_fmt(c['area_m2'], 0)} m², reclaimable "
             f"{_fmt(c['reclaimable_m2'], 0)} m², certainty {_fmt(c['certainty'], 2)}, "
             f"priority {_fmt(c['priority'])}", "rules:"]
    lines += [f"  {'✓' if r['passed'] else '✗'} {r['rule']}: {r.get('value')} "
              f"(threshold {r.get('threshold')})" for r in c["rules"]]
    lines.append("evidence: " + json.dumps(c["evidence"], ensure_ascii=False, default=str))
    lines.append("history:")
    lines += [f"  {str(e['at'])[:19]} {e['actor']}: {e['action']} {e['from_status'] or ''} → "
              f"{e['to_status'] or ''} {e['reason_code'] or ''} {e['comment'] or ''}".rstrip()
              for e in c["history"]]
    emit(c, as_json, "\n".join(lines))


@candidates.command("decide")
@click.argument("candidate_id", type=int)
@click.option("--status", required=True,
              type=click.Choice([s for s in STATUS_CHOICES if s not in ("new", "closed")]),
              help="The new status (the lifecycle decides which are allowed).")
@click.option("--reason", help="Reason code (required to reject): in_use, under_construction, "
              "government_cause, development_period, data_error, boundary_error, disposed, other.")
@click.option("--comment", help="Free text kept with the decision.")
@click.option("--by", required=True, help="Who decides (recorded in the history).")
@click.option("--expected-version", type=int,
              help="Refuse if the candidate changed since this version (optimistic locking).")
@json_option
@click.pass_obj
def decide_cmd(app, candidate_id, status, reason, comment, by, expected_version,
               as_json) -> None:
    """Record a decision on a candidate (same lifecycle as the review web app)."""
    from scoring.candidates.lifecycle import decide

    conn = app.connect()
    try:
        version = decide(conn, candidate_id, status=status, by=by, reason=reason,
                         comment=comment, expected_version=expected_version)
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    emit({"candidate_id": candidate_id, "status": status, "version": version}, as_json,
         f"candidate {candidate_id} is now {status} (version {version})")


@candidates.command("exempt")
@click.argument("parcel_code")
@click.option("--reason", required=True, help="Why (政府原因, 规划调整, 拆迁未完成 …: the rules' "
              "exemptions.reasons).")
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
    from scoring.candidates.exemptions import add_exemption
    from scoring.candidates.rules import IDLE_KINDS
    from scoring.candidates.rules_config import load_rules

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
         f"exemption {eid}: {parcel_code} ({reason}); the next `mujun candidates` run applies it")


@candidates.command("exemptions")
@click.option("--all", "include_revoked", is_flag=True, help="Also revoked exemptions.")
@click.option("--revoke", type=int, metavar="ID", help="Revoke this exemption (needs --by).")
@click.option("--by", help="Who revokes.")
@json_option
@click.pass_obj
def exemptions(app, include_revoked, revoke, by, as_json) -> None:
    """List the exemptions (in force first), or revoke one."""
    from scoring.candidates.exemptions import as_records, list_exemptions, revoke_exemption

    conn = app.connect()
    if revoke is not None:
        if not by:
            raise click.UsageError("--revoke needs --by NAME")
        revoke_exemption(conn, revoke, by=by)
        conn.commit()
        emit({"revoked": revoke}, as_json, f"exemption {revoke} revoked")
        return
    records = as_records(list_exemptions(conn, include_revoked=include_revoked))
    lines = [f"{r['exemption_id']:>5}  {r['parcel_code']:<20} {r['reason']}  "
             f"{','.join(r['kinds'])}  by {r['created_by']}"
             + ("  (revoked)" if r["revoked_at"] else "") for r in records]
    emit(records, as_json, "\n".join(lines) if lines else "no exemptions")


@candidates.command("approvals")
@click.argument("src", type=click.Path(exists=True))
@click.option("--layer", help="Layer of a multi-layer file (GPKG, GDB).")
@click.option("--crs", help="CRS of a file that declares none, e.g. 4528.")
@json_option
@click.pass_obj
def approvals(app, src, layer, crs, as_json) -> None:
    """Load approved conversions (批次: code, 批准日期, polygon) for the 批而未供 rule."""
    from scoring.candidates.approvals import load_approvals

    info = load_approvals(app.connect(), src, layer=layer, crs=crs)
    emit(info, as_json, f"already loaded as batch {info['batch_id']}; nothing changed"
         if info["already_imported"] else
         f"loaded {info['loaded']} approvals as batch {info['batch_id']}")


@candidates.command("report")
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path),
              help="Workbook to write (.xlsx).")
@click.option("--kind", type=click.Choice(KIND_CHOICES))
@click.option("--town")
@click.option("--status", type=click.Choice(STATUS_CHOICES))
@overwrite_option
@json_option
@click.pass_context
def report(ctx: click.Context, output, kind, town, status, overwrite, as_json) -> None:
    """Write the ranked candidate list with Chinese headers (and the exemptions).

    The same as `mujun export candidates -o FILE.xlsx`: the one writer and field table
    of every export (sheets 候选地块, 豁免, 说明, 字段说明).
    """
    from gis.errors import DataError
    from scoring.cli.score import invoke_export

    if output.suffix.lower() != ".xlsx":
        raise DataError(f"{output}: the report is an Excel workbook; name it *.xlsx "
                        "(`mujun export candidates` writes GIS formats)")
    invoke_export(ctx, layer="candidates", output=output, kind=kind, town=town,
                  status=status, overwrite=overwrite, as_json=as_json)


@candidates.command("sheet")
@click.argument("candidate_id", type=int)
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path),
              help="sheet.pdf or sheet.html")
@click.option("--image", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Orthophoto (GeoTIFF in the working CRS) drawn under the footprints.")
@overwrite_option
@json_option
@click.pass_obj
def sheet(app, candidate_id, output, image, overwrite, as_json) -> None:
    """Write the one-page verification sheet (核查表) of a candidate."""
    from scoring.candidates.sheet import write_sheet

    info = write_sheet(app.connect(), candidate_id, output, image=image, overwrite=overwrite)
    emit(info, as_json, f"wrote the verification sheet of candidate {candidate_id} to "
                        f"{info['path']}")
