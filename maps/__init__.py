"""Web maps, static figures, layer exports and the review web app.

Depends on :mod:`scoring`, :mod:`parcels` and :mod:`gis`; computes no scores.
"""

import logging

logging.getLogger(__name__).addHandler(logging.NullHandler())
