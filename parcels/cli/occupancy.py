"""``mujun occupancy``: built area, coverage, FAR and land per enterprise; exports."""

from __future__ import annotations

from pathlib import Path

import click

from gis.cli.options import emit, json_option, overwrite_option
from parcels.occupancy.engines import ENGINES


def _fmt(value, digits=1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


@click.group("occupancy", invoke_without_command=True)
@click.option("--year", type=int, help="Year of land rights and enterprise land "
              "(default: newest year with enterprise records).")
@click.option("--engine", type=click.Choice(list(ENGINES)), default="vector", show_default=True,
              help="; ".join(f"{name}: {e.summary}" for name, e in ENGINES.items()) + ".")
@click.option("--scheduler", metavar="ADDRESS",
              help="dask engine: scheduler address (default: a LocalCluster on 127.0.0.1).")
@click.option("--processes", type=click.IntRange(1, 64),
              help="vector engine: worker processes, each computing spatial chunks on its "
                   "own connection; 1: threads in this process. Default: threads when the "
                   "parcels fit one chunk (150,000), else one process per core (at most 4).")
@click.option("--as-of", "as_of", metavar="YYYY-MM-DD",
              help="Per parcel, use the latest survey on or before this date whose coverage "
                   "contains it (default: the latest survey).")
@click.option("--survey", "survey_id", type=int, metavar="ID",
              help="Use only this survey (`mujun occupancy surveys` lists them).")
@json_option
@click.pass_context
def occupancy(ctx: click.Context, year: int | None, engine: str, scheduler: str | None,
              processes: int | None, as_of: str | None, survey_id: int | None,
              as_json: bool) -> None:
    """Measure occupied land: footprints, FAR, tenants (占地测算).

    Without a subcommand, runs the computation on the parcels, footprints and land
    rights in the database and stores the results as a run (an identical re-run
    replaces its own rows). Rules: min_overlap_ratio, sliver_tolerance_m,
    storey_height_m, tenant_rule and area_basis settings (`mujun settings`).
    """
    if ctx.invoked_subcommand is not None:
        return
    from gis.progress import progress_bar
    from parcels.occupancy.run import run_occupancy

    app = ctx.obj
    conn = app.connect()
    with progress_bar(None, "occupancy", "parcel", app.settings.progress) as progress:
        result = run_occupancy(conn, app.settings, year=year, engine=engine, progress=progress,
                               engine_options={"scheduler": scheduler, "processes": processes},
                               as_of=as_of, survey_id=survey_id)
    s = dict(result.summary, run_id=result.run_id)
    from parcels.occupancy.tenants import ALLOCATION_WARNINGS

    text = (
        f"占地测算 第 {result.run_id} 次（{'替换了相同的测算' if result.reused else '新测算'}），"
        f"引擎 {engine}（--engine），{s['year']} 年：宗地 {s['parcels']:,} 宗，"
        f"{_fmt(s['area_mu'])} 亩；建筑基底 {_fmt(s['built_m2'], 0)} 平方米"
        f"（建筑密度 {_fmt(s['coverage'], 3)}，容积率 {_fmt(s['far'], 3)}），"
        f"建筑 {s['buildings']:,} 栋；{s['enterprises']:,} 家企业占地 "
        f"{_fmt(s['enterprise_land_m2'], 0)} 平方米；用时 {s['engine_seconds']} 秒"
    )
    if s.get("surveys"):
        dates = "、".join(f"{k}（{v}）" for k, v in s["survey_dates"].items())
        text += f"\n所用调查：{dates}"
        if s.get("parcels_without_survey"):
            text += f"；{s['parcels_without_survey']:,} 宗宗地不在任何调查范围内"
    if s.get("warnings"):
        text += "\n警告：" + "、".join(f"{ALLOCATION_WARNINGS.get(k, k)} {v}"
                                     for k, v in s["warnings"].items())
    emit(s, as_json, text)


@occupancy.command("export")
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path),
              help="Output; the extension picks the format (.gpkg, .shp, .geojson, .kml, "
                   ".gdb, .csv, .xlsx; see `mujun export --help`).")
