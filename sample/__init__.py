"""The built-in sample city: deterministic, realistic test and demo data.

``generate_city(size, seed, out_dir)`` writes parcels, buildings, enterprises,
annual records, land rights, planted cases, dirty copies and (optionally)
synthetic imagery for a made-up group of industrial towns around Suzhou, in
EPSG:4549. Pure generators (one module per kind of data) return
(Geo)DataFrames from numpy random streams; :mod:`sample.generate`
writes them town by town.
"""

from sample.config import SIZES, SizeSpec
from sample.generate import SampleCity, generate_city, is_complete, progress_steps

__all__ = ["SIZES", "SampleCity", "SizeSpec", "generate_city", "is_complete", "progress_steps"]
