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
    yes_no = {True: "是", False: "否"}
    lines = [
        f"{data['path']}：{data['driver']}，{data['width']} × {data['height']} 像元，"
        f"{data['count']} 个波段（{','.join(sorted(set(data['dtypes'])))}）",
        f"坐标参考系：{data['crs'] or '无（使用前须先指定）'}",
        f"像元大小：{data['resolution'][0]:g} × {data['resolution'][1]:g}（坐标参考系单位）",
        f"范围：{', '.join(f'{v:.3f}' for v in data['bounds'])}",
        f"分块：{yes_no[bool(data['tiled'])]}（块 {' × '.join(map(str, data['block_shape'] or []))}），压缩：{data['compression'] or '无'}，"
        f"金字塔：{data['overviews'] or '无'}",
        f"无数据值：{data['nodata'] if data['nodata'] is not None else '无'}，"
        f"成像日期：{data['date'] or '未知（提取时用 --date 给出）'}",
    ]
    if data.get("alpha_bands"):
        lines.append(f"第 {'、'.join(map(str, data['alpha_bands']))} 波段为 alpha（只标明影像的有效范围，"
                     "不作为光谱波段使用）")
    if not data["tiled"]:
        lines.append("提示：影像未分块；`mujun imagery cog` 转为云优化 GeoTIFF 后按窗口读取快得多")
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
