"""Panel 影像: each parcel of the firm on the imagery of the first and of the last survey
that covers it, drawn by the one renderer of "the parcel on the imagery"
(:mod:`maps.parcel_image`) with that survey's footprints, on the survey's own image (or a
plain ground when the image is not on this machine).

:func:`imagery` names the surveys (for ``show``); :func:`imagery_pngs` draws them (for the
sheet and the review app's page).
"""

from __future__ import annotations

from pathlib import PurePath
from typing import TYPE_CHECKING, Any

from gis.errors import DataError
from maps.enterprise_file.rows import rows

if TYPE_CHECKING:
    import psycopg

#: Most parcels drawn in the sheet and the page (the rest are listed).
MAX_PARCELS = 4
#: Side of one image, in pixels.
IMAGE_SIZE = 320
#: How each survey drawn is named (the first, the last, the only one covering the parcel).
WHICH = {"first": "第一次调查", "last": "最近一次调查", "only": "唯一一次调查"}


def imagery(conn: psycopg.Connection, land: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per parcel of ``land`` (each once): the first and the last survey covering it."""
    out = []
    for parcel_code in dict.fromkeys(r["parcel_code"] for r in land):
        found = rows(conn.execute(
            "SELECT s.survey_id, s.survey_date, s.source, s.attrs ->> 'image' AS image"
            " FROM survey s JOIN parcel p ON p.parcel_code = %s"
            " AND s.coverage && p.geom AND ST_Covers(s.coverage, p.geom)"
            " ORDER BY s.survey_date, s.survey_id", (parcel_code,)))
        picked = found[:1] + found[1:][-1:]
        out.append({"parcel_code": parcel_code, "surveys": [
            {"survey_id": s["survey_id"], "date": s["survey_date"],
             "source": PurePath(s["source"]).name if s["source"] else None,
             "which": "only" if len(found) == 1 else "first" if i == 0 else "last"}
            for i, s in enumerate(picked)], "n_surveys": len(found)})
    return out


def imagery_pngs(conn: psycopg.Connection, panel: list[dict[str, Any]],
                 max_parcels: int = MAX_PARCELS) -> list[dict[str, Any]]:
    """PNG bytes of each survey of the first ``max_parcels`` parcels of ``panel``:
    ``[{parcel_code, date, which, png}]``."""
    import shapely

    from maps.parcel_image import render_chip
    from maps.sheet import footprints_near

    srid = conn.execute("SELECT value::int FROM mujun_setting WHERE key = 'working_srid'"
                        ).fetchone()
    out = []
    for item in panel[:max_parcels]:
        geom = conn.execute("SELECT ST_AsBinary(geom) FROM parcel WHERE parcel_code = %s",
                            (item["parcel_code"],)).fetchone()
        if geom is None or srid is None:
            continue
        parcel = shapely.from_wkb(bytes(geom[0]))
        for s in item["surveys"]:
            image = conn.execute("SELECT attrs ->> 'image' FROM survey WHERE survey_id = %s",
                                 (s["survey_id"],)).fetchone()[0]
            feet = footprints_near(conn, s["survey_id"], parcel)
            try:
                png = render_chip(image, parcel, int(srid[0]), max_size=IMAGE_SIZE,
                                  footprints=feet)
            except DataError:          # the image is gone or unreadable: footprints only
                png = render_chip(None, parcel, int(srid[0]), max_size=IMAGE_SIZE,
                                  footprints=feet)
            out.append({"parcel_code": item["parcel_code"], "date": s["date"],
                        "which": s["which"], "png": png})
    return out
