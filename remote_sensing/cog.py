"""Cloud-Optimized GeoTIFF conversion (tiled, compressed, with overviews).

Untiled (striped) inputs make every windowed read load whole strips; a COG
fixes that. GDAL's COG driver does the work in a streaming fashion; the output
is written atomically.
"""

from __future__ import annotations

import logging
from pathlib import Path

log = logging.getLogger(__name__)


def to_cog(src: str | Path, dst: str | Path, *, overwrite: bool = False, compress: str = "DEFLATE",
           blocksize: int = 512) -> Path:
    """Convert a raster to a COG at ``dst`` (atomic; refuses to overwrite without ``overwrite``).

    Returns
    -------
    Path
        The output path.
    """
    import rasterio
    from rasterio.shutil import copy as rio_copy

    from gis.atomic import atomic_output

    from .readers import check_georeferenced, open_raster

    dst = Path(dst)
    with open_raster(src) as ds:
        check_georeferenced(ds, src)
        predictor = 3 if ds.dtypes[0].startswith("float") else 2
        with atomic_output(dst, overwrite=overwrite) as tmp, rasterio.Env(GDAL_NUM_THREADS="2"):
            rio_copy(ds, str(tmp), driver="COG", COMPRESS=compress, BLOCKSIZE=blocksize,
                     PREDICTOR=predictor, BIGTIFF="IF_SAFER", OVERVIEWS="AUTO")
    log.info("wrote COG %s", dst)
    return dst
