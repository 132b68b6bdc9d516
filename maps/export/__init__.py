"""Layer exports: the one writer (:mod:`maps.export.writer`), the layers mujun can export
(:mod:`maps.export.layers`) and ``--desensitize`` (:mod:`maps.export.desensitize`)."""
