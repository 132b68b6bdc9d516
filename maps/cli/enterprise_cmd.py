"""``mujun enterprise show|sheet CODE``: one file per enterprise (一企一档)."""

from __future__ import annotations

import click

from gis.cli.options import emit, json_option


@click.group("enterprise")
def enterprise() -> None:
    """One file per enterprise: classes, figures, land (企业档案).

    Panels: header, classes by year, per-mu figures, land, imagery, department figures,
    warnings, candidates, policies and appeals."""


@enterprise.command("show")
@click.argument("credit_code")
@json_option
@click.pass_obj
def show_cmd(app, credit_code: str, as_json: bool) -> None:
    """Show everything stored about one enterprise, in Chinese (--json: as data).

    The panels are those of the setting enterprise_panels (default: every one).
    """
    from maps.enterprise_file import enterprise_file, file_text

    rec = enterprise_file(app.connect(), credit_code, panels=app.settings.enterprise_panels)
    emit(rec, as_json, file_text(rec) if not as_json else None)


@enterprise.command("sheet")
@click.argument("credit_code")
@click.option("-o", "--output", "output", required=True, type=click.Path(dir_okay=False),
              help="The PDF to write, e.g. 一企一档.pdf.")
@click.option("--overwrite", is_flag=True, help="Replace an existing file.")
@json_option
@click.pass_obj
def sheet_cmd(app, credit_code: str, output: str, overwrite: bool, as_json: bool) -> None:
    """Write the enterprise file as an A4 PDF with the Chinese font embedded.

    The panels are those of the setting enterprise_panels; the parcels are drawn on the
    imagery of the first and last survey covering them.
    """
    from maps.enterprise_file.sheet import write_sheet

    result = write_sheet(app.connect(), credit_code, output,
                         panels=app.settings.enterprise_panels, overwrite=overwrite)
    emit(result, as_json, f"已写入 {result['path']}（{result['bytes']:,} 字节，"
                          f"影像 {result['images']} 幅）")
