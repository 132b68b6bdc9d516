"""``mujun candidates report`` and ``mujun candidates sheet``: the documents of land status.

They belong to the maps package, which renders (scoring renders nothing); the
``candidates`` group of :mod:`scoring.land_status.cli.candidates` lists them through
the ``mujun.candidates_commands`` entry points, as the root lists every package's
commands, so no floor looks up a command above it.
"""

from __future__ import annotations

from pathlib import Path

import click

from gis.cli.options import emit, json_option, overwrite_option


@click.command("report")
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path),
              help="Workbook to write (.xlsx).")
@click.option("--kind", help="Only this kind (e.g. idle_not_started).")
@click.option("--town")
@click.option("--status", help="Only this status (e.g. new, confirmed).")
@overwrite_option
@json_option
@click.pass_context
def report(ctx: click.Context, output, kind, town, status, overwrite, as_json) -> None:
    """Write the ranked candidate list (候选地块清单).

    The same rows as `mujun export candidates -o FILE.xlsx`, through the one layer
    writer and field table of every export (sheets 候选地块, 豁免, 说明, 字段说明).
    """
    from scoring.land_status.report import write_report
    from scoring.land_status.vocabulary import KINDS, STATUSES

    if kind is not None:
        KINDS.check(kind, what="类型")
    if status is not None:
        STATUSES.check(status, what="状态")
    info = write_report(ctx.obj.connect(), output, kind=kind, town=town, status=status,
                        overwrite=overwrite)
    emit(info, as_json, f"已写出 {info['path']}：候选地块 {info['rows']:,} 宗")


@click.command("sheet")
@click.argument("candidate_id", type=int)
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path),
              help="sheet.pdf or sheet.html")
@click.option("--image", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Orthophoto (GeoTIFF) drawn under the footprints (default: the image "
                   "recorded with each survey, when there is one).")
@overwrite_option
@json_option
@click.pass_obj
def sheet(app, candidate_id, output, image, overwrite, as_json) -> None:
    """Write a candidate's one-page sheet (核查表)."""
    from maps.sheet import write_sheet

    info = write_sheet(app.connect(), candidate_id, output, image=image, overwrite=overwrite)
    emit(info, as_json, f"已写出候选 {candidate_id} 的核查表 {info['path']}")
