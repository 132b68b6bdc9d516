"""Importing parcels, enterprise records and land rights; the verification loop.

The generic machinery (batches, reports, header matching, layer reading,
geometry repair, the footprint loader) lives in :mod:`gis.importing`; this
package keeps what is about land and enterprises: the field tables of its
import kinds and the labels of its checks (``kinds``: registered by each
import entry point, never by importing a module), the
pure checks (``parcel_checks``, ``enterprise_checks``), the ``*_import`` tools
that write to PostGIS inside one transaction per import, and ``verification``,
which builds and applies the township verification queue.
"""
