"""Layer exports with the map styles: the layers mujun can export (:mod:`maps.export.layers`),
their styles for the one layer writer :func:`gis.layer_writer.write_layer`
(:mod:`maps.export.styling`) and ``--desensitize`` (:mod:`maps.export.desensitize`)."""
