"""``mujun import``: load parcels, enterprise records, land rights and footprints.

Thin wrappers over :mod:`parcels.importing`; heavy imports happen inside the
command bodies so ``mujun --help`` stays instant.
"""

from __future__ import annotations

import click

from gis.cli.main import PluginGroup
from gis.cli.options import dry_run_option, emit, json_option, overwrite_option

_COMMON_HELP = """
\b
Every import:
  * is all or nothing: any error means nothing is written, and the message
    names the row or feature and the reason;
  * with --accept-partial, loads the good rows and writes a rejects file
    (row/feature number and reason per line; default ./SRC.rejects.csv in
    the working directory, or --rejects FILE);
  * is recorded as an import batch with its counts, report, the source
    file's SHA-256 and the options it was read with; the same file read the
    same way (layer, sheet, encoding, mapping, year, CRS) changes nothing
    the second time, even when two identical imports start together;
  * names every column it guessed (and how to override the guess);
  * with --dry-run, checks and reports everything and writes nothing.
"""

_UPSERT_HELP = """

Updates change only the columns the file carries, and only where it has a
value: a file without (or with empty) 证载面积 keeps the stored areas.
--clear-blanks makes empty cells clear stored values.
"""


def _partial_options(f):
    f = click.option("--rejects", type=click.Path(dir_okay=False),
                     help="Rejects CSV for --accept-partial (default: ./SRC.rejects.csv in "
                          "the working directory).")(f)
    f = click.option("--accept-partial", is_flag=True,
                     help="Load the good rows; list rejected ones in the rejects file.")(f)
    return f


def _layer_options(f):
    """Options of the vector-file imports (parcels, footprints), applied in one go."""
    f = click.option("--swap-xy", is_flag=True,
                     help="Exchange x and y (latitude/longitude given swapped).")(f)
    f = click.option("--encoding",
                     help="Attribute text encoding (default: .cpg, else detected).")(f)
    f = click.option("--crs", help="CRS of the data when it declares none or declares the wrong "
                                   "one (EPSG code, WKT, PROJ).")(f)
    f = click.option("--layer", help="Layer name (multi-layer sources).")(f)
    return f


def _table_options(f):
    """Options of the table imports (workbooks and CSV), applied in one go."""
    f = click.option("--encoding", help="CSV text encoding (default: detected UTF-8/GBK).")(f)
    f = click.option("--sheet", help="Sheet name or 0-based number (default: first).")(f)
    f = click.option("--mapping", type=click.Path(exists=True, dir_okay=False),
                     help="Mapping YAML (sheet, header rows, columns, units).")(f)
    return f


def _map_option(fields: str):
    return click.option("--map", "maps", multiple=True, metavar="FIELD=COLUMN",
                        help="Read COLUMN as FIELD (repeatable; wins over recognised columns); "
                             f"FIELD= reads no column as FIELD. Fields: {fields}.")


def _run(app, as_json: bool, desc: str, func, src: str, accept_partial: bool,
         rejects: str | None, **kwargs):
    from gis.errors import ImportRejected
    from gis.importing.common import default_rejects_path
    from gis.progress import progress_bar

    if accept_partial and rejects is None:
        rejects = str(default_rejects_path(src))
    conn = app.connect()
    try:
        with progress_bar(None, desc, unit="row", enabled=app.settings.progress) as tick:
            result = func(conn, src, accept_partial=accept_partial, rejects=rejects,
                          progress=tick, **kwargs)
    except ImportRejected as exc:
        if as_json and exc.report is not None:
            emit({"kind": desc, "source": src, "rejected": True, "message": str(exc),
                  **{k: v for k, v in exc.report.to_dict(max_issues=200).items()
                     if k != "source"}}, True)
        raise
    emit(result.to_dict(), as_json, result.text())


class ImportGroup(PluginGroup):
    """The imports below, and those of kinds owned by floors above this one (the area-wide
    assessments of standard land) through the ``mujun.import_commands`` entry points."""

    group_name = "mujun.import_commands"


@click.group("import", cls=ImportGroup)
def import_group() -> None:
    """Import parcels, enterprise records, land rights and footprints into PostGIS."""


