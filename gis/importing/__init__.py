"""The generic machinery of every import, shared by ``parcels`` and ``remote_sensing``.

* ``common``: an import's identity (file hash + options), the per-kind lock,
  the all-or-nothing rule (:func:`~gis.importing.common.settle`), results;
* ``report``: issues by row or feature, summaries by kind, rejects files;
* ``headers``, ``units``, ``values``, ``attributes``, ``sheets``: recognising
  columns (synonyms, ``--map``, guesses reported), units, cell values, tables;
* ``layers``, ``geometry``, ``crs_check``: reading a layer, repairing
  geometries, the CRS area-of-use check, reprojection to the working CRS;
* ``store``: upserts that change only the columns a source carries;
* ``footprints``: the one loader of the ``footprint`` table.

Domain packages keep only their own checks (``parcels.importing``: parcel
codes, enterprise records, land rights, verification).
"""
