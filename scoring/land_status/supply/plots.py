"""Standard-land plots (标准地): add, read, advance, supply information (the tool side).

Every function takes the caller's connection and commits what it writes in one
transaction (or writes nothing). What a valid step is comes from :mod:`.pipeline`, the
indicators from :mod:`.indicators`; the table layout is migration 0033.

A plot comes from

* an **approved** land-status candidate (``origin='reclaimed'``): the candidate's parcel
  gives the polygon, town and district, and its area to 0.01 m²;
* a polygon file (``origin='new'``, or ``'judicial'`` for a judicial disposal): read
  with the import machinery's CRS checks (declared CRS, area of use, repair) and
  reprojected to the working CRS; town and district from the parcel it mostly lies on.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from gis.crs import SQM_PER_MU
from scoring.land_status.supply.errors import PlotNotFound, StepError, SupplyError
from scoring.land_status.supply.vocabulary import INFO, ORIGINS, STATUSES

if TYPE_CHECKING:
    import psycopg

#: Columns of the plot list (``supply list``, ``supply export``).
LIST_COLUMNS = ("plot_id", "code", "status", "status_date", "area_m2", "area_mu", "town",
                "district", "park", "origin", "candidate_id", "parcel_code", "planned_use",
                "industry_code", "indicator_table")


def _frame(conn: psycopg.Connection, query: str, params: Any = None) -> pd.DataFrame:
    cur = conn.execute(query, params)
    return pd.DataFrame(cur.fetchall(), columns=[d.name for d in cur.description])


def _indicators(industry: str | None, table: str | Path | None) -> tuple[dict, str | None]:
    from scoring.land_status.supply.indicators import load_table, lookup

    if industry is None:
        if table is not None:
            raise SupplyError("--indicators 需与 --industry 同时给出（按行业取控制指标）")
        return {}, None
    t = load_table(table)
    return lookup(t, industry), t.label


def _read_polygon(conn: psycopg.Connection, path: str | Path, *, crs: Any = None,
                  settings: Any = None) -> tuple[str, int]:
    """The file's polygons, unioned, in the working CRS, as EWKT; errors name the file."""
    import numpy as np
    import shapely

    from gis.db.srid import get_working_srid
    from gis.importing.layers import read_layer, to_working_crs
    from gis.importing.report import ImportReport

    source = str(path)
    if get_working_srid(conn) is None:
        raise SupplyError("请先导入宗地（工作坐标系由第一次导入确定）", source=source)
    report = ImportReport(source=source, unit="feature")
    frame = read_layer(path, crs=crs, report=report)
    if len(frame) == 0:
        raise SupplyError("文件中没有地块多边形", source=source)
    rows = np.arange(1, len(frame) + 1)
    geoms, srid, _new, ok = to_working_crs(conn, frame, rows, report, settings=settings)
    if report.errors or not ok.all():
        raise SupplyError("地块多边形不能使用：" + report.first_errors_text(3)
                          + "；请检查文件的坐标系（--crs）", source=source)
    union = shapely.union_all(list(geoms[ok]))
    if union.geom_type == "Polygon":
        union = shapely.MultiPolygon([union])
    return union.wkt, int(srid)


