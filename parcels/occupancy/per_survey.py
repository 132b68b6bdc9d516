"""The kernel per survey: each parcel sees only the footprints of the survey it rests on.

Pure computation (no files, no connections), shared by the ``vector`` engine (per chunk)
and the ``dask`` engine (per partition). Which survey a parcel rests on is decided once
per run by :func:`parcels.surveys.assign_surveys`; here the parcels of one survey are
computed with that survey's footprints only, so footprints of two surveys of the same
place never meet (no overlap between them is resolved, none is counted twice), and a
parcel resting on no survey (:data:`parcels.surveys.NO_SURVEY`) gets no footprints.

>>> import geopandas as gpd
>>> from shapely import box
>>> parcels = gpd.GeoDataFrame({"parcel_id": [1, 2], "parcel_code": ["A", "B"],
...     "cert_area_m2": [None, None], "survey_id": [7, 8]},
...     geometry=[box(0, 0, 10, 10), box(20, 0, 30, 10)])
>>> footprints = gpd.GeoDataFrame({"footprint_id": [1, 2], "height_m": [None, None],
...     "storeys": [1, 1], "survey_id": [7, 7]},
...     geometry=[box(1, 1, 5, 5), box(21, 1, 25, 5)])
>>> out = occupancy_by_survey(parcels, footprints)
>>> out["built_m2"].tolist(), out["survey_id"].tolist()
([16.0, 0.0], [7, 8])
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from parcels.occupancy.kernel import DEFAULT_OPTIONS, KernelOptions, occupancy_kernel
from parcels.surveys import NO_SURVEY

if TYPE_CHECKING:
    import geopandas as gpd

    from gis.progress import Progress

def occupancy_by_survey(parcels: gpd.GeoDataFrame, footprints: gpd.GeoDataFrame,
                        options: KernelOptions = DEFAULT_OPTIONS, *,
                        threads: int | None = None, progress: Progress | None = None,
                        assume_valid: bool = False) -> pd.DataFrame:
    """Per-parcel occupancy, each parcel with the footprints of its own survey.

    Parameters
    ----------
    parcels : GeoDataFrame
        ``parcel_id``, ``survey_id`` (:data:`NO_SURVEY` where none) and the kernel's
        columns.
    footprints : GeoDataFrame
        ``survey_id`` (:data:`NO_SURVEY` for footprints of no survey, which no parcel
        sees) and the kernel's columns.
    options : KernelOptions
    threads : int, optional
        Kernel threads.
    progress : callable, optional
        Called with parcels finished.
    assume_valid : bool
        Geometries are known valid (read through :mod:`parcels.occupancy.reading`).

    Returns
    -------
    DataFrame
        ``parcel_id``, the kernel's ``RESULT_COLUMNS`` and ``survey_id``, one row per
        parcel ordered by ``parcel_id``.
    """
    parcel_survey = parcels["survey_id"].to_numpy(dtype="int64")
    footprint_survey = footprints["survey_id"].to_numpy(dtype="int64")
    parts = []
    for survey in np.unique(parcel_survey):
        group = parcels.iloc[np.flatnonzero(parcel_survey == survey)].reset_index(drop=True)
        mine = footprints.iloc[np.flatnonzero(footprint_survey == survey)
                               if survey != NO_SURVEY else []].reset_index(drop=True)
        out = occupancy_kernel(group, mine, options, threads=threads, progress=progress,
                               assume_valid=assume_valid)
        out.insert(0, "parcel_id", group["parcel_id"].to_numpy())
        out["survey_id"] = int(survey)
        parts.append(out)
    if not parts:
        out = occupancy_kernel(parcels, footprints.iloc[:0], options, assume_valid=assume_valid)
        out.insert(0, "parcel_id", parcels["parcel_id"].to_numpy())
        out["survey_id"] = np.empty(0, dtype="int64")
        return out
    out = pd.concat(parts, ignore_index=True)
    return out.iloc[np.argsort(out["parcel_id"].to_numpy(), kind="stable")].reset_index(drop=True)
