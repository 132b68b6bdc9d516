"""``mujun report parks --year Y``: land-use intensity per development zone (园区)."""

from __future__ import annotations

from pathlib import Path

import click

from gis.cli.options import emit, json_option, overwrite_option


@click.command("parks")
@click.option("--year", type=int, required=True, help="Year (the latest occupancy run with "
              "figures for this year, the firms' tax of this year).")
@click.option("-o", "--output", type=click.Path(path_type=Path),
              help="parks.xlsx (table and the indicators that cannot be computed) or parks.csv.")
@overwrite_option
@json_option
@click.pass_obj
def parks_cmd(app, year: int, output: Path | None, overwrite: bool, as_json: bool) -> None:
    """Land-use intensity per park (园区用地评价).

    The indicators of the national development-zone evaluation that the database
    supports; the land development rate, the supply rate and fixed-asset investment are
    named with the reason they cannot be computed.
    """
    from scoring.parks import park_report
    from scoring.parks_file import parks_text, write_parks

    table, info = park_report(app.connect(), year=year)
    written = write_parks(table, info, output, overwrite=overwrite) if output else None
    if as_json:
        records = table.astype(object).where(table.notna(), None).to_dict("records")
        emit({**info, "parks": records, **({"output": written} if written else {})}, True)
        return
    text = parks_text(table, info)
    if written:
        text += f"\n\n已写出 {written['path']}（{written['rows']:,} 个园区）"
    emit(None, False, text)
