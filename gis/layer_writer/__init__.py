"""The one table and layer writer every package may call.

:func:`write_layer` writes a GeoDataFrame (or a DataFrame, for tables) as GeoPackage,
Shapefile, GeoJSON, KML, FileGDB, CSV or XLSX, chosen by the output's suffix
(:data:`FORMATS`): atomically, never over an existing output without ``overwrite``,
never removing a folder it did not write, keeping the other layers of a GeoPackage or
FileGDB, with Chinese headers and aliases from the caller's field table
(:mod:`gis.layer_writer.fields`), Shapefile field names within the format's byte limits
(:mod:`gis.layer_writer.shapefile`) and text that a spreadsheet would evaluate written as
text (:mod:`gis.layer_writer.cells`).

It knows no domain word and draws nothing: ``parcels`` (``occupancy export``),
``scoring`` (``score export``, ``candidates report``) and ``maps`` (``mujun export``,
the review app's downloads) pass their own field tables, and ``maps`` adds QGIS styles
and KML colours through a :class:`Styler`.
"""

from gis.layer_writer.fields import FieldInfo, alias, field_table, treatment
from gis.layer_writer.shapefile import shapefile_field_names, shapefile_safe
from gis.layer_writer.writer import (
           FORMATS,
           Format,
           Styler,
           add_layer_style,
           format_for,
           write_layer,
)

__all__ = ["FORMATS", "FieldInfo", "Format", "Styler", "add_layer_style", "alias", "field_table",
           "format_for", "shapefile_field_names", "shapefile_safe", "treatment", "write_layer"]
