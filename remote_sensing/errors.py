"""Errors of the imagery pipeline, all under :class:`gis.errors.DataError`."""

from __future__ import annotations

from gis.errors import ConfigError, DataError, EmptyInputError


class RasterMismatchError(DataError):
    """Two rasters that must be used together do not overlap or cannot be aligned."""


class TileReadError(DataError):
    """A window of a raster could not be read (a corrupt tile); the message names the window."""


class ModelError(DataError):
    """A classifier or ONNX model, or its model card, is missing or unusable."""


class NoFootprintsError(EmptyInputError):
    """Extraction produced no building at all."""


class UnknownMethodError(ConfigError):
    """A mask method name that is not in the registry."""