def add_plot(conn: psycopg.Connection, *, actor: str, candidate_id: int | None = None,
             polygon: str | Path | None = None, code: str | None = None,
             origin: str | None = None, industry: str | None = None,
             indicators: str | Path | None = None, park: str | None = None,
             planned_use: str | None = None, on: dt.date | None = None, crs: Any = None,
             settings: Any = None) -> dict[str, Any]:
    """Record a new plot in 储备 (commits) and return it as :func:`get_plot` reads it.

    Parameters
    ----------
    actor : str
        Who records it.
    candidate_id : int, optional
        An approved land-status candidate (its parcel becomes the plot); else
    polygon, code :
        A polygon file and the plot's code (``code`` defaults to the parcel's code for a
        candidate).
    origin : ``"new"`` or ``"judicial"``, optional
        For a polygon (default ``new``); a candidate's plot is ``reclaimed``.
    industry, indicators :
        GB/T 4754-2017 code and the indicator table (default: the bundled template).
    on : date, optional
        The date the plot enters 储备 (default: today).

    Raises
    ------
    SupplyError
        Neither or both sources, candidate missing or not approved (or already a plot),
        a polygon that cannot be used, an origin that does not fit, a code in use.
    IndicatorTableError
        A malformed table or an industry it does not hold.
    """
    from gis.db.connection import translate_errors

    day = on or dt.date.today()
    if (candidate_id is None) == (polygon is None):
        raise SupplyError("请给出 --from-candidate 或 --polygon 之一（二者不能同时给出）")
    values, table_label = _indicators(industry, indicators)
    try:
        if candidate_id is not None:
            if origin not in (None, "reclaimed"):
                raise SupplyError(f"来自候选的地块来源为「{ORIGINS.label('reclaimed')}」，"
                                  f"不能是「{ORIGINS.label(origin)}」")
            row = conn.execute(
                "SELECT c.status, c.parcel_code, p.town, p.district, ST_AsEWKT(p.geom),"
                " round(p.area_m2::numeric, 2),"
                " (SELECT s.code FROM supply_plot s WHERE s.candidate_id = c.candidate_id)"
                " FROM candidate c LEFT JOIN parcel p ON p.parcel_code = c.parcel_code"
                " WHERE c.candidate_id = %s", (int(candidate_id),)).fetchone()
            if row is None:
                raise SupplyError(f"候选 {candidate_id} 不存在；`mujun candidates list` 列出编号")
            status, parcel, town, district, ewkt, area, taken = row
            if status != "approved":
                from scoring.land_status.vocabulary import STATUSES as CANDIDATE_STATUSES

                raise SupplyError(
                    f"候选 {candidate_id}（宗地 {parcel}）状态为「{CANDIDATE_STATUSES.label(status)}」；"
                    f"只有「{CANDIDATE_STATUSES.label('approved')}」的候选可以转为标准地")
            if taken is not None:
                raise SupplyError(f"候选 {candidate_id} 已转为地块 {taken}")
            if ewkt is None:
                raise SupplyError(f"候选 {candidate_id} 的宗地 {parcel} 已不在宗地库中")
            code = code or parcel
            kind = "reclaimed"
            geom_sql, geom_param = "ST_Multi(ST_GeomFromEWKT(%(geom)s))", ewkt
        else:
            if not code or not str(code).strip():
                raise SupplyError("用 --polygon 新增地块时须给出地块编号（--code）")
            kind = origin or "new"
            ORIGINS.check(kind, what="origin")
            if kind == "reclaimed":
                raise SupplyError("收回盘活的地块须来自候选（--from-candidate）")
            wkt, srid = _read_polygon(conn, polygon, crs=crs, settings=settings)
            geom_param = f"SRID={srid};{wkt}"
            geom_sql = "ST_Multi(ST_GeomFromEWKT(%(geom)s))"
            parcel = town = district = None
            area = None
            hit = conn.execute(
                "WITH g AS (SELECT " + geom_sql + " AS geom)"
                " SELECT p.parcel_code, p.town, p.district,"
                "        ST_Area(ST_Intersection(p.geom, g.geom)) / ST_Area(g.geom)"
                " FROM parcel p, g WHERE p.geom && g.geom AND ST_Intersects(p.geom, g.geom)"
                " ORDER BY 4 DESC LIMIT 1", {"geom": geom_param}).fetchone()
            if hit is not None:
                town, district = hit[1], hit[2]
                parcel = hit[0] if hit[3] >= 0.5 else None
        if conn.execute("SELECT 1 FROM supply_plot WHERE code = %s", (code,)).fetchone():
            raise SupplyError(f"地块编号 {code} 已被使用；请换一个编号（--code）")
        with translate_errors("recording the plot"):
            plot_id = conn.execute(
                "INSERT INTO supply_plot (code, geom, area_m2, town, district, park, origin,"
                " candidate_id, parcel_code, planned_use, industry_code, indicators,"
                " indicator_table, status, status_date, created_by)"
                f" SELECT %(code)s, g, coalesce(%(area)s, round(ST_Area(g)::numeric, 2)),"
                " %(town)s, %(district)s, %(park)s, %(origin)s, %(cand)s, %(parcel)s, %(use)s,"
                " %(industry)s, %(ind)s::jsonb, %(table)s, 'reserve', %(day)s, %(actor)s"
                f" FROM (SELECT {geom_sql} AS g) x RETURNING plot_id",
                {"code": code, "area": area, "town": town, "district": district, "park": park,
                 "origin": kind, "cand": candidate_id, "parcel": parcel, "use": planned_use,
                 "industry": (values or {}).get("industry") and str(industry).strip().upper(),
                 "ind": json.dumps(values, ensure_ascii=False), "table": table_label,
                 "day": day, "actor": actor, "geom": geom_param}).fetchone()[0]
            conn.execute("INSERT INTO supply_plot_event (plot_id, from_status, to_status,"
                         " on_date, actor) VALUES (%s, NULL, 'reserve', %s, %s)",
                         (plot_id, day, actor))
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    return get_plot(conn, plot_id)


