"""Command-line modules of the maps package: ``mujun map`` and ``mujun export`` (thin click
wrappers over :mod:`maps`). The review app's ``mujun serve`` and ``mujun user`` live with the
app, in :mod:`maps.review.cli`."""
