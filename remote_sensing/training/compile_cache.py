"""Keep XLA's compiled training programs on disk between runs.

JAX compiles the training step, the validation pass and the batch statistics for the
network and patch size at hand; for the network on the pretrained encoder that is
about half a minute of a two-core machine's time before the first step. With the cache,
a second ``footprints train`` of the same network (another county, other minutes, a
fine-tuning) reuses those programs: a few megabytes per network and patch size, kept
without a size limit (delete the folder to empty it). Only the command line turns it
on (the library never changes JAX's global configuration by itself).
"""

from __future__ import annotations

import logging
from pathlib import Path

log = logging.getLogger(__name__)

#: Programs that compile faster than this are not worth a file.
MIN_COMPILE_SECONDS = 0.2


def use_compile_cache(folder: str | Path) -> bool:
    """Keep compiled programs in ``folder`` (created when missing).

    A cache folder already chosen in the environment (``JAX_COMPILATION_CACHE_DIR``) is
    kept. Returns False, with a warning, when the folder cannot be written: training
    then compiles as usual.
    """
    import os

    import jax

    if os.environ.get("JAX_COMPILATION_CACHE_DIR"):
        return True
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / ".writable"
        probe.touch()
        probe.unlink()
    except OSError as exc:
        log.warning("no compile cache in %s (%s); training compiles from scratch", folder, exc)
        return False
    jax.config.update("jax_compilation_cache_dir", str(folder))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", MIN_COMPILE_SECONDS)
    return True
