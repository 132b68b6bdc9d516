"""Survey imagery to building footprints: windows, masks, polygons, accuracy, change.

Depends on :mod:`gis` only and never touches enterprise data: :mod:`parcels` stands
beside it on :mod:`gis` and neither imports the other; the sample city (:mod:`sample`)
renders its imagery with :mod:`remote_sensing.synthetic` from above. The commands'
work lives in :mod:`remote_sensing.tools` (one tool per ``mujun footprints`` command).
"""

import logging

logging.getLogger(__name__).addHandler(logging.NullHandler())
