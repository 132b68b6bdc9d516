"""Where extracted footprints go: a file written in batches, atomically.

:class:`FileSink` appends each batch to a temporary file next to the target, so memory
stays bounded whatever the number of footprints: GeoPackage, FlatGeobuf and Shapefile
through GDAL's append; GeoJSON and CSV, which GDAL cannot append to without loading the
whole file, are streamed here in the layout the one layer writer
gives them (GeoJSON: RFC 7946, WGS 84 with counter-clockwise outer rings; CSV: a ``wkt``
column first, UTF-8 with BOM, the CRS in a ``.prj`` beside it). The temporary file
replaces the target only when extraction succeeds (:func:`gis.atomic.atomic_output`),
and never an existing file without ``overwrite``.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

_APPENDABLE = {".gpkg": "GPKG", ".fgb": "FlatGeobuf", ".shp": "ESRI Shapefile"}
_STREAMED = {".geojson": "geojson", ".json": "geojson", ".csv": "csv"}


class FileSink:
    """Callable sink writing GeoDataFrame batches to ``tmp_path``."""

    def __init__(self, tmp_path: Path, target: Path, layer: str = "footprints"):
        self.tmp_path = tmp_path
        self.target = target
        self.layer = layer
        suffix = target.suffix.lower()
        self.driver = _APPENDABLE.get(suffix)
        self.stream = _STREAMED.get(suffix)
        if self.driver is None and self.stream is None:
            from gis.errors import DriverError

            raise DriverError(f"cannot write footprints to {suffix or 'a file without suffix'}"
                              f"; use one of {', '.join(sorted({*_APPENDABLE, *_STREAMED}))}",
                              source=str(target))
        self.n = 0
        self.crs = None
        self._file = None

    def __call__(self, frame) -> None:
        if len(frame) == 0:
            return
        frame = frame.copy()
        frame["image_date"] = frame["image_date"].astype("string")
        if self.driver is not None:
            import pyogrio

            pyogrio.write_dataframe(
                frame, self.tmp_path, layer=self.layer, driver=self.driver,
                append=self.n > 0, promote_to_multi=False,
                **({"SPATIAL_INDEX": "YES"} if self.driver == "GPKG" and self.n == 0 else {}),
            )
        elif self.stream == "geojson":
            self._geojson(frame)
        else:
            self._csv(frame)
        self.crs = self.crs or frame.crs
        self.n += len(frame)

    def _geojson(self, frame) -> None:
        import shapely

        if frame.crs is not None and frame.crs.to_epsg() != 4326:
            frame = frame.to_crs(4326)
        geoms = shapely.orient_polygons(np.asarray(frame.geometry.values, dtype=object))
        shapes = shapely.to_geojson(geoms)
        props = json.loads(frame.drop(columns=[frame.geometry.name]).to_json(
            orient="records", date_format="iso", force_ascii=False))
        if self._file is None:
            self._file = open(self.tmp_path, "w", encoding="utf-8")  # noqa: SIM115 (closed in finish)
            head = {"type": "FeatureCollection", "name": self.layer}
            self._file.write(json.dumps(head, ensure_ascii=False)[:-1] + ', "features": [\n')
        sep = ",\n" if self.n else ""
        self._file.write(sep + ",\n".join(
            '{"type": "Feature", "properties": ' + json.dumps(p, ensure_ascii=False)
            + ', "geometry": ' + g + "}" for p, g in zip(props, shapes, strict=True)))

    def _csv(self, frame) -> None:
        import shapely

        table = frame.drop(columns=[frame.geometry.name])
        table.insert(0, "wkt", shapely.to_wkt(np.asarray(frame.geometry.values, dtype=object),
                                              rounding_precision=-1))
        first = self.n == 0
        table.to_csv(self.tmp_path, mode="w" if first else "a", header=first, index=False,
                     encoding="utf-8-sig" if first else "utf-8")

    def finish(self) -> None:
        """Close a streamed file (and write the CSV's ``.prj``)."""
        if self.stream == "geojson" and self._file is not None:
            self._file.write("\n]}\n")
            self._file.close()
            self._file = None
        elif self.stream == "csv" and self.crs is not None:
            self.tmp_path.with_suffix(".prj").write_text(self.crs.to_wkt(), encoding="utf-8")

    def abandon(self) -> None:
        """Close an open stream after a failure (the temporary file is removed by the caller)."""
        if self._file is not None:
            self._file.close()
            self._file = None


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
    sidecars = (".prj",) if target.suffix.lower() == ".csv" else None
    with atomic_output(target, overwrite=overwrite, sidecars=sidecars) as tmp:
        sink = FileSink(Path(tmp), target, layer)
        try:
            yield sink
        except BaseException:
            sink.abandon()
            raise
        sink.finish()