@click.option("--enterprises", is_flag=True, help="Write the per-enterprise land table.")
@click.option("--run", "run_id", type=int, help="Run id (default: the latest finished run).")
@click.option("--year", type=int, help="--enterprises: only this year.")
@overwrite_option
@json_option
@click.pass_context
def export(ctx: click.Context, output: Path, enterprises: bool, run_id: int | None,
           year: int | None, overwrite: bool, as_json: bool) -> None:
    """Write a run's parcel or enterprise land table (导出测算).

    The same rows as `mujun export occupancy` / `mujun export enterprise_land`, through
    the one layer writer and field table (`mujun export` adds the map styles).
    """
    if year is not None and not enterprises:
        raise click.UsageError("年份（--year）只用于企业用地表（--enterprises）")
    from parcels.occupancy.export import write_occupancy

    info = write_occupancy(ctx.obj.connect(), output, run_id=run_id, enterprises=enterprises,
                           year=year, overwrite=overwrite)
    emit(info, as_json, f"已写出 {info['path']}："
         f"{'企业用地' if enterprises else '宗地用地测算'} "
         f"{info['rows']:,} 行")


@occupancy.command("runs")
@json_option
@click.pass_obj
def runs(app, as_json: bool) -> None:
    """List the stored occupancy runs (占地测算记录)."""
    from gis.run_terms import RUN_STATUS
    from parcels.occupancy.store import list_runs

    frame = list_runs(app.connect())
    records = frame.to_dict("records")
    lines = [f"{r['run_id']:>5}  {RUN_STATUS.label(r['status']):<6} "
             f"{str(r['started_at'])[:19]}  引擎 {r['params'].get('engine')}  "
             f"{r['params'].get('year')} 年  宗地 {r['summary'].get('parcels', '-')} 宗"
             for r in records]
    emit(records, as_json, "\n".join(lines) if lines else "尚无占地测算")


@occupancy.command("surveys")
@json_option
@click.pass_obj
def surveys(app, as_json: bool) -> None:
    """List the surveys, oldest first (调查)."""
    from parcels.surveys import list_surveys

    records = list_surveys(app.connect()).to_dict("records")
    lines = [f"{r['survey_id']:>5}  {r['survey_date']}  建筑轮廓 {r['footprints']:>9,} 个  "
             f"覆盖 {r['coverage_m2'] / 1e6:,.2f} 平方千米  {r['method'] or '-'}  "
             f"{r['source'] or '-'}" for r in records]
    emit(records, as_json, "\n".join(lines) if lines else "尚无调查")


@occupancy.command("change")
@click.argument("before", type=int)
@click.argument("after", type=int)
@click.option("--min-area", type=float, default=20.0, show_default=True,
              help="Smallest new, demolished or added part counted (m²).")
@json_option
@click.pass_obj
def change(app, before: int, after: int, min_area: float, as_json: bool) -> None:
    """Built-area change per parcel between surveys (建设变化).

    New, demolished and expanded buildings per parcel (parcels both surveys cover);
    `mujun footprints change` compares two footprint files instead.
    """
    from parcels.occupancy.kernel import KernelOptions
    from parcels.survey_change import store_change, survey_change

    conn = app.connect()
    try:
        frame = survey_change(conn, before, after, KernelOptions.from_settings(app.settings),
                              min_area_m2=min_area)
        store_change(conn, before, after, frame, {"min_area_m2": min_area})
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    data = {"before": before, "after": after, "parcels": len(frame),
            "parcels_changed": int(((frame["n_new"] + frame["n_demolished"]
                                     + frame["n_expanded"]) > 0).sum()),
            **{k: float(frame[k].sum()) for k in ("new_m2", "demolished_m2", "expanded_m2")},
            **{k: int(frame[k].sum()) for k in ("n_new", "n_demolished", "n_expanded")}}
    emit(data, as_json,
         f"调查 {before} → {after}：比较宗地 {data['parcels']:,} 宗，有变化 "
         f"{data['parcels_changed']:,} 宗；新建 {data['n_new']} 处（{_fmt(data['new_m2'], 0)} "
         f"平方米），拆除 {data['n_demolished']} 处（{_fmt(data['demolished_m2'], 0)} 平方米），"
         f"扩建 {data['n_expanded']} 处（{_fmt(data['expanded_m2'], 0)} 平方米）")
