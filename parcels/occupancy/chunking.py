"""Cutting parcels into spatially compact chunks (pure computation, no I/O).

Used by the ``vector`` engine to bound memory on province-sized data (chunks of
~100k parcels) and by the ``dask`` engine for its partitions (~20k parcels). Parcels
of one district/town stay together where they fit; groups are laid out along a
Hilbert curve (by the median curve position of their parcels), packed greedily into
chunks of at most ``max_parcels``, and a group larger than that is cut into
near-equal runs along the curve. Each parcel is in exactly one chunk.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from gis.hilbert import hilbert_index


def chunk_labels(x: np.ndarray, y: np.ndarray, groups: np.ndarray | None,
                 max_parcels: int) -> np.ndarray:
    """Chunk number of each parcel, numbered 0..k-1 along the curve.

    Parameters
    ----------
    x, y : array_like of float
        A representative point of each parcel (e.g. its bounding-box centre).
    groups : array_like, optional
        Group key of each parcel (district and town); ``None``: one group.
    max_parcels : int
        Most parcels in one chunk (≥ 1).

    Returns
    -------
    numpy.ndarray of int64

    Examples
    --------
    >>> chunk_labels([0.0, 1.0, 50.0, 51.0], [0.0, 0.0, 0.0, 0.0], ["a", "a", "b", "b"], 2)
    array([0, 0, 1, 1])
    """
    if max_parcels < 1:
        raise ValueError(f"max_parcels must be at least 1, not {max_parcels}")
    x = np.asarray(x, dtype="float64")
    n = x.size
    if n == 0:
        return np.zeros(0, dtype="int64")
    h = hilbert_index(x, np.asarray(y, dtype="float64"))
    g = (np.zeros(n, dtype="int64") if groups is None
         else pd.factorize(pd.Series(np.asarray(groups, dtype=object)).fillna(""))[0])
    position = pd.Series(h).groupby(g).transform("median").to_numpy()
    order = np.lexsort((h, g, position))
    g_sorted = g[order]
    starts = np.flatnonzero(np.r_[True, g_sorted[1:] != g_sorted[:-1]])
    sizes = np.diff(np.r_[starts, n])
    labels_sorted = np.empty(n, dtype="int64")
    chunk, filled = -1, max_parcels            # forces a new chunk for the first group
    for start, size in zip(starts.tolist(), sizes.tolist(), strict=True):
        if size > max_parcels:                 # a big group: near-equal runs of its own
            pieces = -(-size // max_parcels)
            run = np.arange(size) * pieces // size
            labels_sorted[start:start + size] = chunk + 1 + run
            chunk += pieces
            filled = max_parcels
            continue
        if filled + size > max_parcels:
            chunk += 1
            filled = 0
        labels_sorted[start:start + size] = chunk
        filled += size
    labels = np.empty(n, dtype="int64")
    labels[order] = labels_sorted
    return labels
