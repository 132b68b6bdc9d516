"""Exporting redevelopment areas through the one writer (:func:`gis.layer_writer.write_layer`).

* ``.gpkg`` — layer ``areas`` (outlines with figures) and layer ``area_candidates``
  (the members' parcels with their decisions);
* ``.shp`` — the ``areas`` layer;
* ``.xlsx`` — the ``areas`` sheet, then sheets of members, progress by date and the
  "one firm, one plan" notes.

Headers are the Chinese labels (with units) of ``land_status.area_field``; methods,
statuses, kinds and decisions are written in words.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from gis.crs import SQM_PER_MU
from gis.layer_writer.fields import FieldInfo, field_table
from scoring.errors import AreaError
from scoring.land_status.areas import model, store
from scoring.land_status.vocabulary import (
    AREA_FIELDS,
    AREA_METHODS,
    AREA_STATUSES,
    KINDS,
    PLAN_REASONS,
    STATUSES,
)

if TYPE_CHECKING:
    import psycopg

#: Formats areas are exported to (by suffix).
SUFFIXES = (".gpkg", ".shp", ".xlsx")

AREA_COLUMNS = ("area_id", "name", "method", "planned", "target_mu", "reclaimed_mu",
                "done_share", "status", "n_candidates", "n_approved", "candidates_mu",
                "firms_to_plan", "firms_planned", "created_by", "closed_reason")
MEMBER_COLUMNS = ("area_id", "name", "candidate_id", "parcel_code", "kinds", "decision",
                  "parcel_mu", "approved_on")
PROGRESS_COLUMNS = ("area_id", "name", "date", "n_approved", "cumulative_mu", "done_share")
PLAN_COLUMNS = ("area_id", "name", "credit_code", "firm", "class", "why", "plan", "author",
                "at")


def fields() -> dict[str, FieldInfo]:
    """Headers of every exported column (Chinese label with its unit)."""
    def head(t: Any, lang: str) -> str:
        label = t.label(lang)
        return f"{label}（{t.unit}）" if t.unit else label

    return field_table(*(FieldInfo(t.code, head(t, "zh"), head(t, "en")) for t in AREA_FIELDS))


def tables(conn: psycopg.Connection, *, as_of: dt.date | None = None) -> dict[str, Any]:
    """The frames of an export: ``areas`` (GeoDataFrame), ``members`` (GeoDataFrame),
    ``progress`` and ``plans`` (DataFrames), every label in words."""
    import geopandas as gpd

    from gis.db.copy import read_frame
    from gis.db.srid import get_working_srid

    areas = store.list_areas(conn, as_of=as_of)
    if not areas:
        raise AreaError("no redevelopment area is recorded yet; `mujun areas add` makes one")
    srid = get_working_srid(conn)
    ids = [a["area_id"] for a in areas]
    names = {a["area_id"]: a["name"] for a in areas}
    geoms = read_frame(conn, "SELECT area_id, geom FROM redevelopment_area ORDER BY area_id")
    frame = pd.DataFrame(areas)
    frame["method"] = frame["method"].map(AREA_METHODS.label)
    frame["status"] = frame["status"].map(AREA_STATUSES.label)
    frame["done_share"] = (frame["done_share"] * 100).round(2)
    frame = frame[list(AREA_COLUMNS)].merge(geoms, on="area_id")
    area_layer = gpd.GeoDataFrame(frame, geometry="geom", crs=f"EPSG:{srid}")

    mem = store.members(conn, ids)
    parcels = read_frame(conn, "SELECT parcel_code, geom FROM parcel WHERE parcel_code = ANY (%s)",
                         (mem["parcel_code"].tolist(),))
    mem = mem.merge(parcels, on="parcel_code", how="left")
    mem["name"] = mem["area_id"].map(names)
    mem["kinds"] = mem["kinds"].map(lambda ks: "、".join(KINDS.label(k) for k in ks or []))
    mem["decision"] = mem["status"].map(STATUSES.label)
    mem["parcel_mu"] = (mem["parcel_m2"] / SQM_PER_MU).round(4)
    member_layer = gpd.GeoDataFrame(mem[[*MEMBER_COLUMNS, "geom"]], geometry="geom",
                                    crs=f"EPSG:{srid}")

    prog = model.progress(mem, {a["area_id"]: float(a["target_mu"]) for a in areas})
    prog = prog.assign(name=prog["area_id"].map(names)).reindex(columns=list(PROGRESS_COLUMNS))
    prog["done_share"] = (prog["done_share"].astype(float) * 100).round(2)

    firms = model_firms(conn, ids, names)
    return {"areas": area_layer, "members": member_layer, "progress": prog, "plans": firms}


def model_firms(conn: psycopg.Connection, ids: list[int], names: dict[int, str]) -> pd.DataFrame:
    """One row per firm needing a plan and per note (a firm without a note: one empty row)."""
    hold, notes = store.holders(conn, ids), store.plan_notes(conn, ids)
    rows = []
    for aid in ids:
        firms = model.firms_to_plan(hold[hold["area_id"] == aid])
        for f in firms.to_dict("records"):
            mine = notes[(notes["area_id"] == aid) & (notes["credit_code"] == f["credit_code"])]
            base = {"area_id": aid, "name": names[aid], "credit_code": f["credit_code"],
                    "firm": f["name"], "class": f["class"],
                    "why": "、".join(PLAN_REASONS.label(r) for r in f["reasons"])}
            if len(mine) == 0:
                rows.append(dict(base, plan=None, author=None, at=None))
            for n in mine.to_dict("records"):
                rows.append(dict(base, plan=n["note"], author=n["author"],
                                 at=pd.Timestamp(n["at"]).tz_localize(None)
                                 if pd.Timestamp(n["at"]).tzinfo else n["at"]))
    return pd.DataFrame(rows, columns=list(PLAN_COLUMNS))


def export_areas(conn: psycopg.Connection, path: str | Path, *, overwrite: bool = False,
                 as_of: dt.date | None = None) -> list[dict[str, Any]]:
    """Write the areas to ``path`` (.gpkg, .shp or .xlsx); returns what each layer wrote.

    Raises
    ------
    AreaError
        No area recorded, or a suffix other than :data:`SUFFIXES`.
    gis.errors.OutputExistsError
        The output (or, in a GeoPackage, its layer) exists and no ``overwrite``.
    """
    from gis.layer_writer import write_layer

    path = Path(path)
    if path.suffix.lower() not in SUFFIXES:
        raise AreaError(f"{path}: areas are exported as {', '.join(SUFFIXES)}; "
                        "choose one of those suffixes")
    t = tables(conn, as_of=as_of)
    info = fields()
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        sheets = {"片区候选宗地": _plain(t["members"]), "进展（按批准日期）": t["progress"],
                  AREA_FIELDS.label("plan"): t["plans"]}
        sheets = {title: frame.rename(columns=lambda c: info[c].zh if c in info else c)
                  for title, frame in sheets.items()}
        return [write_layer(t["areas"], path, layer="areas", title="片区",
                            overwrite=overwrite, fields=info, sheets=sheets)]
    written = [write_layer(t["areas"], path, layer="areas", title="片区", overwrite=overwrite,
                           fields=info)]
    if suffix == ".gpkg":
        written.append(write_layer(t["members"], path, layer="area_candidates",
                                   title="片区候选宗地", overwrite=overwrite, fields=info))
    return written


def _plain(frame: Any) -> pd.DataFrame:
    """The attributes of a layer without its geometry (workbook sheets)."""
    geom = getattr(frame, "_geometry_column_name", None)
    return pd.DataFrame(frame.drop(columns=[geom])) if geom else frame
