"""Occupancy: parcel ∩ footprint, coverage, floor-area ratio, and land per enterprise.

Modules
-------
storeys
    The floor-area weight of a footprint (storeys, with the 2008 rule that a storey
    higher than 8 m counts double).
kernel
    The pure shapely-2 kernel: parcels and footprints in, one row per parcel out.
tenants
    Pure allocation of parcel land to owners and tenants (rule registry).
chunking, reading
    Spatial chunks of parcels (Hilbert order, by district/town) and reading them, with
    the footprints they need, from PostGIS.
engines
    Registry of engines (``postgis``, ``vector``, ``dask``) that all give the same table.
store, export
    Tools: runs and result tables in PostGIS; CSV/GPKG/XLSX exports.
run
    The tool behind ``mujun occupancy``: engine → tenants → store, as one run.
"""
