"""Foundation shared by every mujun package.

Settings, the error root, coordinate reference helpers, vector file I/O, the
generic import machinery and the one footprint loader (:mod:`gis.importing`),
the PostGIS store (:mod:`gis.db`: local cluster, migrations, pure COPY encoders
and the functions that stream them) and the root of the ``mujun`` command line.
Nothing here knows about enterprises, scores or maps, and no domain package is
imported.
"""

import logging

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())
