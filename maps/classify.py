"""Class breaks for choropleths (mapclassify), as a registry of schemes.

Examples
--------
>>> classify([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], "quantiles", 5)
[2.8, 4.6, 6.4, 8.2, 10.0]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from gis.errors import ConfigError


def _mc(name: str) -> Callable[[np.ndarray, int], Sequence[float]]:
    def run(values: np.ndarray, k: int) -> Sequence[float]:
        import mapclassify

        return mapclassify.classify(values, name, k=k).bins

    return run


#: Scheme name -> function(values, k) -> upper bounds. CLI choices come from here.
SCHEMES: dict[str, Callable[[np.ndarray, int], Sequence[float]]] = {
    "quantiles": _mc("quantiles"),
    "natural_breaks": _mc("naturalbreaks"),
    "fisher_jenks": _mc("fisherjenkssampled"),
    "equal_interval": _mc("equalinterval"),
}


def classify(values: Any, scheme: str = "quantiles", k: int = 5) -> list[float]:
    """Upper bounds of ``k`` classes of the finite ``values`` (fewer when values repeat).

    Raises
    ------
    ConfigError
        Unknown scheme, or k outside 1–7.
    """
    if scheme not in SCHEMES:
        raise ConfigError(f"unknown classification {scheme!r}; choose one of "
                          f"{', '.join(SCHEMES)}")
    if not 1 <= k <= 7:
        raise ConfigError(f"classes: {k}; choose 1 to 7")
    arr = np.asarray(values, dtype="float64")
    arr = arr[np.isfinite(arr)]
    if arr.size == 0:
        return [0.0]
    k = min(k, len(np.unique(arr)))
    if k <= 1:
        return [float(arr.max())]
    bins = np.unique(np.round(np.asarray(SCHEMES[scheme](arr, k), dtype="float64"), 6))
    return [float(b) for b in bins]
