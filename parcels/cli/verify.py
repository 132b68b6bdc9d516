"""``mujun verify``: the township verification loop (export the queue, apply the answers)."""

from __future__ import annotations

import click

from gis.cli.options import dry_run_option, emit, json_option, overwrite_option


@click.group("verify")
def verify() -> None:
    """Townships check unmatched records (乡镇核实).

    \b
    Problem types (one sheet each): enterprise_no_land, parcel_no_holder,
    unknown_code, power_no_tax, duplicate; and the warnings of score runs
    (`mujun score`): zero_electricity, tax_per_mu_high, records_no_land,
    land_no_records, yoy_jump.
    """


@verify.command("export")
@click.option("--town", help="Only this town's items.")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="Workbook to write (.xlsx).")
@overwrite_option
@json_option
@click.pass_obj
def export_cmd(app, town, output, overwrite, as_json):
    """Write the open items to a workbook (导出待核实事项).

    \b
    Sheets and the answer columns read back by `mujun verify apply`:
      enterprise_no_land  land_parcel_code (+ right_type owner/tenant)
      parcel_no_holder    holder_credit_code
      unknown_code        corrected_credit_code / corrected_parcel_code /
                          corrected_industry_code
      power_no_tax        tax_wan
      duplicate           corrected_credit_code
      zero_electricity    electricity_kwh
      tax_per_mu_high     tax_wan
      records_no_land     land_parcel_code (+ right_type)
      land_no_records     tax_wan / revenue_wan / electricity_kwh
      yoy_jump            tax_wan / revenue_wan / electricity_kwh
    Every sheet also has action (resolve | dismiss) and note. Township staff
    see Chinese: sheets are titled 企业无用地, 宗地无权利人, ... and the header
    row reads 编号, 乡镇, 统一社会信用代码, ..., 处理（核实/忽略）, 备注; `verify
    apply` reads these headers back after an edit in Excel or WPS (added
    columns, retyped headers and 核实/忽略 are fine; keep 编号). Items are
    recorded in the database, so their 编号 (item_id) stays stable across exports.
    """
    from parcels.importing.verification import export_queue
    from parcels.vocabulary import VERIFICATION_KINDS

    counts = export_queue(app.connect(), output, town=town, overwrite=overwrite)
    emit({"output": output, "items": counts}, as_json,
         f"已写出 {output}：" + ("、".join(f"{VERIFICATION_KINDS.label(k)} {v} 项"
                                          for k, v in counts.items()) or "没有待核实事项"))


@verify.command("apply")
@click.argument("resolved", type=click.Path(exists=True, dir_okay=False))
@dry_run_option
@json_option
@click.pass_obj
def apply_cmd(app, resolved, dry_run, as_json):
    """Apply a resolved verification workbook (核实结果入库).

    Every answer is checked first (credit codes well formed, parcels known,
    industry codes in GB/T 4754-2017); any invalid answer means nothing is
    applied and the message names the sheet and row. The changes are recorded
    as an import batch of kind 'verification'; applying the same file again
    changes nothing.
    """
    from parcels.importing.verification import apply_resolutions

    result = apply_resolutions(app.connect(), resolved, dry_run=dry_run)
    emit(result.to_dict(), as_json, result.text())
