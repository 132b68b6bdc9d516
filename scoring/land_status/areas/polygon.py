"""An area's outline from a polygon file (tool: reads the file, asks the database its CRS).

The file goes through the same reading and checks as every import
(:func:`gis.importing.layers.read_layer`, :func:`gis.importing.layers.to_working_crs`):
a declared CRS is required (or ``--crs``), coordinates must fit it, the features must
lie in the CRS's area of use and near the stored parcels; they are then reprojected to
the working CRS and merged into one outline.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from scoring.errors import AreaError

if TYPE_CHECKING:
    import psycopg
    import shapely


def read_outline(conn: psycopg.Connection, path: str | Path, *, layer: str | None = None,
                 crs: Any = None, swap_xy: bool = False,
                 settings: Any = None) -> tuple[shapely.MultiPolygon, int]:
    """The union of the polygons of ``path`` in the working CRS, and that SRID.

    Raises
    ------
    gis.errors.CRSError
        No CRS, or coordinates that cannot be in the declared one.
    AreaError
        No parcels loaded yet; no polygon in the layer; a feature outside the CRS's
        area of use or far from the parcels (named by its number).
    """
    import shapely

    from gis.db.srid import get_working_srid
    from gis.importing.layers import read_layer, to_working_crs
    from gis.importing.report import ImportReport
    from gis.vector_io import resolve_layer

    source = f"{path}{':' + layer if layer else ''}"
    if get_working_srid(conn) is None:
        raise AreaError(f"{source}: load parcels first: an area's polygon is compared with "
                        "the stored parcels in their CRS")
    layer = resolve_layer(path, layer)
    report = ImportReport(source=source, unit="feature")
    frame = read_layer(path, layer=layer, crs=crs, swap_xy=swap_xy, report=report)
    if len(frame) == 0:
        raise AreaError(f"{source}: the layer holds no polygon; draw the area's outline")
    polygonal = frame.geometry.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()
    if not polygonal.all():
        first = int(np.flatnonzero(~polygonal)[0]) + 1
        raise AreaError(f"{source}: feature {first} is a {frame.geometry.iloc[first - 1].geom_type}"
                        ", not a polygon; an area's outline must be polygons")
    rows = np.arange(1, len(frame) + 1)
    geoms, srid, _new, ok = to_working_crs(conn, frame, rows, report, settings=settings,
                                           swapped=swap_xy)
    if report.errors or not ok.all():
        raise AreaError(f"{source}: the polygon cannot be used: {report.first_errors_text(3)}"
                        if report.errors else f"{source}: a polygon of the layer is empty or "
                        "degenerate; fix the outline")
    outline = shapely.union_all(list(geoms[ok]))
    if outline.geom_type == "Polygon":
        outline = shapely.MultiPolygon([outline])
    return outline, int(srid)
