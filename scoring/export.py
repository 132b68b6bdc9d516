"""The score table of a run: one row per enterprise (what ``mujun score export`` writes).

Columns: identity, population, land (m², mu), every indicator value, every item score,
bonus/penalty, total, class, ranks, the previous year's total and class and the change,
the class-T reason, the occupancy run and the score run. This module only computes the
table and the Chinese labels of the rule set's columns (:func:`column_labels`), puts it
on the parcels for GIS formats (:func:`score_layer`) and writes it with the one layer
writer (:func:`write_scores`, :func:`gis.layer_writer.write_layer`); ``mujun export
scores`` (maps) writes the same rows with the class style.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    import psycopg

log = logging.getLogger(__name__)


def _rules_of(rules: list, kind: str) -> str:
    """The stored reasons of one kind of rule, in the vocabulary's words."""
    from scoring.explain import reason_text

    return "; ".join(reason_text(str(r.get("detail"))) for r in rules if r.get("rule") == kind)


def score_table(conn: psycopg.Connection, run_id: int) -> pd.DataFrame:
    """The flat per-enterprise table of a run (indicator and item columns included).

    Besides the computed class: the protection period, the class adjustment in force
    (``adjusted_class`` with reason, who decided and approved, when) and ``final_class``.
    """
    from scoring.overrides import effective_overrides
    from scoring.store import load_scores

    s = load_scores(conn, run_id)
    if not len(s):
        return s
    return with_overrides(flat_table(s), effective_overrides(conn, run_id))


def flat_table(s: pd.DataFrame) -> pd.DataFrame:
    """Stored score rows (``enterprise_score`` columns) as the flat table (pure).

    One column per indicator and per item score (``score_<item>``), the rules fired in
    words; no adjustment columns (:func:`with_overrides` adds them).
    """
    from gis.crs import m2_to_mu

    cols = [c for c in ("run_id", "year", "ruleset", "credit_code", "name", "town", "district",
                        "industry_division", "population", "land_m2") if c in s]
    out = s[cols].copy()
    out["land_mu"] = m2_to_mu(s["land_m2"].astype("float64"))
    ind = pd.DataFrame(list(s["indicators"].map(lambda d: d or {})), index=s.index)
    for col in ind.columns:
        out[col] = pd.to_numeric(ind[col], errors="coerce")
    names = sorted({k for d in s["items"] if d for k in d})
    for name in names:
        out[f"score_{name}"] = s["items"].map(
            lambda d, n=name: (d or {}).get(n, {}).get("score")).astype("float64")
    for col in ("total", "class", "rank_county", "rank_town", "rank_industry", "prev_total",
                "prev_class"):
        out[col] = s[col]
    out["change"] = s["total"].astype("float64") - s["prev_total"].astype("float64")
    out["class_t_reason"] = s["rules_fired"].map(lambda r: _rules_of(r or [], "class_t"))
    out["adjustments"] = s["rules_fired"].map(
        lambda r: "; ".join(x for x in (_rules_of(r or [], "adjustment"),
                                        _rules_of(r or [], "veto")) if x))
    out["protection"] = s["rules_fired"].map(lambda r: _rules_of(r or [], "protection"))
    out["occupancy_run"] = s["occupancy_run"]
    return out


def with_overrides(out: pd.DataFrame, ov: pd.DataFrame) -> pd.DataFrame:
    """Add the class adjustment in force (:func:`scoring.overrides.effective_overrides`):
    ``adjusted_class`` and its trace, and ``final_class`` (adjusted, else computed)."""
    cols = ["adjusted_class", "override_reason", "override_by", "override_approved_by",
            "override_at"]
    tail = out.pop("occupancy_run") if "occupancy_run" in out else None
    if len(ov):
        ov = ov.assign(override_at=ov["override_at"].map(
            lambda t: t.isoformat(timespec="minutes") if t is not None and t == t else None))
        out = out.merge(ov[["credit_code", *cols]], on="credit_code", how="left")
    else:
        for c in cols:
            out[c] = None
    out["final_class"] = out["adjusted_class"].where(out["adjusted_class"].notna(),
                                                     out["class"])
    if tail is not None:
        out["occupancy_run"] = tail.to_numpy()
    return out


