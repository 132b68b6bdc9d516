"""What a segmentation model is trained on: an image window and its burnt-in footprints.

:func:`read_training_data` reads the orthophoto over the training area (where the
survey is complete), resampled to the model's ground resolution when one is asked for
(Web-Mercator and degree pixels measured on the ground, :mod:`remote_sensing.ground`),
and rasterizes the surveyed footprints onto the same grid, each with its own number
(so touching buildings stay apart in the targets).

Tool module (reads the image).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from remote_sensing.errors import ModelError


@dataclass
class TrainingData:
    """The image and labels of the training area, on the image grid."""

    image: np.ndarray  # (bands, rows, cols) float32, raw values
    label: np.ndarray  # (rows, cols) uint8
    instances: np.ndarray  # (rows, cols) int32: 1 + the footprint's row in ``labels``, 0 none
    usable: np.ndarray  # (rows, cols) bool: valid pixel inside the training area
    transform: Any
    crs: Any
    resolution: float  # ground pixel size (m) of the arrays
    area: Any  # shapely geometry in the image CRS
    labels: Any  # GeoDataFrame of the footprints inside the area (image CRS)
    bands: list[int]
    n_image_bands: int
    dtype: str
    image_path: str
    scale: tuple[float, float] = (1.0, 1.0)  # metres per CRS unit (x, y)
    native_resolution: float = 0.0  # the image's own ground pixel size (m)
    n_alpha_bands: int = 0  # bands GDAL marks as alpha: a validity mask, never trained on

    @property
    def n_colour_bands(self) -> int:
        """The image's bands that hold values (every band but alpha)."""
        return self.n_image_bands - self.n_alpha_bands

    @property
    def area_m2(self) -> float:
        """Ground area of the training area (m²)."""
        return float(self.area.area) * self.scale[0] * self.scale[1]


def read_training_data(image_path: str | Path, labels, *, area=None, bands: list[int] | None = None,
                       max_megapixels: float = 64.0, resolution: float | None = None) -> TrainingData:
    """Read the image window of the training area and burn the footprints into labels.

    Parameters
    ----------
    image_path : path
        Orthophoto (any band count, 8/16-bit or float).
    labels : GeoDataFrame
        Surveyed footprints (any CRS; reprojected to the image's).
    area : GeoDataFrame or shapely geometry, optional
        Where the survey is complete; default: the footprints' bounding box.
    bands : list of int, optional
        1-based bands to train on (default: all but an alpha band, which only says
        where the image is valid).
    max_megapixels : float
        Refuse larger training areas (they are read into memory), counted at ``resolution``.
    resolution : float, optional
        Ground pixel size (m) to resample to (default: the image's own).

    Raises
    ------
    ModelError
        No footprint in the area, area outside the image, bands out of range, area too large.
    """
    import shapely
    from rasterio.enums import Resampling
    from rasterio.features import geometry_mask, rasterize
    from rasterio.windows import Window, from_bounds
    from rasterio.windows import transform as wtransform

    from remote_sensing.ground import metres_per_unit
    from remote_sensing.readers import alpha_bands, check_georeferenced, open_raster

    src = str(image_path)
    with open_raster(image_path) as ds:
        check_georeferenced(ds, image_path)
        alpha = alpha_bands(ds)
        if bands is None:
            bands = [b for b in range(1, ds.count + 1) if b not in alpha]
        bad = [b for b in bands if not 1 <= b <= ds.count]
        if bad:
            raise ModelError(f"band(s) {bad} do not exist; the image has {ds.count} band(s)", source=src)
        if labels.crs is None:
            raise ModelError("the labels have no CRS; assign one (they must overlap the image)",
                             source=src)
        ref = labels.to_crs(ds.crs) if labels.crs != ds.crs else labels
        ref = ref[~ref.geometry.is_empty & ref.geometry.notna()]
        ref = ref.set_geometry(shapely.make_valid(np.asarray(ref.geometry.values, dtype=object)))
        if area is None:
            if len(ref) == 0:
                raise ModelError("the labels hold no footprint", source=src)
            geom = shapely.box(*ref.total_bounds)
        elif hasattr(area, "geometry"):
            ta = area.to_crs(ds.crs) if area.crs is not None and area.crs != ds.crs else area
            geom = shapely.union_all(shapely.make_valid(np.asarray(ta.geometry.values, dtype=object)))
        else:
            geom = area
        geom = geom.intersection(shapely.box(*ds.bounds))
        if geom.is_empty:
            raise ModelError("the training area does not overlap the image; check the CRS of "
                             "--area/--labels", source=src)
        win = from_bounds(*geom.bounds, transform=ds.transform).round_offsets().round_lengths()
        win = win.intersection(Window(0, 0, ds.width, ds.height))
        scale = metres_per_unit(ds.crs, ds.bounds)
        native = float(np.sqrt(abs(ds.transform.a * ds.transform.e) * scale[0] * scale[1]))
        factor = 1.0 if resolution is None or abs(native / resolution - 1) <= 0.02 else native / resolution
        rows, cols = max(1, round(win.height * factor)), max(1, round(win.width * factor))
        mpx = rows * cols / 1e6
        if mpx > max_megapixels:
            raise ModelError(f"the training area covers {mpx:.0f} megapixels (limit {max_megapixels:g}); "
                             "give a smaller --area (a few megapixels of complete survey are enough)",
                             source=src)
        how = Resampling.average if factor < 1 else Resampling.bilinear
        image = ds.read(bands, window=win, out_dtype="float32", out_shape=(len(bands), rows, cols),
                        resampling=how)
        valid = ds.dataset_mask(window=win, out_shape=(rows, cols), resampling=Resampling.nearest) > 0
        valid &= np.isfinite(image).all(axis=0)
        tr = wtransform(win, ds.transform) @ _scaling(win.width / cols, win.height / rows)
        inside = ~geometry_mask([geom], out_shape=valid.shape, transform=tr)
        ref = ref[ref.intersects(geom)]
        if len(ref) == 0:
            raise ModelError("no labelled footprint lies in the training area", source=src)
        ref = ref.reset_index(drop=True)
        # small footprints first, so a large one drawn over a small one does not hide it
        order = np.argsort(-shapely.area(np.asarray(ref.geometry.values, dtype=object)), kind="stable")
        instances = rasterize(((ref.geometry.values[i], int(i) + 1) for i in order), out_shape=valid.shape,
                              transform=tr, fill=0, dtype="int32")
        return TrainingData(image=image, label=(instances > 0).astype(np.uint8), instances=instances,
                            usable=valid & inside, transform=tr, crs=ds.crs,
                            resolution=native / factor, area=geom, labels=ref,
                            bands=list(bands), n_image_bands=ds.count, dtype=ds.dtypes[0],
                            image_path=src, scale=scale, native_resolution=native,
                            n_alpha_bands=len(alpha))


def _scaling(sx: float, sy: float):
    from affine import Affine

    return Affine.scale(sx, sy)