@import_group.command("parcels", help="""Import a parcel layer (宗地) from any OGR source.

\b
SRC is a Shapefile (GBK or UTF-8, with or without .cpg), GeoPackage, GeoJSON,
TopoJSON, FileGDB, ... The data must declare a CRS or be given one with --crs.
Latitude/longitude in swapped order is detected (fix with --swap-xy).
Geometries are reprojected to the working CRS (the database's; on the first
load chosen from the data: CGCS2000 3-degree zone in China, UTM elsewhere,
or the working_crs setting). Invalid geometries are repaired and reported;
empty and degenerate ones are rejected. Listed: duplicate parcel codes,
overlaps with their area, codes that do not follow GB/T 37346 (warning), and
certificate vs measured area differences. Every feature must lie where its
CRS is used (a wrong zone or a zone prefix is refused with the likely --crs).
Chinese column names (宗地代码, 证载面积, 土地用途, 供地日期, 约定开工日期,
约定竣工日期, 容积率, 乡镇, 园区/开发区 ...) are recognised; --map FIELD=COLUMN
or --id-field name others and settle ambiguity. Rows are upserted by parcel code.
""" + _UPSERT_HELP + _COMMON_HELP)
@click.argument("src", type=click.Path(exists=True))
@_layer_options
@click.option("--id-field", help="Column holding the parcel code (wins over other candidates).")
@_map_option("parcel_code cert_area_m2 land_use_code supply_date agreed_start_date "
             "agreed_finish_date planned_far town district park")
@click.option("--clear-blanks", is_flag=True,
              help="Empty cells clear stored values (default: they keep them).")
@dry_run_option
@_partial_options
@overwrite_option
@json_option
@click.pass_obj
def parcels_cmd(app, src, layer, crs, encoding, id_field, maps, clear_blanks, swap_xy, dry_run,
                accept_partial, rejects, overwrite, as_json):
    from gis.importing.headers import load_field_specs, parse_column_map
    from parcels.importing.kinds import register_import_kinds
    from parcels.importing.parcel_import import import_parcels

    register_import_kinds()
    mapping = parse_column_map(maps, load_field_specs("parcels")) if maps else None
    _run(app, as_json, "parcels", import_parcels, src, accept_partial, rejects, layer=layer,
         crs=crs, encoding=encoding, id_field=id_field, mapping=mapping, swap_xy=swap_xy,
         clear_blanks=clear_blanks, dry_run=dry_run, overwrite=overwrite,
         settings=app.settings)


@import_group.command("enterprises", help="""Import enterprise records for one year (XLSX, XLS or CSV).

\b
CSV may be UTF-8 or GBK (detected). Headers are recognised out of the box,
including merged multi-row headers: 统一社会信用代码, 企业名称, 行业代码,
税收/实缴税金, 营业收入/主营业务收入, 工业增加值, 综合能耗, 用电量, 研发经费,
年平均职工人数, 主要污染物排放量, 规模以上, 乡镇. Units are read from the headers
(税收(万元), 用电量(万千瓦时), 元, 吨标煤, 千瓦时 ...) and converted to the schema
units (万元, 吨标煤, kWh, 吨). Credit codes: malformed is an error, a failed
check character a warning. Industry codes are checked against the shipped
GB/T 4754-2017 table at division level (unknown: warning). Duplicates,
negative or absurd values and missing names/codes are caught. Registration
status (登记状态/经营状态: 存续/在业/开业, 停业/歇业/停产, 注销/吊销, 迁出),
成立日期 and 注销日期 are read. Rows are upserted by (credit code, year).

\b
A mapping YAML covers other layouts:
  sheet: 2023年      header_rows: 2     first_row: 1
  columns: {credit_code: 纳税人识别号, electricity_kwh: 电力消耗}
  units: {tax_wan: 元}
""" + _UPSERT_HELP + _COMMON_HELP)
@click.argument("src", type=click.Path(exists=True, dir_okay=False))
@click.option("--year", type=int, required=True, help="Year the figures are for.")
@_table_options
@_map_option("credit_code name industry_code tax_wan revenue_wan value_added_wan energy_tce "
             "electricity_kwh rd_wan employees emissions_t size_class town status "
             "established_date deregistered_date")
@click.option("--clear-blanks", is_flag=True,
              help="Empty cells clear stored values (default: they keep them).")
