"""Load extracted footprints into PostGIS as one import batch (all or nothing).

The caller passes the connection (created at the CLI edge). Footprints are
reprojected to the database's working CRS (recorded on first load), promoted
to MultiPolygon and bulk-copied into ``footprint`` with the batch id; the
batch and rows are committed together, or nothing is.
"""

from __future__ import annotations

import logging
from pathlib import Path

log = logging.getLogger(__name__)

_COLUMNS = ["geom", "image_id", "image_date", "source", "method", "ground_res_m", "confidence",
            "height_m", "storeys", "attrs", "batch_id"]


def load_footprints(conn, path: str | Path, *, params: dict | None = None, chunk: int = 50000) -> dict:
    """Copy a footprint file written by ``footprints extract`` into ``footprint``.

    Returns
    -------
    dict
        ``batch_id``, ``n_loaded``, ``srid``.
    """
    import numpy as np
    import pandas as pd
    import pyogrio

    from gis.db.batches import finish_batch, start_batch
    from gis.db.copy import copy_frame, get_working_srid, set_working_srid

    path = Path(path)
    info = pyogrio.read_info(path)
    total = int(info["features"])
    first = pyogrio.read_dataframe(path, max_features=1)
    file_srid = first.crs.to_epsg() if first.crs is not None else None
    working = get_working_srid(conn)
    if working is None:
        if file_srid is None:
            from gis.errors import CRSError

            raise CRSError("footprints have no EPSG code to store them with; use --to-crs EPSG:xxxx",
                           source=str(path))
        set_working_srid(conn, file_srid)
        working = file_srid
    batch = start_batch(conn, "footprints", str(path), layer=info.get("layer_name"),
                        params=params or {}, srid=working)
    n = 0
    for skip in range(0, max(total, 1), chunk):
        frame = pyogrio.read_dataframe(path, skip_features=skip, max_features=chunk)
        if len(frame) == 0:
            break
        if frame.crs is not None and frame.crs.to_epsg() != working:
            frame = frame.to_crs(epsg=working)
        out = pd.DataFrame({
            "geom": np.asarray(frame.geometry.values, dtype=object),
            "image_id": frame["image_id"],
            "image_date": pd.to_datetime(frame["image_date"], errors="coerce").dt.date,
            "source": str(path.name),
            "method": frame["method"],
            "ground_res_m": frame["ground_res_m"],
            "confidence": frame["confidence"],
            "height_m": frame["height_m"].where(frame["height_m"].notna(), None),
            "storeys": frame["storeys"].astype("Int16") if "storeys" in frame else None,
            "attrs": [{"height_p95_m": None if pd.isna(v) else float(v), "n_pixels": int(p)}
                      for v, p in zip(frame["height_p95_m"], frame["n_pixels"], strict=True)],
            "batch_id": batch,
        })
        n += copy_frame(conn, "footprint", out, _COLUMNS, srid=working)
    finish_batch(conn, batch, n_read=total, n_loaded=n)
    conn.commit()
    log.info("loaded %d footprints as batch %d", n, batch)
    return {"batch_id": batch, "n_loaded": n, "srid": working}
