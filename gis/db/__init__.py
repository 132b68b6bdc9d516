"""The PostGIS store: local cluster, connections, migrations and bulk COPY.

* :mod:`gis.db.cluster` runs the project's own PostgreSQL cluster (initdb into
  ``<home>/pg``, unix socket + 127.0.0.1 only) when no ``MUJUN_DSN`` is given.
* :mod:`gis.db.connection` opens *the* connection at the edge of a program,
  translates driver errors and applies pending migrations.
* :mod:`gis.db.migrations` applies the numbered ``sql/NNNN_name.sql`` files.
* :mod:`gis.db.copy` moves (Geo)DataFrames in and out with COPY and vectorized
  (E)WKB encoding.
* :mod:`gis.db.batches` and :mod:`gis.db.runs` record import batches and
  derived-result runs.

Library functions here take a ``conn`` and never open connections themselves,
except :func:`gis.db.database.open_database`, which is the edge.
"""
