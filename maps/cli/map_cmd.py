"""``mujun map KIND -o OUT.html|png|pdf|svg``: offline web maps and report figures."""

from __future__ import annotations

from pathlib import Path

import click

from gis.cli.options import emit, json_option, overwrite_option

#: Kept in step with maps.web.kinds.KINDS (imported lazily: --help stays fast).
KIND_NAMES = ("industry", "per-mu", "classes", "heat", "candidates", "land-status", "towns",
              "policy", "compare", "land-tax", "supply")
SCHEMES = ("quantiles", "natural_breaks", "fisher_jenks", "equal_interval")


@click.command("map")
@click.argument("kind", type=click.Choice(KIND_NAMES))
@click.argument("runs", nargs=-1, type=int)
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path),
              help="OUT.html: an offline web page (Leaflet inlined; big maps get an "
                   "OUT_files folder of tiles beside it). OUT.png/.pdf/.svg: a report figure.")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True,
              help="Language of titles, legends and popups.")
@click.option("--field", default="tax_per_mu", show_default=True,
              type=click.Choice(["tax_per_mu", "revenue_per_mu", "value_added_per_mu"]),
              help="per-mu/heat/towns: the figure to map.")
@click.option("--scheme", type=click.Choice(SCHEMES), default="quantiles", show_default=True,
              help="per-mu: class breaks (mapclassify).")
@click.option("-k", "--classes", "k", type=click.IntRange(2, 7), default=5, show_default=True,
              help="per-mu: number of classes.")
@click.option("--run", "run_id", type=int, help="Occupancy run (classes: score run; "
              "candidates/land-status: candidates run; policy: policy run). Default: the latest.")
@click.option("--year", type=int, help="Year of the enterprise records (default: newest).")
@click.option("--basemap", type=click.Choice(["none", "ortho", "tianditu", "gaode", "xyz"]),
              default="none", show_default=True,
              help="Page background. none/ortho keep the page offline; tianditu, gaode and "
                   "xyz load tiles from that server (Gaode is GCJ-02: the display copy of "
                   "the data is shifted to match; stored data never is).")
@click.option("--ortho", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="--basemap ortho: the survey orthophoto (GeoTIFF), cut into local tiles.")
@click.option("--basemap-url", metavar="URL", help="--basemap xyz: tile URL with {z}/{x}/{y} "
              "or WMTS {TileMatrix}/{TileRow}/{TileCol} placeholders (e.g. an intranet server).")
@click.option("--tianditu-token", metavar="TK", envvar="MUJUN_TIANDITU_TOKEN",
              help="--basemap tianditu: the Tianditu key (or MUJUN_TIANDITU_TOKEN).")
@click.option("--paper", type=click.Choice(["A4", "A3", "A4-portrait", "A3-portrait"]),
              default="A4", show_default=True, help="Figures: page size (landscape unless "
              "-portrait).")
@click.option("--dpi", type=click.IntRange(72, 1200), default=300, show_default=True,
              help="Figures: resolution of .png (and of images inside .pdf).")
@click.option("--inline-limit", type=float, default=8.0, show_default=True, metavar="MB",
              help="Pages: data up to this size is embedded in the page; beyond it, tiles "
                   "go to OUT_files/ beside the page.")
@overwrite_option
@json_option
@click.pass_obj
def map_cmd(app, kind: str, runs: tuple[int, ...], output: Path, lang: str, field: str,
            scheme: str, k: int, run_id: int | None, year: int | None, basemap: str, ortho: Path | None,
            basemap_url: str | None, tianditu_token: str | None, paper: str, dpi: int,
            inline_limit: float, overwrite: bool, as_json: bool) -> None:
    """Draw KIND as a web map or a figure (专题图).

    \b
    industry     parcels by the holder's GB/T 4754 division (产业地图)
    per-mu       tax/revenue/value added per mu, classes by mapclassify
    classes      A/B/C/D/T classes of the latest score run
    heat         heat map of per-mu tax
    candidates   idle / unfinished / built-unused candidates by kind
    land-status  candidates by review status
    towns        town aggregates
    policy       parcels by the holder's surcharges and reliefs (policy run)
    compare      RUN_A RUN_B: parcels by the holder's class change between two score runs
    land-tax     --year Y: parcels by the holder's land-use tax finding (report land-tax)
    supply       standard-land plots by status (indicators in the popup), contract
                 performance, candidates → supplied, redevelopment areas, assessments
    """
    from maps.make import make_map
    from maps.web.kinds import MapOptions

    if (kind == "compare" and len(runs) != 2) or (kind != "compare" and runs):
        raise click.UsageError("对比图需要且只有对比图需要两个评价运行号："
                               "mujun map compare 运行甲 运行乙 -o 文件")
    options = MapOptions(lang=lang, field=field, scheme=scheme, k=k, run_id=run_id, year=year,
                         runs=runs)
    info = make_map(app.connect(), kind, output, options=options, basemap=basemap,
                    basemap_url=basemap_url, tianditu_token=tianditu_token, ortho=ortho,
                    paper=paper, dpi=dpi, inline_limit_mb=inline_limit, overwrite=overwrite)
    extra = f"，瓦片在 {info['files']}" if info.get("files") else ""
    emit(info, as_json, f"已写出{info['title']} {info['path']}（{info['bytes'] / 1e6:.1f} MB"
                        f"{extra}），用时 {info['seconds']} 秒")
