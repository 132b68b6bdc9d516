"""``mujun report``: the bureau's checks and tables built from stored runs and imports."""

from __future__ import annotations

import click

from gis.cli.main import PluginGroup
from scoring.cli.report_land_tax import land_tax_cmd
from scoring.cli.report_parks import parks_cmd


class ReportGroup(PluginGroup):
    """The subcommands below, and those other packages add through the
    ``mujun.report_commands`` entry points (the maps package's ``annual``, a document
    with charts and maps): this floor never looks a command of a floor above it up by
    name."""

    group_name = "mujun.report_commands"


@click.group("report", cls=ReportGroup)
def report() -> None:
    """Reports: land-use tax, parks, the annual report (报表).

    The land-use tax check (land-tax), development zones' land use (parks), the year's
    report with charts and maps (annual)."""


report.add_command(land_tax_cmd)
report.add_command(parks_cmd)
