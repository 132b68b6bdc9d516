"""``mujun imagery``: describe survey rasters and convert them to COGs."""

from __future__ import annotations

from pathlib import Path

import click

from gis.cli.options import emit, json_option, overwrite_option


@click.group()
def imagery() -> None:
    """Survey rasters: inspect (info) and convert to Cloud-Optimized GeoTIFF (cog)."""


@imagery.command()
@click.argument("image", type=click.Path(dir_okay=False, path_type=Path))
@json_option
def info(image: Path, as_json: bool) -> None:
    """Show CRS, resolution, bands, tiling and acquisition date of IMAGE."""
    from remote_sensing.readers import raster_info

    data = raster_info(image)
    lines = [
        f"{data['path']}: {data['driver']} {data['width']} x {data['height']} px, "
        f"{data['count']} band(s) {','.join(sorted(set(data['dtypes'])))}",
        f"CRS: {data['crs'] or 'NONE (assign one before use)'}",
        f"resolution: {data['resolution'][0]:g} x {data['resolution'][1]:g}",
        f"bounds: {', '.join(f'{v:.3f}' for v in data['bounds'])}",
        f"tiled: {data['tiled']} (block {data['block_shape']}), compression: {data['compression']}, "
        f"overviews: {data['overviews']}",
        f"nodata: {data['nodata']}, date: {data['date'] or 'unknown (use --date when extracting)'}",
    ]
    if not data["tiled"]:
        lines.append("hint: untiled image; `mujun imagery cog` makes windowed reads much cheaper")
    emit(data, as_json, "\n".join(lines))


@imagery.command()
@click.argument("image", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Output COG (.tif).")
@click.option("--compress", default="DEFLATE", show_default=True,
              type=click.Choice(["DEFLATE", "LZW", "ZSTD", "JPEG", "WEBP"], case_sensitive=False))
@overwrite_option
def cog(image: Path, output: Path, compress: str, overwrite: bool) -> None:
    """Write IMAGE as a tiled, compressed Cloud-Optimized GeoTIFF."""
    from remote_sensing.cog import to_cog

    to_cog(image, output, overwrite=overwrite, compress=compress.upper())
    click.echo(str(output))
