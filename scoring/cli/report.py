"""``mujun report``: the bureau's checks and tables built from stored runs and imports."""

from __future__ import annotations

import click

from scoring.cli.report_land_tax import land_tax_cmd


@click.group("report")
def report() -> None:
    """Reports: the land-use tax check (land-tax)."""


report.add_command(land_tax_cmd)
