"""``mujun enterprise show CODE``: one file per enterprise (一企一档)."""

from __future__ import annotations

import click

from gis.cli.options import emit, json_option


@click.group("enterprise")
def enterprise() -> None:
    """One file per enterprise: header, classes by year, per-mu figures, land, warnings."""


@enterprise.command("show")
@click.argument("credit_code")
@json_option
@click.pass_obj
def show_cmd(app, credit_code: str, as_json: bool) -> None:
    """Show everything stored about one enterprise.

    The class history (initial and adjusted class, ranks, rule set) by data year, per-mu
    figures against the industry and town averages, land held, leased in and leased out
    with certificate and measured area, warnings, and land-status candidates on its
    parcels.
    """
    from maps.enterprise_file import enterprise_file, file_text

    rec = enterprise_file(app.connect(), credit_code)
    emit(rec, as_json, file_text(rec) if not as_json else None)
