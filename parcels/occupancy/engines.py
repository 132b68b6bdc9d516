"""Registry of occupancy engines: name -> function giving the per-parcel table.

Every engine is called as ``engine(conn, options, *, progress=None, **engine_options)``
and returns one row per parcel with the columns of
:data:`parcels.occupancy.kernel.RESULT_COLUMNS`; all give the same numbers (≤ 1e-9
relative, tested). Engines are imported lazily so the registry itself is cheap.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from gis.errors import ConfigError

#: name -> "module:function" of the engine.
ENGINES: dict[str, str] = {
    "postgis": "parcels.occupancy.postgis_engine:postgis_occupancy",
    "vector": "parcels.occupancy.vector_engine:vector_occupancy",
    "dask": "parcels.occupancy.dask_engine:dask_occupancy",
}


def get_engine(name: str | Callable[..., Any]) -> Callable[..., Any]:
    """Return the engine function for ``name`` (or the callable itself).

    Raises
    ------
    ConfigError
        Unknown engine; the message lists the valid ones.
    """
    if callable(name):
        return name
    try:
        target = ENGINES[name]
    except KeyError:
        raise ConfigError(f"unknown occupancy engine {name!r}; choose one of "
                          f"{', '.join(ENGINES)}") from None
    module, func = target.split(":")
    return getattr(importlib.import_module(module), func)
