"""Parcels, enterprises, annual records, land rights, matching and occupancy.

Depends on :mod:`gis` only. Pure computation lives in modules that take and
return GeoDataFrames; the modules that open files or connections are named
for what they do (``load_*``, ``import_*``).
"""

import logging

logging.getLogger(__name__).addHandler(logging.NullHandler())
