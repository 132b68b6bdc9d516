"""Streaming writers for the sample files: GeoPackage layers and CSV tables.

Each writer appends one town's frame at a time and keeps a running SHA-256 of
the *content* it wrote (WKB geometry plus attributes for layers, the CSV bytes
for tables). These digests identify a sample for the loader (a re-load of the
same content is a no-op) even though GeoPackage files carry SQLite page
layouts that are not byte-stable across GDAL versions.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from sample.config import AS_OF


@contextlib.contextmanager
def fixed_gdal_date() -> Iterator[None]:
    """Make GDAL stamp GeoPackage metadata with :data:`AS_OF` instead of the current time."""
    import pyogrio

    key = "OGR_CURRENT_DATE"
    previous = pyogrio.get_gdal_config_option(key)
    pyogrio.set_gdal_config_options({key: f"{AS_OF.isoformat()}T00:00:00.000Z"})
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options({key: previous})


def _csv_bytes(frame: pd.DataFrame, header: bool) -> bytes:
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, header=header, lineterminator="\n", date_format="%Y-%m-%d")
    return buffer.getvalue().encode("utf-8")


class LayerWriter:
    """Append GeoDataFrames to one layer of a GeoPackage, hashing what is written."""

    def __init__(self, path: Path, layer: str):
        self.path = Path(path)
        self.layer = layer
        self.count = 0
        self._sha = hashlib.sha256()

    def write(self, frame) -> None:
        import pyogrio
        import shapely

        if len(frame) == 0:
            return
        attrs = frame.drop(columns=frame.geometry.name)
        self._sha.update(_csv_bytes(attrs, header=self.count == 0))
        for wkb in shapely.to_wkb(frame.geometry.values, hex=False, byte_order=1):
            self._sha.update(wkb)
        append = self.path.exists() and self.layer in {
            name for name, _ in pyogrio.list_layers(self.path)
        }
        with fixed_gdal_date():
            pyogrio.write_dataframe(
                frame,
                self.path,
                layer=self.layer,
                driver="GPKG",
                append=append,
                promote_to_multi=False,
            )
        self.count += len(frame)

    @property
    def digest(self) -> str:
        return self._sha.hexdigest()


class CsvWriter:
    """Append DataFrames to a UTF-8 CSV file, hashing its bytes."""

    def __init__(self, path: Path, columns: list[str]):
        self.path = Path(path)
        self.columns = list(columns)
        self.count = 0
        self._sha = hashlib.sha256()
        self.path.write_bytes(_csv_bytes(pd.DataFrame(columns=self.columns), header=True))
        self._sha.update(self.path.read_bytes())

    def write(self, frame: pd.DataFrame) -> None:
        if len(frame) == 0:
            return
        data = _csv_bytes(frame[self.columns], header=False)
        with self.path.open("ab") as fh:
            fh.write(data)
        self._sha.update(data)
        self.count += len(frame)

    @property
    def digest(self) -> str:
        return self._sha.hexdigest()


def round_coordinates(values: np.ndarray, decimals: int) -> np.ndarray:
    """Round geometry coordinates (used for the dirty copies, as bureaus' exports do)."""
    import shapely

    return shapely.transform(values, lambda xy: np.round(xy, decimals))
