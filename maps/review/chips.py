"""Image chips of the review app's candidate detail: the parcel on each survey's image.

Drawn by the one "parcel on the image" renderer of the maps package
(:mod:`maps.parcel_image`), which the one-page sheet uses too; this module is the
review app's name for it.
"""

from __future__ import annotations

from maps.parcel_image import (  # noqa: F401  (the app's names)
    MARGIN,
    MAX_SIZE,
    NODATA_RGB,
    OUTLINE_RGB,
    ChipGrid,
    ImageMissing,
    chip_grid,
    render_chip,
    stretch,
)
