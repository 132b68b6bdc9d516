"""Survey imagery to building footprints: windows, masks, polygons, accuracy, change.

Depends on :mod:`gis` only and never touches enterprise data.
"""

import logging

logging.getLogger(__name__).addHandler(logging.NullHandler())
