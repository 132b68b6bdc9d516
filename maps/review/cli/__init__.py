"""Command-line modules of the review app: ``mujun serve`` and ``mujun user`` (thin click
wrappers over :mod:`maps.review.server` and :mod:`maps.review.users`)."""