def plot_id_of(conn: psycopg.Connection, ref: int | str) -> int:
    """The id of a plot given by id or code."""
    text = str(ref).strip()
    row = conn.execute("SELECT plot_id FROM supply_plot WHERE code = %s"
                       + (" OR plot_id = %s" if text.isdigit() else ""),
                       (text, int(text)) if text.isdigit() else (text,)).fetchone()
    if row is None:
        raise PlotNotFound(f"地块 {ref} 不存在；`mujun supply list` 列出编号")
    return int(row[0])


def list_plots(conn: psycopg.Connection, *, status: str | None = None) -> pd.DataFrame:
    """Plots (optionally in one status), in code order, with the area in mu."""
    if status is not None:
        STATUSES.check(status, what="status")
    frame = _frame(conn, "SELECT plot_id, code, status, status_date, area_m2::float8 AS area_m2,"
                         " town, district, park, origin, candidate_id, parcel_code, planned_use,"
                         " industry_code, indicator_table FROM supply_plot"
                         " WHERE %(s)s::text IS NULL OR status = %(s)s ORDER BY code",
                   {"s": status})
    frame.insert(5, "area_mu", (frame["area_m2"] / SQM_PER_MU).round(4) if len(frame) else [])
    return frame


def assessments_of(conn: psycopg.Connection, plot_id: int, on: dt.date) -> list[dict]:
    """The area-wide assessments whose coverage contains the plot, with their state on ``on``."""
    rows = _frame(conn, "SELECT a.assessment_id, a.topic, a.title, a.conclusion, a.document,"
                        " a.valid_from, a.valid_until FROM area_assessment a JOIN supply_plot p"
                        " ON ST_Covers(a.geom, p.geom) WHERE p.plot_id = %s"
                        " ORDER BY a.topic, a.valid_until DESC NULLS FIRST", (plot_id,))
    out = []
    for r in rows.to_dict("records"):
        r["state"] = ("not_yet" if r["valid_from"] and r["valid_from"] > on else
                      "expired" if r["valid_until"] and r["valid_until"] < on else "valid")
        out.append(r)
    return out


def get_plot(conn: psycopg.Connection, ref: int | str, *, on: dt.date | None = None
             ) -> dict[str, Any]:
    """One plot: its fields, indicators, supply information, history, assessments, contract.

    Reads only, in the caller's transaction (the review app's, under row-level security).
    """
    plot_id = plot_id_of(conn, ref)
    frame = _frame(conn, "SELECT plot_id, code, status, status_date, area_m2::float8 AS area_m2,"
                         " town, district, park, origin, candidate_id, parcel_code, planned_use,"
                         " industry_code, indicator_table, indicators, info, version,"
                         " created_by, created_at FROM supply_plot WHERE plot_id = %s",
                   (plot_id,))
    out = frame.iloc[0].to_dict()
    out["area_mu"] = round(out["area_m2"] / SQM_PER_MU, 4)
    out["history"] = _frame(conn, "SELECT from_status, to_status, on_date, document, reason,"
                                  " actor, at FROM supply_plot_event WHERE plot_id = %s"
                                  " ORDER BY event_id", (plot_id,)).to_dict("records")
    out["assessments"] = assessments_of(conn, plot_id, on or dt.date.today())
    contract = _frame(conn, "SELECT * FROM supply_contract WHERE plot_id = %s", (plot_id,))
    out["contract"] = contract.iloc[0].to_dict() if len(contract) else None
    return out


