"""``mujun map`` and ``mujun export`` (thin click wrappers over :mod:`maps`)."""
