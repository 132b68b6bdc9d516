"""Where extracted footprints go: a file written in batches, atomically.

:class:`FileSink` appends each batch to a temporary file next to the target
(GeoPackage, FlatGeobuf and Shapefile support appending, so memory stays
bounded); formats that cannot append (GeoJSON, CSV) are gathered and written
once at the end with :func:`gis.vector_io.write_vector`. The temporary file
replaces the target only when extraction succeeds
(:func:`gis.atomic.atomic_output`), and never an existing file without
``overwrite``.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path

log = logging.getLogger(__name__)

_APPENDABLE = {".gpkg": "GPKG", ".fgb": "FlatGeobuf", ".shp": "ESRI Shapefile"}


class FileSink:
    """Callable sink writing GeoDataFrame batches to ``tmp_path``."""

    def __init__(self, tmp_path: Path, target: Path, layer: str = "footprints"):
        self.tmp_path = tmp_path
        self.target = target
        self.layer = layer
        self.driver = _APPENDABLE.get(target.suffix.lower())
        self.n = 0
        self._held: list = []

    def __call__(self, frame) -> None:
        if len(frame) == 0:
            return
        frame = frame.copy()
        frame["image_date"] = frame["image_date"].astype("string")
        if self.driver is None:
            self._held.append(frame)
        else:
            import pyogrio

            pyogrio.write_dataframe(
                frame, self.tmp_path, layer=self.layer, driver=self.driver,
                append=self.n > 0, promote_to_multi=False,
                **({"SPATIAL_INDEX": "YES"} if self.driver == "GPKG" and self.n == 0 else {}),
            )
        self.n += len(frame)

    def finish(self) -> None:
        """Write gathered batches (non-appendable formats)."""
        if self.driver is not None or not self._held:
            return
        import geopandas as gpd
        import pandas as pd

        frame = gpd.GeoDataFrame(pd.concat(self._held, ignore_index=True), crs=self._held[0].crs)
        from gis.vector_io import write_vector

        write_vector(frame, self.tmp_path, overwrite=True)


@contextlib.contextmanager
def file_sink(path: str | Path, *, overwrite: bool = False, layer: str = "footprints") -> Iterator[FileSink]:
    """Yield a :class:`FileSink` whose file replaces ``path`` only on success.

    Raises
    ------
    OutputExistsError
        ``path`` exists and ``overwrite`` is False (checked before any work).
    """
    from gis.atomic import atomic_output

    target = Path(path)
    with atomic_output(target, overwrite=overwrite) as tmp:
        sink = FileSink(Path(tmp), target, layer)
        yield sink
        sink.finish()
