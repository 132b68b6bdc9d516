"""What a segmentation model is trained on: an image window and its burnt-in footprints.

:func:`read_training_data` reads the orthophoto over the training area (where the
survey is complete) and rasterizes the surveyed footprints onto the same grid.

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
    usable: np.ndarray  # (rows, cols) bool: valid pixel inside the training area
    transform: Any
    crs: Any
    resolution: float
    area: Any  # shapely geometry in the image CRS
    labels: Any  # GeoDataFrame of the footprints inside the area (image CRS)
    bands: list[int]
    n_image_bands: int
    dtype: str
    image_path: str


def read_training_data(image_path: str | Path, labels, *, area=None, bands: list[int] | None = None,
                       max_megapixels: float = 64.0) -> TrainingData:
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
        1-based bands to train on (default: all).
    max_megapixels : float
        Refuse larger training areas (they are read into memory).

    Raises
    ------
    ModelError
        No footprint in the area, area outside the image, bands out of range, area too large.
    """
    import shapely
    from rasterio.features import geometry_mask, rasterize
    from rasterio.windows import Window, from_bounds
    from rasterio.windows import transform as wtransform

    from remote_sensing.readers import check_georeferenced, open_raster

    src = str(image_path)
    with open_raster(image_path) as ds:
        check_georeferenced(ds, image_path)
        if bands is None:
            bands = list(range(1, ds.count + 1))
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
        mpx = win.width * win.height / 1e6
        if mpx > max_megapixels:
            raise ModelError(f"the training area covers {mpx:.0f} megapixels (limit {max_megapixels:g}); "
                             "give a smaller --area (a few megapixels of complete survey are enough)",
                             source=src)
        image = ds.read(bands, window=win, out_dtype="float32")
        valid = ds.dataset_mask(window=win) > 0
        valid &= np.isfinite(image).all(axis=0)
        tr = wtransform(win, ds.transform)
        inside = ~geometry_mask([geom], out_shape=valid.shape, transform=tr)
        ref = ref[ref.intersects(geom)]
        if len(ref) == 0:
            raise ModelError("no labelled footprint lies in the training area", source=src)
        label = rasterize(((g, 1) for g in ref.geometry.values), out_shape=valid.shape, transform=tr,
                          fill=0, dtype="uint8")
        return TrainingData(image=image, label=label, usable=valid & inside, transform=tr, crs=ds.crs,
                            resolution=float(abs(ds.transform.a)), area=geom, labels=ref,
                            bands=list(bands), n_image_bands=ds.count, dtype=ds.dtypes[0],
                            image_path=src)
