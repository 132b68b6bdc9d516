"""The sample sizes: the registry ``mujun demo --size`` takes its choices from.

Kept apart from :mod:`sample.config` (which needs numpy for its random streams) so the
command's ``--help`` loads nothing heavy. The parcel counts a size really produces are
in README ("The sample city"; checked by ``tests/test_docs.py`` with
:func:`sample.layout.parcel_count`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

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
