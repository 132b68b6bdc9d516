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
from dataclasses import dataclass
from typing import Literal

import numpy as np

#: Storage CRS: CGCS2000 3-degree Gauss-Krüger, central meridian 120°E, no zone prefix.
EPSG = 4549
#: Centre of the sample region (Suzhou, Wujiang area), lon/lat CGCS2000.
CENTRE_LON_LAT = (120.6, 31.2)
#: The "today" of the sample: idle-land ages and lease periods are measured from here.
AS_OF = dt.date(2025, 6, 30)
#: Years that have annual enterprise records.
YEARS = (2023, 2024)
#: Bumped whenever the generated content changes for a given seed.
GENERATOR_VERSION = 1

SQM_PER_MU = 10000.0 / 15.0
MIN_PARCEL_M2 = 3 * SQM_PER_MU
MAX_PARCEL_M2 = 300 * SQM_PER_MU

SizeName = Literal["small", "city", "province"]


@dataclass(frozen=True)
class SizeSpec:
    """How big a sample is.

    Attributes
    ----------
    n_towns : int
        Towns (each an industrial park with its own road grid).
    parcels_per_town : int
        Target parcels per town (the cut is random, so counts land near it).
    town_gap_m : tuple of float
        Range of farmland between neighbouring towns.
    imagery : bool
        Render imagery by default.
    dirty_max_parcels : int
        The dirty copies cover the first towns up to this many parcels.
    """

    n_towns: int
    parcels_per_town: int
    town_gap_m: tuple[float, float]
    imagery: bool
    dirty_max_parcels: int


#: Registry of sample sizes (the CLI's ``--size`` choices come from here).
SIZES: dict[str, SizeSpec] = {
    "small": SizeSpec(3, 90, (100.0, 140.0), True, 10_000),
    "city": SizeSpec(80, 905, (800.0, 2500.0), False, 150_000),
    "province": SizeSpec(1600, 905, (800.0, 2500.0), False, 100_000),
}


def size_spec(size: str) -> SizeSpec:
    """Return the :class:`SizeSpec` of a size name, or raise listing the valid ones."""
    from gis.errors import ConfigError

    try:
        return SIZES[size]
    except KeyError:
        raise ConfigError(
            f"unknown sample size {size!r}; choose one of {', '.join(SIZES)}"
        ) from None


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
