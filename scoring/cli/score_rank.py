"""``mujun score rank --by town|district|park|industry``: per-mu figures with coverage."""

from __future__ import annotations

import click

from gis.cli.options import emit, json_option


@click.command("rank")
@click.option("--by", type=click.Choice(("town", "district", "park", "industry")),
              default="town", show_default=True, help="Rank towns, districts, parks (园区) "
              "or industry divisions (GB/T 4754).")
@click.option("--year", type=int, help="Latest score run of this year.")
@click.option("--run", "run_id", type=int, help="Score run id (default: the latest).")
@json_option
@click.pass_obj
def rank_cmd(app, by: str, year: int | None, run_id: int | None, as_json: bool) -> None:
    """Rank areas by tax per mu, with coverage (区域排名).

    Coverage shows an area that scores well by leaving firms out: firms evaluated /
    firms holding industrial land (land use 0601) and land evaluated / industrial land
    (mu). Per-mu figures are Σ figure / Σ land of the evaluated firms.
    """
    from scoring.rank import rank_run, rank_text

    table, info = rank_run(app.connect(), by=by, run_id=run_id, year=year)
    records = table.astype(object).where(table.notna(), None).to_dict("records")
    emit({**info, "groups": records}, as_json, rank_text(table, info) if not as_json else None)
