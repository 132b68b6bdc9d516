"""``mujun demo``: generate the built-in sample city, load it, print a summary."""

from __future__ import annotations

import click

from gis.cli.options import emit, json_option
from sample.sizes import SIZES


@click.command("demo")
@click.option(
    "--size",
    type=click.Choice(list(SIZES)),
    default="small",
    show_default=True,
    help="small: 340-520 parcels with imagery (seconds); city: about 102,000 parcels; "
         "province: about 2 million.",
)
@click.option("--seed", type=int, default=1, show_default=True, help="Same seed, same city.")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Folder of the sample (default: <home>/demo/<size>-<seed>).",
)
@click.option(
    "--no-load", is_flag=True, help="Only generate the files; do not load them into PostGIS."
)
@click.option(
    "--extract-method",
    type=click.Choice(["ndsm", "onnx"]),
    default="ndsm",
    show_default=True,
    help="How the extract stage finds buildings: ndsm (heights) or onnx (a small U-Net trained "
         "here in about a minute on the western half of the sample's imagery, then run on all of it).",
)
@json_option
@click.pass_context
def demo(
    ctx: click.Context, size: str, seed: int, out_dir: str | None, no_load: bool,
    extract_method: str, as_json: bool
) -> None:
    """Generate the sample city (once), load it into PostGIS and summarise it.

    Re-running is safe and fast: a complete sample folder is reused and an
    already loaded sample is not loaded again.
    """
    from pathlib import Path

    from gis.progress import progress_bar
    from sample.demo import DemoRun, run_demo, summary, summary_text

    app = ctx.obj
    settings = app.settings
    root = Path(out_dir) if out_dir else settings.home_path / "demo" / f"{size}-{seed}"
    run = DemoRun(
        size=size,
        seed=seed,
        root=root,
        load=not no_load,
        extract_method=extract_method,
        connect=app.connect,
        settings=settings,
        progress_bar=lambda total, desc, unit: progress_bar(
            total, desc, unit, enabled=settings.progress and not as_json
        ),
    )
    run_demo(run)
    data = summary(run)
    emit(data, as_json, summary_text(data))
