"""Reading footprint and parcel layers for assessment and change detection."""

from __future__ import annotations

from pathlib import Path


def read_footprints(path: str | Path, layer: str | None = None):
    """Read a polygon layer as a GeoDataFrame through :func:`gis.vector_io.read_vector`.

    Errors (missing file, unknown format, no CRS) name the file and layer.
    """
    from gis.vector_io import read_vector

    return read_vector(path, layer)
