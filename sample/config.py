"""Fixed facts of the sample city: sizes, place, reference date, random streams.

Everything the generator draws comes from :func:`stream`, a numpy Generator
keyed by ``(seed, component, town, ...)``. Each town and each component
(layout, buildings, enterprises ...) has its own independent stream, so towns
can be generated one at a time (bounded memory, streaming writes) and switching
one component on or off (imagery trees) never changes the others.
"""

from __future__ import annotations

import datetime as dt
import zlib

import numpy as np

from gis.crs import SQM_PER_MU
from sample.sizes import SIZES, SizeName, SizeSpec, size_spec

__all__ = [
    "AS_OF",
    "CENTRE_LON_LAT",
    "EPSG",
    "GENERATOR_VERSION",
    "SIZES",
    "YEARS",
    "SizeName",
    "SizeSpec",
    "size_spec",
    "stream",
]

#: Storage CRS: CGCS2000 3-degree Gauss-Krüger, central meridian 120°E, no zone prefix.
EPSG = 4549
#: Centre of the sample region (Suzhou, Wujiang area), lon/lat CGCS2000.
CENTRE_LON_LAT = (120.6, 31.2)
#: The "today" of the sample: idle-land ages and lease periods are measured from here.
AS_OF = dt.date(2025, 6, 30)
#: Years that have annual enterprise records.
YEARS = (2023, 2024)
#: Bumped whenever the generated content changes for a given seed.
GENERATOR_VERSION = 2

MIN_PARCEL_M2 = 3 * SQM_PER_MU
MAX_PARCEL_M2 = 300 * SQM_PER_MU

def stream(seed: int, component: str, *keys: int) -> np.random.Generator:
    """Independent random stream for one component (and town, block ...).

    Examples
    --------
    >>> a = stream(1, "layout", 0).integers(0, 1000, 3)
    >>> b = stream(1, "layout", 0).integers(0, 1000, 3)
    >>> bool((a == b).all())
    True
    """
    tag = zlib.crc32(component.encode("utf-8"))
    return np.random.default_rng([int(seed) & 0xFFFFFFFF, tag, *(int(k) for k in keys)])


def days_between(rng: np.random.Generator, start: dt.date, end: dt.date, n: int) -> np.ndarray:
    """``n`` random dates (numpy datetime64[D]) uniformly in ``[start, end]``."""
    span = (end - start).days
    offsets = rng.integers(0, span + 1, size=n)
    return np.datetime64(start, "D") + offsets.astype("timedelta64[D]")
