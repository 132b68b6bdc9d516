"""``mujun supply export``: the plots as one layer, through the one layer writer.

One feature per plot: code, status and origin in words, areas in m² and mu, town, park,
parcel, industry, the control indicators one column each, the contract's dates and the
number of assessments in force. Any format of :func:`gis.layer_writer.write_layer`
(GPKG, SHP, GeoJSON, KML, GDB, CSV, XLSX), atomic, never over an existing file without
``overwrite``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gis.crs import SQM_PER_MU
from scoring.land_status.supply.vocabulary import FIELDS, INDICATORS, ORIGINS, STATUSES

if TYPE_CHECKING:
    import geopandas as gpd
    import psycopg

_SQL = """
SELECT p.plot_id, p.code, p.status, p.status_date, p.area_m2::float8 AS area_m2, p.town,
       p.district, p.park, p.origin, p.candidate_id, p.parcel_code, p.planned_use,
       p.industry_code, p.indicator_table, p.indicators,
       c.contract_no, c.start_by, c.complete_by, c.produce_by,
       (SELECT count(*) FROM area_assessment a WHERE ST_Covers(a.geom, p.geom)
          AND (a.valid_until IS NULL OR a.valid_until >= %(on)s)
          AND (a.valid_from IS NULL OR a.valid_from <= %(on)s)) AS assessments_valid,
       ST_AsBinary(p.geom) AS geom, ST_SRID(p.geom) AS srid
FROM supply_plot p LEFT JOIN supply_contract c ON c.plot_id = p.plot_id
ORDER BY p.code
"""

#: Contract columns and their labels (the land-status evidence words).
_CONTRACT = ("contract_no", "start_by", "complete_by", "produce_by")


def plots_frame(conn: psycopg.Connection, on: dt.date | None = None) -> gpd.GeoDataFrame:
    """The plots as written: words for codes, one column per indicator (reads only)."""
    import geopandas as gpd
    import pandas as pd
    import shapely

    cur = conn.execute(_SQL, {"on": on or dt.date.today()})
    frame = pd.DataFrame(cur.fetchall(), columns=[d.name for d in cur.description])
    srid = int(frame["srid"].iloc[0]) if len(frame) else None
    if srid is None:
        from gis.db.srid import get_working_srid

        srid = get_working_srid(conn) or 4326
    frame.insert(5, "area_mu", (frame["area_m2"] / SQM_PER_MU).round(4))
    frame["status"] = [STATUSES.label(s) for s in frame["status"]]
    frame["origin"] = [ORIGINS.label(s) for s in frame["origin"]]
    for code in INDICATORS.codes():
        frame[code] = [(i or {}).get(code) for i in frame["indicators"]]
    geoms = shapely.from_wkb([bytes(g) for g in frame["geom"]]) if len(frame) else []
    out = frame.drop(columns=["indicators", "geom", "srid"])
    return gpd.GeoDataFrame(out, geometry=list(geoms), crs=f"EPSG:{srid}")


def write_plots(conn: psycopg.Connection, path: str | Path, *, overwrite: bool = False,
                on: dt.date | None = None) -> dict[str, Any]:
    """Write every plot to ``path`` (format from the suffix); returns the writer's summary."""
    from gis.layer_writer import FieldInfo, write_layer
    from scoring.land_status.vocabulary import EVIDENCE

    frame = plots_frame(conn, on)
    conn.rollback()
    fields = {}
    for c in frame.columns:
        term = FIELDS.get(c) or INDICATORS.get(c) or EVIDENCE.get(c)
        if term is not None:
            unit = f"（{term.unit}）" if term.unit else ""
            fields[c] = FieldInfo(c, term.zh + unit, term.en)
    fields["assessments_valid"] = FieldInfo("assessments_valid", "有效区域评估（项）",
                                            "assessments in force")
    return write_layer(frame, path, layer="supply_plots", title="标准地地块",
                       overwrite=overwrite, fields=fields)