def advance(conn: psycopg.Connection, ref: int | str, to: str, on: dt.date, *, actor: str,
            document: str | None = None, reason: str | None = None) -> dict[str, Any]:
    """Move a plot to ``to`` on ``on`` (commits): one step forward, or back with a reason.

    A plot reclaimed from a candidate closes that candidate when it is transferred
    (出让): the land is supplied again, and its contract is checked from then on. Going
    back from 出让 (or later) to an earlier step undoes that: the candidate gets its
    decision back (批准收回/盘活), as the land is reclaimed but no longer supplied; the
    step is refused when the parcel has a new open candidate meanwhile.

    Raises
    ------
    StepError
        (:func:`.pipeline.check_step`) out of order, dated before the current step,
        back without a reason; 指标确定 or later without the plot's indicators.
    """
    from scoring.land_status.supply.pipeline import check_step, rank, undoes_transfer

    plot_id = plot_id_of(conn, ref)
    try:
        status, since, code, has_ind = conn.execute(
            "SELECT status, status_date, code, indicators <> '{}'::jsonb FROM supply_plot"
            " WHERE plot_id = %s FOR UPDATE", (plot_id,)).fetchone()
        how = check_step(status, since, to, on, reason)
        if how == "forward" and rank(to) >= rank("indicators") and not has_ind:
            raise StepError(f"地块 {code} 尚无控制指标：先用 `mujun supply indicators {code} "
                            "--industry 行业代码` 确定指标，再推进到「"
                            f"{STATUSES.label(to)}」")
        conn.execute("UPDATE supply_plot SET status = %s, status_date = %s,"
                     " version = version + 1, updated_at = now() WHERE plot_id = %s",
                     (to, on, plot_id))
        if how == "forward" and to == "transferred":
            _close_source_candidate(conn, plot_id, code, on, document, actor)
        elif how == "back" and undoes_transfer(status, to):
            _reopen_source_candidate(conn, plot_id, code, status, to, on, reason, actor)
        conn.execute("INSERT INTO supply_plot_event (plot_id, from_status, to_status, on_date,"
                     " document, reason, actor) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                     (plot_id, status, to, on, document, reason if how == "back" else None,
                      actor))
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    return get_plot(conn, plot_id, on=on)


def _close_source_candidate(conn: psycopg.Connection, plot_id: int, code: str, on: dt.date,
                            document: str | None, actor: str) -> None:
    """The reclaimed land is supplied again: its candidate is closed (no commit)."""
    from scoring.land_status.lifecycle import close

    row = conn.execute("SELECT c.candidate_id FROM supply_plot p JOIN candidate c"
                       " ON c.candidate_id = p.candidate_id"
                       " WHERE p.plot_id = %s AND c.status <> 'closed'", (plot_id,)).fetchone()
    if row is not None:
        close(conn, int(row[0]), by=actor, run_id=None,
              reason=f"作为标准地地块 {code} 于 {on.isoformat()} 出让"
                     + (f"（{document}）" if document else ""))


def _reopen_source_candidate(conn: psycopg.Connection, plot_id: int, code: str, current: str,
                             to: str, on: dt.date, reason: str | None, actor: str) -> None:
    """The transfer is undone: the land is reclaimed but not supplied again, so the
    candidate closed on transfer gets its decision back (no commit); refused when the
    parcel has a new open candidate meanwhile (:func:`scoring.land_status.lifecycle.reopen`).
    """
    from gis.errors import DataError
    from scoring.land_status.lifecycle import reopen

    row = conn.execute("SELECT c.candidate_id FROM supply_plot p JOIN candidate c"
                       " ON c.candidate_id = p.candidate_id"
                       " WHERE p.plot_id = %s AND c.status = 'closed'", (plot_id,)).fetchone()
    if row is None:
        return
    try:
        reopen(conn, int(row[0]), by=actor,
               reason=f"标准地地块 {code} 于 {on.isoformat()} 由「{STATUSES.label(current)}」"
                      f"退回「{STATUSES.label(to)}」：{reason}")
    except DataError as exc:
        raise StepError(f"地块 {code} 不能退回到出让之前：{exc}") from None


