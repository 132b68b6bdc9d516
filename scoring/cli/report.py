"""``mujun report``: the bureau's checks and tables built from stored runs and imports."""

from __future__ import annotations

import click

from scoring.cli.report_land_tax import land_tax_cmd
from scoring.cli.report_parks import parks_cmd


@click.group("report")
def report() -> None:
    """Reports: the land-use tax check (land-tax), development zones' land use (parks)."""


report.add_command(land_tax_cmd)
report.add_command(parks_cmd)
