"""The built-in sample city: deterministic, realistic test and demo data.

``generate_city(size, seed, out_dir)`` writes parcels, buildings, enterprises,
annual records, land rights, planted cases, dirty copies and (optionally)
synthetic imagery for a made-up group of industrial towns around Suzhou, in
EPSG:4549. Pure generators (one module per kind of data) return
(Geo)DataFrames from numpy random streams; :mod:`sample.generate`
writes them town by town; :mod:`sample.load` loads a generated city into PostGIS
and :mod:`sample.demo` runs ``mujun demo`` stage by stage (:mod:`sample.stages`).

This package stands above :mod:`parcels` and :mod:`remote_sensing` (it makes records
and imagery alike); neither of them imports it. Its names are imported lazily, so
``mujun --help`` does not load numpy and pandas for the ``demo`` command's help.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "SIZES": "sample.sizes",
    "SizeSpec": "sample.sizes",
    "SampleCity": "sample.generate",
    "generate_city": "sample.generate",
    "is_complete": "sample.generate",
    "progress_steps": "sample.generate",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    try:
        module = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module 'sample' has no attribute {name!r}") from None
    return getattr(importlib.import_module(module), name)
