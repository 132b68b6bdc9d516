"""Floor-area weight of a footprint: storeys, with high storeys counting double.

The 2008 control indicators for industrial projects say that, for the floor-area
ratio (容积率), a storey higher than 8 m counts double. mujun applies it as follows
(the same formula runs in SQL in :mod:`parcels.occupancy.postgis_engine`):

1. ``storeys`` is the recorded number of storeys when it is given and > 0;
   otherwise, when ``height_m`` is given and > 0, ``max(1, floor(height_m /
   storey_height_m + 0.5))`` (height divided by the storey-height setting, rounded
   half up); otherwise 1 (a footprint with no height information is one storey).
2. The mean storey height is ``height_m / storeys`` (only when ``height_m`` > 0).
3. When that mean storey height is **strictly greater than 8 m**, every storey counts
   double: ``weight = 2 × storeys``; otherwise ``weight = storeys``.

So a one-storey 12 m workshop has weight 2, a two-storey 16 m hall weight 2 (8 m
each, not higher), a three-storey 10.5 m office weight 3. Storeys derived from height
alone are never higher than ``max(storey_height_m, 8)``-ish, so the double rule then
hardly ever fires: that is deliberate, since nothing says the building is one tall hall.

Floor area of a footprint part = its area × weight.
"""

from __future__ import annotations

import numpy as np

#: Storeys strictly higher than this count double (2008 control indicators).
DOUBLE_STOREY_HEIGHT_M = 8.0


def floor_weights(height_m, storeys, storey_height_m: float = 3.5,
                  double_height_m: float = DOUBLE_STOREY_HEIGHT_M) -> np.ndarray:
    """Return the floor-area weight (counted storeys) of each footprint.

    Parameters
    ----------
    height_m : array-like of float or None
        Height above ground; NaN/None/<= 0 means unknown.
    storeys : array-like of int or None
        Recorded storeys; NaN/None/<= 0 means unknown.
    storey_height_m : float
        Storey height used to derive storeys from height when storeys are unknown.
    double_height_m : float
        Storeys with a mean height strictly above this count double (8 m).

    Returns
    -------
    numpy.ndarray of float64

    Examples
    --------
    >>> floor_weights([12.0, 16.0, 10.5, None], [1, 2, 3, None]).tolist()
    [2.0, 2.0, 3.0, 1.0]
    >>> floor_weights([7.0], [None], storey_height_m=3.5).tolist()
    [2.0]
    """
    height = np.asarray(_as_float(height_m), dtype="float64")
    recorded = np.asarray(_as_float(storeys), dtype="float64")
    height = np.where(np.isfinite(height) & (height > 0), height, np.nan)
    derived = np.maximum(1.0, np.floor(height / storey_height_m + 0.5))
    n = np.where(np.isfinite(recorded) & (recorded > 0), np.floor(recorded),
                 np.where(np.isfinite(height), derived, 1.0))
    with np.errstate(invalid="ignore"):
        high = np.isfinite(height) & (height / n > double_height_m)
    return np.where(high, 2.0 * n, n)


def _as_float(values) -> np.ndarray:
    """Convert a sequence possibly holding None/pd.NA to float64 with NaN."""
    import pandas as pd

    dtype = getattr(values, "dtype", None)
    if isinstance(dtype, np.dtype) and dtype.kind in "fiu":   # plain numeric: no boxing
        return np.asarray(values, dtype="float64")
    return pd.to_numeric(pd.Series(values, dtype="object"), errors="coerce").to_numpy(
        dtype="float64", na_value=np.nan)
