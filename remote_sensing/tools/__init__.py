"""Tools behind ``mujun footprints``: each opens files, calls kernels and writes outputs.

One module per subcommand (``extract``, ``train``, ``assess``, ``change``); the click
commands in :mod:`remote_sensing.cli.footprints` only parse arguments and call one
function here, so everything a command does is also a library call (rasterio's
``rio`` over rasterio).
"""
