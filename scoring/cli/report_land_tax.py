"""``mujun report land-tax --year Y``: occupied land as measured against the taxed area."""

from __future__ import annotations

from pathlib import Path

import click

from gis.cli.options import emit, json_option, overwrite_option


@click.command("land-tax")
@click.option("--year", type=int, required=True, help="Tax year (the latest occupancy run "
              "with figures for this year is used).")
@click.option("-o", "--output", type=click.Path(path_type=Path),
              help="land_tax.xlsx (firms, totals per town, note) or land_tax.csv (firms).")
@click.option("--tolerance", type=click.FloatRange(0, 0.5), default=0.01, show_default=True,
              help="Areas within this share of the larger one agree.")
@overwrite_option
@json_option
@click.pass_obj
def land_tax_cmd(app, year: int, output: Path | None, tolerance: float, overwrite: bool,
                 as_json: bool) -> None:
    """Tax base against the land each firm occupies (土地使用税核查).

    Per firm: occupied land (latest occupancy run of the year) against the taxed area
    (`mujun import land-tax`); findings: land occupied without a tax registration,
    occupied land larger than the taxed area, taxed area larger than the land held; the
    tax difference at the grade's unit rate (元 a year); totals per town.
    """
    from scoring.land_tax import land_tax_check
    from scoring.land_tax_file import land_tax_text, write_land_tax

    table, towns, info = land_tax_check(app.connect(), year=year, tolerance=tolerance)
    written = write_land_tax(table, towns, info, output, overwrite=overwrite) if output else None
    if as_json:
        def records(f):
            return f.astype(object).where(f.notna(), None).to_dict("records")
        emit({**info, "towns": records(towns), "firms": records(table),
              **({"output": written} if written else {})}, True)
        return
    text = land_tax_text(table, towns, info)
    if written:
        text += f"\n\n已写出 {written['path']}（{written['rows']:,} 家企业）"
    emit(None, False, text)
