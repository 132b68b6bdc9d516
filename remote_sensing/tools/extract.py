"""The tool behind ``mujun footprints extract``: inputs checked, a plan, footprints to a file.

Two steps, so a caller can size a progress bar between them:

* :func:`plan_extraction` settles everything that does not touch pixels: the mask
  method (given, or guessed from the inputs), defaults (tile size, workers, the
  deployment's height threshold), a classifier trained from reference footprints when
  asked (and saved atomically), the raster grid and the number of tiles. It refuses
  an existing output before any work.
* :func:`extract_to_file` runs :func:`remote_sensing.extract.extract_footprints` over
  the tiles and streams the footprints into the output, written atomically.

>>> guess_method(ndsm="h.tif")
'ndsm'
>>> guess_method(model="m.joblib"), guess_method(model="m.onnx"), guess_method(mask="m.tif")
('classify', 'onnx', 'mask')
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gis.errors import ConfigError

if TYPE_CHECKING:
    from gis.progress import Progress
    from gis.settings import Settings
    from remote_sensing.extract import ExtractConfig

#: Tile side in pixels (a 1024² RGBN tile is 4 MB per band in float32).
DEFAULT_TILE_SIZE = 1024
#: Tile overlap in pixels (raised for methods that look at neighbouring pixels).
DEFAULT_OVERLAP = 32
#: Blobs smaller than this are dropped (m²).
DEFAULT_MIN_AREA_M2 = 8.0
#: With an RGBN image, pixels greener than this NDVI are vegetation (nDSM method).
DEFAULT_NDVI_THRESHOLD = 0.3
#: A regularized outline is kept only when its area changes less than this share.
DEFAULT_REGULARIZE_TOLERANCE = 0.1
#: Worker processes by default: one per core, at most this many.
MAX_DEFAULT_WORKERS = 4


def guess_method(*, method: str | None = None, ndsm: Any = None, dsm: Any = None,
                 mask: Any = None, model: Any = None, train: Any = None) -> str:
    """The mask method: ``method`` when given, else the one the inputs point to.

    A mask raster means ``mask``; heights (nDSM, or DSM with DTM) mean ``ndsm``; a
    training reference or a ``.joblib`` model means ``classify``; another model ``onnx``.

    Raises
    ------
    ConfigError
        Nothing to choose from; the message lists the inputs that decide.
    """
    if method:
        from remote_sensing.masks import get_method

        get_method(method)  # an unknown name lists the registered ones
        return method
    if mask:
        return "mask"
    if ndsm or dsm:
        return "ndsm"
    if train or (model and str(model).endswith(".joblib")):
        return "classify"
    if model:
        return "onnx"
    raise ConfigError("give --ndsm (or --dsm/--dtm), --mask, --model or --train, or --method")


def default_workers() -> int:
    """Worker processes when none are asked for: CPU count, at most 4."""
    return min(MAX_DEFAULT_WORKERS, os.cpu_count() or 1)


@dataclass
class ExtractionPlan:
    """What :func:`plan_extraction` settled; :func:`extract_to_file` runs it."""

    cfg: ExtractConfig
    meta: dict
    method: str
    n_tiles: int
    output: Path
    overwrite: bool = False
    image_id: str | None = None
    date: str | None = None
    to_crs: Any = None
    storey_height_m: float = 3.5
    model_path: Path | None = None
    held_out: dict | None = None


def plan_extraction(output: str | Path, *, method: str | None = None,
                    image: str | Path | None = None, ndsm: str | Path | None = None,
                    dsm: str | Path | None = None, dtm: str | Path | None = None,
                    mask: str | Path | None = None, model: Any = None,
                    train: str | Path | None = None, train_area: str | Path | None = None,
                    save_model: str | Path | None = None, overwrite: bool = False,
                    threshold: float | None = None, height_threshold: float | None = None,
                    ndvi_threshold: float | None = DEFAULT_NDVI_THRESHOLD,
                    min_area_m2: float = DEFAULT_MIN_AREA_M2, tile_size: int | None = None,
                    overlap: int = DEFAULT_OVERLAP, workers: int | None = None,
                    regularize: bool = True,
                    regularize_tolerance: float = DEFAULT_REGULARIZE_TOLERANCE,
                    image_id: str | None = None, date: str | None = None, to_crs: Any = None,
                    storey_height_m: float | None = None, tta: int | None = None,
                    settings: Settings | None = None) -> ExtractionPlan:
    """Check inputs and options, train a classifier if asked, and plan the tiles.

    Parameters
    ----------
    output : path
        The footprint file to write (``.gpkg``, ``.fgb``, ``.shp``, ``.geojson``, ``.csv``).
    method : str, optional
        A name in :data:`remote_sensing.masks.MASK_METHODS`; default from the inputs
        (:func:`guess_method`).
    image, ndsm, dsm, dtm, mask : path, optional
        Input rasters.
    model : path or model, optional
        A saved classifier (``.joblib``) or ONNX model.
    train, train_area : path, optional
        Reference footprints to train a classifier on (``classify`` without ``model``),
        and where they are complete.
    save_model : path, optional
        Save the trained classifier there (atomically; refused when it exists unless
        ``overwrite``).
    overwrite : bool
        Replace an existing output and saved model.
    ndvi_threshold : float or None
        None turns the vegetation filter off.
    tile_size, workers : int, optional
        Default :data:`DEFAULT_TILE_SIZE` and :func:`default_workers`.
    height_threshold : float, optional
        Default the ``height_threshold_m`` setting (2.5 m without settings).
    image_id : str, optional
        Stored with each footprint (default: the grid file's name).
    date : str, optional
        Image date ``YYYY-MM-DD`` (default: from the image metadata).
    to_crs : CRS-like, optional
        Output CRS (default: the image's).
    storey_height_m : float, optional
        Default the ``storey_height_m`` setting (3.5 m without settings).
    tta : int, optional
        ONNX method: flips/rotations averaged per model tile (1, 2, 4 or 8); default the
        model card's ``tta``.
    settings : Settings, optional
        The deployment's settings (``height_threshold_m``, ``storey_height_m``).

    Raises
    ------
    OutputExistsError
        ``output`` (or ``save_model``) exists and ``overwrite`` is false, before any work.
    ConfigError
        No method can be chosen, the method lacks an input, or the date is malformed.
    """
    from gis.atomic import existing_members
    from gis.errors import OutputExistsError
    from gis.importing.values import as_date
    from remote_sensing.extract import prepare_config
    from remote_sensing.windows import tile_grid

    output = Path(output)
    method = guess_method(method=method, ndsm=ndsm, dsm=dsm, mask=mask, model=model, train=train)
    if existing_members(output) and not overwrite:
        raise OutputExistsError(f"{output} exists; use --overwrite to replace it")
    date = as_date(date, "--date", ConfigError).isoformat() if date is not None else None
    if storey_height_m is None:
        storey_height_m = settings.storey_height_m if settings is not None else 3.5
    held_out = None
    if method == "classify" and model is None:
        if train is None:
            raise ConfigError("the classify method needs --train REF (or --model saved earlier)")
        if image is None:
            raise ConfigError("the classify method needs --image")
        from remote_sensing.tools.train import train_from_files

        trained = train_from_files(image, train, train_area=train_area, save_to=save_model,
                                   overwrite=overwrite)
        held_out = trained.card.get("held_out")
        model = Path(save_model).with_suffix(".joblib") if save_model else trained
    if height_threshold is None:
        height_threshold = settings.height_threshold_m if settings is not None else 2.5
    cfg, meta = prepare_config(
        method=method, image=image, ndsm=ndsm, dsm=dsm, dtm=dtm, mask=mask, model=model,
        height_threshold=height_threshold, ndvi_threshold=ndvi_threshold, threshold=threshold,
        min_area_m2=min_area_m2, tile_size=tile_size or DEFAULT_TILE_SIZE, overlap=overlap,
        workers=workers or default_workers(), regularize=regularize,
        regularize_tolerance=regularize_tolerance, tta=tta)
    n_tiles = len(tile_grid(cfg.grid.height, cfg.grid.width, cfg.tile_size, cfg.overlap))
    return ExtractionPlan(cfg, meta, method, n_tiles, output, overwrite, image_id=image_id,
                          date=date, to_crs=to_crs, storey_height_m=storey_height_m,
                          model_path=model if isinstance(model, Path) else None,
                          held_out=held_out)


def extract_to_file(plan: ExtractionPlan, *, progress: Progress | None = None
                    ) -> dict[str, Any]:
    """Run a plan: footprints streamed into ``plan.output``, written atomically.

    Parameters
    ----------
    plan : ExtractionPlan
        From :func:`plan_extraction`.
    progress : callable, optional
        Called with tiles finished (``plan.n_tiles`` in all).

    Returns
    -------
    dict
        ``output``, ``method``, ``footprints``, ``tiles``, ``seam_pieces``,
        ``seam_pieces_merged``, ``megapixels``, ``image_id``, ``image_date`` and, for a
        classifier trained here, ``classifier_held_out``.

    Raises
    ------
    NoFootprintsError
        No building anywhere (nothing is written).
    """
    from remote_sensing.extract import extract_footprints
    from remote_sensing.sinks import file_sink

    with file_sink(plan.output, overwrite=plan.overwrite) as sink:
        result = extract_footprints(plan.cfg, sink=sink, image_id=plan.image_id,
                                    date=plan.date, storey_height_m=plan.storey_height_m,
                                    to_crs=plan.to_crs, progress=progress, meta=plan.meta)
    data: dict[str, Any] = {
        "output": str(plan.output), "method": plan.method, "footprints": result.n_footprints,
        "tiles": result.n_tiles, "seam_pieces": result.n_seam_pieces,
        "seam_pieces_merged": result.n_seam_merged, "megapixels": round(result.megapixels, 3),
        "image_id": result.image_id, "image_date": result.image_date,
    }
    if plan.held_out:
        data["classifier_held_out"] = plan.held_out
    return data


def image_outline(path: str | Path | None):
    """The outline of an image (its bounds, in its CRS): the coverage of its survey.

    Parameters
    ----------
    path : str or Path, optional
        A raster; None gives None.

    Returns
    -------
    geopandas.GeoSeries or None
        One rectangle with the raster's CRS, or None when there is no path or no CRS
        (the loader then falls back to the footprints' extent).
    """
    if path is None:
        return None
    import geopandas as gpd
    import shapely

    from remote_sensing.readers import raster_info

    info = raster_info(path)
    if not info.get("crs"):
        return None
    return gpd.GeoSeries([shapely.box(*info["bounds"])], crs=info["crs"])


def load_extraction(conn, plan: ExtractionPlan, data: dict[str, Any], *,
                    settings: Settings | None = None) -> dict[str, Any]:
    """Load what :func:`extract_to_file` wrote (``footprints extract --load``).

    :func:`load_extracted_file` with the plan's output, method and rasters: the survey
    records the optical image (else the raster that defines the grid) and covers the
    outline of the grid's raster.

    Returns
    -------
    dict
        ``batch_id``, ``n_loaded``, ``srid``, ``already_imported``.
    """
    return load_extracted_file(conn, plan.output, method=plan.method,
                               image=plan.cfg.image or plan.meta.get("grid_source"),
                               grid=plan.meta.get("grid_source"), image_id=data.get("image_id"),
                               image_date=data.get("image_date"), settings=settings)


def load_extracted_file(conn, path: str | Path, *, method: str,
                        image: str | Path | None = None, grid: str | Path | None = None,
                        image_id: str | None = None, image_date: str | None = None,
                        settings: Settings | None = None, params: dict[str, Any] | None = None,
                        commit: bool = True) -> dict[str, Any]:
    """Load a file of extracted footprints through the one footprint loader.

    The survey is dated by the image (``image_date``), records the image
    (``attrs["image"]``, for the review app's chips) and covers the outline of
    ``grid`` (:func:`image_outline`); the footprints are hashed by their features (the
    file's bytes change with every write), so loading the same extraction again
    loads nothing twice.

    Parameters
    ----------
    path : path
        Footprints written by :func:`extract_to_file`.
    method : str
        Stored as the footprints' method where the file has none.
    image, grid : path, optional
        The image the footprints were seen on; the raster whose outline the survey covers.
    image_id : str, optional
        The survey's source (default: the file's name).
    params : dict, optional
        Recorded on the batch (``mujun demo`` marks its own loads).
    commit : bool
        End the transaction here (default); False leaves it to the caller.

    Returns
    -------
    dict
        ``batch_id``, ``n_loaded``, ``srid``, ``already_imported``.
    """
    from gis.importing.footprints import load_footprints
    from gis.importing.surveys import image_attrs

    loaded = load_footprints(conn, path, method=method, settings=settings,
                             source_name=image_id, file_hash="features",
                             survey_date=image_date, survey_attrs=image_attrs(image),
                             coverage=image_outline(grid), params=params, commit=commit)
    return {"batch_id": loaded.batch_id, "n_loaded": loaded.report.n_loaded,
            "srid": loaded.srid, "already_imported": loaded.already_imported}
