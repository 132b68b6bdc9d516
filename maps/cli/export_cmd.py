"""``mujun export``: write a layer for QGIS, ArcGIS, Excel or Google Earth."""

from __future__ import annotations

from pathlib import Path

import click

from gis.cli.options import emit, json_option, overwrite_option

#: Kept in step with maps.export.layers.LAYERS (imported lazily: --help stays fast).
LAYER_NAMES = ("parcels", "enterprises", "scores", "candidates", "footprints", "towns", "occupancy",
               "enterprise_land", "policy")


def _print_fields(ctx: click.Context, _param, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    from maps.fields import FIELDS

    for f in FIELDS.values():
        click.echo(f"{f.name:<20} {f.treatment:<10} {f.zh}  ({f.en})")
    ctx.exit()


@click.command("export")
@click.argument("layer", type=click.Choice(LAYER_NAMES))
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path),
              help="Output file; the extension picks the format: .gpkg (QGIS style "
                   "included), .shp (+.cpg, .qml, alias table), .geojson (RFC 7946), .kml, "
                   ".gdb (FileGDB), .csv (UTF-8 with BOM), .xlsx (Chinese headers). In an "
                   "existing .gpkg or .gdb the other layers are kept.")
@click.option("--crs", metavar="EPSG", help="Reproject to this CRS (e.g. 4490, 4528). "
              "GeoJSON and KML are always WGS84.")
@click.option("--desensitize", is_flag=True, help="Mask enterprise names and credit codes, "
              "drop tax, revenue and other confidential figures (list: --fields).")
@click.option("--run", "run_id", type=int, help="Run to export (occupancy run for parcels, "
              "towns, occupancy, enterprise_land; score run for enterprises and scores; "
              "candidates run for candidates; policy run for policy). Default: the latest.")
@click.option("--year", type=int, help="Year of the enterprise records (default: newest); "
              "for scores, the latest score run of this year.")
@click.option("--kind", help="candidates: only this kind (e.g. idle_not_started); policy: "
              "the collecting body's list (power, water, sewage, gas, tax, credit).")
@click.option("--town", help="candidates: only this town.")
@click.option("--status", help="candidates: only this status (e.g. new, confirmed).")
@click.option("--encoding", type=click.Choice(["utf-8", "gbk"]), default="utf-8",
              show_default=True, help="Shapefile text encoding (GBK for old ArcGIS).")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True,
              help="Language of layer titles.")
@click.option("--fields", is_flag=True, expose_value=False, is_eager=True,
              callback=_print_fields,
              help="List every field with its alias and how --desensitize treats it.")
@overwrite_option
@json_option
@click.pass_obj
def export_cmd(app, layer: str, output: Path, crs: str | None, desensitize: bool,
               run_id: int | None, year: int | None, kind: str | None, town: str | None,
               status: str | None, encoding: str, lang: str, overwrite: bool,
               as_json: bool) -> None:
    """Write LAYER to a GIS file or table (导出图层).

    GeoPackages carry a default QGIS style (colours and Chinese aliases) in their
    layer_styles table; Shapefiles get the same style as a .qml beside them. Written
    by the one layer writer of every command (gis.layer_writer), with these styles.
    """
    from maps.export.layers import export_layer

    filters = {k: v for k, v in (("kind", kind), ("town", town), ("status", status)) if v}
    if filters and layer != "candidates" and not (layer == "policy" and set(filters) == {"kind"}):
        raise click.UsageError("类型（--kind）、镇街（--town）和状态（--status）只用于候选地块"
                               "图层（candidates）；--kind 也用于政策清单（policy）的征收单位")
    info = export_layer(app.connect(), layer, output, run_id=run_id, year=year,
                        crs=int(crs) if crs and crs.isdigit() else crs,
                        desensitize=desensitize, encoding=encoding, lang=lang,
                        overwrite=overwrite, filters=filters)
    from maps.export.layers import LAYERS

    emit(info, as_json, f"已写出 {info['path']}：{LAYERS[layer].zh} {info['rows']:,} 行")
