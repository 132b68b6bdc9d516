"""``mujun report annual --year Y -o 亩均评价年度报告.docx|.pdf``: the year's report.

It belongs to the maps package, which renders (charts and the class map); the ``report``
group of :mod:`scoring.cli.report` lists it through the ``mujun.report_commands`` entry
points, as the root lists every package's commands.
"""

from __future__ import annotations

from pathlib import Path

import click

from gis.cli.options import emit, json_option, overwrite_option


@click.command("annual")
@click.option("--year", type=int, required=True, help="The data year (a score run of this "
              "year must be stored; last year's run, if any, gives the change).")
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path),
              help="亩均评价年度报告.docx (Word) or .pdf (Chinese font embedded).")
@click.option("--issuer", default="", help="Who issues it (printed under the title).")
@click.option("--no-map", "no_map", is_flag=True, help="Leave the class map out (faster).")
@overwrite_option
@json_option
@click.pass_obj
def annual_cmd(app, year: int, output: Path, issuer: str, no_map: bool, overwrite: bool,
               as_json: bool) -> None:
    """Write the year's report, Word or PDF (亩均评价年度报告).

    Summary figures; classes and their change since last year; per-mu trends over the
    stored years; towns and parks ranked with coverage, and the parks' land use;
    land-status candidates found and land approved for reclamation; policy amounts (when
    a policy run used the year's classes); the land-use tax check; charts and the class
    map; and a 数据来源 section naming every run used. A part without data says so.
    """
    from gis.progress import progress_bar
    from maps.annual.write import STAGES, write_annual

    with progress_bar(len(STAGES), "年度报告", "步", app.settings.progress) as progress:
        info = write_annual(app.connect(), output, year=year, issuer=issuer,
                            with_map=not no_map, overwrite=overwrite,
                            stage=lambda _name: progress(1))
    missing = "；".join(info["notes"].values())
    emit(info, as_json, f"已写出{year}年度报告 {info['path']}（评价运行 {info['score_run']}"
                        + (f"，上年运行 {info['previous_run']}" if info["previous_run"] else "")
                        + f"，{info['bytes'] / 1e6:.1f} MB）"
                        + (f"\n无数据的部分：{missing}" if missing else ""))