@dry_run_option
@_partial_options
@overwrite_option
@json_option
@click.pass_obj
def enterprises_cmd(app, src, year, mapping, sheet, encoding, maps, clear_blanks, dry_run,
                    accept_partial, rejects, overwrite, as_json):
    from parcels.importing.enterprise_import import import_enterprises, load_mapping, merge_maps
    from parcels.importing.kinds import register_import_kinds

    register_import_kinds()
    _run(app, as_json, "enterprises", import_enterprises, src, accept_partial, rejects,
         year=year, mapping=merge_maps(load_mapping(mapping), maps, "enterprises"), sheet=sheet,
         encoding=encoding, clear_blanks=clear_blanks, dry_run=dry_run, overwrite=overwrite)


@import_group.command("land-rights", help="""Import ownership and tenancy links (XLSX, XLS or CSV).

\b
Ownership: parcel code <-> credit code, with shares when a parcel has several
holders. Tenancy: tenant, parcel, leased land and/or floor area, lease period.
Headers recognised: 宗地代码, 统一社会信用代码, 权利类型 (所有/租赁 or
owner/tenant), 份额, 租赁土地面积, 租赁建筑面积, 起始日期, 终止日期. Links to
unknown parcels or enterprises load (they feed `mujun verify export`) and
are listed as warnings. Upserted by (parcel, credit code, type, start date).
""" + _COMMON_HELP)
@click.argument("src", type=click.Path(exists=True, dir_okay=False))
@_table_options
@_map_option("parcel_code credit_code right_type share leased_land_m2 leased_floor_m2 "
             "start_date end_date name")
@dry_run_option
@_partial_options
@overwrite_option
@json_option
@click.pass_obj
def land_rights_cmd(app, src, mapping, sheet, encoding, maps, dry_run, accept_partial, rejects,
                    overwrite, as_json):
    from parcels.importing.enterprise_import import load_mapping, merge_maps
    from parcels.importing.kinds import register_import_kinds
    from parcels.importing.land_right_import import import_land_rights

    register_import_kinds()
    _run(app, as_json, "land_rights", import_land_rights, src, accept_partial, rejects,
         mapping=merge_maps(load_mapping(mapping), maps, "land_rights"), sheet=sheet,
         encoding=encoding, dry_run=dry_run, overwrite=overwrite)


@import_group.command("footprints", help="""Import building footprints surveyed or delivered elsewhere.

\b
For footprints not extracted by mujun: a past survey, a vendor's delivery, an
OpenStreetMap extract. Validated and reprojected like parcels (CRS required
and checked against its area of use, swapped axes detected, invalid
geometries repaired, empty/degenerate rejected) and stored with the survey
date (--date wins over any column; else a 测绘日期/survey_date column) and
source (--source). Heights (高度, height: "12 m" is read) and storeys (层数,
building:levels, OSM other_tags) are optional: an unreadable one is dropped
with a warning. Every guessed column is named; --map FIELD= ignores it.
The batch becomes one survey (dated by --date, else the newest image date)
covering --coverage FILE (the area surveyed), else the footprints' extent;
--image FILE records the image they were seen on (for the review app).
""" + _COMMON_HELP)
@click.argument("src", type=click.Path(exists=True))
@_layer_options
@click.option("--date", "survey_date", help="Survey/image date, YYYY-MM-DD (wins over columns).")
@click.option("--source", "source_name", help="Where the footprints come from (vendor, survey).")
@click.option("--coverage", "coverage_path", type=click.Path(exists=True),
              help="Polygon layer of the area the survey covers (default: the footprints' "
                   "extent). Parcels outside it keep their earlier survey.")
@click.option("--image", "image_path", type=click.Path(exists=True, dir_okay=False),
              help="The georeferenced image (GeoTIFF) the footprints were seen on; recorded "
                   "with the survey so the review app shows the parcel on it.")
