"""Reading footprint and parcel layers (through gis.vector_io when available)."""

from __future__ import annotations

from pathlib import Path


def read_footprints(path: str | Path, layer: str | None = None):
    """Read a polygon layer as a GeoDataFrame; errors name the file."""
    try:
        from gis.vector_io import read_vector
    except ImportError:
        read_vector = None
    if read_vector is not None:
        return read_vector(path, layer)
    import pyogrio

    from gis.errors import DataError

    p = Path(path)
    if not p.exists():
        raise DataError("file not found", source=str(p))
    try:
        return pyogrio.read_dataframe(p, layer=layer)
    except Exception as exc:
        raise DataError(f"cannot read ({exc})", source=str(p)) from exc
