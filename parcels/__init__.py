"""Parcels, enterprises, annual records, land rights, matching and occupancy.

Depends on :mod:`gis` only: :mod:`remote_sensing` stands beside it on :mod:`gis`
and neither imports the other; the sample city (:mod:`sample`) stands above both.
Pure computation lives in modules that take and return GeoDataFrames; the modules
that open files or connections are named for what they do (``*_import``, engines).
"""

import logging

logging.getLogger(__name__).addHandler(logging.NullHandler())
