"""``mujun score notice``: the public notice (公示) of a score run, a document.

It belongs to the maps package, which renders (scoring renders nothing); the ``score``
group of :mod:`scoring.cli.score` lists it through the ``mujun.score_commands`` entry
points, as the root lists every package's commands.
"""

from __future__ import annotations

from pathlib import Path

import click

from gis.cli.options import emit, json_option, overwrite_option


@click.command("notice")
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path),
              help="The notice: 公示.pdf (Chinese font embedded) or 公示.docx (Word).")
@click.option("--run", "run_id", type=int, help="Score run (default: the latest).")
@click.option("--days", type=click.IntRange(1, 365), default=30, show_default=True,
              help="Length of the notice period.")
@click.option("--start", type=click.DateTime(formats=["%Y-%m-%d"]),
              help="First day of the notice period (default: today).")
@click.option("--issuer", default="", help="Who publishes it (printed above the date).")
@overwrite_option
@json_option
@click.pass_obj
def notice_cmd(app, output: Path, run_id: int | None, days: int, start, issuer: str,
               overwrite: bool, as_json: bool) -> None:
    """Write a score run's public notice, PDF or Word (公示).

    Classes A-D with their firms (name, credit code, town; the adjusted class where an
    official recorded one), the indicator set and class rule named, the notice period
    with its dates, and the annexes: not evaluated (T), protection period, vetoed, each
    with its reason. No tax or other figures are printed.
    """
    from maps.notice import write_notice

    info = write_notice(app.connect(), output, run_id=run_id, days=days,
                        start=start.date() if start else None, issuer=issuer,
                        overwrite=overwrite)
    emit(info, as_json, f"公示已写入 {info['path']}（评分运行 {info['run_id']}，公示期 "
                        f"{info['start']} 至 {info['end']}）")
