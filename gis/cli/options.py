"""Options shared by several subcommands, defined once."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

json_option = click.option(
    "--json", "as_json", is_flag=True, help="Print the figures as JSON on stdout instead of text."
)
overwrite_option = click.option(
    "--overwrite", is_flag=True, help="Replace the output if it exists (never done without this)."
)
dry_run_option = click.option(
    "--dry-run", is_flag=True, help="Check and report everything, write nothing."
)


def emit(data: Any, as_json: bool, text: str | None = None) -> None:
    """Print a command's result: JSON when asked for, otherwise the given text."""
    if as_json:
        json.dump(data, sys.stdout, ensure_ascii=False, indent=2, default=str)
        sys.stdout.write("\n")
    else:
        click.echo(text if text is not None else json.dumps(data, ensure_ascii=False, default=str))


def polygon_layer_options(f):
    """The options of a polygon-layer import (``SRC`` argument, layer, CRS, encoding,
    swapped axes, dry run, partial loads with their rejects file, overwrite, JSON)."""
    for option in reversed((
            click.argument("src", type=click.Path(exists=True)),
            click.option("--layer", help="Layer of a multi-layer file (GPKG, GDB)."),
            click.option("--crs", help="CRS of a file that declares none, e.g. 4528."),
            click.option("--encoding",
                         help="Attribute text encoding (default: .cpg, else detected)."),
            click.option("--swap-xy", is_flag=True,
                         help="Exchange x and y (latitude/longitude swapped)."),
            dry_run_option,
            click.option("--accept-partial", is_flag=True,
                         help="Load the good features; list rejected ones in the rejects file."),
            click.option("--rejects", type=click.Path(dir_okay=False),
                         help="Rejects CSV for --accept-partial (default: ./SRC.rejects.csv)."),
            overwrite_option, json_option)):
        f = option(f)
    return f
