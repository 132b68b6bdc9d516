"""Indicators, rule sets, enterprise classes and land-status rules.

Depends on :mod:`parcels` and :mod:`gis`; renders no HTML.
"""

import logging

logging.getLogger(__name__).addHandler(logging.NullHandler())