def set_indicators(conn: psycopg.Connection, ref: int | str, industry: str, *,
                   table: str | Path | None = None) -> dict[str, Any]:
    """(Re)take a plot's control indicators from a table for ``industry`` (commits).

    Only before the plot is announced (公告): afterwards the indicators are what was
    offered.
    """
    from scoring.land_status.supply.pipeline import rank

    plot_id = plot_id_of(conn, ref)
    values, label = _indicators(industry, table)
    try:
        status, code = conn.execute("SELECT status, code FROM supply_plot WHERE plot_id = %s"
                                    " FOR UPDATE", (plot_id,)).fetchone()
        if rank(status) >= rank("announced"):
            raise StepError(f"地块 {code} 已「{STATUSES.label(status)}」，控制指标不能再改")
        conn.execute("UPDATE supply_plot SET industry_code = %s, indicators = %s::jsonb,"
                     " indicator_table = %s, version = version + 1, updated_at = now()"
                     " WHERE plot_id = %s",
                     (str(industry).strip().upper(), json.dumps(values, ensure_ascii=False),
                      label, plot_id))
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    return get_plot(conn, plot_id)


def parse_info(pairs: list[str], path: str | Path | None = None) -> dict[str, str]:
    """``key=value`` pairs and/or a template file (YAML mapping) as supply information.

    Keys are the ``supply.info`` codes or free keys (letters, digits, ``_``); an empty
    ``key=`` removes the key, an empty entry of the file is left alone.

    >>> parse_info(["water_price=3.2", "services=医院 2 km"])
    {'water_price': '3.2', 'services': '医院 2 km'}
    """
    import re

    import yaml

    out: dict[str, str] = {}
    if path is not None:
        text = Path(path).read_text(encoding="utf-8")
        try:
            data = yaml.safe_load(text) or {}
        except yaml.YAMLError as exc:
            raise SupplyError(f"{path}: 不是有效的 YAML（{exc}）") from exc
        if not isinstance(data, dict):
            raise SupplyError(f"{path}: 应为「键: 值」的映射，参见 `mujun supply info --template`")
        # a template's empty entries say nothing (only ``--set key=`` removes a key)
        out.update({str(k): str(v).strip() for k, v in data.items()
                    if v is not None and str(v).strip()})
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise SupplyError(f"{pair!r} 不是 键=值 的形式（如 water_price=3.2）")
        out[key.strip()] = value.strip()
    bad = [k for k in out if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,63}", k)]
    if bad:
        raise SupplyError(f"信息项名称 {', '.join(map(repr, bad))} 无效：用字母、数字和下划线，"
                          f"如 {', '.join(INFO.codes()[:3])}")
    return out


def info_template() -> str:
    """The supply-information template: one commented line per ``supply.info`` term."""
    lines = ["# 标准地供地信息模板：填写后用 `mujun supply info 地块 --file 本文件` 导入；",
             "# 留空的项不写入，可增加其他项（英文字母、数字、下划线作名称）。"]
    for t in INFO:
        lines.append(f"{t.code}:    # {t.zh}" + (f"（{t.unit}）" if t.unit else ""))
    return "\n".join(lines) + "\n"


def set_info(conn: psycopg.Connection, ref: int | str, values: dict[str, str]
             ) -> dict[str, Any]:
    """Merge supply information into a plot (an empty value removes a key; commits)."""
    plot_id = plot_id_of(conn, ref)
    keep = {k: v for k, v in values.items() if v != ""}
    drop = [k for k, v in values.items() if v == ""]
    try:
        conn.execute("UPDATE supply_plot SET info = (info || %s::jsonb) - %s::text[],"
                     " version = version + 1, updated_at = now() WHERE plot_id = %s",
                     (json.dumps(keep, ensure_ascii=False), drop, plot_id))
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    return get_plot(conn, plot_id)
