"""The tool behind ``mujun footprints assess``: accuracy of a footprint file against another."""

from __future__ import annotations

from pathlib import Path


def assess_files(pred: str | Path, ref: str | Path, *, iou_threshold: float = 0.5,
                 parcels: str | Path | None = None) -> dict:
    """Read two footprint layers (and parcels) and return :func:`remote_sensing.assess.assess`.

    Parameters
    ----------
    pred, ref : path
        Predicted and reference footprints (any vector format mujun reads).
    iou_threshold : float
        Object match threshold (SpaceNet: 0.5).
    parcels : path, optional
        Parcels for the per-parcel built-area error.
    """
    from remote_sensing.assess import assess
    from remote_sensing.io import read_footprints

    return assess(read_footprints(pred), read_footprints(ref), iou_threshold=iou_threshold,
                  parcels=read_footprints(parcels) if parcels is not None else None)
