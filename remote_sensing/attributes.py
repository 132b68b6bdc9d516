"""Footprint attributes: area, height, storeys, confidence, image metadata (pure)."""

from __future__ import annotations

import numpy as np

#: Output columns in order (besides geometry).
COLUMNS = (
    "image_id", "image_date", "ground_res_m", "method", "confidence",
    "area_m2", "height_m", "height_p95_m", "storeys", "n_pixels",
)


def storeys_from_height(height_m, storey_height_m: float = 3.5) -> np.ndarray:
    """Storeys from building height: ``round(height / storey height)``, at least 1.

    Missing heights give missing storeys (-1 in the returned int array is never used;
    NaN heights map to pandas' missing value by the caller).

    Examples
    --------
    >>> storeys_from_height([3.0, 10.6, 30.0], 3.5).tolist()
    [1.0, 3.0, 9.0]
    """
    h = np.asarray(height_m, dtype=float)
    s = np.maximum(1.0, np.round(h / float(storey_height_m)))
    return np.where(np.isfinite(h), s, np.nan)


def attribute_table(stats: dict, *, areas_m2, resolution: float, method: str,
                    image_id: str | None, image_date: str | None,
                    storey_height_m: float = 3.5) -> dict:
    """Build the attribute columns of footprints from per-footprint pixel statistics.

    Parameters
    ----------
    stats : dict
        Arrays ``n_px``, ``prob_sum``, ``h_med``, ``h_p95`` (one value per footprint).
    areas_m2 : array
        Polygon areas in square metres.
    """
    import pandas as pd

    n = len(areas_m2)
    n_px = np.asarray(stats["n_px"], dtype=float)
    conf = np.clip(np.asarray(stats["prob_sum"], dtype=float) / np.maximum(n_px, 1), 0, 1)
    h = np.asarray(stats["h_med"], dtype=float)
    st = storeys_from_height(h, storey_height_m)
    return {
        "image_id": [image_id] * n,
        "image_date": [image_date] * n,
        "ground_res_m": np.full(n, float(resolution)),
        "method": [method] * n,
        "confidence": np.round(conf, 4),
        "area_m2": np.round(np.asarray(areas_m2, dtype=float), 3),
        "height_m": np.round(h, 2),
        "height_p95_m": np.round(np.asarray(stats["h_p95"], dtype=float), 2),
        "storeys": pd.array(np.where(np.isfinite(st), st, np.nan), dtype="Int16") if n else pd.array([], dtype="Int16"),
        "n_pixels": n_px.astype(np.int64),
    }
