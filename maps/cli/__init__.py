"""Command-line modules of the maps package: ``mujun map``, ``mujun export``, ``mujun serve``,
``mujun user`` (thin click wrappers over :mod:`maps`)."""
