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