@_map_option("image_date image_id source method ground_res_m confidence height_m storeys")
@dry_run_option
@_partial_options
@overwrite_option
@json_option
@click.pass_obj
def footprints_cmd(app, src, layer, crs, encoding, survey_date, source_name, coverage_path,
                   image_path, maps, swap_xy, dry_run, accept_partial, rejects, overwrite, as_json):
    from gis.importing.footprints import FOOTPRINT_FIELDS, load_footprints
    from gis.importing.headers import field_specs, parse_column_map
    from gis.importing.surveys import image_attrs

    mapping = parse_column_map(maps, field_specs(FOOTPRINT_FIELDS)) if maps else None
    survey_attrs = image_attrs(image_path)   # checked before anything is read
    coverage = None
    if coverage_path:
        from gis.vector_io import read_vector

        coverage = read_vector(coverage_path)
        if coverage.crs is None:
            raise click.UsageError(f"{coverage_path}: the coverage layer has no CRS")
    _run(app, as_json, "footprints", load_footprints, src, accept_partial, rejects,
         layer=layer, crs=crs, encoding=encoding, survey_date=survey_date, mapping=mapping,
         source_name=source_name, swap_xy=swap_xy, dry_run=dry_run, overwrite=overwrite,
         settings=app.settings, coverage=coverage, survey_attrs=survey_attrs)


@import_group.command("accounts", help="""Import utility accounts (户号) and their quantities for one year.

\b
One row per account and user: 户号, the user's 统一社会信用代码 and 户名, and the
quantity billed — per month (1月 ... 12月) and/or for the year (年用量, 用电量,
用水量, 用气量). Units come from the headers (千瓦时, 万千瓦时, 立方米, 万立方米)
and are converted to kWh (--kind electricity) or m³ (water, sewage, gas);
quantities are kept exact to 0.001. An account serving a landlord and its
tenants has one row per user with 分摊比例 (its share of the quantity; shares of
an account add up to at most 1) and 缴费方 (本企业, or 房东 with 缴费单位信用代码:
who is billed). Accounts whose user is not a known enterprise load as
unmatched and join the verification queue (`mujun verify export`).
Upserted by (kind, account, user) and (kind, account, year, month); empty
cells keep stored quantities.
""" + _COMMON_HELP)
@click.argument("src", type=click.Path(exists=True, dir_okay=False))
@click.option("--kind", type=click.Choice(("electricity", "water", "sewage", "gas")),
              required=True, help="What the accounts bill.")
@click.option("--year", type=int, required=True, help="Year of the quantities.")
@_table_options
@_map_option("account_no credit_code holder_name share payer payer_code annual "
             "month_01 ... month_12")
@dry_run_option
@_partial_options
@overwrite_option
@json_option
@click.pass_obj
def accounts_cmd(app, src, kind, year, mapping, sheet, encoding, maps, dry_run, accept_partial,
                 rejects, overwrite, as_json):
    from parcels.importing.account_import import field_kind, import_accounts
    from parcels.importing.enterprise_import import load_mapping, merge_maps
    from parcels.importing.kinds import register_import_kinds

    register_import_kinds()
    _run(app, as_json, "accounts", import_accounts, src, accept_partial, rejects, kind=kind,
         year=year, mapping=merge_maps(load_mapping(mapping), maps, field_kind(kind)),
         sheet=sheet, encoding=encoding, dry_run=dry_run, overwrite=overwrite)


@import_group.command("land-tax", help="""Import the land-use tax base (城镇土地使用税) for one year.

\b
The tax bureau's table per taxpayer: 统一社会信用代码, 应税面积 (m²; 亩 or 公顷
converted when the header says so), 土地等级, 单位税额 (元/m² a year). One row
per taxpayer and grade; the tax due is area × unit tax. Upserted by (credit
code, year, grade); empty cells keep stored values.
""" + _COMMON_HELP)
@click.argument("src", type=click.Path(exists=True, dir_okay=False))
@click.option("--year", type=int, required=True, help="The tax year.")
@_table_options
@_map_option("credit_code name taxable_area_m2 land_grade unit_tax")
@dry_run_option
@_partial_options
@overwrite_option
@json_option
@click.pass_obj
def land_tax_cmd(app, src, year, mapping, sheet, encoding, maps, dry_run, accept_partial,
                 rejects, overwrite, as_json):
    from parcels.importing.enterprise_import import load_mapping, merge_maps
    from parcels.importing.kinds import register_import_kinds
    from parcels.importing.land_tax_import import import_land_tax

    register_import_kinds()
    _run(app, as_json, "land_tax", import_land_tax, src, accept_partial, rejects, year=year,
         mapping=merge_maps(load_mapping(mapping), maps, "land_tax"), sheet=sheet,
         encoding=encoding, dry_run=dry_run, overwrite=overwrite)
