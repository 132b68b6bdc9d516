"""Foundation shared by every mujun package.

Settings, the error root, coordinate reference helpers, vector file I/O,
the PostGIS store (local cluster, migrations, bulk COPY) and the root of the
``mujun`` command line. Nothing here knows about enterprises, scores or maps.
"""

import logging

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())
