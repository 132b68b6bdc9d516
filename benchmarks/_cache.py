"""Benchmark inputs generated once and kept under ``<mujun home>/bench/``."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path


def cached_inputs(name: str, make: Callable[[Path], dict[str, Path]]) -> dict[str, Path]:
    """Paths of the inputs ``make(folder)`` writes, made on the first call only.

    ``make`` gets ``<mujun home>/bench/NAME`` and returns the files it wrote by role; a
    ``done.json`` beside them records that list once they are complete, so an interrupted
    generation is redone rather than half-used.
    """
    from gis.settings import load_settings

    root = load_settings().home_path / "bench" / name
    done = root / "done.json"
    if done.exists():
        return {k: Path(v) for k, v in json.loads(done.read_text()).items()}
    paths = make(root)
    done.write_text(json.dumps({k: str(v) for k, v in paths.items()}))
    return paths
