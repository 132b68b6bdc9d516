"""Do a Shapefile's parts agree? Record counts of ``.shx`` and ``.dbf``, checked before reading.

A ``.dbf`` cut short (a copy interrupted, a size limit of a mail or USB stick)
would otherwise load its first records silently.
"""

from __future__ import annotations

from pathlib import Path

from gis.errors import DataError


def shapefile_record_counts(path: str | Path) -> dict[str, int]:
    """Records each part of a Shapefile holds: ``.shx`` index entries, ``.dbf`` header and data.

    Examples
    --------
    >>> import tempfile, pathlib, geopandas as gpd, shapely
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.shp"
    >>> gpd.GeoDataFrame({"n": [1, 2]}, geometry=[shapely.Point(0, 0)] * 2, crs=4326).to_file(p)
    >>> shapefile_record_counts(p)
    {'shx': 2, 'dbf_header': 2, 'dbf_data': 2}
    """
    import struct

    path = Path(path)
    counts: dict[str, int] = {}
    stem = str(path)[: -len(path.suffix)]
    for suffix in (".shx", ".SHX"):
        shx = Path(stem + suffix)
        if shx.exists():
            counts["shx"] = max(0, (shx.stat().st_size - 100) // 8)
            break
    for suffix in (".dbf", ".DBF"):
        dbf = Path(stem + suffix)
        if dbf.exists():
            with open(dbf, "rb") as fh:
                head = fh.read(12)
            if len(head) == 12:
                n_records, header_len, record_len = struct.unpack("<IHH", head[4:12])
                counts["dbf_header"] = int(n_records)
                size = dbf.stat().st_size
                counts["dbf_data"] = max(0, (size - header_len) // record_len) if record_len else 0
            break
    return counts


def check_shapefile_parts(path: str | Path) -> None:
    """Refuse a Shapefile whose ``.shp``/``.shx`` and ``.dbf`` disagree on the record count.

    A ``.dbf`` cut short (a copy interrupted, a size limit of a mail or USB
    stick) would otherwise load its first records silently.

    Raises
    ------
    DataError
        Naming the file and both counts.
    """
    counts = shapefile_record_counts(path)
    shx, header, data = counts.get("shx"), counts.get("dbf_header"), counts.get("dbf_data")
    if header is not None and data is not None and data < header:
        raise DataError(
            f"the .dbf is truncated: its header announces {header} records but it holds only "
            f"{data}{f' (the .shx indexes {shx} shapes)' if shx is not None else ''}; copy the "
            "complete file again", source=str(path))
    if shx is not None and header is not None and shx != header:
        raise DataError(
            f"the parts disagree: the .shx indexes {shx} shapes but the .dbf holds {header} "
            "records; the Shapefile is incomplete or its parts come from different versions",
            source=str(path))
