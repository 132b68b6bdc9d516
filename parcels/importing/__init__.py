"""Importing parcels, enterprise records, land rights and footprints.

Pure checks (``parcel_checks``, ``enterprise_checks``, ``headers``, ``units``)
take and return frames and issue lists; the ``*_import`` modules are the tools
that read files and write to PostGIS inside one transaction per import;
``verification`` builds and applies the township verification queue.
"""