def column_labels(conn: psycopg.Connection, run_id: int) -> dict[str, tuple[str, str]]:
    """Chinese and English labels of the indicator and item columns of a run.

    From the run's stored items: indicator ``tax_per_mu`` labelled 亩均税收 in 万元/mu
    gives ``{"tax_per_mu": ("亩均税收(万元/mu)", "tax_per_mu (万元/mu)"),
    "score_tax_per_mu": ("亩均税收得分", "score of tax_per_mu")}``.
    """
    labels: dict[str, tuple[str, str]] = {}
    rows = conn.execute("SELECT items FROM enterprise_score WHERE run_id = %s"
                        " AND items <> '{}'::jsonb LIMIT 50", (run_id,)).fetchall()
    for (items,) in rows:
        for name, it in items.items():
            label = it.get("label") or name
            unit = it.get("unit", "")
            labels[name] = (f"{label}({unit})", f"{name} ({unit})")
            labels[f"score_{name}"] = (f"{label}得分", f"score of {name}")
    return labels


def resolve_score_run(conn: psycopg.Connection, run_id: int | None = None,
                      year: int | None = None) -> int:
    """``run_id`` checked to be a finished score run, else the latest (of ``year``).

    Raises
    ------
    DataError
        No such run, or no score run stored (for ``year``).
    """
    from scoring.store import resolve_score_run as resolve

    return resolve(conn, run_id, year)


def score_layer(conn: psycopg.Connection, run_id: int):
    """The score table on the parcels: one feature per enterprise and parcel held in the year.

    Rights in force in the occupancy run's year (the score year when the run has none);
    ``right_type`` says how the enterprise holds the parcel.

    Raises
    ------
    DataError
        No enterprise of the run holds a parcel (write CSV or XLSX instead).
    """
    import geopandas as gpd
    import numpy as np

    from gis.db.copy import read_frame
    from gis.errors import DataError

    table = score_table(conn, run_id)
    row = conn.execute(
        "SELECT coalesce((r.params->>'year')::int, s.year) FROM enterprise_score s"
        " LEFT JOIN run r ON r.run_id = s.occupancy_run WHERE s.run_id = %s LIMIT 1",
        (run_id,)).fetchone()
    y = row[0] if row else None
    parcels = read_frame(
        conn, "SELECT DISTINCT ON (trim(r.credit_code), r.parcel_code) trim(r.credit_code)"
        " AS credit_code, r.parcel_code, r.right_type, p.geom"
        " FROM land_right r JOIN parcel p USING (parcel_code)"
        " JOIN enterprise_score s ON s.credit_code = r.credit_code AND s.run_id = %s"
        " WHERE (r.start_date IS NULL OR r.start_date <= make_date(%s, 12, 31))"
        " AND (r.end_date IS NULL OR r.end_date >= make_date(%s, 1, 1))"
        " ORDER BY trim(r.credit_code), r.parcel_code, r.right_type", (run_id, y, y))
    if not len(parcels) or not hasattr(parcels, "geometry"):
        raise DataError(f"第 {run_id} 次评价没有企业落在宗地上，无法出图；请改写 .csv 或 "
                        ".xlsx")
    frame = parcels.merge(table, on="credit_code", how="inner")
    for col in ("rank_county", "rank_town", "rank_industry", "occupancy_run"):
        if col in frame:  # nullable integers: GDAL wants floats with NaN
            values = pd.to_numeric(frame[col], errors="coerce").astype("float64")
            frame[col] = values.where(np.isfinite(values))
    return gpd.GeoDataFrame(frame, geometry="geom", crs=parcels.crs)


def score_fields(conn: psycopg.Connection, run_id: int) -> dict:
    """Every column's alias in a run's table: parcel and score columns, the rule set's own.

    Indicator values and item scores are confidential (dropped by ``--desensitize``).
    """
    from gis.layer_writer.fields import FieldInfo
    from parcels.fields import PARCEL_FIELDS
    from scoring.fields import SCORE_FIELDS

    return {**PARCEL_FIELDS, **SCORE_FIELDS,
            **{name: FieldInfo(name, zh, en, "drop")
               for name, (zh, en) in column_labels(conn, run_id).items()}}


def write_scores(conn: psycopg.Connection, path, *, run_id: int | None = None,
                 year: int | None = None, overwrite: bool = False) -> dict:
    """Write a score run: the table (CSV, XLSX) or the table on the parcels (GIS formats).

    Returns
    -------
    dict
        What :func:`gis.layer_writer.write_layer` returns plus ``score_run``.
    """
    from pathlib import Path

    from gis.layer_writer import format_for, write_layer

    fmt = format_for(Path(path))  # a bad suffix fails before the database is read
    run = resolve_score_run(conn, run_id, year)
    tabular = fmt.suffix in (".csv", ".xlsx")
    frame = score_table(conn, run) if tabular else score_layer(conn, run)
    info = write_layer(frame, path, layer="scores", title="亩均评价", overwrite=overwrite,
                       fields=score_fields(conn, run))
    info["score_run"] = run
    return info
